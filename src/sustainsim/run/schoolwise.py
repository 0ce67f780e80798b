"""A summary chunk run and reduced a school at a time, while the school's outputs are in cache.

Of each chunk a summary run keeps only its counts and moments by entity
(:mod:`sustainsim.run.chunk_stats`) and its fund balances, counted into histograms. Run
into buffers of every school, ``(years, schools, draws)``, a chunk of many schools is
hundreds of megabytes that the engine writes and the reductions read back; where fresh
memory is dear (a page fault a page) that is much of the run. Here the engine runs one
school at a time into one school's buffers (:func:`sustainsim.model.engine.run_schools`)
and each school is reduced before the next one overwrites them: the counts and moments of
its column, its balances counted into the histograms (or kept, for the pilot), the
district's enrollment added up in school order as the sum over schools does.

The numbers are those of :func:`~sustainsim.run.chunk_stats.chunk_stats` and
:meth:`~sustainsim.run.accumulate.SummaryAccumulator.add` on the whole chunk, bit for bit:
each entity's reductions depend on its own rows only, and the district's totals are sums
over schools taken in school order (:func:`sustainsim.model.engine.run_schools`).

Non-finite values are checked as :func:`~sustainsim.run.chunk.run_chunk` and
:func:`~sustainsim.run.chunk.check_finite_means` check a whole chunk: every output that has
no mean by a sum, the others by their means. A value found non-finite runs the chunk
again the usual way, which raises the usual error (naming the same variable, school, year
and draw). Configs with flows between the books use the usual way (:func:`schoolwise`);
``levy_in_force`` (counts, always finite, no part of a summary) is not produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sustainsim.config.flows import flows_configured
from sustainsim.config.spec import Spec
from sustainsim.model import engine
from sustainsim.model.cliff import CLIFF_OUTPUTS
from sustainsim.model.inputs import sample_inputs
from sustainsim.run.chunk import allocate_outputs, first_non_finite, output_shapes, run_chunk
from sustainsim.run.chunk_stats import (
    _COUNTS,
    CHECKED,
    MOMENT_VARIABLES,
    ChunkStats,
    _moments,
    balance_ranges,
    chunk_stats_checked,
    part_counts,
)
from sustainsim.run.heap import keep_chunks_on_heap
from sustainsim.run.sketch import Histogram
from sustainsim.sampling.streams import ChunkDraws, UniformSource

__all__ = ["SchoolChunk", "run_by_school", "schoolwise"]

#: outputs the engine does not produce school by school (not part of a summary)
_SKIPPED = frozenset({"levy_in_force", "district_levy_in_force", "initial_fund_balance"})


def schoolwise(spec: Spec) -> bool:
    """Whether ``spec``'s summary chunks can be run a school at a time (no flows)."""
    return not flows_configured(spec.config.district)


@dataclass
class SchoolChunk:
    """What a summary run keeps of a chunk run a school at a time.

    ``stats`` as :func:`~sustainsim.run.chunk_stats.chunk_stats` of the chunk;
    ``ranges``, when asked for, as the pilot's (min and max over draws of the balances
    and of the worst balances, by entity); ``balances`` the fund-balance entity parts,
    when kept.
    """

    stats: ChunkStats
    ranges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    balances: list[np.ndarray] | None = None


