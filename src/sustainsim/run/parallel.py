"""Parallel and distributed runs: chunks of draws as dask tasks.

:class:`DaskExecutor` is the executor of :mod:`sustainsim.run.core` for a plan with a
``scheduler``: every task runs one chunk (full mode), a span of chunks (summary mode,
:mod:`sustainsim.run.spans`: large spans first, single chunks last) or a block of
chunks (summary mode with Zarr output) of the plan. Since a chunk's numbers depend only
on the spec, the uniform source (sampler and seed) and the draw indices, the result is
identical to the serial run whatever the scheduler or worker count.

Schedulers: ``"synchronous"``, ``"threads"``, ``"processes"`` (local pools; a pool
is kept for later calls so worker start-up is paid once per session, see
:func:`shutdown_pools`), a ``dask.distributed`` scheduler address
``"tcp://host:port"``, a :class:`distributed.Client`, or ``"distributed"`` for the
current default client. The workers need ``sustainsim`` importable.

Three kinds of output:

* default: per-draw results gathered into the same in-memory Dataset as
  :func:`~sustainsim.simulate` (chunks are copied into place as they arrive);
* ``zarr_path``: each task writes its own region of a Zarr store chunked along
  ``draw`` (nothing per draw travels back), and the store is opened lazily;
  the workers must see the path (local disk, a shared file system or an fsspec URL);
* ``mode="summary"``: each task reduces a span of chunks
  (:func:`sustainsim.run.spans.span_task`), the results are put together into the
  blocks of the serial run, chunk by chunk, and the small accumulators merged in draw
  order, as the serial summary run does: bounded memory at any scale, identical results.

Examples
--------
>>> from sustainsim.run.parallel import simulate_parallel
>>> ds = simulate_parallel(spec, draws=1_000_000, scheduler="processes")  # doctest: +SKIP
>>> s = simulate_parallel(spec, draws=10**8, scheduler="tcp://10.0.0.5:8786",
...                       mode="summary")  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Unpack

try:
    import dask
except ImportError as exc:  # the optional extra "parallel"
    raise ImportError(
        'parallel and distributed runs need dask: pip install "sustainsim[parallel]"'
    ) from exc
import numpy as np
import xarray as xr
from tqdm import tqdm

from sustainsim.config.spec import Spec
from sustainsim.run.accumulate import SummaryAccumulator, reduce_block
from sustainsim.run.chunk import assemble, chunk_bounds, run_chunk
from sustainsim.run.core import (
    block_task,
    execute,
    progress_bar,
    reduce,
    summarize,
    unit_draws,
)
from sustainsim.run.plan import RunOptions, RunPlan, plan_run
from sustainsim.run.spans import (
    Bins,
    Blocks,
    drop_kept_buffers,
    kept_buffers,
    plan_spans,
    span_task,
)

__all__ = [
    "DASK_WORKER_CONFIG",
    "LOCAL_SCHEDULERS",
    "DaskExecutor",
    "shutdown_pools",
    "simulate_parallel",
]

LOCAL_SCHEDULERS = ("synchronous", "threads", "processes")

#: dask config for starting distributed workers (``LocalCluster``, ``dask worker``):
#: distributed's default ``MALLOC_TRIM_THRESHOLD_=65536`` makes every large numpy
#: temporary a fresh mmap, and the engine ~2.5x slower per draw (measured on ref10).
#: Use ``with dask.config.set(DASK_WORKER_CONFIG): LocalCluster(...)``.
DASK_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


# --- tasks (module level: they run in worker processes) ------------------------------------------


def _chunk_dataset(spec: Spec, res) -> xr.Dataset:
    """A chunk's results as a Dataset region: draw coordinate start..stop-1, no other coords."""
    ds = assemble(spec, res.arrays, res.scalars, res.scalar_attrs, seed=0, sampler="")
    ds = ds.assign_coords(draw=np.arange(res.start, res.stop))
    return ds.drop_vars([c for c in ds.coords if c != "draw"]).drop_attrs(deep=False)


