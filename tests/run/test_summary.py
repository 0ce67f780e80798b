"""Streaming summaries: exact counts, quantiles within the stated bound, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim.run.summary import (
    PILOT_DRAWS,
    Histogram,
    SummaryAccumulator,
    simulate_summary,
    summary_dict,
)

QS = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0]


@pytest.fixture(scope="module")
def multi_spec(make_spec):
    """Two schools and central district money: the district entry is the engine's own total."""
    return make_spec("two_schools")


def _entity_paths(ds) -> np.ndarray:
    """(draw, year, entity) balances: schools, then the district total, from the raw arrays."""
    fb = ds["fund_balance"].transpose("draw", "year", "school").values
    if "district_fund_balance" in ds:
        total = ds["district_fund_balance"].transpose("draw", "year").values
        fb = np.concatenate([fb, total[:, :, None]], axis=2)
    return fb


@pytest.mark.parametrize("which", ["ref10", "multi"])
def test_probabilities_exactly_equal_full_run(which, ref10_spec, multi_spec):
    spec = ref10_spec if which == "ref10" else multi_spec
    draws = 40_000 if which == "ref10" else 25_000
    ds = sustainsim.simulate(spec, draws=draws, seed=5)
    s = simulate_summary(spec, draws=draws, seed=5, chunk_size=6_000, progress=False)
    full = sustainsim.p_solvent(ds)
    assert list(s["school"].values) == list(full["school"].values)
    for v in ("probability", "se", "lower", "upper"):
        np.testing.assert_array_equal(
            s[v].transpose("year", "school").values,
            full[v].transpose("year", "school").values,
            err_msg=v,
        )
    # independent count: every year so far >= 0, straight from the balance paths
    fb = _entity_paths(ds)
    ok = np.ones(fb.shape[0:1] + fb.shape[2:], bool)
    for t in range(fb.shape[1]):
        ok &= fb[:, t] >= 0
        np.testing.assert_array_equal(s["solvent_count"].values[t], ok.sum(axis=0))
    # the probabilities are not trivial (0 or 1 everywhere): the comparison can fail
    p = s["probability"].values
    assert ((p > 0.01) & (p < 0.99)).any()


@pytest.mark.parametrize("which", ["ref10", "multi"])
def test_quantiles_within_stated_bound(which, ref10_spec, multi_spec):
    spec = ref10_spec if which == "ref10" else multi_spec
    draws = 50_000
    ds = sustainsim.simulate(spec, draws=draws, seed=9)
    s = simulate_summary(spec, draws=draws, seed=9, chunk_size=8_192, quantiles=QS, progress=False)
    fb = _entity_paths(ds)
    exact = np.quantile(fb, QS, axis=0)  # (q, year, entity)
    est, bound = s["fund_balance_quantile"].values, s["fund_balance_quantile_bound"].values
    assert (np.abs(est - exact) <= bound).all()
    # min and max are exact; central quantiles fall inside the range: bound <= one bin width
    np.testing.assert_array_equal(est[0], fb.min(axis=0))
    np.testing.assert_array_equal(est[-1], fb.max(axis=0))
    width = s["fund_balance_bin_width"].values
    slack = 1e-12 * np.abs(s["fund_balance_bin_low"].values).max()
    central = [QS.index(q) for q in (0.05, 0.25, 0.5, 0.75, 0.95)]
    assert (bound[central] <= width + slack).all()
    # and the bound is a fraction of the spread, not a vacuous one
    spread = exact[QS.index(0.95)] - exact[QS.index(0.05)]
    assert (bound[central] < 0.01 * spread).all()
    worst = np.quantile(fb.min(axis=1), QS, axis=0)
    assert (
        np.abs(s["worst_balance_quantile"].values - worst)
        <= s["worst_balance_quantile_bound"].values
    ).all()


