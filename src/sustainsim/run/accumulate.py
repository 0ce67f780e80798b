"""The reductions of a summary run: what every chunk is folded into, and the summary Dataset.

A summary run (``mode="summary"``, :func:`sustainsim.run.summary.simulate_summary`) runs
the same chunks as a full run but folds each into a :class:`SummaryAccumulator` and drops
it, so memory is bounded by one chunk whatever the number of draws. Accumulators of
disjoint draw ranges merge (:meth:`SummaryAccumulator.merge`), which is what the parallel
executor uses.

What is kept, and how accurate it is:

* **P(solvent through year t)**: integer counts of draws whose fund balance was
  >= 0 in every year up to t, per school and for the district total. Exactly
  equal to :func:`sustainsim.metrics.p_solvent` of the full run with the same seed
  (``probability``, ``se``, ``lower``, ``upper`` are computed from the same counts
  with the same formulas). The first-deficit-year distribution follows exactly
  from the same counts.
* **Moments** (mean, population standard deviation with ``ddof=0``) of
  ``enrollment``, ``revenue``, ``cost``, ``surplus`` and ``fund_balance``: each
  chunk's mean and centred sum of squares in float64 (numpy pairwise sums),
  merged with Chan et al.'s update, chunk by chunk within a block of
  :data:`BLOCK_CHUNKS` chunks and block by block in draw order (serial and parallel
  runs merge the same way, so they agree to the last bit). The relative error of
  the mean is at most about ``(log2(chunk) + chunks) * 2**-53`` times
  ``max|x| / |mean|`` (below 1e-12 in practice, tested against numpy at 1e-12);
  the standard deviation is as accurate relative to itself unless the values are
  nearly constant.
* **Quantiles** of the fund balance by year and school, and of the worst balance
  over the horizon, from fixed-bin histograms: ``bins`` equal bins over a range
  set by a pilot of the first :data:`PILOT_DRAWS` draws (its min and max widened by
  ``margin`` times their span on each side; the pilot only sets the bins, its draws
  are counted once, with their chunk), plus underflow and overflow counts
  and the exact min and max. Each estimate comes with a guaranteed bound on its
  distance to the exact sample quantile (numpy's default, linear interpolation
  between order statistics), stored in ``*_quantile_bound``: **at most one bin
  width where the quantile falls inside the range**, ``(pilot low - min)`` or
  ``(max - pilot high)`` when it falls in the underflow or overflow, zero at the
  min and max (plus a floating-point slack of ``16 * 2**-53`` times the largest
  magnitude involved, for rounding in the bin index and the interpolation).

One bin width is ``(1 + 2 * margin) * (pilot max - pilot min) / bins``: with the
defaults 1.5/4096 = 0.037% of the pilot's range (about $8,000 for ref10's final
year, whose exact sample quantiles the estimates miss by $20-$90 at 1e6 draws).
The pilot is a fixed number of draws (simulated twice: a probe, then with their
chunk) and only its exact min and max are used, so the bins, hence the quantiles,
do not depend on the chunk size, the worker count or the scheduler. The histograms
are returned too (``fund_balance_histogram``) for plots and other quantiles.

Memory: one chunk of engine outputs (:func:`sustainsim.run.plan.summary_chunk_size`; one
school's of a chunk, and the chunk's sampled inputs, when it is run a school at a time,
:mod:`sustainsim.run.schoolwise`) plus the histograms, ``years x (schools + 1) x (bins + 2)``
int32 counts (165 KB for ref10; int64 past 2**31 draws), a few copies at most, whatever the
number of draws. The Dataset stores them as int64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from sustainsim.config.spec import Spec
from sustainsim.metrics.deficit import median_first_year
from sustainsim.metrics.solvency import DEFAULT_QUANTILES, DISTRICT, wilson_interval
from sustainsim.results import VARIABLE_ATTRS
from sustainsim.run.chunk import (
    ChunkResult,
    allocate_outputs,
    chunk_bounds,
    has_district_totals,
    run_attrs,
    run_chunk,
)
from sustainsim.run.chunk_stats import (
    _COUNTS,
    CHECKED,
    MOMENT_VARIABLES,
    ChunkStats,
    _entity_parts,
    chunk_stats,
    chunk_stats_checked,
    entity_arrays,
)
from sustainsim.run.plan import DEFAULT_BINS, STREAMING_CHUNK_SIZE
from sustainsim.run.schoolwise import run_by_school, schoolwise
from sustainsim.run.sketch import DEFAULT_MARGIN, Histogram
from sustainsim.sampling.streams import UniformSource

__all__ = [
    "CHECKED",
    "PILOT_DRAWS",
    "ChunkStats",
    "SummaryAccumulator",
    "chunk_stats",
    "chunk_stats_checked",
    "entity_arrays",
    "pilot_accumulator",
    "reduce_block",
    "run_reduced",
    "summary_dataset",
    "summary_dict",
]

#: draws of the pilot chunk that fixes the histogram ranges
PILOT_DRAWS = 16_384
_PROB_VARS = ("probability", "se", "lower", "upper")


@dataclass
class SummaryAccumulator:
    """Mergeable per-chunk reductions of a run (see the module docstring).

    Build one with :meth:`from_pilot`, then :meth:`add` chunks (arrays as
    :func:`sustainsim.run.chunk.run_chunk` returns them) or :meth:`merge`
    accumulators of other draw ranges that share its bins.
    """

    balance: Histogram  # (year, entity)
    worst: Histogram  # (entity,)
    n: int = 0
    solvent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (year, entity)
    # draws with no operating deficit in year t, and in no year through t (year, entity)
    no_deficit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    no_spending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    mean: dict[str, np.ndarray] = field(default_factory=dict)
    m2: dict[str, np.ndarray] = field(default_factory=dict)
    #: the histograms are another accumulator's (:meth:`sharing`), counted into in place
    shared: bool = False

    @classmethod
    def from_pilot(
        cls,
        arrays: Mapping[str, np.ndarray],
        bins: int = DEFAULT_BINS,
        margin: float = DEFAULT_MARGIN,
    ) -> SummaryAccumulator:
        """An empty accumulator whose histogram ranges come from one pilot chunk."""
        bal = entity_arrays(arrays, ["fund_balance"])["fund_balance"]
        worst = bal.min(axis=0)
        return cls.from_ranges(
            bal.min(axis=-1), bal.max(axis=-1), worst.min(axis=-1), worst.max(axis=-1), bins, margin
        )

    @classmethod
    def from_ranges(
        cls,
        balance_min: np.ndarray,
        balance_max: np.ndarray,
        worst_min: np.ndarray,
        worst_max: np.ndarray,
        bins: int = DEFAULT_BINS,
        margin: float = DEFAULT_MARGIN,
    ) -> SummaryAccumulator:
        """An empty accumulator with bins over the given (year, entity) / (entity,) ranges."""
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
            raise ValueError(f"bins must be a positive integer (got {bins!r})")
        if not margin >= 0:
            raise ValueError(f"margin must be >= 0 (got {margin!r})")
        return cls(
            Histogram.from_range(balance_min, balance_max, int(bins), margin),
            Histogram.from_range(worst_min, worst_max, int(bins), margin),
        )

    @property
    def histograms(self) -> tuple[Histogram, Histogram]:
        """The balance and worst-balance histograms chunks are counted into."""
        return self.balance, self.worst

    def empty_like(self) -> SummaryAccumulator:
        """A new empty accumulator with the same bins (for another draw range).

        Of a :meth:`sharing` accumulator, one that shares its histograms too.
        """
        if self.shared:
            return self.sharing()
        b, w = self.balance, self.worst
        return SummaryAccumulator(
            Histogram(b.low, b.width, b.bins), Histogram(w.low, w.width, w.bins)
        )

    def sharing(self) -> SummaryAccumulator:
        """An empty accumulator that counts into this one's histograms (no counts of its own).

        For the blocks of a run in this process: histogram counts are integers and the
        extremes exact, so counting every block into one histogram gives the merged
        counts, bit for bit, without a histogram (bins x entities x years) per block;
        :meth:`merge` then merges only the moments and counts. Not for blocks sent to
        other processes (they count into copies).
        """
        return SummaryAccumulator(self.balance, self.worst, shared=True)

    def add(self, arrays: Mapping[str, np.ndarray], stats: ChunkStats | None = None) -> None:
        """Fold one chunk of engine outputs in (``(year, school, n)`` arrays).

        Schools and the district entry are reduced separately (no copy of the chunk).
        ``stats`` are the chunk's :func:`chunk_stats` if the caller has them already.
        """
        parts = _entity_parts(arrays, "fund_balance")
        if parts[0].shape[-1] == 0:
            return
        self.add_balances(parts)
        self.add_stats(chunk_stats(arrays) if stats is None else stats)

    def add_balances(self, parts: Sequence[np.ndarray]) -> None:
        """Count a chunk's fund balances (its entity parts) into the histograms."""
        e0 = 0
        for x in parts:
            e1 = e0 + x.shape[1]
            self.balance.add(x, (slice(None), slice(e0, e1)))
            self.worst.add(x.min(axis=0), (slice(e0, e1),))
            e0 = e1

    def add_stats(self, stats: ChunkStats) -> None:
        """Fold a chunk's counts and moments in (:func:`chunk_stats`)."""
        self._merge_stats(stats.n, stats.counts, stats.mean, stats.m2)

    def merge(self, other: SummaryAccumulator) -> None:
        """Merge the accumulator of a disjoint draw range (Chan et al. for moments)."""
        if other.n == 0:
            return
        if other.balance is not self.balance:  # else counted in place (:meth:`sharing`)
            self.balance.merge(other.balance)
            self.worst.merge(other.worst)
        counts = {k: getattr(other, k) for k in _COUNTS}
        self._merge_stats(other.n, counts, other.mean, other.m2)

    def _merge_stats(self, nb: int, counts: dict, mean: dict, m2: dict) -> None:
        if self.n == 0:
            self.n = nb
            for k in _COUNTS:
                setattr(self, k, counts[k].copy())
            self.mean = {k: v.copy() for k, v in mean.items()}
            self.m2 = {k: v.copy() for k, v in m2.items()}
            return
        na = self.n
        n = na + nb
        for k in _COUNTS:
            setattr(self, k, getattr(self, k) + counts[k])
        for k in self.mean:
            delta = mean[k] - self.mean[k]
            self.mean[k] = self.mean[k] + delta * (nb / n)
            self.m2[k] = self.m2[k] + m2[k] + delta * delta * (na * nb / n)
        self.n = n


