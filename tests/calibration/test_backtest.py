"""Back-testing: scoring kernels, forecasts against hand calculations, coverage of the
model's own data near nominal (tolerance derived below), and the Ohio F-33 panel."""

from __future__ import annotations

import dataclasses
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sustainsim.calibration.backtest as bt
from sustainsim.calibration.backtest import (
    backtest_enrollment,
    coverage_table,
    crps_sample,
    forecast_enrollment,
    interval_coverage,
)
from sustainsim.calibration.fit import fit_enrollment
from sustainsim.model.drivers import enrollment_paths
from sustainsim.plotting.diagnostics import plot_coverage
from tests.conftest import ohio_path

matplotlib.use("Agg")


def synth_panel(rng, n, years, *, drift=-0.01, drift_sd=0.01, vol=0.04, phi=0.3, loading=0.5):
    """A long table from ``enrollment_paths`` (30 burn-in years, so the AR(1) is stationary)."""
    steps = 30 + years - 1
    z_common = np.repeat(rng.standard_normal((steps, 1)), n, axis=1)
    z_own = rng.standard_normal((steps, n))
    d = drift + drift_sd * rng.standard_normal(n)
    base = np.exp(rng.normal(6.0, 0.5, n))
    level = enrollment_paths(base, d, vol, phi, loading, z_common, z_own)[30:]
    yrs = np.arange(2000, 2000 + years)
    return pd.DataFrame(
        {
            "entity": np.repeat(np.arange(n), years),
            "year": np.tile(yrs, n),
            "value": level.T.ravel(),
        }
    )


# ----------------------------------------------------------------------- kernels


@settings(max_examples=25, deadline=None)
@given(
    x=st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=12),
    y=st.floats(-1e3, 1e3),
)
def test_crps_sample_matches_pairwise_definition(x, y):
    x = np.array(x)
    m = x.size
    pair = np.abs(x[:, None] - x[None, :]).sum() / (2 * m * (m - 1))
    expected = np.mean(np.abs(x - y)) - pair
    assert float(crps_sample(x, np.array(y))) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_crps_sample_matches_normal_closed_form():
    """CRPS(N(mu, s), y) = s [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)], z = (y - mu) / s."""
    rng = np.random.default_rng(0)
    m, mu, s = 200_000, 1.0, 2.0
    x = rng.normal(mu, s, (m, 3))
    y = np.array([1.0, 3.5, -4.0])
    z = (y - mu) / s
    exact = s * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    # the estimator is a mean of O(m) terms each with sd below sd(|X - y|) + sd(X): tolerance
    tol = 4 * (np.abs(x - y).std(axis=0) + x.std(axis=0)) / math.sqrt(m)
    assert np.all(np.abs(crps_sample(x, y) - exact) < tol)


def test_interval_coverage_on_a_known_ensemble():
    samples = np.linspace(0.0, 1.0, 1001)[:, None] * np.ones((1, 4))
    obs = np.array([0.5, 0.2, 0.05, np.nan])
    hit = interval_coverage(samples, obs, [0.5, 0.8, 0.95])
    assert hit.tolist() == [
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
    ]
    with pytest.raises(ValueError, match="levels must be probabilities"):
        interval_coverage(samples, obs, [80])


# --------------------------------------------------------------------- forecasts


@pytest.fixture(scope="module")
def small_fit():
    return fit_enrollment(synth_panel(np.random.default_rng(1), 40, 12))


def _frozen(fit, phi, **table):
    """The fit with zero volatility, fixed persistence and the given entity columns.

    Mature entities (no opening ramp) that never close, one persistence for both shocks.
    """
    ed = fit.entity_drift.copy()
    for k, v in table.items():
        ed[k] = v
    ed["volatility"], ed["age"], ed["closure_hazard"] = 0.0, np.nan, 0.0
    return dataclasses.replace(
        fit, persistence=phi, common_persistence=phi, drift_se=0.0, entity_drift=ed
    )