def test_moments_match_full_run(multi_spec):
    ds = sustainsim.simulate(multi_spec, draws=30_000, seed=1)
    s = simulate_summary(multi_spec, draws=30_000, seed=1, chunk_size=4_000, progress=False)
    fb = _entity_paths(ds)
    np.testing.assert_allclose(s["fund_balance_mean"].values, fb.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s["fund_balance_std"].values, fb.std(axis=0), rtol=1e-10)
    rev = ds["revenue"].transpose("draw", "year", "school").values
    np.testing.assert_allclose(s["revenue_mean"].values[:, :2], rev.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(s["fund_balance_min"].values, fb.min(axis=0))
    np.testing.assert_array_equal(s["fund_balance_max"].values, fb.max(axis=0))


def test_independent_of_chunking(ref10_spec):
    a = simulate_summary(ref10_spec, draws=30_000, seed=4, chunk_size=1_000, progress=False)
    b = simulate_summary(ref10_spec, draws=30_000, seed=4, chunk_size=7_777, progress=False)
    for v in (
        "solvent_count",
        "probability",
        "fund_balance_histogram",
        "fund_balance_quantile",
        "fund_balance_quantile_bound",
        "worst_balance_quantile",
    ):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)
    np.testing.assert_allclose(a["fund_balance_mean"], b["fund_balance_mean"], rtol=1e-13)
    assert (
        int(a["fund_balance_histogram"].sum())
        + int(a["fund_balance_underflow"].sum())
        + int(a["fund_balance_overflow"].sum())
        == 30_000 * 10
    )


def test_memory_bounded_by_the_chunk(ref10_spec):
    """Peak traced memory does not grow with the number of draws."""

    def peak(draws: int) -> int:
        tracemalloc.start()
        try:
            simulate_summary(ref10_spec, draws=draws, seed=2, chunk_size=4_096, progress=False)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(20_000), peak(200_000)
    # 200k draws of full paths would be > 80 MB; the summary stays at the chunk's size
    assert large < 1.3 * small + 2e6, (small, large)
    assert large < 40e6


def test_summary_dict_matches_metrics_summary(ref10_spec):
    ds = sustainsim.simulate(ref10_spec, draws=20_000, seed=8)
    s = simulate_summary(ref10_spec, draws=20_000, seed=8, progress=False)
    a, b = sustainsim.summary(ds)["entities"]["ref"], summary_dict(s)["entities"]["ref"]
    assert a["p_solvent"] == b["p_solvent"]
    for k in (
        "p_balance_never_negative",
        "first_negative_balance",
        "p_no_operating_deficit",
        "p_no_deficit_spending",
        "first_deficit_spending",
    ):
        assert a[k] == b[k], k
    for q, v in a["final_balance_quantiles"].items():
        assert abs(b["final_balance_quantiles"][q] - v) <= b["final_balance_quantile_bounds"][q]
    from sustainsim.cli.format import format_summary

    assert "P(solvent" in format_summary(summary_dict(s))


def test_fewer_draws_than_pilot(ref10_spec):
    ds = sustainsim.simulate(ref10_spec, draws=500, seed=3)
    s = simulate_summary(ref10_spec, draws=500, seed=3, progress=False)
    assert PILOT_DRAWS > 500
    np.testing.assert_array_equal(
        s["probability"].values, sustainsim.p_solvent(ds)["probability"].values
    )
    assert s.attrs["draws"] == 500


def test_bad_arguments(ref10_spec):
    with pytest.raises(ValueError, match="bins"):
        simulate_summary(ref10_spec, draws=100, bins=0)
    with pytest.raises(ValueError, match="draws"):
        simulate_summary(ref10_spec, draws=0)


def test_merge_refuses_different_bins():
    x = np.arange(100.0)[None, :]
    a, b = Histogram.from_pilot(x, 10), Histogram.from_pilot(x * 2, 10)
    with pytest.raises(ValueError, match="different bins"):
        a.merge(b)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 3000),
    bins=st.integers(1, 64),
    kind=st.sampled_from(["normal", "lognormal", "ties", "cauchy"]),
    pilot_share=st.floats(0.01, 1.0),
    parts=st.integers(1, 4),
)
def test_histogram_bound_property(seed, n, bins, kind, pilot_share, parts):
    """For any data, bins and pilot: |estimate - numpy.quantile| <= the reported bound."""
    rng = np.random.default_rng(seed)
    x = {
        "normal": lambda: rng.normal(1e6, 3e5, n),
        "lognormal": lambda: rng.lognormal(0, 2, n) - 3,
        "ties": lambda: rng.integers(-3, 4, n) * 1000.0,
        "cauchy": lambda: rng.standard_cauchy(n) * 1e4,
    }[kind]()[None, :]
    pilot = x[:, : max(1, int(pilot_share * n))]
    h = Histogram.from_pilot(pilot, bins)
    for part in np.array_split(x, parts, axis=1):  # merged partial histograms
        g = Histogram(h.low, h.width, h.bins)
        g.add(part)
        h.merge(g)
    est, bound = h.quantiles(QS)
    exact = np.quantile(x, QS, axis=1)
    assert (np.abs(est - exact) <= bound).all()
    assert int(h.counts.sum()) == n