def _zarr_task(
    plan: RunPlan,
    unit: Sequence[tuple[int, int]],
    zarr_path: str,
    template: SummaryAccumulator | None = None,
):
    """Run the chunks of ``unit`` and write each into its region of the Zarr store.

    With ``template`` (summary mode), also reduce the unit (a block) into a new
    accumulator with its bins and return it; else return the number of draws done.
    """

    def write(res) -> None:
        _chunk_dataset(plan.spec, res).to_zarr(
            zarr_path, region={"draw": slice(res.start, res.stop)}, mode="r+", consolidated=False
        )

    if template is not None:
        buffers = kept_buffers(plan, unit)
        return reduce_block(plan.spec, plan.source, unit, template, buffers, on_chunk=write)
    for start, stop in unit:
        write(run_chunk(plan.spec, plan.source, start, stop, lines=plan.lines))
    return unit_draws(unit)


# --- schedulers ------------------------------------------------------------------------------


def _is_client(obj: Any) -> bool:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is part of the `parallel` extra
        return False
    return isinstance(obj, Client)


@contextmanager
def _client_for(scheduler: Any) -> Iterator[Any]:
    """The distributed client of ``scheduler``, or None for the local schedulers."""
    if _is_client(scheduler):
        yield scheduler
        return
    if not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be one of {LOCAL_SCHEDULERS}, 'distributed', a scheduler address "
            f"'tcp://host:port' or a distributed.Client (got {scheduler!r})"
        )
    if scheduler in LOCAL_SCHEDULERS:
        yield None
        return
    try:
        from distributed import Client, get_client
    except ImportError as exc:  # pragma: no cover
        raise ImportError(
            "distributed scheduling needs dask.distributed: pip install 'sustainsim[parallel]'"
        ) from exc
    if scheduler == "distributed":
        yield get_client()
        return
    if "://" not in scheduler:
        raise ValueError(
            f"unknown scheduler {scheduler!r}; use one of {LOCAL_SCHEDULERS}, 'distributed' "
            "or a scheduler address such as 'tcp://127.0.0.1:8786'"
        )
    client = Client(scheduler)
    try:
        yield client
    finally:
        client.close()


_POOLS: dict[tuple[str, int], Executor] = {}


def _warm_worker(_: int) -> int:
    import sustainsim.run.summary  # noqa: F401 - the import is the point

    return os.getpid()


def _local_pool(scheduler: str, workers: int) -> Executor | None:
    """The pool of a local scheduler, kept for later calls (worker start-up is paid once)."""
    if scheduler == "synchronous":
        return None
    key = (scheduler, workers)
    pool = _POOLS.get(key)
    if pool is not None and not getattr(pool, "_broken", False):
        return pool
    if scheduler == "processes":
        ctx = multiprocessing.get_context(dask.config.get("multiprocessing.context", "spawn"))
        pool = ProcessPoolExecutor(workers, mp_context=ctx)
        # start every worker now (the pool would spawn them on demand, one per idle miss)
        # and import the package there, so the first chunks do not wait on start-up
        list(pool.map(_warm_worker, range(workers)))
    else:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="sustainsim")
    _POOLS[key] = pool
    return pool


