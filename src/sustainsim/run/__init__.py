"""Running a spec: one plan, one chunked run core, and every runner built on them.

A run is planned once (:mod:`~sustainsim.run.plan`: spec, draws, seed, chunks, source,
mode, backend) and executed by the core (:mod:`~sustainsim.run.core`) chunk by chunk
(:mod:`~sustainsim.run.chunk`), gathered into a full Dataset or reduced on the fly
(:mod:`~sustainsim.run.accumulate`, with the quantile ``sketch``). Runners on top:
summary-only runs (``summary``), scenarios on common random numbers, convergence to a
target precision, parameter grids (``grid``), resumable batches and dask runners
(``parallel``, imported only when asked for).
"""

from sustainsim.run.batch import run_batch
from sustainsim.run.convergence import simulate_until
from sustainsim.run.core import central_case, execute, simulate
from sustainsim.run.grid import sweep
from sustainsim.run.plan import RunPlan, plan_run
from sustainsim.run.scenarios import simulate_scenarios
from sustainsim.run.summary import simulate_summary

__all__ = [
    "RunPlan",
    "central_case",
    "execute",
    "plan_run",
    "run_batch",
    "simulate",
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