def test_accumulator_merge_equals_add(ref10_spec):
    from sustainsim.run.chunk import run_chunk
    from sustainsim.sampling.streams import MonteCarlo

    src = MonteCarlo(1)
    r1, r2 = run_chunk(ref10_spec, src, 0, 3000), run_chunk(ref10_spec, src, 3000, 5000)
    a = SummaryAccumulator.from_pilot(r1.arrays, 256)
    b = a.empty_like()
    a.add(r1.arrays)
    a.add(r2.arrays)
    p1, p2 = b.empty_like(), b.empty_like()
    p1.add(r1.arrays)
    p2.add(r2.arrays)
    b.merge(p1)
    b.merge(p2)
    assert a.n == b.n == 5000
    np.testing.assert_array_equal(a.solvent, b.solvent)
    np.testing.assert_array_equal(a.balance.counts, b.balance.counts)
    np.testing.assert_array_equal(a.mean["fund_balance"], b.mean["fund_balance"])


@pytest.mark.parametrize("whole", [True, False])  # the chunk at once, or a year at a time
@pytest.mark.parametrize("n", [3, 5000])  # fewer values than cells (np.add.at), and more
@pytest.mark.parametrize("fed", [(1, 4), (2, 3)])  # three entities, or one (a school at a time)
def test_histogram_counts_by_brute_force(n, whole, fed, monkeypatch):
    """Counts of (year, entity) histograms fed an entity slice: each cell counted by hand."""
    from sustainsim.run import sketch

    monkeypatch.setattr(sketch, "WHOLE", 1 << 30 if whole else 0)
    rng = np.random.default_rng(7)
    T, E, bins = 4, 5, 16
    e0, e1 = fed
    low = rng.normal(0, 1, (T, E)) - 2.0
    width = rng.uniform(0.1, 0.3, (T, E))
    h = Histogram(low, width, bins)
    x = rng.normal(0, 1.5, (T, e1 - e0, n))
    h.add(x, (slice(None), slice(e0, e1)))
    expected = np.zeros((T, E, bins + 2), np.int64)
    for t in range(T):
        for e in range(e1 - e0):
            for v in x[t, e]:
                c = int(np.floor((v - low[t, e0 + e]) / width[t, e0 + e])) + 1
                expected[t, e0 + e, min(max(c, 0), bins + 1)] += 1
    # a value within rounding of a bin edge may fall either side; none do at this seed
    np.testing.assert_array_equal(h.counts, expected)
    np.testing.assert_array_equal(h.vmin[:, e0:e1], x.min(axis=-1))
    others = [e for e in range(E) if not e0 <= e < e1]
    assert np.isinf(h.vmin[:, others]).all()


