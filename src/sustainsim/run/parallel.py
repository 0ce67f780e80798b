"""Parallel and distributed runs: chunks of draws as dask tasks.

Every task runs :func:`sustainsim.run.full.run_chunk` for one range of draws. Since a
chunk's numbers depend only on the spec, the uniform source (sampler and seed) and the
draw indices, the result
is identical to the serial :func:`sustainsim.simulate` (or
:func:`sustainsim.run.summary.simulate_summary`) whatever the scheduler or worker count.

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
* ``summary_only``: each task reduces a block of chunks
  (:func:`sustainsim.run.summary.reduce_block`) and the small accumulators are merged
  in draw order, as the serial :func:`~sustainsim.run.summary.simulate_summary` does:
  bounded memory at any scale, identical results.

Examples
--------
>>> from sustainsim.run.parallel import simulate_parallel
>>> ds = simulate_parallel(spec, draws=1_000_000, scheduler="processes")  # doctest: +SKIP
>>> s = simulate_parallel(spec, draws=10**8, scheduler="tcp://10.0.0.5:8786",
...                       summary_only=True)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
from sustainsim.metrics.solvency import DEFAULT_QUANTILES
from sustainsim.run.full import allocate_outputs, assemble, resolve_run_args, run_chunk
from sustainsim.run.summary import (
    DEFAULT_BINS,
    DEFAULT_MARGIN,
    SummaryAccumulator,
    chunk_blocks,
    chunk_bounds,
    default_source,
    pilot_accumulator,
    reduce_block,
    streaming_chunk_size,
    summary_dataset,
)
from sustainsim.sampling.streams import UniformSource

__all__ = ["DASK_WORKER_CONFIG", "LOCAL_SCHEDULERS", "shutdown_pools", "simulate_parallel"]

LOCAL_SCHEDULERS = ("synchronous", "threads", "processes")

#: dask config for starting distributed workers (``LocalCluster``, ``dask worker``):
#: distributed's default ``MALLOC_TRIM_THRESHOLD_=65536`` makes every large numpy
#: temporary a fresh mmap, and the engine ~2.5x slower per draw (measured on ref10).
#: Use ``with dask.config.set(DASK_WORKER_CONFIG): LocalCluster(...)``.
DASK_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


# --- tasks (module level: they run in worker processes) ------------------------------------------


def _chunk_dataset(spec: Spec, res, lines: bool) -> xr.Dataset:
    """A chunk's results as a Dataset region: draw coordinate start..stop-1, no other coords."""
    ds = assemble(spec, res.arrays, res.scalars, res.scalar_attrs, seed=0, sampler="")
    ds = ds.assign_coords(draw=np.arange(res.start, res.stop))
    return ds.drop_vars([c for c in ds.coords if c != "draw"]).drop_attrs(deep=False)


def _task(
    spec: Spec,
    src: UniformSource,
    unit: Sequence[tuple[int, int]],
    *,
    lines: bool = False,
    zarr_path: str | None = None,
    acc: SummaryAccumulator | None = None,
    keep: bool = True,
):
    """Run the chunks of ``unit``; write them to Zarr and/or reduce them; return what is asked.

    ``acc``: reduce the unit (a block) into a new accumulator with its bins and return it.
    ``keep``: return the :class:`~sustainsim.run.full.ChunkResult` (one chunk per unit).
    Otherwise return the number of draws done.
    """

    def write(res) -> None:
        if zarr_path is not None:
            _chunk_dataset(spec, res, lines).to_zarr(
                zarr_path,
                region={"draw": slice(res.start, res.stop)},
                mode="r+",
                consolidated=False,
            )

    if acc is not None:  # one output buffer for the block's chunks
        return reduce_block(spec, src, unit, acc, on_chunk=write)
    if keep:
        ((start, stop),) = unit
        res = run_chunk(spec, src, start, stop, lines=lines)
        res.scalars = {k: np.ascontiguousarray(v) for k, v in res.scalars.items()}
        return res
    for start, stop in unit:
        write(run_chunk(spec, src, start, stop, lines=lines))
    return sum(b - a for a, b in unit)


def _sampler_name(src: UniformSource) -> str:
    return getattr(src, "name", type(src).__name__)


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


