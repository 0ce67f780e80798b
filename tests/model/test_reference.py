"""ref10 against an independent implementation of the model as the issue states it."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim

N = 200_000


def ref10_independent(n: int, seed: int) -> np.ndarray:
    """P(solvent through t), t = 1..10, written straight from the model's definition.

    Draw-major arrays and numpy's own generator: shares no code or stream with sustainsim.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(1, 11)
    g = rng.normal(-0.01, 0.04, size=(n, 10))
    E = 500.0 * np.exp(np.cumsum(g, axis=1))
    hit = rng.random((n, 10)) < 0.15
    m = rng.uniform(0.03, 0.10, size=(n, 10))
    c = np.cumprod(np.where(hit, 1.0 - m, 1.0), axis=1)
    K = rng.integers(3, 8, size=(n, 1))  # 3..7
    revenue = 10_000 * 1.02**t * c * E + np.where(t < K, 400_000.0, 0.0)
    cost = 2_000_000 * 1.03**t + 6_000 * 1.03**t * E
    B = 500_000 + np.cumsum(revenue - cost, axis=1)
    solvent = np.cumprod(B >= 0, axis=1)
    return solvent.mean(axis=0)


@pytest.fixture(scope="module")
def ref10_ds(ref10_spec):
    return sustainsim.simulate(ref10_spec, draws=N, seed=123)


def test_p_solvent_matches_independent_derivation(ref10_ds):
    ours = sustainsim.p_solvent(ref10_ds).sel(school="ref")
    theirs = ref10_independent(N, seed=456)
    p = ours.probability.values
    se = np.sqrt(p * (1 - p) / N + theirs * (1 - theirs) / N)
    assert np.all(np.abs(p - theirs) <= 4 * se + 1e-12), np.c_[p, theirs, se]
    # and the curve is interesting: from ~1 down to a few percent
    assert p[0] > 0.99 and 0.005 < p[-1] < 0.1


def test_sampled_inputs_have_their_distributions(ref10_ds):
    last = ref10_ds[
        "schools.ref.revenue.grant.last_year"
    ].values  # last paid year = first_year - 1 + (K - 1)
    K = last - 2027 + 2
    values, counts = np.unique(K, return_counts=True)
    np.testing.assert_array_equal(values, [3, 4, 5, 6, 7])
    se = np.sqrt(0.2 * 0.8 / N)
    assert np.all(np.abs(counts / N - 0.2) <= 4 * se)
    n_cuts = ref10_ds["district.cuts.event.count"].values
    assert n_cuts.mean() == pytest.approx(1.5, abs=4 * np.sqrt(10 * 0.15 * 0.85 / N))
    # enrollment: log(E_10 / 500) ~ Normal(-0.1, 0.04^2 * 10)
    lg = np.log(ref10_ds.enrollment.sel(school="ref").isel(year=-1).values / 500)
    assert lg.mean() == pytest.approx(-0.1, abs=4 * np.sqrt(0.016 / N))
    assert lg.std() == pytest.approx(np.sqrt(0.016), rel=0.01)


def test_revenue_identity_draw_by_draw(ref10_ds):
    """Rebuild each draw's revenue from its sampled inputs and enrollment path."""
    ds = ref10_ds.isel(draw=slice(0, 2000))
    t = np.arange(1, 11)
    E = ds.enrollment.sel(school="ref").values
    K = ds["schools.ref.revenue.grant.last_year"].values[:, None] - 2027 + 2
    grant = np.where(t < K, 400_000.0, 0.0)
    cost = 2_000_000 * 1.03**t + 6_000 * 1.03**t * E
    np.testing.assert_allclose(ds.cost.sel(school="ref").values, cost, rtol=1e-12)
    # the cut factor is whatever is left: within [0.9^10, 1], 1 where no cut happened
    c = (ds.revenue.sel(school="ref").values - grant) / (10_000 * 1.02**t * E)
    assert np.all(c <= 1 + 1e-12) and np.all(c >= 0.9**10 - 1e-12)
    no_cut = ds["district.cuts.event.count"].values == 0
    np.testing.assert_allclose(c[no_cut], 1.0, rtol=1e-12)
    np.testing.assert_allclose(1 - c[:, -1], ds["district.cuts.cumulative"].values, atol=1e-12)