# --- reducing chunks ----------------------------------------------------------------------


def reduce_block(
    spec: Spec,
    source: UniformSource,
    block: Sequence[tuple[int, int]],
    template: SummaryAccumulator,
    buffers: dict[str, np.ndarray] | None = None,
    on_chunk=None,
) -> SummaryAccumulator:
    """Run and reduce the chunks of one block into a new accumulator with ``template``'s bins."""
    part = template.empty_like()
    size = max(b - a for a, b in block)
    full = on_chunk is not None or not schoolwise(spec)  # else no buffers of every school
    if full and (buffers is None or buffers["fund_balance"].shape[-1] < size):
        buffers = allocate_outputs(spec, size, False)
    for start, stop in block:
        views = None
        if full and buffers is not None:
            views = {k: v[..., : stop - start] for k, v in buffers.items()}
        res = run_reduced(spec, source, start, stop, part, views)
        if on_chunk is not None:
            on_chunk(res)
    return part


def run_reduced(
    spec: Spec,
    source: UniformSource,
    start: int,
    stop: int,
    part: SummaryAccumulator,
    out: dict[str, np.ndarray] | None = None,
) -> ChunkResult | None:
    """Run draws ``[start, stop)`` and fold them into ``part``.

    Without ``out``, a school at a time where the config allows
    (:func:`~sustainsim.run.schoolwise.run_by_school`; returns None). Else into ``out``
    (allocated if not given and the config has flows) as ``part.add(run_chunk(...).arrays)``,
    with one pass less over the outputs the moments cover: their means check them for
    non-finite values (:data:`CHECKED`); returns the chunk. The numbers are the same.
    """
    if out is None and schoolwise(spec):
        part.add_stats(run_by_school(spec, source, start, stop, hist=part.histograms).stats)
        return None
    if out is None:
        out = allocate_outputs(spec, stop - start, False)
    res = run_chunk(spec, source, start, stop, out=out, checked=CHECKED)
    part.add(res.arrays, chunk_stats_checked(spec, res))
    return res


