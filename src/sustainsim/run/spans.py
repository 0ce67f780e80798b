"""Parallel summary tasks over any span of a run's chunks, reassembled into its blocks.

A summary run reduces blocks of :data:`~sustainsim.run.chunk.BLOCK_CHUNKS` chunks, each
from empty and chunk by chunk, and merges the blocks in draw order
(:func:`sustainsim.run.core.reduce`): that order fixes the float sums of the moments. A
task of the parallel executor need not be a block, though. :func:`span_task` runs any
:class:`Span` of consecutive chunks: it counts their fund balances into one histogram
(integer counts and exact extremes: the same in any order), folds the chunks of a block
it starts into the block's partial accumulator, and returns the chunks' own stats for a
block it enters in the middle. :class:`Blocks` folds those into their blocks in chunk
order, so every block is reduced chunk by chunk exactly as
:func:`~sustainsim.run.accumulate.reduce_block` does, bit for bit, whichever task ran
which chunk, and hands the blocks on to be merged in order.

:func:`plan_spans` makes the spans shrink towards the end (guided self-scheduling: each
takes a share of what is left): the first are many blocks (little overhead per task),
the last single chunks (a short tail while the other workers have nothing left to do).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sustainsim.run.accumulate import ChunkStats, SummaryAccumulator, run_reduced
from sustainsim.run.chunk import allocate_outputs, output_shapes
from sustainsim.run.plan import RunPlan
from sustainsim.run.schoolwise import schoolwise
from sustainsim.run.sketch import Histogram

__all__ = [
    "Bins",
    "Blocks",
    "Span",
    "SpanResult",
    "drop_kept_buffers",
    "kept_buffers",
    "plan_spans",
    "span_task",
]

#: spans are at most 1 / (SHARE * workers) of the chunks left when they are cut
SHARE = 2

#: thread id -> the chunk buffers its summary tasks run into, kept from task to task: fresh
#: memory costs a page fault a page (a chunk's outputs are megabytes) on every task otherwise
_KEPT_BUFFERS: dict[int, dict[str, np.ndarray]] = {}


def kept_buffers(plan: RunPlan, unit: Sequence[tuple[int, int]]) -> dict[str, np.ndarray]:
    """The calling thread's buffers for the chunks of ``unit`` (engine outputs of a plan chunk).

    Kept for the next task (one chunk of outputs per worker thread, as the serial run
    keeps one); replaced when a task needs other shapes or more draws.
    """
    size = max(b - a for a, b in unit)
    tid = threading.get_ident()
    kept = _KEPT_BUFFERS.get(tid)
    if kept is not None:
        shapes = output_shapes(plan.spec, 1, False)
        fits = kept.keys() == shapes.keys() and all(
            v.shape[:-1] == shapes[k][:-1] and v.shape[-1] >= size for k, v in kept.items()
        )
        if fits:
            return kept
    _KEPT_BUFFERS.pop(tid, None)  # released before the new ones are allocated
    kept = allocate_outputs(plan.spec, max(size, min(plan.draws, plan.chunk_size)), False)
    _KEPT_BUFFERS[tid] = kept
    return kept


def drop_kept_buffers() -> None:
    """Release the buffers kept by this process's threads."""
    _KEPT_BUFFERS.clear()


class Span(list):
    """A task's chunks, ``(start, stop)`` in draw order, and the blocks they belong to.

    ``pieces``: for each block the span touches, in order, ``(block, first, count)``: the
    block's index, the position in the block of the span's first chunk of it, and how
    many of its chunks the span has.
    """

    pieces: tuple[tuple[int, int, int], ...] = ()