@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("n", [3, 5000])  # np.add.at, and bincount
def test_histogram_counts_widen_before_int32_could_overflow(n, whole, monkeypatch):
    """int32 counts until a histogram could hold 2**31 values, int64 (the same counts) after."""
    from sustainsim.run import sketch

    monkeypatch.setattr(sketch, "WHOLE", 1 << 30 if whole else 0)
    rng = np.random.default_rng(3)
    T, E, bins = 3, 4, 8
    h = Histogram(np.full((T, E), -3.0), np.full((T, E), 0.75), bins)
    x = rng.normal(0, 1.5, (T, E, n))
    h.add(x)
    assert h.counts.dtype == np.int32
    np.testing.assert_array_equal(h.n, np.full((T, E), n))
    before = h.counts.astype(np.int64)
    # as if 2**31 - n values had been counted already into one of them: n more would make
    # 2**31, one more than int32 holds
    h.n[1, 2] = np.iinfo(np.int32).max - n + 1
    h.add(x[:, 1:3], (slice(None), slice(1, 3)))
    assert h.counts.dtype == np.int64
    again = Histogram(h.low, h.width, bins)
    again.add(x[:, 1:3], (slice(None), slice(1, 3)))
    np.testing.assert_array_equal(h.counts, before + again.counts)
    # merged (or unpacked from a worker): widened by the values the other holds
    into = Histogram(h.low, h.width, bins)
    into.add(x)
    into.n[0, 0] = np.iinfo(np.int32).max - n + 1
    into.merge(again)
    assert into.counts.dtype == np.int32  # again holds nothing in [0, 0]
    into.add_counts(before.astype(np.uint16), h.vmin, h.vmax)
    assert into.counts.dtype == np.int64
    np.testing.assert_array_equal(into.counts, 2 * before + again.counts)


def test_summary_histograms_are_stored_as_int64(ref10_spec):
    """The counts in memory are int32; summary.nc keeps the int64 variables it always had."""
    ds = simulate_summary(ref10_spec, draws=2_000, seed=1, progress=False)
    for name in ("fund_balance_histogram", "fund_balance_underflow", "fund_balance_overflow"):
        assert ds[name].dtype == np.int64


def test_moments_a_year_at_a_time_equal_the_whole_chunk(monkeypatch):
    """Both ways of taking a chunk's moments give the same floats, bit for bit."""
    from sustainsim.run import chunk_stats, sketch

    x = np.random.default_rng(5).normal(1e6, 3e5, (7, 3, 1001))
    whole = chunk_stats._moments(x)
    monkeypatch.setattr(sketch, "WHOLE", 0)
    by_year = chunk_stats._moments(x)
    for a, b in zip(whole, by_year, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sharing_accumulators_equal_merged_copies(ref10_spec):
    """Blocks counting into one shared histogram give the merged numbers, bit for bit."""
    from sustainsim.run.chunk import run_chunk
    from sustainsim.sampling.streams import MonteCarlo

    src = MonteCarlo(1)
    r1, r2 = run_chunk(ref10_spec, src, 0, 3000), run_chunk(ref10_spec, src, 3000, 5000)
    a = SummaryAccumulator.from_pilot(r1.arrays, 256)
    b = SummaryAccumulator.from_pilot(r1.arrays, 256)
    for acc, template in ((a, a.empty_like()), (b, b.sharing())):
        p1, p2 = template.empty_like(), template.empty_like()
        p1.add(r1.arrays)
        p2.add(r2.arrays)
        acc.merge(p1)
        acc.merge(p2)
    assert b.sharing().empty_like().balance is b.balance
    assert a.n == b.n == 5000
    for k in ("solvent", "no_deficit", "no_spending"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    for ha, hb in ((a.balance, b.balance), (a.worst, b.worst)):
        np.testing.assert_array_equal(ha.counts, hb.counts)
        np.testing.assert_array_equal(ha.vmin, hb.vmin)
        np.testing.assert_array_equal(ha.vmax, hb.vmax)
    for k in a.mean:
        np.testing.assert_array_equal(a.mean[k], b.mean[k])
        np.testing.assert_array_equal(a.m2[k], b.m2[k])
    assert int(b.balance.counts[0, 0].sum()) == 5000


def test_ranked_rows_match_a_pass_over_the_cells():
    """The searchsorted over offset rows finds, in every row, (cum <= k).sum() for each k."""
    from sustainsim.run.sketch import _Ranked

    rng = np.random.default_rng(3)
    counts = rng.integers(0, 3, (3, 4, 10))
    counts[..., -1] += counts.sum(-1).max() - counts.sum(-1)  # the same n in every row
    cum = np.cumsum(counts, axis=-1)
    n = int(cum[..., -1].flat[0])
    ranked = _Ranked(cum, n)
    for k in range(n + 1):
        np.testing.assert_array_equal(ranked.cells_at_or_below(k), (cum <= k).sum(axis=-1))