def pilot_accumulator(
    spec: Spec,
    source: UniformSource,
    n: int,
    bins: int = DEFAULT_BINS,
    margin: float = DEFAULT_MARGIN,
    chunk: int = STREAMING_CHUNK_SIZE,
) -> SummaryAccumulator:
    """An empty accumulator with bins set from the first ``min(n, PILOT_DRAWS)`` draws.

    The pilot is a probe only (its draws are simulated again with their chunk) and
    only its exact min and max are used (computed chunk by chunk), so the bins do
    not depend on the chunk size, the worker count or the scheduler.
    """
    ranges = []
    for start, stop in chunk_bounds(min(n, PILOT_DRAWS), chunk):
        res = run_chunk(spec, source, start, stop)
        bal = entity_arrays(res.arrays, ["fund_balance"])["fund_balance"]
        worst = bal.min(axis=0)
        ranges.append((bal.min(axis=-1), bal.max(axis=-1), worst.min(axis=-1), worst.max(axis=-1)))
    lo, hi, wlo, whi = (np.stack(r) for r in zip(*ranges, strict=True))
    return SummaryAccumulator.from_ranges(
        lo.min(axis=0), hi.max(axis=0), wlo.min(axis=0), whi.max(axis=0), bins, margin
    )


# --- output ---------------------------------------------------------------------------------