def plan_spans(blocks: Sequence[Sequence[tuple[int, int]]], workers: int) -> list[Span]:
    """The run's chunks (``blocks`` of them, in order) cut into spans, largest first.

    Each span takes ``1 / (SHARE * workers)`` of the chunks left (at least one chunk).
    """
    where = [(b, j, c) for b, block in enumerate(blocks) for j, c in enumerate(block)]
    spans: list[Span] = []
    i = 0
    while i < len(where):
        size = max(1, -(-(len(where) - i) // (SHARE * max(1, workers))))
        span = Span(c for _, _, c in where[i : i + size])
        pieces: list[list[int]] = []
        for b, j, _ in where[i : i + size]:
            if pieces and pieces[-1][0] == b:
                pieces[-1][2] += 1
            else:
                pieces.append([b, j, 1])
        span.pieces = tuple((b, j, k) for b, j, k in pieces)
        spans.append(span)
        i += size
    return spans


def _stats(acc: SummaryAccumulator) -> ChunkStats:
    """An accumulator's counts and moments (what a block merge folds in)."""
    counts = {"solvent": acc.solvent, "no_deficit": acc.no_deficit, "no_spending": acc.no_spending}
    return ChunkStats(acc.n, counts, acc.mean, acc.m2)


@dataclass(frozen=True)
class Bins:
    """The histogram bins of a run without counts: what a span's task needs of the template.

    Kilobytes where an empty accumulator is a full histogram of zeros (bins x years x
    entities int32), shipped with every task.
    """

    bins: int
    balance: tuple[np.ndarray, np.ndarray]  # low, width
    worst: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, acc: SummaryAccumulator) -> Bins:
        """The bins of an accumulator."""
        b, w = acc.balance, acc.worst
        return cls(b.bins, (b.low, b.width), (w.low, w.width))

    def empty(self) -> SummaryAccumulator:
        """A new empty accumulator with these bins (as ``empty_like`` of the template)."""
        return SummaryAccumulator(
            Histogram(*self.balance, self.bins), Histogram(*self.worst, self.bins)
        )


#: a histogram in transit: its counts in the smallest integer type that holds them, vmin, vmax
Packed = tuple[np.ndarray, np.ndarray, np.ndarray]


def _pack(h: Histogram) -> Packed:
    """A histogram's counts in the smallest unsigned type that holds them, and its extremes.

    The counts are the bulk of a task's result; kept under a pipe's 64 KiB, the worker
    does not wait for the driver to read it before it takes its next task.
    """
    top = int(h.counts.max()) if h.counts.size else 0
    dtype = next((t for t in (np.uint8, np.uint16, np.uint32) if top <= np.iinfo(t).max), np.int64)
    return h.counts.astype(dtype), h.vmin, h.vmax


def _unpack_into(h: Histogram, packed: Packed) -> None:
    """Add a packed histogram with the same bins into ``h``."""
    h.add_counts(*packed)


@dataclass
class SpanResult:
    """What a span's task returns: its histograms, and per piece the stats to fold in.

    ``pieces[i]`` is ``(block, first, count, stats)``: a piece that starts its block
    (``first == 0``) has one entry, its chunks folded as the block's start; any other
    piece one per chunk.
    """

    balance: Packed
    worst: Packed
    pieces: list[tuple[int, int, int, list[ChunkStats]]] = field(default_factory=list)


def span_task(plan: RunPlan, unit: Span, bins: Bins) -> SpanResult:
    """Run and reduce the chunks of a span (into this worker thread's kept buffers)."""
    span = bins.empty()  # the span's histograms; every piece counts into them
    # a school at a time (run.schoolwise) needs no buffers of every school
    buffers = None if schoolwise(plan.spec) else kept_buffers(plan, unit)
    pieces = []
    chunks = iter(unit)
    for block, first, count in unit.pieces:
        part = span.sharing()
        stats = []
        for _, (start, stop) in zip(range(count), chunks, strict=False):
            views = None
            if buffers is not None:
                views = {k: v[..., : stop - start] for k, v in buffers.items()}
            if first > 0:  # the block's start is another task's: each chunk's own stats
                part = span.sharing()
            run_reduced(plan.spec, plan.source, start, stop, part, views)
            if first > 0:
                stats.append(_stats(part))
        pieces.append((block, first, count, stats if first > 0 else [_stats(part)]))
    return SpanResult(_pack(span.balance), _pack(span.worst), pieces)


class Blocks:
    """The blocks of a run put together from its spans' results, handed on as complete.

    ``consume(block, part)`` gets each block's accumulator once all its chunks are in,
    blocks in any order (the caller merges them in draw order). The histograms of every
    span are counted into one pair, carried by the last block handed on; the others carry
    an empty pair (merging it adds nothing).
    """

    def __init__(
        self,
        blocks: Sequence[Sequence[tuple[int, int]]],
        template: SummaryAccumulator,
        consume: Callable[[int, SummaryAccumulator], None],
    ) -> None:
        self._size = [len(b) for b in blocks]
        self._consume = consume
        self._zero = template.empty_like()
        self._total = template.empty_like()
        self._parts: dict[int, SummaryAccumulator] = {}
        self._folded: dict[int, int] = {}  # block -> chunks folded so far
        self._waiting: dict[int, dict[int, tuple[int, list[ChunkStats]]]] = {}
        self._left = len(blocks)

    def add(self, result: SpanResult) -> None:
        """Fold a span's result in; hand on the blocks it completes."""
        _unpack_into(self._total.balance, result.balance)
        _unpack_into(self._total.worst, result.worst)
        for block, first, count, stats in result.pieces:
            self._waiting.setdefault(block, {})[first] = (count, stats)
            self._fold(block)

    def _fold(self, block: int) -> None:
        """Fold the block's pieces in chunk order, as far as they have come in."""
        part = self._parts.setdefault(block, self._zero.sharing())
        waiting = self._waiting[block]
        done = self._folded.get(block, 0)
        while done in waiting:
            count, stats = waiting.pop(done)
            for s in stats:
                part.add_stats(s)
            done += count
        self._folded[block] = done
        if done < self._size[block]:
            return
        del self._parts[block], self._waiting[block]
        self._left -= 1
        if self._left == 0:  # every span is in: this block carries the run's histograms
            part.balance, part.worst = self._total.balance, self._total.worst
        self._consume(block, part)
