"""A chunk's counts and moments: what a summary run keeps of each chunk besides histograms.

For every entity (each school and, when there is one, the district) and year: the draws
solvent through the year, the draws with no operating deficit in the year and in no year
so far (integer counts), and the mean and centred sum of squares over draws of each of
:data:`MOMENT_VARIABLES` (numpy's pairwise sums, row by row). Each entity's numbers
depend on its own rows only, so a chunk reduced school by school
(:mod:`sustainsim.run.schoolwise`) gets them bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sustainsim.config.spec import Spec
from sustainsim.model import engine
from sustainsim.run import sketch
from sustainsim.run.chunk import ChunkResult, check_finite_means

__all__ = [
    "CHECKED",
    "MOMENT_VARIABLES",
    "ChunkStats",
    "balance_ranges",
    "chunk_stats",
    "chunk_stats_checked",
    "entity_arrays",
    "part_counts",
]

#: variables whose mean and standard deviation are kept
MOMENT_VARIABLES = engine.OUTPUTS
#: outputs a summary run checks for non-finite values through the means it takes of them
CHECKED = frozenset((*MOMENT_VARIABLES, *(f"district_{k}" for k in MOMENT_VARIABLES)))


def entity_arrays(arrays: Mapping[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Year-major ``(year, school, n)`` arrays with the district entry appended.

    As :func:`sustainsim.metrics.entity_balance`: the engine's ``district_<name>``
    total (schools plus central lines) when the chunk has one, else the sum over
    schools when there are several; with one school and no district totals the
    arrays are returned as they are. Variables without a district total of their
    own (``enrollment``) get the sum over schools whenever the district entry exists.
    """
    out = {}
    for k in names:
        parts = _entity_parts(arrays, k)
        out[k] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    return out


def _entity_parts(arrays: Mapping[str, np.ndarray], name: str) -> list[np.ndarray]:
    """The entities of :func:`entity_arrays`, without copying the schools.

    The schools' ``(year, school, n)`` array and, if any, the district's ``(year, 1, n)``.
    """
    x = arrays[name]
    total = arrays.get(f"district_{name}")
    if total is not None:
        return [x, total[:, None, :]]
    if x.shape[1] >= 2 or any(k.startswith("district_") for k in arrays):
        return [x, x.sum(axis=1, keepdims=True)]
    return [x]


_COUNTS = ("solvent", "no_deficit", "no_spending")


def _draws(ok: np.ndarray) -> np.ndarray:
    """The draws (last axis) where ``ok`` holds, counted."""
    return ok.view(np.uint8).sum(axis=-1, dtype=np.int64)


def _through(ok: np.ndarray) -> np.ndarray:
    """``ok`` in every year so far (years first), in place."""
    for t in range(1, ok.shape[0]):
        np.logical_and(ok[t], ok[t - 1], out=ok[t])
    return ok


def part_counts(balance: np.ndarray, surplus: np.ndarray) -> dict[str, np.ndarray]:
    """The counts of entities side by side (``(year, entity, n)`` balances and surpluses).

    ``solvent``: draws with a balance >= 0 in every year through t; ``no_deficit``: no
    operating deficit (surplus >= 0) in year t; ``no_spending``: none in any year through t.
    """
    deficit_free = surplus >= 0
    return {
        "solvent": _draws(_through(balance >= 0)),
        "no_deficit": _draws(deficit_free),
        "no_spending": _draws(_through(deficit_free)),
    }


def balance_ranges(
    parts: Sequence[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Min and max over draws of the balances, and of the worst balances, by entity.

    What a pilot chunk gives the histogram ranges: ``(year, entity)`` lows and highs,
    ``(entity,)`` worst lows and highs; part by part (entities side by side), without
    the concatenated copy of a chunk.
    """
    worst = [p.min(axis=0) for p in parts]
    return (
        np.concatenate([p.min(axis=-1) for p in parts], axis=-1),
        np.concatenate([p.max(axis=-1) for p in parts], axis=-1),
        np.concatenate([w.min(axis=-1) for w in worst], axis=-1),
        np.concatenate([w.max(axis=-1) for w in worst], axis=-1),
    )


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sum of squared deviations over the draw axis (last), a row block at a time.

    The deviations of one leading index (a year) at a time: a chunk-sized temporary of
    many schools is fresh memory (a page fault a page) for every chunk and variable.
    Each row's sums are the whole array's, bit for bit.
    """
    mean = x.mean(axis=-1)
    m2 = np.empty_like(mean)
    if x.ndim == 1 or x.size <= sketch.WHOLE:  # small (a few schools): one temporary, fewer calls
        d = x - mean[..., None]
        d *= d
        return mean, d.sum(axis=-1)
    scratch = np.empty(x.shape[1:])
    for t in range(x.shape[0]):
        d = np.subtract(x[t], mean[t][..., None], out=scratch)
        d *= d
        d.sum(axis=-1, out=m2[t])
    return mean, m2


@dataclass
class ChunkStats:
    """A chunk's reductions that do not depend on the histogram bins."""

    n: int
    counts: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]
    m2: dict[str, np.ndarray]


def chunk_stats(arrays: Mapping[str, np.ndarray]) -> ChunkStats:
    """Solvency and deficit counts and the moments of one chunk of engine outputs."""
    parts = _entity_parts(arrays, "fund_balance")
    by_part = [
        part_counts(b, s) for b, s in zip(parts, _entity_parts(arrays, "surplus"), strict=True)
    ]
    counts = {k: np.concatenate([c[k] for c in by_part], axis=1) for k in _COUNTS}
    mean, m2 = {}, {}
    for k in MOMENT_VARIABLES:
        mom = [_moments(x) for x in _entity_parts(arrays, k)]
        mean[k] = np.concatenate([m for m, _ in mom], axis=1)
        m2[k] = np.concatenate([v for _, v in mom], axis=1)
    return ChunkStats(parts[0].shape[-1], counts, mean, m2)


def chunk_stats_checked(spec: Spec, res: ChunkResult) -> ChunkStats:
    """:func:`chunk_stats` of a chunk run with ``checked=CHECKED``, its means checked finite."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN are reported next
        stats = chunk_stats(res.arrays)
    check_finite_means(spec, res.arrays, stats.mean, res.start)
    return stats