def _entity_names(spec: Spec) -> list[str]:
    names = list(spec.school_names)
    return names + [DISTRICT] if len(names) >= 2 or has_district_totals(spec) else names


def summary_dataset(
    acc: SummaryAccumulator,
    spec: Spec,
    *,
    seed: int,
    sampler: str = "monte_carlo",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    confidence: float = 0.95,
) -> xr.Dataset:
    """The summary Dataset of an accumulator (see :func:`simulate_summary`)."""
    sim = spec.config.simulation
    n = acc.n
    years = np.arange(sim.first_year, sim.first_year + sim.years, dtype=np.int64)
    coords = {
        "year": years,
        "school": _entity_names(spec),
        "quantile": np.asarray(quantiles, float),
    }
    ys, qys = ("year", "school"), ("quantile", "year", "school")
    k = acc.solvent
    p = k / n
    lo, hi = wilson_interval(k, n, confidence)
    q, qb = acc.balance.quantiles(quantiles)
    wq, wqb = acc.worst.quantiles(quantiles)
    usd = {"units": "USD", "dollar_basis": "nominal"}
    one, draws_u = {"units": "1"}, {"units": "draws"}
    wilson = f"{confidence:.0%} Wilson interval"
    bound = "bound on |estimate - exact sample quantile| (one bin width inside the range)"
    hist = acc.balance
    counts = hist.counts.astype(np.int64)  # int32 while counting; stored as int64, a copy
    table = [  # name, dims, values, units, long name
        ("probability", ys, p, one, "estimated probability"),
        ("se", ys, np.sqrt(p * (1 - p) / n), one, "Monte Carlo standard error"),
        ("lower", ys, lo, one, f"lower bound, {wilson}"),
        ("upper", ys, hi, one, f"upper bound, {wilson}"),
        ("solvent_count", ys, k, draws_u, "draws solvent through year"),
        (
            "no_operating_deficit_count",
            ys,
            acc.no_deficit,
            draws_u,
            "draws with no operating deficit in year (surplus >= 0)",
        ),
        (
            "no_deficit_spending_count",
            ys,
            acc.no_spending,
            draws_u,
            "draws with no operating deficit in any year through year",
        ),
        ("fund_balance_quantile", qys, q, usd, "quantiles of ending fund balance (histogram)"),
        ("fund_balance_quantile_bound", qys, qb, usd, bound),
        (
            "worst_balance_quantile",
            ("quantile", "school"),
            wq,
            usd,
            "quantiles of the lowest fund balance over the horizon",
        ),
        ("worst_balance_quantile_bound", ("quantile", "school"), wqb, usd, bound),
        ("fund_balance_min", ys, hist.vmin, usd, "minimum over draws"),
        ("fund_balance_max", ys, hist.vmax, usd, "maximum over draws"),
        (
            "fund_balance_histogram",
            (*ys, "bin"),
            counts[..., 1:-1],
            draws_u,
            "draws per fund-balance bin",
        ),
        ("fund_balance_underflow", ys, counts[..., 0], draws_u, "draws below bin 0"),
        ("fund_balance_overflow", ys, counts[..., -1], draws_u, "draws above the last bin"),
        ("fund_balance_bin_low", ys, hist.low, usd, "left edge of bin 0"),
        ("fund_balance_bin_width", ys, hist.width, usd, "bin width"),
    ]
    for var in MOMENT_VARIABLES:
        u = VARIABLE_ATTRS.get(var, {})
        table.append((f"{var}_mean", ys, acc.mean[var], u, f"mean {var} over draws"))
        table.append(
            (
                f"{var}_std",
                ys,
                np.sqrt(acc.m2[var] / n),
                u,
                f"standard deviation (ddof=0) of {var} over draws",
            )
        )
    dv = {
        name: xr.DataArray(values, dims=dims, attrs={**units, "long_name": long_name})
        for name, dims, values, units, long_name in table
    }
    attrs = run_attrs(spec, seed=seed, draws=n, sampler=sampler)
    attrs.update(
        {
            "title": "sustainsim streaming summary",
            "summary_mode": "streaming",
            "confidence": confidence,
            "histogram_bins": acc.balance.bins,
            "quantile_method": (
                f"fixed-bin histogram over the pilot range (first {PILOT_DRAWS} draws) "
                "widened on each side, with under/overflow and exact min/max; "
                "error bound per value in *_quantile_bound"
            ),
        }
    )
    ds = xr.Dataset(dv, coords=coords)
    ds["year"].attrs.update({"long_name": "fiscal year", "units": "fiscal year"})
    ds.attrs.update(attrs)
    return ds


