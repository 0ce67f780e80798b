"""Stochastic drivers against closed forms (means and variances within ~4 standard errors)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sustainsim.model.drivers import cut_factors, enrollment_paths, grant_schedule, growth_factors

N = 200_000


def _rng(seed=0):
    return np.random.default_rng(seed)


def _within(est, truth, se, k=4.0):
    assert abs(est - truth) <= k * se, f"{est} vs {truth} (se {se})"


def test_enrollment_log_growth_is_normal_with_drift_and_volatility():
    T, drift, vol = 10, -0.01, 0.04
    z = _rng(1).standard_normal((T, N))
    e = enrollment_paths(500.0, drift, vol, 0.0, 0.0, np.zeros_like(z), z)
    lg = np.log(e[-1] / 500.0)
    var = T * vol**2
    _within(lg.mean(), T * drift, np.sqrt(var / N))
    _within(lg.var(), var, var * np.sqrt(2 / (N - 1)))


@pytest.mark.parametrize("phi", [0.5, -0.3])
def test_enrollment_ar1_variance_closed_form(phi):
    # cumulative deviation S_T = sum_j eps_j (1 - phi^(T-j+1)) / (1 - phi)
    T, vol = 8, 0.05
    z = _rng(2).standard_normal((T, N))
    e = enrollment_paths(1.0, 0.0, vol, phi, 0.0, np.zeros_like(z), z)
    s = np.log(e[-1])
    j = np.arange(1, T + 1)
    var = vol**2 * np.sum(((1 - phi ** (T - j + 1)) / (1 - phi)) ** 2)
    _within(s.var(), var, var * np.sqrt(2 / (N - 1)))
    # lag-1 autocorrelation of annual log growth is phi (x0 = 0 start: use late years)
    g = np.diff(np.log(e), axis=0)
    r = np.mean(g[-1] * g[-2]) / np.sqrt(np.mean(g[-1] ** 2) * np.mean(g[-2] ** 2))
    assert r == pytest.approx(
        phi * np.sqrt(np.sum(phi ** (2 * np.arange(T - 1))) / np.sum(phi ** (2 * np.arange(T)))),
        abs=0.02,
    )


def test_common_loading_sets_the_correlation_between_schools():
    T = 3
    rng = _rng(3)
    zc, z1, z2 = (rng.standard_normal((T, N)) for _ in range(3))
    a = enrollment_paths(100.0, 0.0, 0.1, 0.0, 0.8, zc, z1)
    b = enrollment_paths(100.0, 0.0, 0.1, 0.0, 0.5, zc, z2)
    ga, gb = np.log(a[1] / 100), np.log(b[1] / 100)
    assert np.corrcoef(ga, gb)[0, 1] == pytest.approx(0.4, abs=4 / np.sqrt(N))
    assert ga.std() == pytest.approx(0.1, rel=0.01)


def test_capacity_caps_and_carries_forward():
    z = np.zeros((4, 1))
    e = enrollment_paths(100.0, np.log(1.2), 0.0, 0.0, 0.0, z, z, capacity=130.0)
    np.testing.assert_allclose(e.ravel(), [100, 120, 130, 130, 130])
    e2 = enrollment_paths(100.0, np.log(1.2), 0.0, 0.0, 0.0, z, z, capacity=130.0)
    assert e2.max() <= 130.0


@pytest.mark.parametrize("recovery", [0.0, 1.0])
def test_cut_factor_means(recovery):
    T, p = 10, 0.15
    rng = _rng(4)
    hits = rng.random((T, N)) < p
    m = rng.uniform(0.03, 0.10, (T, N))
    c = cut_factors(hits, m, recovery)
    if recovery == 0:  # permanent: E[c_T] = (1 - p E[m])^T, P(c_T = 1) = (1 - p)^T
        truth = (1 - p * 0.065) ** T
        _within((c[-1] == 1).mean(), (1 - p) ** T, np.sqrt((1 - p) ** T / N))
    else:  # one-year cuts: c_t = 1 - m_t hit_t
        truth = 1 - p * 0.065
    _within(c[-1].mean(), truth, c[-1].std() / np.sqrt(N))


@pytest.mark.parametrize("per_draw_magnitude", [False, True])
def test_permanent_cuts_compound_like_a_product_bit_for_bit(per_draw_magnitude):
    """c[t] = prod_{s<=t} (1 - m[s] hit[s]): the in-place path against numpy's cumprod."""
    T, n = 8, 1_000
    rng = _rng(7)
    hits = rng.random((T, n)) < 0.3
    m = rng.uniform(0.03, 0.10, (T, n) if per_draw_magnitude else (T, 1))
    c = cut_factors(hits, m)
    assert c.shape == (T + 1, n)
    np.testing.assert_array_equal(c[0], 1.0)
    np.testing.assert_array_equal(c[1:], np.cumprod(1.0 - m * hits, axis=0))