def _buffers(spec: Spec, n: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One school's result buffers, ``(years, 1, ...)``, and the district's ``(years, n)``."""
    school, district = {}, {}
    for k, shape in output_shapes(spec, n, False).items():
        if k in _SKIPPED:
            continue
        if k.startswith("district_") or k == "deflator":
            district[k] = np.empty(shape)
        elif k in CLIFF_OUTPUTS:
            school[k] = np.empty((1, n))
        else:
            school[k] = np.empty((shape[0], 1, *shape[2:]))
    return school, district


def _finite(arrays: Mapping[str, np.ndarray]) -> bool:
    """Whether none of ``arrays`` holds inf or NaN, as :func:`check_finite_outputs` sees it."""
    return all(first_non_finite(k, v) is None for k, v in arrays.items())


class _Reduce:
    """The reductions of one chunk's entities, a column at a time."""

    def __init__(self, T: int, E: int, n: int, keep: tuple | None, ranges: bool):
        self.counts = {k: np.empty((T, E), np.int64) for k in _COUNTS}
        self.mean = {k: np.empty((T, E)) for k in MOMENT_VARIABLES}
        self.m2 = {k: np.empty((T, E)) for k in MOMENT_VARIABLES}
        self.ranges = None
        if ranges:  # (year, entity) lows and highs, (entity,) worst lows and highs
            self.ranges = (np.empty((T, E)), np.empty((T, E)), np.empty(E), np.empty(E))
        self.keep = keep
        self.n = n

    def entity(self, e: int, arrays: Mapping[str, np.ndarray], hist) -> bool:
        """Reduce entity ``e`` (``(years, 1, n)`` arrays); False if a value is not finite."""
        for k in MOMENT_VARIABLES:
            x = arrays[k]
            with np.errstate(invalid="ignore", over="ignore"):
                mean, m2 = _moments(x)
            if not np.isfinite(mean).all() and first_non_finite(k, x) is not None:
                return False  # a mean may overflow with every value finite: that passes
            self.mean[k][:, e], self.m2[k][:, e] = mean[:, 0], m2[:, 0]
        bal = arrays["fund_balance"]
        for k, c in part_counts(bal, arrays["surplus"]).items():
            self.counts[k][:, e] = c[:, 0]
        if self.ranges is not None:
            for whole, column in zip(self.ranges, balance_ranges([bal]), strict=True):
                whole[..., e] = column[..., 0]
        if hist is not None:
            hist[0].add(bal, (slice(None), slice(e, e + 1)))
            hist[1].add(bal.min(axis=0), (slice(e, e + 1),))
        if self.keep is not None:
            schools, district = self.keep
            if e < schools.shape[1]:
                schools[:, e] = bal[:, 0]
            else:
                district[...] = bal
        return True

    def result(self, balances: list[np.ndarray] | None) -> SchoolChunk:
        stats = ChunkStats(self.n, self.counts, self.mean, self.m2)
        return SchoolChunk(stats, self.ranges, balances)


def run_by_school(
    spec: Spec,
    source: UniformSource,
    start: int,
    stop: int,
    *,
    hist: tuple[Histogram, Histogram] | None = None,
    keep: bool = False,
    ranges: bool = False,
) -> SchoolChunk:
    """Sample and run draws ``[start, stop)`` a school at a time and reduce them.

    Parameters
    ----------
    hist : (Histogram, Histogram), optional
        The ``(year, entity)`` balance and ``(entity,)`` worst-balance histograms to count
        the chunk's fund balances into (a summary accumulator's).
    keep : bool
        Keep the fund-balance entity parts (``(years, schools, n)`` and the district's
        ``(years, 1, n)``) in ``balances``, for a pilot's kept chunk.
    ranges : bool
        Take the pilot's ``ranges`` of the chunk.

    Raises
    ------
    NonFiniteError
        As :func:`~sustainsim.run.chunk.run_chunk` and
        :func:`~sustainsim.run.chunk.check_finite_means` for the whole chunk.
    """
    if not schoolwise(spec):
        raise ValueError("a config with flows between the books is run with run_chunk")
    keep_chunks_on_heap()
    n = stop - start
    inp = sample_inputs(spec.config, ChunkDraws(source, start, stop))
    school, district = _buffers(spec, n)
    T, S = spec.years, len(inp.schools)
    has_district = "district_fund_balance" in district
    kept = None
    if keep:
        kept = (np.empty((T, S, n)), np.empty((T, 1, n)) if has_district else None)
    red = _Reduce(T, S + has_district, n, kept, ranges)
    enrollment = np.empty((T, n))  # the district's, when there is one
    failed = False

    def visit(j: int) -> None:
        nonlocal failed
        if failed:
            return
        sch = inp.schools[j]
        unchecked = {k: v for k, v in school.items() if k not in CHECKED}
        if not np.isfinite(np.sum(sch.fund_balance)) or not _finite(unchecked):
            failed = True
            return
        if has_district:  # the district's: x0 + x1 + ..., as the sum over schools
            e = school["enrollment"][:, 0]
            if j == 0:
                enrollment[...] = e
            else:
                np.add(enrollment, e, out=enrollment)
        failed = not red.entity(j, school, hist)

    engine.run_schools(inp, school, visit, district if has_district else None)
    if "deflator" in district and inp.deflator is not None:
        district["deflator"][...] = inp.deflator[1:]
    if not failed:  # the sampled inputs, and the district's outputs that have no mean
        unchecked = {k: v for k, v in district.items() if k not in CHECKED}
        failed = not (_finite(inp.scalars) and _finite(unchecked))
    if not failed and has_district:
        # the district entity: the engine's totals, and the schools' enrollment added up
        d = {k: district[f"district_{k}"] for k in MOMENT_VARIABLES if k != "enrollment"}
        d["enrollment"] = enrollment
        failed = not red.entity(S, {k: v[:, None, :] for k, v in d.items()}, hist)
    if failed:  # the usual checks: a chunk the pilot does not keep has every output summed
        usual = frozenset() if ranges and not keep else CHECKED
        _raise_as_run_chunk(spec, source, start, stop, usual)
    balances = None
    if kept is not None:
        balances = [kept[0]] + ([kept[1]] if kept[1] is not None else [])
    return red.result(balances)


def _raise_as_run_chunk(
    spec: Spec, source: UniformSource, start: int, stop: int, checked: frozenset[str]
) -> None:
    """Run the chunk the usual way, with its usual checks: it raises the usual error."""
    out = allocate_outputs(spec, stop - start, False)
    res = run_chunk(spec, source, start, stop, out=out, checked=checked)
    chunk_stats_checked(spec, res)
    raise AssertionError(  # pragma: no cover - a value found non-finite is found again
        f"draws {start}..{stop}: a non-finite value seen a school at a time was not seen again"
    )