def test_forecast_deterministic_paths_by_hand(small_fit):
    base, drift, phi, dev = 500.0, -0.02, 0.5, 0.04
    last = small_fit.last_year
    fit = _frozen(
        small_fit,
        phi,
        drift=drift,
        drift_se=0.0,
        last_value=base,
        last_growth_year=last,
        last_deviation=dev,
    )
    h = np.arange(1, 6)
    plain = forecast_enrollment(fit, horizon=5, draws=3, rng=1, conditional=False)
    assert plain.dims == ("draw", "horizon", "entity") and plain.sizes["entity"] == 40
    np.testing.assert_allclose(plain.isel(entity=0, draw=0), base * np.exp(drift * h), rtol=1e-12)
    # conditional: the last deviation decays as phi**s and adds up over the years
    carry = np.array([sum(phi**s for s in range(1, k + 1)) for k in h])
    cond = forecast_enrollment(fit, horizon=5, draws=3, rng=1, conditional=True)
    np.testing.assert_allclose(
        cond.isel(entity=3, draw=2), base * np.exp(drift * h + dev * carry), rtol=1e-12
    )


def test_forecast_is_vectorized_and_reproducible(small_fit, monkeypatch):
    calls = []

    def counting(*args, **kw):
        calls.append(args[-1].shape)
        return enrollment_paths(*args, **kw)

    monkeypatch.setattr(bt, "enrollment_paths", counting)
    a = forecast_enrollment(small_fit, horizon=4, draws=250, rng=np.random.default_rng(3))
    assert calls == [(4, 250 * 40)]  # one call for every draw and entity
    b = forecast_enrollment(small_fit, horizon=4, draws=250, rng=np.random.default_rng(3))
    c = forecast_enrollment(small_fit, horizon=4, draws=250, rng=np.random.default_rng(4))
    assert a.equals(b) and not a.equals(c)
    # common shocks: entities move together within a draw
    g = np.log(a.isel(horizon=0) / small_fit.entity_drift["last_value"].to_numpy())
    corr = np.corrcoef(g.to_numpy().T)[np.triu_indices(40, 1)].mean()
    assert corr == pytest.approx(small_fit.loading**2, abs=0.1)


# --------------------------------------------------------- coverage on own data


def _common_coverage_var(level: float, rho: float) -> float:
    """Variance over common shocks of the coverage given them.

    A standardized forecast error is ``c + u`` with ``c ~ N(0, rho)`` shared by every
    entity and ``u ~ N(0, 1 - rho)`` its own; given ``c`` an entity is covered with
    ``p(c) = Phi((z - c) / sqrt(1 - rho)) - Phi((-z - c) / sqrt(1 - rho))``.
    """
    z = stats.norm.ppf((1 + level) / 2)
    x, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    c, s = math.sqrt(rho) * x, math.sqrt(1 - rho)
    p = stats.norm.cdf((z - c) / s) - stats.norm.cdf((-z - c) / s)
    return float(np.sum(w * (p - np.sum(w * p)) ** 2))


@pytest.mark.parametrize(("seed", "loading"), [(0, 0.0), (1, 0.0), (2, 0.5)])
def test_coverage_near_nominal_on_model_data(seed, loading):
    """Coverage of the model's own data is within 4 derived standard errors of nominal.

    Origins are 5 years apart, so with horizons <= 5 their forecast windows share no
    shocks; the fits at different origins share data, so an entity's outcomes are
    correlated across origins (through its drift estimate): entities are the clusters.
    Given the common shocks, entities are independent, so the variance of the coverage
    is the entity-clustered variance of the hits about nominal plus the common part
    ``Var(p(c)) / O`` (:func:`_common_coverage_var`). ``rho`` is the common share of the
    h-year forecast variance: common shocks ``sc**2 C_h`` plus the shared drift error
    ``h**2 se(drift)**2`` over ``vol**2 C_h + h**2 se(drift)**2`` (an upper bound: the
    entity's own drift uncertainty is left out), ``C_h = sum_k (sum_{j<=h-k} phi**j)**2``.
    """
    n, phi, vol = 300, 0.3, 0.04
    df = synth_panel(np.random.default_rng(seed), n, 26, vol=vol, phi=phi, loading=loading)
    origins = [2007, 2012, 2017]
    res = backtest_enrollment(df, origins=origins, draws=400, rng=seed)
    assert res["n_forecasts"].values.tolist() == [n * len(origins)] * 5
    var_m = float(np.mean(res["fitted_drift_se"].values ** 2))
    for h in res.horizon.values:
        c_h = sum(sum(phi**j for j in range(h - k + 1)) ** 2 for k in range(1, h + 1))
        rho = ((vol * loading) ** 2 * c_h + h * h * var_m) / (vol**2 * c_h + h * h * var_m)
        pit = res["pit"].sel(horizon=h).to_numpy()  # (origin, entity)
        for lv in res.level.values:
            per_entity = (np.abs(pit - 0.5) <= lv / 2).sum(axis=0) - lv * len(origins)
            var_idio = np.sum(per_entity**2) / (n * len(origins)) ** 2
            sd = math.sqrt(var_idio + _common_coverage_var(lv, rho) / len(origins))
            got = float(res["coverage"].sel(horizon=h, level=lv))
            assert abs(got - lv) < 4 * sd, f"h={h} level={lv}: {got:.3f} (sd {sd:.3f})"


