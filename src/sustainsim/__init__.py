"""sustainsim: Monte Carlo risk simulation of the financial sustainability of school models."""

from ._version import __version__
from .config import ConfigError
from .distributions import DISTRIBUTIONS, Distribution
from .io import open_results, write_netcdf
from .metrics import (
    balance_quantiles,
    expected_shortfall,
    first_deficit_distribution,
    first_deficit_year,
    p_solvent,
    probability,
    solvent,
    summary,
    wilson_interval,
    worst_balance,
)
from .results import input_names, inputs_frame
from .simulate import central_case, simulate
from .spec import Spec, load_config, loads_config

__all__ = [
    "DISTRIBUTIONS",
    "ConfigError",
    "Distribution",
    "Spec",
    "__version__",
    "balance_quantiles",
    "expected_shortfall",
    "first_deficit_distribution",
    "first_deficit_year",
    "p_solvent",
    "probability",
    "solvent",
    "summary",
    "wilson_interval",
    "worst_balance",
    "central_case",
    "input_names",
    "inputs_frame",
    "load_config",
    "loads_config",
    "open_results",
    "simulate",
    "write_netcdf",
]