def shutdown_pools() -> None:
    """Shut down the worker pools kept by the ``"processes"`` and ``"threads"`` schedulers."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pools)


class DaskExecutor:
    """The executor of a plan with a scheduler: every unit of chunks is one dask task.

    Local schedulers: tasks submitted to a pool kept between calls, two per worker in
    flight, consumed as they complete (bounded memory on the driver, no wave waiting
    for its slowest task); ``"synchronous"`` through dask, one after another. Distributed:
    ``client.submit`` with a bounded number of tasks in flight, results consumed as
    they complete; the plan and the accumulator template are scattered once. The blocks
    of a summary run (:func:`~sustainsim.run.core.block_task`) are run as spans of chunks
    (:func:`~sustainsim.run.spans.plan_spans`) and handed to ``consume`` block by block,
    each worker thread keeping its chunk buffers from task to task.
    """

    in_place = False
    serial = False

    def __init__(self, scheduler: Any = "processes", workers: int | None = None) -> None:
        self.scheduler = scheduler
        self.workers = workers

    def map(
        self,
        plan: RunPlan,
        units: Sequence[Sequence[tuple[int, int]]],
        task: Callable[..., Any],
        consume: Callable[[int, Any], None],
        bar: tqdm,
        local: Callable[[], dict[str, Any]] | None = None,
        **shared: Any,
    ) -> None:
        """Run ``task(plan, unit, **shared)`` for every unit, ``consume(i, result)`` each.

        ``local`` is not taken: tasks in other processes build their own buffers.
        """
        if local is not None:
            raise ValueError("a dask executor's tasks do not take per-thread arguments")
        # the workers run their units in-process: they get the plan without the scheduler
        # (a Client does not pickle)
        plan = dataclasses.replace(plan, scheduler=None, workers=None, threads=1)
        with _client_for(self.scheduler) as client:
            if task is block_task:  # blocks: spans of chunks, largest first (run.spans)
                blocks = Blocks(units, shared["template"], consume)
                units = plan_spans(units, self._width(client))
                task, consume = span_task, lambda i, result: blocks.add(result)
                shared = {"bins": Bins.of(shared["template"])}
            if client is None:
                try:
                    self._local(plan, units, task, consume, bar, shared)
                finally:  # the threads' buffers are this process's: not kept past the run
                    drop_kept_buffers()
            else:
                _distributed(client, plan, units, task, consume, bar, shared)

    def _width(self, client: Any) -> int:
        """How many tasks run at once: the local workers, or the cluster's threads."""
        if client is None:
            return self.workers or os.cpu_count() or 1
        return sum(client.nthreads().values()) or 1

    def _local(self, plan, units, task, consume, bar, shared) -> None:
        scheduler = self.scheduler
        nw = self._width(None)
        pool = _local_pool(scheduler, nw)
        if pool is None:  # synchronous: one task after another through dask
            for i, unit in enumerate(units):
                task_i = dask.delayed(task, pure=False)(plan, unit, **shared)
                (result,) = dask.compute(task_i, scheduler=scheduler)
                consume(i, result)
                bar.update(unit_draws(unit))
            return
        try:
            _pooled(pool, plan, units, task, consume, bar, shared, 2 * nw)
        except BrokenExecutor:
            _POOLS.pop((scheduler, nw), None)
            raise


def _pooled(pool: Executor, plan, units, task, consume, bar, shared, window: int) -> None:
    """Run the units on a local pool, ``window`` in flight: no wave waits for its slowest task."""
    pending: dict[Future, int] = {}
    todo = iter(range(len(units)))

    def submit(i: int) -> None:
        pending[pool.submit(task, plan, units[i], **shared)] = i

    for _, i in zip(range(window), todo, strict=False):
        submit(i)
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            i = pending.pop(fut)
            consume(i, fut.result())
            bar.update(unit_draws(units[i]))
            nxt = next(todo, None)
            if nxt is not None:
                submit(nxt)


def _distributed(client, plan, units, task, consume, bar, shared) -> None:
    from distributed import as_completed

    nthreads = sum(client.nthreads().values()) or 1
    window = max(2, 2 * nthreads)
    plan_f = client.scatter(plan, broadcast=True, hash=False)
    kwargs = {
        k: client.scatter(v, broadcast=True, hash=False) if isinstance(v, SummaryAccumulator) else v
        for k, v in shared.items()
    }
    index: dict[str, int] = {}

    def submit(i: int):
        fut = client.submit(task, plan_f, units[i], pure=False, **kwargs)
        index[fut.key] = i
        return fut

    todo = iter(range(len(units)))
    ac = as_completed([submit(i) for _, i in zip(range(window), todo, strict=False)])
    done = 0
    for fut in ac:
        i = index.pop(fut.key)
        r = fut.result()
        fut.release()
        consume(i, r)
        done += 1
        bar.update(unit_draws(units[i]))
        nxt = next(todo, None)
        if nxt is not None:
            ac.add(submit(nxt))
    if done != len(units):  # pragma: no cover - a bug, never bad input
        raise RuntimeError(f"internal: {done} of {len(units)} tasks completed")


