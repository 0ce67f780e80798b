"""District finances from history: parameter recovery on a synthetic panel, the back-test's
scores against hand and brute-force computations, the config fragment, bad input."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

import sustainsim
from sustainsim.calibration.finance import FinancePanel, fit_finance, read_finance
from sustainsim.calibration.finance_backtest import (
    _baseline_changes,
    backtest_finance,
    finance_summary,
    forecast_finance,
)
from sustainsim.calibration.finance_toml import rank_correlation

COLS = dict(entity="d", year="y", balance="b", revenue="r", expenditure="x")

# the synthetic truth: log growth = mean + common + own drift + scale_i * Student-t surprise
TRUTH = {
    "mean": np.array([0.03, 0.035]),
    "common_sd": np.array([0.02, 0.015]),
    "common_corr": 0.7,
    "own_sd": np.array([0.04, 0.03]),
    "own_corr": 0.5,
    "drift_sd": 0.01,
    "df": 5.0,
}


def _cov(sd, r):
    return np.array([[sd[0] ** 2, r * sd[0] * sd[1]], [r * sd[0] * sd[1], sd[1] ** 2]])


def synthetic_panel(n=600, years=12, seed=3, truth=TRUTH, balance0=0.3):
    """A finance panel drawn from the model with known parameters (balance stepped)."""
    rng = np.random.default_rng(seed)
    t = years - 1
    common = rng.multivariate_normal(np.zeros(2), _cov(truth["common_sd"], truth["common_corr"]), t)
    drift = truth["drift_sd"] * rng.standard_normal((n, 2))
    # entity variance scales with mean 1 (lognormal), so the pooled own covariance is the truth's
    lam = np.exp(rng.normal(-0.5 * 0.3**2, 0.3, n))
    own = rng.multivariate_normal(np.zeros(2), _cov(truth["own_sd"], truth["own_corr"]), (n, t))
    df = truth["df"]
    own *= np.sqrt(lam)[:, None, None] * np.sqrt((df - 2) / rng.chisquare(df, (n, t, 1)))
    g = truth["mean"] + common[None] + drift[:, None, :] + own
    size = np.exp(rng.normal(np.log(2e7), 0.8, n))
    lev = size[:, None, None] * np.exp(np.concatenate([np.zeros((n, 1, 2)), np.cumsum(g, 1)], 1))
    rev, exp_ = lev[..., 0], lev[..., 1]
    bal = balance0 * exp_[:, :1] + np.cumsum(rev - exp_, axis=1) - (rev - exp_)[:, :1]
    return pd.DataFrame(
        {
            "d": np.repeat([f"e{i}" for i in range(n)], years),
            "y": np.tile(np.arange(2000, 2000 + years), n),
            "r": rev.ravel(),
            "x": exp_.ravel(),
            "b": bal.ravel(),
        }
    )


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_panel()


def test_recovers_known_growth_and_correlation(synthetic):
    fit = fit_finance(synthetic, **COLS)
    s = fit.summary()
    # means and own sds within 4 standard errors
    for k, name in enumerate(("revenue", "expenditure")):
        est, se = s.loc[f"{name}_growth"]
        assert abs(est - TRUTH["mean"][k]) < 4 * se, (name, est, se)
        est, se = s.loc[f"{name}_own_sd"]
        assert abs(est - TRUTH["own_sd"][k]) < 4 * se, (name, est, se)
        est, se = s.loc[f"{name}_common_sd"]
        assert abs(est - TRUTH["common_sd"][k]) < 4 * se, (name, est, se)
        # the drift sd has no se: stated tolerance 0.005 (half the truth)
        assert abs(s.loc[f"{name}_drift_sd", "estimate"] - TRUTH["drift_sd"]) < 0.005
    est, se = s.loc["own_correlation"]
    assert abs(est - TRUTH["own_corr"]) < 4 * se
    est, se = s.loc["common_correlation"]
    assert abs(est - TRUTH["common_corr"]) < 4 * se
    # the total correlation of one year's growth, computed from the truth by hand
    c = _cov(TRUTH["common_sd"], TRUTH["common_corr"]) + _cov(TRUTH["own_sd"], TRUTH["own_corr"])
    want = c[0, 1] / math.sqrt(c[0, 0] * c[1, 1])
    assert abs(fit.correlation - want) < 0.1
    # heavy tails found: df within 4 se of 5 (or the stated band 3.5-8)
    assert abs(fit.df - TRUTH["df"]) < max(4 * fit.df_se, 1.5)
    # entity scales: spread about 1, floored
    assert fit.entity["scale"].min() >= 0.25 - 1e-12
    assert 0.9 < np.average(fit.entity["scale"], weights=fit.entity["n_obs"] - 1) < 1.1


def test_normal_data_gives_no_heavy_tails():
    truth = dict(TRUTH, df=math.inf)
    rng_df = synthetic_panel(n=300, years=8, seed=5, truth={**truth, "df": 1e9})
    fit = fit_finance(rng_df, **COLS)
    assert fit.df > 12


def _hand_panel():
    """Two districts with constant revenue and expenditure (zero-variance growth).

    A: R = 120, X = 100, B = 0, 20, 40, 60 (2020-2023): the forecast of 2023 from 2022 is
       40 + 120 - 100 = 60, as observed; 60 >= 2/12 * 100 = 16.67: no event, P = 0.
    B: R = 100, X = 110, B = 30, 20, 10 then 25 in 2023 (an inflow the model cannot know):
       forecast 10 - 10 = 0 < 2/12 * 110 = 18.33: P(event) = 1, observed 25 >= 18.33: none.
    """
    return pd.DataFrame(
        {
            "d": ["A"] * 4 + ["B"] * 4,
            "y": [2020, 2021, 2022, 2023] * 2,
            "r": [120.0] * 4 + [100.0] * 4,
            "x": [100.0] * 4 + [110.0] * 4,
            "b": [0.0, 20, 40, 60, 30, 20, 10, 25],
        }
    )


def test_brier_crps_and_coverage_by_hand():
    ds = backtest_finance(_hand_panel(), **COLS, horizon=1, draws=20)
    assert ds["origin"].values.tolist() == [2022] and int(ds["n_forecasts"][0]) == 2
    # Brier: ((0 - 0)**2 + (1 - 0)**2) / 2
    assert float(ds["brier"][0]) == pytest.approx(0.5)
    assert float(ds["event_rate"][0]) == 0.0
    # coverage: A inside its (degenerate) interval, B outside; CRPS of B = |25/110 - 0|
    assert ds["coverage"].values[0].tolist() == [0.5, 0.5, 0.5]
    assert float(ds["crps"][0]) == pytest.approx((0 + 25 / 110) / 2)
    # baseline: mean net flow +20 and -10, zero errors in history: 0.6 and 0.0 of spending;
    # P(event) 0 and 1 (0 < 1/6), as the model's
    assert float(ds["baseline_brier"][0]) == pytest.approx(0.5)
    assert float(ds["baseline_crps"][0]) == pytest.approx((0 + 25 / 110) / 2)


def test_scores_against_brute_force_on_the_same_draws(synthetic):
    df = synthetic[synthetic["d"].isin([f"e{i}" for i in range(40)]) & (synthetic["y"] >= 2004)]
    levels, draws = (0.5, 0.8), 60
    ds = backtest_finance(df, **COLS, horizon=2, draws=draws, levels=levels, rng=11)
    panel = FinancePanel.from_table(read_finance(df, **COLS))
    origins = ds["origin"].values.tolist()
    subs = np.random.default_rng(11).spawn(len(origins))
    hits = {(h, lv): [] for h in (1, 2) for lv in levels}
    crps, brier = {1: [], 2: []}, {1: [], 2: []}
    for o, sub in zip(origins, subs, strict=True):
        sim = forecast_finance(
            fit_finance(panel.until(o)), origin=o, horizon=2, draws=draws, rng=sub
        )
        for e in sim["entity"].values:
            i = list(panel.entities).index(e)
            x0 = float(sim["expenditure_origin"].sel(entity=e))
            for h in (1, 2):
                t = o + h - panel.years[0]
                if t >= panel.years.size:
                    continue
                b, x = panel.balance[i, t], panel.expenditure[i, t]
                ens = sim["balance"].sel(entity=e, horizon=h).values / x0
                y = b / x0
                for lv in levels:
                    lo, hi = np.quantile(ens, [(1 - lv) / 2, (1 + lv) / 2])
                    hits[(h, lv)].append(lo <= y <= hi)
                # the CRPS over all pairs: E|X - y| - E|X - X'| / 2 (distinct pairs)
                pairs = np.abs(ens[:, None] - ens[None, :]).sum() / (draws * (draws - 1))
                crps[h].append(np.mean(np.abs(ens - y)) - pairs / 2)
                p = np.mean(
                    sim["balance"].sel(entity=e, horizon=h).values
                    < sim["expenditure"].sel(entity=e, horizon=h).values / 6
                )
                brier[h].append((p - float(b < x / 6)) ** 2)
    for h in (1, 2):
        assert int(ds["n_forecasts"].sel(horizon=h)) == len(crps[h])
        for lv in levels:
            want = np.mean(hits[(h, lv)])
            assert float(ds["coverage"].sel(horizon=h, level=lv)) == pytest.approx(want)
        assert float(ds["crps"].sel(horizon=h)) == pytest.approx(np.mean(crps[h]))
        assert float(ds["brier"].sel(horizon=h)) == pytest.approx(np.mean(brier[h]))


def test_baseline_changes_by_loop():
    df = _hand_panel()
    df.loc[df["d"] == "A", "b"] = [0.0, 25, 40, 70]
    past = FinancePanel.from_table(read_finance(df, **COLS)).until(2023)
    net, ch = _baseline_changes(past, 2)
    assert net.tolist() == [20.0, -10.0]
    want = []
    for b, x, n in (([0.0, 25, 40, 70], 100.0, 20.0), ([30.0, 20, 10, 25], 110.0, -10.0)):
        for t in range(2):
            want.append((b[t + 2] - b[t] - 2 * n) / x)
    assert sorted(ch.tolist()) == pytest.approx(sorted(want))


def test_calibrated_model_covers_its_own_synthetic_panel(synthetic):
    df = synthetic[synthetic["d"].isin([f"e{i}" for i in range(300)])]
    ds = backtest_finance(df, **COLS, horizon=3, draws=300, rng=2)
    # forecasts of the model's own process: nominal within 4 clustered standard errors
    err = np.abs(ds["coverage"] - ds["level"])
    assert bool((err < 4 * ds["coverage_se"] + 0.02).all()), ds["coverage"].values
    assert bool((ds["crps"] <= ds["baseline_crps"] * 1.05).all())
    out = finance_summary(ds)
    assert set(out) == {
        "model", "horizons", "levels", "cells", "coverage", "crps", "brier", "event_rate",
        "baseline",
    }  # fmt: skip
    assert set(out["baseline"]) == {"coverage", "crps", "brier"}


def test_fragment_is_a_valid_config(synthetic, tmp_path):
    fit = fit_finance(synthetic, **COLS)
    for entity in (None, "e7"):
        text = fit.to_toml(entity=entity)
        frag = tomllib.loads(text)
        rates = frag["district"]["growth"]
        assert set(rates) == {"funding", "costs"}
        rho = frag["correlations"][0]["matrix"][0][1]
        assert rho == pytest.approx(rank_correlation(fit.correlation), abs=1e-3)
        config = (
            "[simulation]\nyears = 3\nfirst_year = 2030\ndraws = 50\nseed = 1\n"
            '[[schools]]\nname = "s"\n[schools.enrollment]\nbase = 100\n' + text
        )
        path = tmp_path / f"c{entity}.toml"
        path.write_text(config)
        spec = sustainsim.load_config(path)
        ds = sustainsim.simulate(spec, draws=50)
        assert "fund_balance" in ds
        if entity is not None:
            row = fit.entity.loc[entity]
            assert frag["district"]["fund_balance"] == round(row["balance"])
            assert frag["district"]["revenue"][0]["amount"] == round(row["revenue"])


def test_rank_correlation_closed_form():
    # Spearman of a bivariate normal: (6 / pi) asin(r / 2); 1 at r = 1, 0 at 0
    assert rank_correlation(1.0) == pytest.approx(1.0)
    assert rank_correlation(0.0) == 0.0
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200_000)
    rs = pd.Series(z[:, 0]).corr(pd.Series(z[:, 1]), method="spearman")
    assert rank_correlation(0.6) == pytest.approx(rs, abs=0.01)


def test_bad_input(tmp_path, synthetic):
    with pytest.raises(ValueError, match="does not exist"):
        fit_finance(tmp_path / "none.csv", **COLS)
    with pytest.raises(ValueError, match=r"column 'cash' not found.*available columns: d, y, r"):
        fit_finance(synthetic, **dict(COLS, balance="cash"))
    short = synthetic[synthetic["y"] <= 2001]
    with pytest.raises(ValueError, match="too few years"):
        fit_finance(short, **COLS)
    with pytest.raises(ValueError, match="too few years"):
        backtest_finance(synthetic[synthetic["y"] <= 2002], **COLS, min_years=4)
    dup = pd.concat([synthetic.iloc[:1], synthetic])
    with pytest.raises(ValueError, match="more than one row"):
        fit_finance(dup, **COLS)
    with pytest.raises(ValueError, match="levels"):
        backtest_finance(synthetic, **COLS, levels=(80,))
    no_bal = synthetic.assign(b=np.nan)
    with pytest.raises(ValueError, match="balance column holds no numbers"):
        backtest_finance(no_bal, **COLS)
    # suppressed and zero money are missing, not errors
    odd = synthetic.copy()
    odd["x"] = odd["x"].astype(object)
    odd.loc[odd.index[:3], "x"] = ["*", 0, ""]
    assert fit_finance(odd, **COLS).n_obs < fit_finance(synthetic, **COLS).n_obs


def test_recovers_mean_reversion_of_expenditure():
    # no drift spread (the slope is then unbiased), Student-t surprises AR(1) with
    # phi = (0, -0.3) for (revenue, expenditure): a spending spike is partly undone
    truth = {**TRUTH, "drift_sd": 0.0}
    df = synthetic_panel(n=800, years=8, seed=9, truth=truth)
    # re-draw the growth with AR(1) own surprises on the same design
    rng = np.random.default_rng(10)
    n, t, phi = 800, 7, np.array([0.0, -0.3])
    e = rng.multivariate_normal(np.zeros(2), _cov(truth["own_sd"], truth["own_corr"]), (n, t))
    x = np.zeros((n, t, 2))
    x[:, 0] = e[:, 0] / np.sqrt(1 - phi**2)
    for s in range(1, t):
        x[:, s] = phi * x[:, s - 1] + e[:, s]
    common = rng.multivariate_normal(np.zeros(2), _cov(truth["common_sd"], 0.7), t)
    g = truth["mean"] + common[None] + x
    lev = 2e7 * np.exp(np.concatenate([np.zeros((n, 1, 2)), np.cumsum(g, 1)], 1))
    df["r"], df["x"] = lev[..., 0].ravel(), lev[..., 1].ravel()
    fit = fit_finance(df, **COLS)
    # se of a pooled lag-1 slope from N pairs: sqrt((1 - phi**2) / N), N = n (t - 1)
    for k in range(2):
        se = math.sqrt((1 - phi[k] ** 2) / (n * (t - 1)))
        assert abs(fit.persistence[k] - phi[k]) < 4 * se, (k, fit.persistence[k], se)
    # the forecast carries the last deviation: with no shocks, no drift and no
    # uncertainty, growth in year h is mean + phi**h * deviation (by hand)
    import dataclasses

    ent = fit.entity.copy()
    ent["drift_revenue"], ent["drift_expenditure"] = fit.mean[0], fit.mean[1]
    ent["last_deviation_revenue"], ent["last_deviation_expenditure"] = 0.0, 0.1
    zero = np.zeros((2, 2))
    frozen = dataclasses.replace(
        fit, common_cov=zero, own_cov=zero, entity=ent, persistence=np.array([0.0, -0.5])
    )
    sim = forecast_finance(frozen, horizon=3, draws=2, parameter_uncertainty=False)
    row = sim.isel(entity=0, draw=0)
    want = float(sim["expenditure_origin"][0]) * np.exp(
        np.cumsum(fit.mean[1] + 0.1 * (-0.5) ** np.arange(1, 4))
    )
    np.testing.assert_allclose(row["expenditure"], want, rtol=1e-12)
    np.testing.assert_allclose(
        row["revenue"],
        float(sim["revenue_origin"][0]) * np.exp(fit.mean[0] * np.arange(1, 4)),
        rtol=1e-12,
    )


def test_fragment_rates_count_the_persistence(synthetic):
    # the costs' sd matches the variance of 5-year cumulative growth: with an AR(1)
    # surprise of phi = -0.5 the own part of it is (5 + 2 sum_k (5 - k) phi**k) / 5
    # = (5 - 4 + 1.5 - 0.5 + 0.125) / 5 = 0.425 of the i.i.d. one
    import dataclasses

    from sustainsim.calibration.finance_toml import growth_rates

    fit = fit_finance(synthetic, **COLS)
    iid = dataclasses.replace(fit, persistence=np.zeros(2))
    ar = dataclasses.replace(fit, persistence=np.array([0.0, -0.5]))
    for f, factor in ((iid, 1.0), (ar, 0.425)):
        v = f.common_cov[1, 1] + f.own_cov[1, 1] * factor + 5 * (f.drift_var[1] + f.mean_se[1] ** 2)
        m1 = math.exp(f.mean[1] + v / 2)
        want = m1 * math.sqrt(math.expm1(v))
        got = growth_rates(f, horizon=5)["costs"]["sd"]
        assert got == pytest.approx(want, rel=1e-3)