def test_mid_year_cut_takes_half_effect_first():
    hits = np.array([[True], [False]])
    c = cut_factors(hits, np.full((2, 1), 0.069), mid_year=True)
    np.testing.assert_allclose(c.ravel(), [1.0, 1 - 0.0345, 1 - 0.069])


def test_grant_renewals_are_geometric():
    r = 0.4
    u = _rng(5).random(N)
    paying, last = grant_schedule(1, 2, 12, renewal_u=u, renewal_probability=r)
    # P(at least k renewals) = r^k: the grant pays in year 2 + 2k
    for k in range(4):
        est = paying[2 + 2 * k].mean()
        _within(est, r**k, np.sqrt(r**k * (1 - r**k) / N) + 1e-12)
    # the last paid year is the scheduled end after the renewals, even past the horizon
    k = np.floor(np.log(u) / np.log(r))
    np.testing.assert_array_equal(last, 2 + 2 * k)


def test_grant_termination_hazard():
    h, T = 0.2, 6
    hits = _rng(6).random((T, N)) < h
    paying, last = grant_schedule(1, 5, T, termination_hits=hits)
    for t in range(1, 6):
        _within(paying[t].mean(), (1 - h) ** t, np.sqrt((1 - h) ** t / N))
    assert not paying[6].any() and not paying[0].any()


@settings(max_examples=50, deadline=None)
@given(
    start=st.integers(1, 8),
    length=st.integers(0, 8),
    years=st.integers(1, 12),
)
def test_grant_pays_exactly_in_its_window(start, length, years):
    end = start + length
    paying, last = grant_schedule(start, end, years)
    t = np.arange(years + 1)
    np.testing.assert_array_equal(paying[:, 0], (t >= start) & (t <= end))
    expected_last = min(end, years) if start <= years else 0
    if end > years and start <= years:
        expected_last = end  # scheduled beyond the horizon
    assert last[0] == expected_last


def test_grant_window_per_draw_against_each_draw_alone():
    """A scalar start with per-draw ends (and the reverse) gives each draw's own window."""
    rng, T = _rng(8), 9
    ends = rng.integers(0, 12, 50).astype(float)
    starts = rng.integers(1, 11, 50).astype(float)
    t = np.arange(T + 1)
    for start, end in ((2.0, ends), (starts, 6.0), (starts, ends)):
        paying, last = grant_schedule(start, end, T)
        assert paying.shape == (T + 1, 50) and last.shape == (50,)
        for i in range(50):
            s_i, e_i = np.broadcast_to(start, 50)[i], np.broadcast_to(end, 50)[i]
            one, one_last = grant_schedule(float(s_i), float(e_i), T)
            np.testing.assert_array_equal(paying[:, i], (t >= s_i) & (t <= e_i) & (t >= 1))
            np.testing.assert_array_equal(paying[:, i], one[:, 0])
            assert last[i] == one_last[0]