# --- Zarr ------------------------------------------------------------------------------------


def _zarr_template(plan: RunPlan) -> xr.Dataset:
    """The full run's Dataset with lazy (never computed) data, chunked along ``draw``."""
    import dask.array as da

    spec, n, chunk = plan.spec, plan.draws, plan.chunk_size
    probe = run_chunk(spec, plan.source, 0, 1, lines=plan.lines)
    small = assemble(
        spec,
        probe.arrays,
        probe.scalars,
        probe.scalar_attrs,
        seed=plan.seed,
        sampler=plan.source_name,
    )
    small.attrs["draws"] = int(n)
    data_vars = {}
    for k, v in small.data_vars.items():
        shape = (n, *v.shape[1:])
        chunks = (chunk, *v.shape[1:])
        data_vars[k] = xr.Variable(v.dims, da.zeros(shape, chunks=chunks, dtype=v.dtype), v.attrs)
    coords: dict[Any, Any] = {}
    for k in small.coords:
        c = small[k]
        if c.dtype.kind == "U":  # variable-length strings: specified in Zarr v3, fixed-width not
            c = c.copy(data=c.values.astype(object))
        coords[k] = c
    coords["draw"] = ("draw", np.arange(n), small["draw"].attrs)
    return xr.Dataset(data_vars, coords=coords, attrs=small.attrs)


_ZARR_META = frozenset({"zarr.json", ".zgroup", ".zattrs", ".zmetadata"})


