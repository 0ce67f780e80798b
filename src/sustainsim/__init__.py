"""sustainsim: Monte Carlo risk simulation of the financial sustainability of school models.

The top level holds what a first session needs; everything else lives in its stage's
namespace: :mod:`sustainsim.metrics`, :mod:`sustainsim.analysis`,
:mod:`sustainsim.calibration`, :mod:`sustainsim.run`, :mod:`sustainsim.plotting` and
:mod:`sustainsim.sampling`.

Examples
--------
>>> import sustainsim
>>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
>>> ds = sustainsim.simulate(spec, draws=2_000, seed=1)
>>> p = sustainsim.p_solvent(ds)
>>> bool(((p.probability >= 0) & (p.probability <= 1)).all())
True
"""

import importlib
from typing import Any

from sustainsim import accessors, metrics, run, sampling
from sustainsim._version import __version__
from sustainsim.config import ConfigError, Spec, load_config, loads_config
from sustainsim.examples import example_config
from sustainsim.io import open_results, write_netcdf
from sustainsim.metrics import (
    p_no_operating_deficit,
    p_reserve_compliant,
    p_solvent,
    p_structurally_balanced,
    per_pupil,
    real_dollars,
    summary,
)
from sustainsim.run import central_case, simulate, simulate_scenarios, simulate_summary

__all__ = [
    "ConfigError",
    "accessors",
    "Spec",
    "__version__",
    "analysis",
    "calibration",
    "central_case",
    "example_config",
    "load_config",
    "loads_config",
    "metrics",
    "open_results",
    "p_no_operating_deficit",
    "p_reserve_compliant",
    "p_solvent",
    "p_structurally_balanced",
    "per_pupil",
    "plotting",
    "real_dollars",
    "run",
    "sampling",
    "simulate",
    "simulate_scenarios",
    "simulate_summary",
    "summary",
    "write_netcdf",
]

#: stages imported on first use (``sustainsim.plotting`` loads matplotlib): a command or a
#: run that draws nothing does not pay for them
_LAZY = ("analysis", "calibration", "plotting")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"sustainsim.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sustainsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