def _run_tasks(
    spec: Spec,
    src: UniformSource,
    units: Sequence[Sequence[tuple[int, int]]],
    task_kwargs: dict[str, Any],
    scheduler: Any,
    workers: int | None,
    consume: Callable[[int, Any], None],
    bar: tqdm,
) -> None:
    """Run ``_task(spec, src, unit, **task_kwargs)`` for every unit of chunks, calling
    ``consume(i, result)`` as results come in.

    Local schedulers: ``dask.delayed`` tasks computed in waves of a few per worker on
    a pool kept between calls (bounded memory on the driver). Distributed:
    ``client.submit`` with a bounded number of tasks in flight, results consumed as
    they complete; the spec and the accumulator template are scattered once.
    """

    def draws(unit) -> int:
        return sum(b - a for a, b in unit)

    with _client_for(scheduler) as client:
        if client is None:
            nw = workers or os.cpu_count() or 1
            wave = 1 if scheduler == "synchronous" else 2 * nw
            pool = _local_pool(scheduler, nw)
            kw: dict[str, Any] = {"pool": pool} if pool is not None else {}
            if scheduler == "processes":
                kw["chunksize"] = 1  # dask batches 6 tasks per submission by default: our
                # tasks are large, and a wave would run on one worker
            for w0 in range(0, len(units), wave):
                idx = range(w0, min(w0 + wave, len(units)))
                tasks = [
                    dask.delayed(_task, pure=False)(spec, src, units[i], **task_kwargs) for i in idx
                ]
                try:
                    results = dask.compute(*tasks, scheduler=scheduler, num_workers=nw, **kw)
                except BrokenExecutor:
                    _POOLS.pop((scheduler, nw), None)
                    raise
                for i, r in zip(idx, results, strict=True):
                    consume(i, r)
                    bar.update(draws(units[i]))
            return
        from distributed import as_completed

        nthreads = sum(client.nthreads().values()) or 1
        window = max(2, 2 * nthreads)
        spec_f = client.scatter(spec, broadcast=True, hash=False)
        src_f = client.scatter(src, broadcast=True, hash=False)
        kwargs = {
            k: client.scatter(v, broadcast=True, hash=False)
            if isinstance(v, SummaryAccumulator)
            else v
            for k, v in task_kwargs.items()
        }
        index: dict[str, int] = {}

        def submit(i: int):
            fut = client.submit(_task, spec_f, src_f, units[i], pure=False, **kwargs)
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
            bar.update(draws(units[i]))
            nxt = next(todo, None)
            if nxt is not None:
                ac.add(submit(nxt))
        if done != len(units):  # pragma: no cover - a bug, never bad input
            raise RuntimeError(f"internal: {done} of {len(units)} tasks completed")


# --- Zarr ------------------------------------------------------------------------------------