def test_backtest_reproducible_and_checked():
    df = synth_panel(np.random.default_rng(8), 20, 9)
    a = backtest_enrollment(df, draws=50, rng=5, horizon=3)
    b = backtest_enrollment(df, draws=50, rng=5, horizon=3)
    assert a.identical(b)
    assert a["origin"].values.tolist() == [2004, 2005, 2006, 2007]  # >= 5 years, one after
    assert np.isnan(a["coverage_by_origin"].sel(origin=2007, horizon=2)).all()
    assert int(a["n_by_origin"].sel(origin=2007, horizon=1)) == 20
    with pytest.raises(ValueError, match="no origin year"):
        backtest_enrollment(df, min_years=30)
    with pytest.raises(ValueError, match="origin 2008 must be a data year before the last"):
        backtest_enrollment(df, origins=[2008])
    with pytest.raises(ValueError, match="levels must be probabilities"):
        backtest_enrollment(df, levels=(50, 80), draws=20)


# --------------------------------------------------------------------------- Ohio


@pytest.fixture(scope="module")
def ohio_result():
    path = ohio_path()
    return backtest_enrollment(
        path,
        entity="irn",
        year="fiscal_year",
        value="enrollment",
        filters={"comparable": 1},
        draws=300,
        rng=2024,
    )


def test_ohio_backtest_structure_and_sanity(ohio_result):
    res = ohio_result
    assert res["coverage"].dims == ("horizon", "level")
    assert res.horizon.values.tolist() == [1, 2, 3, 4, 5]
    assert res.level.values.tolist() == [0.5, 0.8, 0.95]
    cov = res["coverage"].values
    assert np.all((cov >= 0) & (cov <= 1))
    assert np.all(np.diff(cov, axis=1) > 0)  # wider intervals cover more
    assert np.all(res["n_forecasts"].values > 2000)
    crps = res["crps"].values
    assert np.all(crps > 0) and np.all(np.diff(crps) > 0)  # harder further ahead
    # sanity, not the aim (the aim, 75-85% for 80% intervals, is in the report)
    assert np.all(np.abs(res["coverage"].sel(level=0.8).values - 0.8) < 0.15)
    # FY2014 is missing: origin 2013's only 1-year-ahead outcomes are closures, the
    # districts of 2013 never seen again (scored as closed, not dropped)
    raw = pd.read_csv(ohio_path())
    raw = raw[raw["comparable"] == 1]
    last = raw.groupby("irn")["fiscal_year"].max()
    in_2013 = set(raw.loc[raw["fiscal_year"] == 2013, "irn"])
    closed_after_2013 = int(sum(last[e] == 2013 for e in in_2013))
    assert int(res["n_by_origin"].sel(origin=2013, horizon=1)) == closed_after_2013
    # the baseline is scored on the same cells
    assert np.all(np.isfinite(res["baseline_crps"].values))
    assert np.array_equal(np.isnan(res["pit"].values), np.isnan(res["baseline_pit"].values))
    table = coverage_table(res)
    assert list(table.columns[:3]) == ["coverage_50", "coverage_80", "coverage_95"]


def test_plot_coverage_grayscale(ohio_result):
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    ax = plot_coverage(ohio_result)
    assert ax.get_xlabel().startswith("nominal") and ax.get_ylabel() == "observed coverage"
    handles, labels = ax.get_legend_handles_labels()
    assert labels == ["perfect calibration"] + [f"{h} yr ahead" for h in range(1, 6)]
    lines = [handles[0]] + [c.lines[0] for c in ax.containers]  # errorbar data lines
    assert len(lines) == 6
    for ln in lines:
        r, g, b = to_rgb(ln.get_color())
        assert r == g == b  # gray levels only
    assert len({(ln.get_marker(), ln.get_linestyle()) for ln in lines}) == len(lines)
    y = ax.containers[0].lines[0].get_ydata()
    np.testing.assert_allclose(y, ohio_result["coverage"].sel(horizon=1))
    fig, ax2 = plt.subplots()
    assert plot_coverage(ohio_result, ax=ax2) is ax2
    plt.close("all")