def test_growth_factors_compound():
    f = growth_factors(0.03, 10, 1).ravel()
    np.testing.assert_allclose(f, 1.03 ** np.arange(11), rtol=1e-14)
    rates = np.array([[0.1, 0.0], [0.2, 0.0]])
    np.testing.assert_allclose(growth_factors(rates, 2, 2), [[1, 1], [1.1, 1], [1.32, 1]])
    per_draw = growth_factors(np.array([0.0, 0.5]), 2, 2)
    np.testing.assert_allclose(per_draw[:, 1], [1, 1.5, 2.25])


def test_separate_common_persistence_closed_form():
    """x = xo + xc, two AR(1)s: Var(sum of T years) adds the two closed forms."""
    T, vol, load, phi, phi_c = 6, 0.05, 0.6, 0.2, 0.7
    rng = _rng(7)
    zc, zo = rng.standard_normal((T, N)), rng.standard_normal((T, N))
    e = enrollment_paths(1.0, 0.0, vol, phi, load, zc, zo, common_persistence=phi_c)
    j = np.arange(1, T + 1)

    def cum_var(p, s2):
        return s2 * np.sum(((1 - p ** (T - j + 1)) / (1 - p)) ** 2)

    var = cum_var(phi, vol**2 * (1 - load**2)) + cum_var(phi_c, (vol * load) ** 2)
    s = np.log(e[-1])
    _within(s.var(), var, var * np.sqrt(2 / (N - 1)))
    # the same coefficient twice is the one-AR(1) path
    same = enrollment_paths(1.0, 0.0, vol, phi, load, zc, zo, common_persistence=phi)
    np.testing.assert_allclose(same, enrollment_paths(1.0, 0.0, vol, phi, load, zc, zo))


def test_closures_drop_enrollment_to_zero_at_the_hazard_rate():
    from sustainsim.model.drivers.enrollment import closure_years

    T, h = 5, 0.04
    closed = closure_years(_rng(8).random((T, N)), h)
    z = np.zeros((T, N))
    e = enrollment_paths(100.0, 0.0, 0.0, 0.0, 0.0, z, z, closed=closed)
    p = 1 - (1 - h) ** np.arange(1, T + 1)  # closed by year t
    got = (e[1:] == 0).mean(axis=1)
    for t in range(T):
        _within(got[t], p[t], np.sqrt(p[t] * (1 - p[t]) / N))
    assert np.all(np.diff(e[1:] == 0, axis=0) >= 0)  # once closed, closed


def test_innovation_df_and_closure_hazard_in_a_config():
    import sustainsim

    base = {
        "schools.s.enrollment.volatility": 0.05,
    }
    text = """
[simulation]
years = 4
first_year = 2027
draws = 20000
seed = 3
[[schools]]
name = "s"
fund_balance = 0
[schools.enrollment]
base = 500
"""
    spec = sustainsim.loads_config(text).with_overrides(base)
    normal = sustainsim.simulate(spec)
    heavy = sustainsim.simulate(spec.with_overrides({"schools.s.enrollment.innovation_df": 3.0}))
    g_n = np.log(normal.enrollment.isel(school=0, year=0).values / 500)
    g_h = np.log(heavy.enrollment.isel(school=0, year=0).values / 500)
    # same variance, heavier tails: P(|g| > 3 sd) of a unit t(3) vs the normal's
    assert g_h.std() == pytest.approx(0.05, rel=0.1)
    p_t = 2 * stats.t.sf(3 / np.sqrt(1 / 3), 3)
    got = np.mean(np.abs(g_h) > 0.15)
    _within(got, p_t, np.sqrt(p_t * (1 - p_t) / g_h.size))
    assert np.mean(np.abs(g_n) > 0.15) < got
    closing = sustainsim.simulate(spec.with_overrides({"schools.s.enrollment.closure_hazard": 0.1}))
    zero = (closing.enrollment.isel(school=0).values == 0).mean(axis=0)
    p = 1 - 0.9 ** np.arange(1, 5)
    np.testing.assert_allclose(zero, p, atol=4 * np.sqrt(0.25 / 20000))
    with pytest.raises(sustainsim.ConfigError, match="innovation_df"):
        spec.with_overrides({"schools.s.enrollment.innovation_df": 2.0})
