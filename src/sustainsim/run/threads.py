"""Chunks on threads of this process: the default executor of a run without a scheduler.

Most of a chunk's time is spent in numpy and scipy with the GIL released: the PCG64
fills of its streams, the inverse CDFs, the engine's array arithmetic, the reductions.
:class:`ThreadExecutor` runs the units of a run (lists of chunk bounds) on a pool of
threads kept by the process, so on two cores two chunks are computed at once.

The numbers do not change, bit for bit:

* a chunk's numbers depend only on the spec, the source and its draw indices
  (:func:`~sustainsim.run.chunk.run_chunk`); each thread keeps its own open streams
  (:mod:`sustainsim.sampling.stream_cache`) and the sources that cache are per thread
  (:class:`~sustainsim.sampling.copula.CorrelatedSource`);
* a full run's chunks write disjoint draws of the run's arrays;
* a summary run's blocks are merged in draw order in the calling thread, and their
  histogram counts (integers) are added under a lock (:mod:`sustainsim.run.sketch`).

Results are consumed in unit order in the calling thread, so an error is the one the
first failing chunk raises, as in a serial run; on an error (or Ctrl-C) the units not
started are cancelled and the running ones finished before it propagates.

:data:`MAX_THREADS` caps the default: a chunk still holds the GIL for part of its time
(about a quarter for ref10, from its speed-up on two cores: the Python between the array
operations), so more threads than that add little.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from tqdm import tqdm

__all__ = [
    "MAX_THREADS",
    "ThreadExecutor",
    "default_threads",
    "on_chunk_thread",
    "shutdown_thread_pools",
]

#: the most threads a run takes by default
MAX_THREADS = 4

Unit = Sequence[tuple[int, int]]

_PREFIX = "sustainsim-chunk"
#: thread count -> its pool, kept between runs (threads start once)
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Threads a run without a scheduler takes when not told: the usable cores, capped."""
    return max(1, min(usable_cores(), MAX_THREADS))


def on_chunk_thread() -> bool:
    """Whether the calling thread is one of the chunk pools'.

    A run started there stays on it: a task waiting on tasks of its own pool could wait
    forever.
    """
    return threading.current_thread().name.startswith(_PREFIX)


def unit_draws(unit: Unit) -> int:
    """Draws of a unit of chunks."""
    return sum(b - a for a, b in unit)


def _pool(threads: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = ThreadPoolExecutor(threads, thread_name_prefix=_PREFIX)
            _POOLS[threads] = pool
        return pool


def shutdown_thread_pools() -> None:
    """Shut down the pools of chunk threads this process keeps."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_thread_pools)


class ThreadExecutor:
    """The units of a run on ``threads`` threads of this process, consumed in unit order.

    Tasks run in this process and write into the caller's arrays (``in_place``), several
    at a time (not ``serial``): what they share must be safe to share (see the module
    docstring). ``local()`` builds keyword arguments once per thread and run (its own
    chunk buffers).
    """

    in_place = True
    serial = False

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def map(
        self,
        plan: Any,
        units: Sequence[Unit],
        task: Callable[..., Any],
        consume: Callable[[int, Any], None],
        bar: tqdm,
        local: Callable[[], dict[str, Any]] | None = None,
        **shared: Any,
    ) -> None:
        """Run ``task(plan, unit, **shared, **local())`` for every unit; consume in order."""
        mine = threading.local()  # this run's per-thread arguments, dropped with the run

        def run(unit: Unit) -> Any:
            kw = getattr(mine, "kw", None)
            if kw is None:
                kw = mine.kw = {**shared, **(local() if local is not None else {})}
            return task(plan, unit, **kw)

        pool = _pool(self.threads)
        window = 2 * self.threads  # in flight: a thread never waits for the consumer
        pending: deque[tuple[int, Unit, Future]] = deque()
        todo = iter(enumerate(units))
        try:
            for i, unit in todo:
                pending.append((i, unit, pool.submit(run, unit)))
                if len(pending) >= window:
                    self._consume_first(pending, consume, bar)
            while pending:
                self._consume_first(pending, consume, bar)
        except BaseException:
            for _, _, fut in pending:
                fut.cancel()
            wait([fut for _, _, fut in pending])  # no task still writes when the error leaves
            raise

    @staticmethod
    def _consume_first(pending: deque, consume: Callable[[int, Any], None], bar: tqdm) -> None:
        i, unit, fut = pending[0]
        result = fut.result()  # raises the task's error
        pending.popleft()
        consume(i, result)
        bar.update(unit_draws(unit))
