"""Running a spec: the chunked run core and every runner built on it.

Full runs (``full``), summary-only runs (``summary``, with the quantile ``sketch``), scenarios on
common random numbers, convergence to a target precision, parameter grids (``grid``), resumable
batches and dask runners (``parallel``, imported only when asked for).
"""

from sustainsim.run.batch import run_batch
from sustainsim.run.convergence import simulate_until
from sustainsim.run.full import central_case, simulate
from sustainsim.run.grid import sweep
from sustainsim.run.scenarios import simulate_scenarios
from sustainsim.run.summary import simulate_summary

__all__ = [
    "central_case",
    "run_batch",
    "simulate",
    "simulate_parallel",
    "simulate_scenarios",
    "simulate_summary",
    "simulate_until",
    "sweep",
]


def __getattr__(name: str):
    # dask is the optional extra "parallel": import it only when asked for
    if name == "simulate_parallel":
        from sustainsim.run.parallel import simulate_parallel

        return simulate_parallel
    raise AttributeError(f"module 'sustainsim.run' has no attribute {name!r}")
