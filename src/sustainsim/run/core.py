"""The run core: a plan's chunks through an executor, gathered (full) or reduced (summary).

Every runner ends here. :func:`execute` takes a :class:`~sustainsim.run.plan.RunPlan`,
picks its executor (in this process: :class:`~sustainsim.run.threads.ThreadExecutor` on the
plan's threads, or :class:`SerialExecutor` for one thread or one chunk; the dask executor of
:mod:`sustainsim.run.parallel` when the plan names a scheduler) and either gathers the
chunks' results into one Dataset (:func:`gather`, ``mode="full"``) or folds them into a
:class:`~sustainsim.run.accumulate.SummaryAccumulator` block by block, merged in draw
order (:func:`reduce`, ``mode="summary"``). A chunk's numbers depend only on the spec,
the source and the draw indices (:func:`~sustainsim.run.chunk.run_chunk`), so the
results do not depend on the chunk size, the executor, the threads, the scheduler or the
workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Literal, Protocol, Unpack

import numpy as np
import xarray as xr
from tqdm import tqdm

from sustainsim.config.spec import Spec
from sustainsim.run.accumulate import (
    SummaryAccumulator,
    pilot_accumulator,
    reduce_block,
    summary_dataset,
)
from sustainsim.run.chunk import (
    ChunkResult,
    allocate_outputs,
    assemble,
    buffer_bytes,
    chunk_blocks,
    chunk_bounds,
    even_bounds,
    output_bytes,
    output_shapes,
    run_chunk,
    thread_buffers,
)
from sustainsim.run.pilot import kept_block_task, kept_pilot
from sustainsim.run.plan import (
    MemoryBudgetError,
    PlanOptions,
    RunPlan,
    memory_budget,
    plan_run,
)
from sustainsim.run.schoolwise import schoolwise
from sustainsim.run.threads import ThreadExecutor, default_threads, on_chunk_thread, unit_draws
from sustainsim.sampling.streams import Median

__all__ = [
    "Executor",
    "SerialExecutor",
    "block_task",
    "central_case",
    "check_memory",
    "chunk_task",
    "estimate_memory",
    "execute",
    "executor_for",
    "gather",
    "progress_bar",
    "reduce",
    "run_threads",
    "simulate",
    "summarize",
]

Unit = Sequence[tuple[int, int]]
Task = Callable[..., Any]


class Executor(Protocol):
    """Where the chunks of a run are computed: this process, or a dask cluster.

    ``map`` runs ``task(plan, unit, **shared)`` for every unit (a list of chunk bounds) and
    calls ``consume(i, result)`` as results come in, in any order.
    """

    #: tasks run in this process and may write straight into the caller's buffers
    in_place: bool
    #: one task at a time: tasks may share buffers and count into the caller's histograms
    serial: bool

    def map(
        self,
        plan: RunPlan,
        units: Sequence[Unit],
        task: Task,
        consume: Callable[[int, Any], None],
        bar: tqdm,
        local: Callable[[], dict[str, Any]] | None = None,
        **shared: Any,
    ) -> None:
        """Run ``task`` on every unit; ``consume(i, result)`` each; advance ``bar``.

        ``local()``, for an ``in_place`` executor, gives further keyword arguments built
        once per thread that runs tasks (its own buffers).
        """


class SerialExecutor:
    """One unit after another in the calling thread (no scheduler, one thread)."""

    in_place = True
    serial = True

    def map(self, plan, units, task, consume, bar, local=None, **shared) -> None:
        """Run the units in order, in this thread."""
        if local is not None:
            shared = {**shared, **local()}
        for i, unit in enumerate(units):
            consume(i, task(plan, unit, **shared))
            bar.update(unit_draws(unit))


def run_threads(plan: RunPlan, units: int | None = None) -> int:
    """Threads of this process a plan's chunks run on: 1 with a scheduler (its workers run them).

    The plan's ``threads``, else :func:`~sustainsim.run.threads.default_threads`; never more
    than ``units`` (the run's units of chunks, if given); 1 for a run started on a chunk
    thread itself.
    """
    if plan.scheduler is not None or on_chunk_thread():  # a run inside a chunk: that thread
        return 1
    n = plan.threads if plan.threads is not None else default_threads()
    return max(1, n if units is None else min(n, units))


def executor_for(plan: RunPlan, units: int | None = None) -> Executor:
    """The plan's executor for ``units`` units of chunks.

    Without a scheduler, this process: on threads (:class:`~sustainsim.run.threads.
    ThreadExecutor`) when more than one is to be had, else one unit after another. With
    one, dask (imported only then).
    """
    if plan.scheduler is None:
        n = run_threads(plan, units)
        return ThreadExecutor(n) if n > 1 else SerialExecutor()
    from sustainsim.run.parallel import DaskExecutor

    return DaskExecutor(plan.scheduler, plan.workers)


def progress_bar(plan: RunPlan, desc: str, total: int | None = None) -> tqdm:
    """The progress bar over draws.

    Shown when asked, or (``progress=None``) for several chunks on a terminal (tqdm's
    ``disable=None``).
    """
    several = plan.draws > plan.chunk_size
    disable = (None if several else True) if plan.progress is None else not plan.progress
    n = plan.draws if total is None else total
    return tqdm(total=n, unit="draw", unit_scale=True, desc=desc, disable=disable, leave=False)


# --- tasks (module level: dask ships them to worker processes) ------------------------------


def chunk_task(plan: RunPlan, unit: Unit) -> ChunkResult:
    """Run the one chunk of ``unit`` into new arrays."""
    ((start, stop),) = unit
    res = run_chunk(plan.spec, plan.source, start, stop, lines=plan.lines)
    res.scalars = {k: np.ascontiguousarray(v) for k, v in res.scalars.items()}
    return res


def _chunk_into(arrays: dict[str, np.ndarray], offset: int, plan: RunPlan, unit: Unit):
    """Run the one chunk of ``unit`` straight into the run's buffers (draw ``offset`` first)."""
    ((start, stop),) = unit
    views = {k: v[..., start - offset : stop - offset] for k, v in arrays.items()}
    return run_chunk(plan.spec, plan.source, start, stop, lines=plan.lines, out=views)


def block_task(
    plan: RunPlan,
    unit: Unit,
    template: SummaryAccumulator,
    buffers: dict[str, np.ndarray] | None = None,
) -> SummaryAccumulator:
    """Reduce the chunks of a block into a new accumulator with ``template``'s bins."""
    return reduce_block(plan.spec, plan.source, unit, template, buffers)


# --- the memory budget -----------------------------------------------------------------------

#: a full run's peak over its result buffers: the summary's temporaries, the NetCDF copy of
#: one variable (measured: 1.4 to 1.9 times the buffers, most for small runs)
FULL_OVERHEAD = 1.5
#: a chunk's engine temporaries, in chunk-output sizes
CHUNK_OVERHEAD = 2
#: the most a summary run in this process keeps of its pilot (:mod:`sustainsim.run.pilot`), in
#: chunk-output sizes: a fund balance is about a sixth of a chunk's outputs
PILOT_KEPT_CHUNKS = 2


def estimate_memory(plan: RunPlan, draws: int | None = None) -> int:
    """The bytes a run of ``plan`` (``draws`` of it, default all) will need at its peak, about.

    A full run keeps every draw: :data:`FULL_OVERHEAD` times its result buffers
    (:func:`~sustainsim.run.chunk.output_bytes`) plus a chunk's engine temporaries for
    each thread it runs on (:func:`run_threads`). A summary run keeps a chunk's buffers
    for each thread, the histograms of its accumulator and up to
    :data:`PILOT_KEPT_CHUNKS` chunks' worth of its pilot's fund balances; its reductions
    work a year at a time and the engine a school at a time, so their temporaries are
    small beside a chunk. Measured peaks (RSS over imports) are 40-55% of the estimate
    (100 and 600 schools, 10 and 20 years).
    """
    spec = plan.spec
    n = plan.draws if draws is None else draws
    chunk = output_bytes(spec, min(n, plan.chunk_size), plan.lines)
    threads = run_threads(plan, -(-n // plan.chunk_size))  # a chunk's buffers each
    if plan.mode == "summary":
        entities = len(spec.config.schools) + 1
        hist = 4 * 8 * (plan.bins + 2) * (spec.years + 1) * entities
        return (threads + PILOT_KEPT_CHUNKS) * chunk + hist
    full = int(FULL_OVERHEAD * output_bytes(spec, n, plan.lines))
    return full + threads * CHUNK_OVERHEAD * chunk


def check_memory(plan: RunPlan, draws: int | None = None, copies: int = 1) -> None:
    """Refuse a run that would pass its memory budget, before it starts.

    The need is :func:`estimate_memory` times ``copies`` (e.g. one per scenario kept);
    the budget is the plan's ``max_memory``, else half of the available memory
    (:func:`~sustainsim.run.plan.memory_budget`).

    Raises
    ------
    MemoryBudgetError
        Saying how much the run needs, the budget, and what to do instead: summary mode
        (``--summary`` / ``mode="summary"``), Zarr output (``run --zarr``), fewer draws.
    """
    need = copies * estimate_memory(plan, draws)
    budget = memory_budget(plan.max_memory)
    if need <= budget[0]:
        return
    n = plan.draws if draws is None else draws
    what = f"a {plan.mode} run of {n:,} draws" + (f" ({copies} kept)" if copies > 1 else "")
    advice = (
        "use fewer draws or a smaller chunk size (--chunk-size)"
        if plan.mode == "summary"
        else "use summary mode (--summary / mode='summary': probabilities exact, bounded "
        "memory) or per-draw Zarr output (run --zarr DIR), or fewer draws"
    )
    raise MemoryBudgetError(what, need, budget, advice)


# --- the two modes --------------------------------------------------------------------------


def gather(
    plan: RunPlan,
    bar: tqdm,
    start: int = 0,
    stop: int | None = None,
    executor: Executor | None = None,
    out: Mapping[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, dict[str, str]]]:
    """Run draws ``[start, stop)`` (default all) chunk by chunk and gather the results.

    Returns the engine arrays (draw axis last), the sampled scalar inputs and their attrs,
    as :func:`~sustainsim.run.chunk.assemble` takes them. The engine arrays are ``out``'s
    where given (:func:`check_out`), else new.
    """
    stop = plan.draws if stop is None else stop
    bounds = chunk_bounds(stop, plan.chunk_size, start)
    ex = executor_for(plan, len(bounds)) if executor is None else executor
    if isinstance(ex, ThreadExecutor):  # chunks as even as can be: no thread waits on the last
        bounds = even_bounds(stop, plan.chunk_size, start, ex.threads)
    units = [[b] for b in bounds]
    n = stop - start
    check_memory(plan, stop)  # an extended run keeps every draw up to stop
    arrays = allocate_outputs(plan.spec, n, plan.lines) if out is None else check_out(plan, n, out)
    scalars: dict[str, np.ndarray] = {}
    scalar_attrs: dict[str, dict[str, str]] = {}

    def consume(i: int, res: ChunkResult) -> None:
        a, b = res.start - start, res.stop - start
        if not ex.in_place:
            for k, v in res.arrays.items():
                arrays[k][..., a:b] = v
        for k, v in res.scalars.items():
            if k not in scalars:
                scalars[k] = np.empty(n)
                scalar_attrs[k] = res.scalar_attrs[k]
            scalars[k][a:b] = v

    # in this process (on threads too) every chunk writes its own draws of the arrays
    task = partial(_chunk_into, arrays, start) if ex.in_place else chunk_task
    ex.map(plan, units, task, consume, bar)
    return arrays, scalars, scalar_attrs


def check_out(plan: RunPlan, n: int, out: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``out`` as the result buffers of ``n`` draws of ``plan``, else ValueError saying why.

    Every buffer :func:`~sustainsim.run.chunk.output_shapes` names, in its shape, float64,
    writable, zero-filled (the engine adds into some of them; e.g. a new mapped file's
    pages, :class:`sustainsim.mapped.MappedResults`).
    """
    shapes = output_shapes(plan.spec, n, plan.lines)
    problems = sorted(set(shapes) ^ set(out))
    if problems:
        raise ValueError(
            f"out= must hold the buffers {sorted(shapes)}; missing or unknown: {problems}"
        )
    for k, shape in shapes.items():
        v = out[k]
        if v.shape != shape or v.dtype != np.float64 or not v.flags.writeable:
            raise ValueError(
                f"out[{k!r}]: a {v.dtype} array of shape {v.shape}"
                f"{'' if v.flags.writeable else ', read-only'}; needs a writable float64 "
                f"array of shape {shape}"
            )
    return dict(out)


def reduce(
    plan: RunPlan,
    bar: tqdm,
    executor: Executor | None = None,
    task: Task = block_task,
    **shared: Any,
) -> SummaryAccumulator:
    """Reduce every chunk into one accumulator.

    Bins from the pilot, then blocks of chunks (one task each; on threads, one chunk a
    task, folded back into its block) merged in draw order, so any executor gives the
    serial numbers.
    """
    spec, n, chunk = plan.spec, plan.draws, plan.chunk_size
    blocks = chunk_blocks(n, chunk)
    ex = executor_for(plan, sum(map(len, blocks))) if executor is None else executor
    by_school = schoolwise(spec)  # a school at a time: no buffers of every school
    local = None
    if ex.in_place and not by_school and "buffers" not in shared:
        if ex.serial:  # one buffer for every chunk, the pilot's included
            shared["buffers"] = allocate_outputs(spec, min(n, chunk), False)
        else:  # one for every thread
            local = partial(thread_buffers, spec, min(n, chunk))
    if ex.in_place and task is block_task:  # the pilot's chunks are kept, not run twice
        # in chunk-output sizes: the buffers' bytes (no scan of the config for its inputs)
        cap = PILOT_KEPT_CHUNKS * buffer_bytes(spec, min(n, chunk))
        acc, kept = kept_pilot(
            spec,
            plan.source,
            n,
            plan.bins,
            plan.margin,
            chunk,
            cap,
            shared.get("buffers"),
            executor=None if ex.serial else ex,  # on threads, the pilot's chunks too
        )
        task = partial(kept_block_task, kept)
    else:
        acc = pilot_accumulator(spec, plan.source, n, plan.bins, plan.margin, chunk)
    # in this process every block counts into the run's histograms (integers: order-free;
    # on threads under the histograms' lock)
    template = acc.sharing() if ex.in_place else acc.empty_like()
    if ex.in_place and not ex.serial:  # threads: a chunk a task, folded back into its block
        units = [[c] for block in blocks for c in block]
        consume = _InOrder(acc, [len(b) for b in blocks], template)
    else:
        units, consume = blocks, _InOrder(acc, [1] * len(blocks))
    if local is not None:
        shared["local"] = local
    ex.map(plan, units, task, consume, bar, template=template, **shared)
    return acc


class _InOrder:
    """Merge the units' accumulators into ``acc`` in draw order, as they come in.

    Without ``template`` the units are blocks, merged as they are. With it they are chunks,
    ``sizes[i]`` to block ``i``: each block's are folded into an empty accumulator of
    ``template`` chunk by chunk, as :func:`~sustainsim.run.accumulate.reduce_block` folds
    them (the same moments, bit for bit), and the block is merged when complete.
    """

    def __init__(
        self, acc: SummaryAccumulator, sizes: list[int], template: SummaryAccumulator | None = None
    ) -> None:
        self.acc, self.template = acc, template
        self.ends = set(np.cumsum(sizes).tolist())
        self.pending: dict[int, SummaryAccumulator] = {}
        self.done = 0
        self.block: SummaryAccumulator | None = None

    def __call__(self, i: int, part: SummaryAccumulator) -> None:
        self.pending[i] = part
        while self.done in self.pending:
            part = self.pending.pop(self.done)
            self.done += 1
            if self.template is None:  # units are blocks
                self.acc.merge(part)
                continue
            if self.block is None:
                self.block = self.template.empty_like()
            self.block.merge(part)
            if self.done in self.ends:
                self.acc.merge(self.block)
                self.block = None


def summarize(plan: RunPlan, acc: SummaryAccumulator) -> xr.Dataset:
    """The summary Dataset of a plan's accumulator."""
    return summary_dataset(
        acc,
        plan.spec,
        seed=plan.seed,
        sampler=plan.source_name,
        quantiles=plan.quantiles,
        confidence=plan.confidence,
    )


def _full(plan: RunPlan, bar: tqdm, out: Mapping[str, np.ndarray] | None) -> xr.Dataset:
    arrays, scalars, attrs = gather(plan, bar, out=out)
    return assemble(plan.spec, arrays, scalars, attrs, seed=plan.seed, sampler=plan.source_name)


def execute(plan: RunPlan, out: Mapping[str, np.ndarray] | None = None) -> xr.Dataset:
    """Run a plan: the results Dataset (``mode="full"``) or the summary Dataset.

    Refused before anything runs when it would pass the memory budget (:func:`check_memory`).
    ``out``: the full run's result buffers (:func:`check_out`).
    """
    if out is not None and plan.mode != "full":
        raise ValueError(f"out= takes a full run's buffers; this plan's mode is {plan.mode!r}")
    check_memory(plan)
    with progress_bar(plan, "simulate" if plan.mode == "full" else "summary") as bar:
        return _full(plan, bar, out) if plan.mode == "full" else summarize(plan, reduce(plan, bar))


# --- entry points ---------------------------------------------------------------------------


def simulate(
    spec: Spec | RunPlan,
    *,
    draws: int | None = None,
    seed: int | None = None,
    out: Mapping[str, np.ndarray] | None = None,
    **options: Unpack[PlanOptions],
) -> xr.Dataset:
    """Simulate revenue, cost and fund-balance paths for every draw.

    Parameters
    ----------
    spec : Spec or RunPlan
        From :func:`sustainsim.load_config`, or a plan from
        :func:`~sustainsim.run.plan.plan_run`.
    draws : int, optional
        Number of draws; default ``[simulation] draws`` of the config.
    seed : int, optional
        Seed (>= 0); default ``[simulation] seed``.
    **options
        Any option of :func:`~sustainsim.run.plan.plan_run`: ``chunk_size``, ``lines``,
        ``progress``, ``source`` or ``sampler``, ``mode="summary"`` (bounded memory),
        ``scheduler`` and ``workers`` (dask), and the summary's ``bins``, ``quantiles``,
        ``confidence``, ``margin``.
    out : dict of numpy.ndarray, optional
        The buffers a full run writes its paths into instead of new arrays: one for each
        name of :func:`~sustainsim.run.chunk.output_shapes`, in its shape (draw axis
        last), float64, zero-filled; the Dataset's variables are views of them. E.g. a
        ``results.nc`` mapped into memory (:class:`sustainsim.mapped.MappedResults`).

    Returns
    -------
    xarray.Dataset
        Dims ``draw``, ``year``, ``school``; variables ``enrollment``, ``revenue``,
        ``cost``, ``surplus``, ``fund_balance``, ``initial_fund_balance`` and the
        sampled scalar inputs; provenance in attrs. With ``mode="summary"``, the
        summary Dataset of :func:`sustainsim.run.summary.simulate_summary`.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=2_000, seed=1)
    >>> dict(ds.sizes)
    {'draw': 2000, 'year': 10, 'school': 1}
    >>> float(sustainsim.p_solvent(ds).probability.isel(year=-1, school=0))
    0.019
    """
    return execute(plan_run(spec, draws=draws, seed=seed, **options), out)


def central_case(spec: Spec, *, kind: Literal["median"] = "median") -> xr.Dataset:
    """The deterministic central case: every input at its median, no rare event.

    One draw with every uniform at 0.5, per-line breakdowns kept; what a budget
    office would call the base-case projection.
    """
    return simulate(spec, draws=1, seed=0, lines=True, progress=False, source=Median())
