"""Heavy tails, robust entity volatilities, openings and closures: recovery on synthetic
panels with known parameters (within 4 standard errors), closed forms for the drivers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from sustainsim.calibration.fit import fit_enrollment
from sustainsim.calibration.tails import (
    excess_kurtosis,
    fit_closure_hazard,
    fit_student_t,
    fit_volatility_mixture,
)
from sustainsim.model.drivers.enrollment import enrollment_paths, unit_shocks


def t_panel(
    rng,
    n=400,
    years=15,
    *,
    df=5.0,
    vol=0.05,
    phi=0.3,
    loading=0.4,
    drift=-0.01,
    drift_sd=0.01,
    vol_i=None,
):
    """A long table from ``enrollment_paths`` with unit-variance Student-t shocks."""
    steps = 30 + years - 1
    zc = np.repeat(unit_shocks(rng.random((steps, 1)), df), n, axis=1)
    zo = unit_shocks(rng.random((steps, n)), df)
    d = drift + drift_sd * rng.standard_normal(n)
    base = np.exp(rng.normal(6.0, 0.5, n))
    v = vol if vol_i is None else vol_i
    level = enrollment_paths(base, d, v, phi, loading, zc, zo)[30:]
    return pd.DataFrame(
        {
            "entity": np.repeat(np.arange(n), years),
            "year": np.tile(np.arange(2000, 2000 + years), n),
            "value": level.T.ravel(),
        }
    )


def _within(est, true, se, what):
    assert np.isfinite(se) and se > 0, what
    assert abs(est - true) < 4 * se, f"{what}: {est:.4f} vs {true} (se {se:.4f})"


def test_unit_shocks_have_unit_variance_and_t_quantiles():
    u = np.random.default_rng(0).random(400_000)
    z = unit_shocks(u, 6.0)
    # variance 1 (closed form of the scaled t); se of a sample variance 2/sqrt(n)*... use
    # the fourth moment of t(6) scaled: E z^4 = 3 (df-2)/(df-4) = 6
    n = u.size
    _within(float(np.mean(z * z)), 1.0, math.sqrt((6.0 - 1.0) / n), "variance")
    # tail probability against the t CDF at the unscaled quantile
    q = 2.0
    p = 2 * special.stdtr(6.0, -q / math.sqrt(4.0 / 6.0))
    _within(float(np.mean(np.abs(z) > q)), p, math.sqrt(p * (1 - p) / n), "tail")
    np.testing.assert_array_equal(unit_shocks(u[:10]), special.ndtri(u[:10]))
    with pytest.raises(ValueError, match="innovation_df must be > 2"):
        unit_shocks(u[:3], 2.0)


def test_fit_student_t_recovers_df():
    rng = np.random.default_rng(1)
    for df in (3.0, 8.0):
        x = 0.2 * rng.standard_t(df, 30_000) * math.sqrt((df - 2) / df)
        est, se, sd = fit_student_t(x)
        _within(est, df, se, f"df {df}")
        assert sd == pytest.approx(0.2, rel=0.05)
    assert math.isinf(fit_student_t(rng.standard_normal(30_000))[0])
    assert excess_kurtosis(10.0) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_enrollment_recovers_student_t_panel(seed):
    df_true, vol, load, phi = 5.0, 0.05, 0.4, 0.3
    fit = fit_enrollment(
        t_panel(np.random.default_rng(seed), df=df_true, vol=vol, loading=load, phi=phi)
    )
    _within(fit.innovation_df, df_true, fit.innovation_df_se, "innovation_df")
    _within(fit.persistence, phi, fit.persistence_se, "persistence")
    _within(fit.idio_volatility, vol * math.sqrt(1 - load**2), fit.idio_volatility_se, "idio")
    _within(fit.drift, -0.01, fit.drift_se, "drift")
    # the entity volatilities all have the same truth: shrunk close to it, none tiny
    ev = np.sqrt(fit.entity_drift["volatility"] ** 2 - fit.common_volatility**2)
    assert ev.min() > 0.5 * vol * math.sqrt(1 - load**2)
    pooled = fit_enrollment(
        t_panel(np.random.default_rng(seed), df=df_true, vol=vol, loading=load, phi=phi),
        volatility="pooled",
    )
    _within(pooled.innovation_df, df_true, pooled.innovation_df_se, "innovation_df pooled")
    assert "innovation_df = " in fit.to_toml()


def test_normal_panel_gives_normal_innovations():
    fit = fit_enrollment(t_panel(np.random.default_rng(3), df=np.inf, n=300, years=12))
    assert math.isinf(fit.innovation_df) or fit.innovation_df > 15
    assert "innovation_df" not in fit.to_toml() or fit.innovation_df > 15


def test_volatility_mixture_separates_spread_from_tails():
    """Entity sds log-normal around a size law, t(4) within: both recovered."""
    rng = np.random.default_rng(4)
    n, T, omega, slope, df = 3000, 10, 0.6, -0.8, 4.0
    size = np.exp(rng.normal(6, 1, n))
    z = np.log(size) - np.log(size).mean()
    lv = math.log(0.03**2) + slope * z + omega * rng.standard_normal(n)
    u = np.exp(lv / 2)[:, None] * rng.standard_t(df, (n, T)) * math.sqrt((df - 2) / df)
    u[rng.random((n, T)) < 0.1] = np.nan  # gaps
    res = fit_volatility_mixture(u, size)
    assert res["size_slope"] == pytest.approx(slope, abs=0.08)
    assert res["omega"] == pytest.approx(omega, abs=0.08)
    _within(res["df"], df, res["df_se"], "df")
    # posterior variances track the truth better than each entity's own sample variance
    own = np.nanmean(u * u, axis=1)
    err_post = np.mean((np.log(res["var"]) - lv) ** 2)
    err_own = np.mean((np.log(own) - lv) ** 2)
    assert err_post < err_own


def test_closure_hazard_recovers_a_known_rate():
    rng = np.random.default_rng(5)
    n, years, h = 4000, 8, 0.03
    level = np.full((n, years), 100.0)
    closed_at = np.where(rng.random((n, years - 1)) < h, np.arange(1, years), years).min(axis=1)
    level[np.arange(years)[None, :] >= closed_at[:, None]] = np.nan
    a, b, hazard = fit_closure_hazard(level)
    at_risk = int((~np.isnan(level[:, :-1])).sum())
    _within(float(special.expit(a)), h, math.sqrt(h * (1 - h) / at_risk), "hazard")
    assert np.allclose(hazard, special.expit(a))


def test_openings_ramp_is_fitted_and_not_read_as_volatility():
    rng = np.random.default_rng(6)
    df = t_panel(rng, n=400, years=12, df=np.inf, vol=0.04, loading=0.0, phi=0.0, drift_sd=0.0)
    # 100 entities open in 2004 and grow 40%, 20%, 10% (log) faster in their first years
    df = df[(df["entity"] >= 100) | (df["year"] >= 2004)].copy()
    new = (df["entity"] < 100).to_numpy()
    age = (df["year"] - 2004).to_numpy()
    boost = np.select([age == 1, age == 2, age >= 3], [0.4, 0.6, 0.7], 0.0)
    df["value"] *= np.exp(np.where(new, boost, 0.0))
    fit = fit_enrollment(df)
    for a, want in ((1, 0.4), (2, 0.2), (3, 0.1)):
        row = fit.ramp.loc[a]
        se = 0.04 * math.sqrt(2) / math.sqrt(row["n"])  # growth minus a year effect
        _within(row["excess_growth"], want, se, f"ramp age {a}")
    _within(fit.idio_volatility, 0.04, fit.idio_volatility_se, "volatility")
    assert fit.entity_drift.loc["0", "age"] == 7
    assert np.isnan(fit.entity_drift.loc["150", "age"])


def test_volatility_posterior_sd_is_the_conjugate_one_for_long_histories():
    # normal innovations, log sigma_i**2 ~ N(a, 0.5**2): with T observations the posterior
    # of log sigma**2 is about normal with variance 1 / (1 / omega**2 + T / 2) (the
    # information of T normal draws about a log variance is T / 2)
    rng = np.random.default_rng(3)
    n, omega = 3000, 0.5
    sig = np.exp(0.5 * rng.normal(math.log(0.05**2), omega, n))
    for t in (6, 40):
        u = sig[:, None] * rng.standard_normal((n, t))
        res = fit_volatility_mixture(u)
        want = math.sqrt(1.0 / (1.0 / res["omega"] ** 2 + t / 2.0))
        assert np.median(res["log_var_sd"]) == pytest.approx(want, rel=0.15), t


def test_drawn_volatility_keeps_the_mean_own_variance():
    from sustainsim.calibration.backtest import _draw_volatility

    rng = np.random.default_rng(4)
    m = 200_000
    vol, load, s = np.full(m, 0.1), np.full(m, 0.6), np.full(m, 0.8)
    v, ld = _draw_volatility(vol, load, s, rng)
    own = v**2 * (1 - ld**2)
    want = 0.1**2 * (1 - 0.6**2)
    se = float(np.std(own)) / math.sqrt(m)
    assert abs(own.mean() - want) < 4 * se
    np.testing.assert_allclose(v * ld, 0.06, rtol=1e-12)  # the common part is not drawn
    # the log own variance has sd s
    assert np.std(np.log(own)) == pytest.approx(0.8, rel=0.02)


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_drift_exponent_tells_scaled_from_common_drift_spread(gamma):
    # entity volatilities spread by exp(N(0, 0.6)); drift sd 0.02 * (vol_i / median)**gamma
    rng = np.random.default_rng(8)
    n, years = 2000, 12
    vol_i = 0.04 * np.exp(rng.normal(0.0, 0.6, n))
    df = t_panel(rng, n=n, years=years, df=np.inf, phi=0.2, loading=0.0, drift_sd=0.0,
                 vol_i=vol_i)  # fmt: skip
    trend = 0.02 * (vol_i / 0.04) ** gamma * rng.standard_normal(n)
    df["value"] *= np.exp(np.repeat(trend, years) * np.tile(np.arange(years), n))
    fit = fit_enrollment(df, se=False)
    got = fit.options["drift_exponent"]
    assert abs(got - gamma) < 0.35, got