def _group_attrs(path: Path) -> dict:
    """The root attributes of a Zarr v3 or v2 group ({} if none or unreadable)."""
    try:
        if (path / "zarr.json").is_file():
            meta = json.loads((path / "zarr.json").read_text(encoding="utf-8"))
            return dict(meta.get("attributes") or {})
        if (path / ".zattrs").is_file():
            return dict(json.loads((path / ".zattrs").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return {}


def _is_our_store(path: Path) -> bool:
    """A Zarr group sustainsim wrote, holding nothing but its metadata and arrays.

    A folder that merely holds a ``.zgroup`` or ``zarr.json`` among other files is
    not one: replacing it would delete those files.
    """
    if "sustainsim_version" not in _group_attrs(path):
        return False
    for p in path.iterdir():
        is_array = p.is_dir() and ((p / "zarr.json").is_file() or (p / ".zarray").is_file())
        if p.name not in _ZARR_META and not is_array:
            return False
    return True


def _partial_path(final: str) -> str:
    """Where the store is written before it is moved onto ``final`` (local paths only).

    An existing ``final`` must be a Zarr store sustainsim wrote (it is replaced) or an
    empty folder; a URL (``s3://...``) is written in place. What killed runs left
    beside it is cleaned: partial stores ``.NAME.partial-PID`` removed, a store moved
    aside ``.NAME.old-PID`` moved back if ``NAME`` is missing.
    """
    if "://" in final:
        return final
    p = Path(final)
    if p.exists() and not (p.is_dir() and (not any(p.iterdir()) or _is_our_store(p))):
        raise ValueError(
            f"zarr_path {final!r} exists and is not a Zarr store written by sustainsim or an "
            "empty folder; refusing to overwrite it"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    for old in p.parent.glob(f".{p.name}.old-*"):  # a kill between the renames of a commit
        if not p.exists():
            os.rename(old, p)
        elif not _alive(old.name.rsplit("-", 1)[-1]):
            shutil.rmtree(old, ignore_errors=True)
    for stale in p.parent.glob(f".{p.name}.partial-*"):
        if not _alive(stale.name.rsplit("-", 1)[-1]):
            shutil.rmtree(stale, ignore_errors=True)
    return str(p.with_name(f".{p.name}.partial-{os.getpid()}"))


def _alive(pid: str) -> bool:
    """Whether the process ``pid`` (a partial store's writer) still runs."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return int(pid) != os.getpid()


def _commit_zarr(partial: str, final: str | None) -> None:
    """Move the finished store onto its name: readers never see a half-written store.

    The old store is moved aside first and removed after the rename, so a failure
    at any point leaves the old store or the new one under the name.
    """
    if final is None or partial == final:
        return
    target = Path(final)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
    os.rename(partial, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _open_zarr(path: str) -> xr.Dataset:
    """The store opened lazily, string coordinates back as numpy unicode (as in memory)."""
    ds = xr.open_zarr(path, consolidated=False)
    fix = {
        k: ds[k].copy(data=np.array(ds[k].values.tolist(), dtype=str))
        for k in ds.coords
        if ds[k].dtype.kind not in "biufcmM"
    }
    return ds.assign_coords(fix)


# --- the runner ------------------------------------------------------------------------------


def simulate_parallel(
    spec: Spec | RunPlan,
    *,
    zarr_path: str | os.PathLike | None = None,
    **options: Unpack[RunOptions],
) -> xr.Dataset:
    """Run the chunks of a simulation as dask tasks; identical to the serial run.

    Parameters
    ----------
    spec : Spec or RunPlan
        From :func:`sustainsim.load_config`, or a plan.
    zarr_path : path, optional
        Write per-draw results to this Zarr store, chunked along ``draw``, each task
        its own region, into a hidden ``.NAME.partial-PID`` folder moved onto the
        path when complete (an existing store sustainsim wrote is replaced; any other
        existing file or non-empty folder is refused). In full mode the store is returned
        opened lazily; in summary mode, the summary is returned (attr ``zarr_path``).
        Workers must see the path (shared file system, or an fsspec URL, written in
        place). The driver holds only the ``draw`` index (8 bytes a draw).
    **options
        As :func:`~sustainsim.run.plan.plan_run`; ``scheduler`` defaults to
        ``"processes"`` here, ``workers`` to the CPU count, and ``chunk_size`` is also
        the size of a task and of a Zarr chunk. A ``source`` is shipped to the
        workers, so it must pickle.

    Returns
    -------
    xarray.Dataset
        The results Dataset (in memory, or lazy from Zarr), or the summary Dataset.

    Examples
    --------
    >>> from distributed import LocalCluster, Client  # doctest: +SKIP
    >>> with LocalCluster(n_workers=2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     ds = simulate_parallel(spec, draws=200_000, scheduler=client)
    """
    plan = plan_run(spec, **options)
    if plan.scheduler is None:
        plan = plan.replace(scheduler="processes")
    if zarr_path is None:
        return execute(plan)
    final = os.fspath(zarr_path)
    zpath = _partial_path(final)
    # task regions must cover whole Zarr chunks: chunk along draw = task size
    _zarr_template(plan).to_zarr(zpath, mode="w", compute=False, consolidated=False)
    executor = DaskExecutor(plan.scheduler, plan.workers)
    try:
        with progress_bar(plan, "simulate") as bar:
            if plan.mode == "summary":
                acc = reduce(plan, bar, executor, _zarr_task, zarr_path=zpath)
            else:
                units = [[b] for b in chunk_bounds(plan.draws, plan.chunk_size)]
                executor.map(plan, units, _zarr_task, lambda i, r: None, bar, zarr_path=zpath)
    except BaseException:
        if zpath != final:
            shutil.rmtree(zpath, ignore_errors=True)
        raise
    _commit_zarr(zpath, final)
    if plan.mode == "full":
        return _open_zarr(final)
    ds = summarize(plan, acc)
    ds.attrs["zarr_path"] = final
    return ds