def _zarr_template(
    spec: Spec, n: int, chunk: int, seed: int, src: UniformSource, lines: bool
) -> xr.Dataset:
    """The full run's Dataset with lazy (never computed) data, chunked along ``draw``."""
    import dask.array as da

    probe = run_chunk(spec, src, 0, 1, lines=lines)
    small = assemble(
        spec, probe.arrays, probe.scalars, probe.scalar_attrs, seed=seed, sampler=_sampler_name(src)
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


def _is_zarr_store(path: Path) -> bool:
    return (path / "zarr.json").exists() or (path / ".zgroup").exists()


def _partial_path(final: str) -> str:
    """Where the store is written before it is moved onto ``final`` (local paths only).

    An existing ``final`` must be a Zarr store (it is replaced) or an empty folder; a
    URL (``s3://...``) is written in place.
    """
    if "://" in final:
        return final
    p = Path(final)
    if p.exists() and not (p.is_dir() and (_is_zarr_store(p) or not any(p.iterdir()))):
        raise ValueError(
            f"zarr_path {final!r} exists and is not a Zarr store or an empty folder; "
            "refusing to overwrite it"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    return str(p.with_name(f".{p.name}.partial-{os.getpid()}"))


def _commit_zarr(partial: str, final: str | None) -> None:
    """Move the finished store onto its name: readers never see a half-written store."""
    if final is None or partial == final:
        return
    if Path(final).exists():
        shutil.rmtree(final)
    os.replace(partial, final)


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
    spec: Spec,
    *,
    draws: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    scheduler: Any = "processes",
    num_workers: int | None = None,
    summary_only: bool = False,
    zarr_path: str | os.PathLike | None = None,
    lines: bool = False,
    bins: int = DEFAULT_BINS,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    confidence: float = 0.95,
    progress: bool | None = None,
    source: UniformSource | None = None,
) -> xr.Dataset:
    """Run the chunks of a simulation as dask tasks; identical to the serial run.

    Parameters
    ----------
    spec : Spec
        From :func:`sustainsim.load_config`.
    draws, seed : int, optional
        Default: the config's.
    chunk_size : int, optional
        Draws per task (and per Zarr chunk). Default as the serial runners.
    scheduler : str or distributed.Client
        ``"processes"`` (default), ``"threads"``, ``"synchronous"``, ``"distributed"``
        (the current client), ``"tcp://host:port"`` or a ``distributed.Client``.
    num_workers : int, optional
        Pool size of the local schedulers (default: CPU count).
    summary_only : bool
        Reduce every chunk on its worker and return the summary Dataset of
        :func:`sustainsim.run.summary.simulate_summary` (identical to it).
    zarr_path : path, optional
        Write per-draw results to this Zarr store, chunked along ``draw``, each task
        its own region, into a hidden ``.NAME.partial-PID`` folder moved onto the
        path when complete (an existing store there is replaced; any other existing
        file or non-empty folder is refused). Without ``summary_only`` the store is
        returned opened lazily; with it, the summary is returned (attr ``zarr_path``).
        Workers must see the path (shared file system, or an fsspec URL, written in
        place). The driver holds only the ``draw`` index (8 bytes a draw).
    lines : bool
        Keep per-line breakdowns (not with ``summary_only``).
    bins, quantiles, confidence
        As in :func:`~sustainsim.run.summary.simulate_summary` (``summary_only`` only).
    progress : bool, optional
        Progress bar over draws (default: on a terminal, for several chunks).
    source : UniformSource, optional
        Default: the config's sampler and correlations, as :func:`sustainsim.simulate`
        (shipped to the workers, so it must pickle).

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
    if summary_only and lines:
        raise ValueError(
            "lines=True needs per-draw output; it cannot be combined with summary_only"
        )
    n, seed, chunk = resolve_run_args(spec, draws, seed, chunk_size)
    src = source if source is not None else default_source(spec, n, seed)
    if summary_only:
        chunk = streaming_chunk_size(spec, chunk_size)
    if num_workers is not None and (isinstance(num_workers, bool) or num_workers < 1):
        raise ValueError(f"num_workers must be >= 1 (got {num_workers!r})")
    final = None if zarr_path is None else os.fspath(zarr_path)
    zpath = None if final is None else _partial_path(final)
    if zpath is not None:
        # task regions must cover whole Zarr chunks: chunk along draw = task size
        _zarr_template(spec, n, chunk, seed, src, lines).to_zarr(
            zpath, mode="w", compute=False, consolidated=False
        )

    disable = (None if n > chunk else True) if progress is None else not progress
    bar = tqdm(total=n, unit="draw", unit_scale=True, desc="simulate", disable=disable, leave=False)
    try:
        if summary_only:
            out = _run_summary(spec, n, src, chunk, scheduler, num_workers, zpath, bins, bar)
            ds = summary_dataset(
                out,
                spec,
                seed=seed,
                sampler=_sampler_name(src),
                quantiles=quantiles,
                confidence=confidence,
            )
            if zpath is not None:
                _commit_zarr(zpath, final)
                ds.attrs["zarr_path"] = final
            return ds
        units = [[b] for b in chunk_bounds(n, chunk)]
        if zpath is not None and final is not None:
            kwargs = {"lines": lines, "zarr_path": zpath, "keep": False}
            _run_tasks(spec, src, units, kwargs, scheduler, num_workers, lambda i, r: None, bar)
            _commit_zarr(zpath, final)
            return _open_zarr(final)
        return _gather(spec, n, seed, src, units, scheduler, num_workers, lines, bar)
    except BaseException:
        if zpath is not None and zpath != final:
            shutil.rmtree(zpath, ignore_errors=True)
        raise
    finally:
        bar.close()


def _run_summary(spec, n, src, chunk, scheduler, workers, zpath, bins, bar) -> SummaryAccumulator:
    acc = pilot_accumulator(spec, src, n, bins, DEFAULT_MARGIN, chunk)
    template = acc.empty_like()
    pending: dict[int, SummaryAccumulator] = {}
    nxt = 0

    def consume(i: int, part: SummaryAccumulator) -> None:
        nonlocal nxt
        pending[i] = part
        while nxt in pending:  # merge in draw order: identical to the serial run
            acc.merge(pending.pop(nxt))
            nxt += 1

    kwargs = {"zarr_path": zpath, "acc": template}
    _run_tasks(spec, src, chunk_blocks(n, chunk), kwargs, scheduler, workers, consume, bar)
    return acc


def _gather(spec, n, seed, src, units, scheduler, workers, lines, bar) -> xr.Dataset:
    arrays = allocate_outputs(spec, n, lines)
    scalars: dict[str, np.ndarray] = {}
    scalar_attrs: dict[str, dict[str, str]] = {}

    def consume(i: int, res) -> None:
        for k, v in res.arrays.items():
            arrays[k][..., res.start : res.stop] = v
        for k, v in res.scalars.items():
            if k not in scalars:
                scalars[k] = np.empty(n)
                scalar_attrs[k] = res.scalar_attrs[k]
            scalars[k][res.start : res.stop] = v

    _run_tasks(spec, src, units, {"lines": lines}, scheduler, workers, consume, bar)
    return assemble(spec, arrays, scalars, scalar_attrs, seed=seed, sampler=_sampler_name(src))