def summary_dict(ds: xr.Dataset) -> dict:
    """The key figures of a summary Dataset as plain data.

    Shaped like :func:`sustainsim.metrics.summary` (without the expected shortfall, which a
    histogram cannot bound), so the CLI can print it with ``format_summary``.
    """
    years = [int(y) for y in ds["year"].values]
    n = int(ds.attrs["draws"])
    out: dict = {
        "draws": n,
        "seed": ds.attrs.get("seed"),
        "sampler": ds.attrs.get("sampler"),
        "confidence": ds.attrs.get("confidence", 0.95),
        "years": years,
        "config_sha256": ds.attrs.get("config_sha256"),
        "sustainsim_version": ds.attrs.get("sustainsim_version"),
        "summary_mode": "streaming",
        "entities": {},
    }
    qs = [float(x) for x in ds["quantile"].values]
    for school in ds["school"].values:
        e = ds.sel(school=school)
        solvent = e["solvent_count"].values.astype(np.int64)
        spending = e["no_deficit_spending_count"].values.astype(np.int64)
        out["entities"][str(school)] = {
            "p_solvent": {str(y): {v: float(e[v].sel(year=y)) for v in _PROB_VARS} for y in years},
            "p_balance_never_negative": float(e["probability"].isel(year=-1)),
            "first_negative_balance": _first_year(solvent, years, n),
            "p_no_operating_deficit": _probabilities(
                e["no_operating_deficit_count"].values, n, years, float(out["confidence"])
            ),
            "p_no_deficit_spending": float(spending[-1] / n),
            "first_deficit_spending": _first_year(spending, years, n),
            "final_balance_quantiles": {
                f"{q:g}": float(e["fund_balance_quantile"].isel(year=-1).sel(quantile=q))
                for q in qs
            },
            "final_balance_quantile_bounds": {
                f"{q:g}": float(e["fund_balance_quantile_bound"].isel(year=-1).sel(quantile=q))
                for q in qs
            },
            "worst_balance_quantiles": {
                f"{q:g}": float(e["worst_balance_quantile"].sel(quantile=q)) for q in qs
            },
        }
    return out


def _first_year(through: np.ndarray, years: list[int], n: int) -> dict:
    """Median first year and share of draws from counts of draws still clear through t."""
    first = -np.diff(np.concatenate([[n], through]))  # draws whose first event is year t
    med, total = median_first_year(first, np.asarray(years))
    return {"median_year": med, "share_of_draws": total / n}


def _probabilities(k: np.ndarray, n: int, years: list[int], confidence: float) -> dict:
    """``{year: {probability, se, lower, upper}}`` from counts, as ``metrics.probability``."""
    p = k / n
    lo, hi = wilson_interval(k, n, confidence)
    se = np.sqrt(p * (1 - p) / n)
    return {
        str(y): {
            "probability": float(p[i]),
            "se": float(se[i]),
            "lower": float(lo[i]),
            "upper": float(hi[i]),
        }
        for i, y in enumerate(years)
    }
