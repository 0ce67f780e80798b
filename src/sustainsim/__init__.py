"""sustainsim: Monte Carlo risk simulation of the financial sustainability of school models."""

from . import (
    plotting,
    sweep,  # the module: sustainsim.sweep.sweep(spec, grid)
)
from ._version import __version__
from .backtest import backtest_enrollment, plot_coverage
from .batch import run_batch
from .calibration import fit_enrollment, fit_growth
from .compare import compare, paired_difference
from .config import ConfigError
from .convergence import plot_convergence, simulate_until
from .correlation import CorrelatedSource
from .criteria import (
    p_reserve_compliant,
    p_structurally_balanced,
    reserve_compliant,
    structural_gap,
    structurally_balanced,
)
from .discovery import PrimResult, prim
from .distfit import fit_distribution
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
from .samplers import discover_streams, make_source, source_for
from .scenarios import simulate_scenarios
from .seedstudy import seed_study
from .sensitivity import risk_drivers, tornado_table
from .simulate import central_case, simulate
from .sobol import sobol_indices
from .spec import Spec, load_config, loads_config
from .streaming import simulate_summary
from .stress import stress_capacity

__all__ = [
    "DISTRIBUTIONS",
    "ConfigError",
    "CorrelatedSource",
    "Distribution",
    "PrimResult",
    "Spec",
    "__version__",
    "backtest_enrollment",
    "fit_distribution",
    "fit_enrollment",
    "fit_growth",
    "plot_coverage",
    "plotting",
    "balance_quantiles",
    "expected_shortfall",
    "first_deficit_distribution",
    "first_deficit_year",
    "p_reserve_compliant",
    "paired_difference",
    "p_solvent",
    "p_structurally_balanced",
    "prim",
    "reserve_compliant",
    "risk_drivers",
    "seed_study",
    "sobol_indices",
    "structural_gap",
    "structurally_balanced",
    "tornado_table",
    "probability",
    "solvent",
    "summary",
    "wilson_interval",
    "worst_balance",
    "central_case",
    "compare",
    "discover_streams",
    "make_source",
    "plot_convergence",
    "simulate_until",
    "source_for",
    "input_names",
    "inputs_frame",
    "load_config",
    "loads_config",
    "open_results",
    "simulate",
    "simulate_parallel",
    "simulate_scenarios",
    "simulate_summary",
    "sweep",
    "run_batch",
    "stress_capacity",
    "write_netcdf",
]


def __getattr__(name: str):
    # dask is the optional extra "parallel": import it only when asked for
    if name == "simulate_parallel":
        from .parallel import simulate_parallel

        return simulate_parallel
    raise AttributeError(f"module 'sustainsim' has no attribute {name!r}")
