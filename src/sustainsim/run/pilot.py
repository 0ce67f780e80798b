"""The pilot of a summary run in this process, kept: its chunks are not simulated a second time.

A summary run fixes its histogram bins from the first
:data:`~sustainsim.run.accumulate.PILOT_DRAWS` draws
(:func:`~sustainsim.run.accumulate.pilot_accumulator`) and then reduces every chunk,
the pilot's included, so those draws are simulated twice: for a run of up to 16,384
draws (many schools, few draws) that is every draw. In this process
(:class:`~sustainsim.run.core.SerialExecutor` and
:class:`~sustainsim.run.threads.ThreadExecutor`) :func:`kept_pilot` instead keeps, for
each pilot chunk that is also a chunk of the run, what the reduction needs and the bins
do not decide (the counts and moments, :func:`~sustainsim.run.accumulate.chunk_stats`)
and the fund balances the histograms count, up to a memory cap; :func:`kept_block_task`
folds them in where the chunk would have been run. Each block is still reduced chunk by
chunk in draw order and the blocks merged in order, so the numbers are the same, bit for
bit, as with the pilot run twice (and as the parallel executors', which do that).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
from tqdm import tqdm

from sustainsim.config.spec import Spec
from sustainsim.run.accumulate import (
    CHECKED,
    PILOT_DRAWS,
    ChunkStats,
    SummaryAccumulator,
    chunk_stats_checked,
    run_reduced,
)
from sustainsim.run.chunk import (
    allocate_outputs,
    chunk_bounds,
    has_district_totals,
    run_chunk,
    thread_buffers,
)
from sustainsim.run.chunk_stats import _entity_parts, balance_ranges
from sustainsim.run.schoolwise import run_by_school, schoolwise
from sustainsim.sampling.streams import UniformSource

__all__ = ["Kept", "kept_block_task", "kept_pilot"]

#: (start, stop) of a pilot chunk -> its fund balances by entity part and its stats
Kept = dict[tuple[int, int], tuple[list[np.ndarray], ChunkStats]]


def kept_pilot(
    spec: Spec,
    source: UniformSource,
    n: int,
    bins: int,
    margin: float,
    chunk: int,
    cap: int,
    buffers: dict[str, np.ndarray] | None = None,
    executor: Any = None,
) -> tuple[SummaryAccumulator, Kept]:
    """The pilot's empty accumulator (as ``pilot_accumulator``) and what it keeps.

    Chunks of the pilot are kept while their fund balances fit in ``cap`` bytes and
    they are chunks of the run too (all when ``n <= PILOT_DRAWS`` or the pilot is a
    whole number of chunks). Every chunk is run a school at a time where the config
    allows (:mod:`sustainsim.run.schoolwise`; ``buffers`` unused), else into ``buffers``
    (engine outputs of at least ``chunk`` draws,
    :func:`~sustainsim.run.chunk.allocate_outputs`; allocated if not given): fresh
    memory for each chunk costs a page fault per page. With an ``executor`` of this
    process that is not serial (:class:`~sustainsim.run.threads.ThreadExecutor`), the
    pilot's chunks run on its threads, each with its own buffers; which chunks are kept
    is decided before, in draw order, so it is the same.
    """
    run_chunks = set(chunk_bounds(n, chunk))
    units, keep = [], []
    used = 0
    for start, stop in chunk_bounds(min(n, PILOT_DRAWS), chunk):
        size = _balance_bytes(spec, stop - start)
        keep.append((start, stop) in run_chunks and used + size <= cap)
        used += size if keep[-1] else 0
        units.append([(start, stop)])
    got: list = [None] * len(units)
    by_school = schoolwise(spec)
    keeps = {u[0]: k for u, k in zip(units, keep, strict=True)}
    task = partial(_pilot_task, spec, source, by_school, keeps)

    def consume(i: int, result: tuple) -> None:
        got[i] = result

    if executor is None:
        if by_school:  # a school at a time: no buffers of every school
            shared = {}
        elif buffers is None:
            shared = thread_buffers(spec, min(n, chunk))
        else:
            shared = {"buffers": buffers}
        for i, unit in enumerate(units):
            consume(i, task(None, unit, **shared))
    else:
        local = None if by_school else partial(thread_buffers, spec, min(n, chunk))
        with tqdm(disable=True) as bar:
            executor.map(None, units, task, consume, bar, local=local)
    kept: Kept = {u[0]: k for u, (_, k) in zip(units, got, strict=True) if k is not None}
    lo, hi, wlo, whi = (np.stack(r) for r in zip(*(r for r, _ in got), strict=True))
    acc = SummaryAccumulator.from_ranges(
        lo.min(axis=0), hi.max(axis=0), wlo.min(axis=0), whi.max(axis=0), bins, margin
    )
    return acc, kept


def _pilot_task(
    spec: Spec,
    source: UniformSource,
    by_school: bool,
    keep: dict[tuple, bool],
    _plan: Any,
    unit: Sequence[tuple[int, int]],
    buffers: dict[str, np.ndarray] | None = None,
) -> tuple[tuple[np.ndarray, ...], tuple[list[np.ndarray], ChunkStats] | None]:
    """One pilot chunk: its balance ranges, and its balances and stats if it is kept."""
    ((start, stop),) = unit
    kept = keep[(start, stop)]
    if by_school:  # a school at a time; a kept chunk's balances copied out as they go
        got = run_by_school(spec, source, start, stop, keep=kept, ranges=True)
        assert got.ranges is not None
        return got.ranges, None if got.balances is None else (got.balances, got.stats)
    assert buffers is not None
    views = {k: v[..., : stop - start] for k, v in buffers.items()}
    if kept:  # its own balance arrays, kept as the engine wrote them (no copy)
        for k in _BALANCES & views.keys():
            views[k] = np.empty(views[k].shape)
    res = run_chunk(spec, source, start, stop, out=views, checked=CHECKED if kept else _NONE)
    parts = _entity_parts(res.arrays, "fund_balance")
    return balance_ranges(parts), (parts, chunk_stats_checked(spec, res)) if kept else None


_NONE: frozenset[str] = frozenset()

#: the engine outputs a kept chunk holds on to (its entity parts of the fund balance)
_BALANCES = frozenset({"fund_balance", "district_fund_balance"})


def _balance_bytes(spec: Spec, n: int) -> int:
    """Bytes of the fund-balance entity parts (:func:`_entity_parts`) of ``n`` draws.

    The schools' and, when there is one, the district's.
    """
    T, S = spec.years, len(spec.config.schools)
    return 8 * T * n * (S + has_district_totals(spec))


def kept_block_task(
    kept: Kept,
    plan,
    unit: Sequence[tuple[int, int]],
    template: SummaryAccumulator,
    buffers: dict[str, np.ndarray] | None = None,
) -> SummaryAccumulator:
    """``block_task`` with the pilot's kept chunks folded in instead of run again."""
    part = template.empty_like()
    for start, stop in unit:
        got = kept.pop((start, stop), None)
        if got is not None:
            part.add_balances(got[0])
            part.add_stats(got[1])
            continue
        if schoolwise(plan.spec):  # a school at a time: no buffers of every school
            run_reduced(plan.spec, plan.source, start, stop, part)
            continue
        if buffers is None or buffers["fund_balance"].shape[-1] < stop - start:
            buffers = allocate_outputs(plan.spec, stop - start, False)
        views = {k: v[..., : stop - start] for k, v in buffers.items()}
        run_reduced(plan.spec, plan.source, start, stop, part, views)
    return part
