"""Cohort survival from by-grade data: known progression ratios, their spread across
schools and noise recovered within 4 standard errors; the fragment is a valid config;
the cohort back-test on the real NYC file (skipped without the data folder)."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

import sustainsim
from sustainsim.calibration.cohort import fit_cohort, grade_order
from sustainsim.calibration.evaluate import backtest, backtest_summary
from tests.conftest import DATA

GRADES = ["K", "1", "2", "3", "4", "5"]
MU = np.log([0.97, 0.95, 0.99, 0.93, 0.96])


def by_grade_panel(rng, n=300, years=8, tau=0.03, sigma=0.05):
    """Schools K-5: entering grade log-normal, each grade g = grade g-1 a year before
    times exp(mu_g + a_ig + e), a ~ N(0, tau), e ~ N(0, sigma)."""
    a = tau * rng.standard_normal((n, len(MU)))
    counts = np.zeros((n, years, len(GRADES)))
    counts[:, 0] = 80 * np.exp(rng.normal(0, 0.2, (n, len(GRADES))))
    for t in range(1, years):
        counts[:, t, 0] = counts[:, t - 1, 0] * np.exp(rng.normal(-0.01, 0.05, n))
        e = sigma * rng.standard_normal((n, len(MU)))
        counts[:, t, 1:] = counts[:, t - 1, :-1] * np.exp(MU + a + e)
    rows = [
        (f"s{i}", 2000 + t, g, counts[i, t, k])
        for i in range(n)
        for t in range(years)
        for k, g in enumerate(GRADES)
    ]
    return pd.DataFrame(rows, columns=["school", "yr", "gr", "pupils"]), a


def test_recovers_known_progression_ratios_spread_and_noise():
    df, a = by_grade_panel(np.random.default_rng(0))
    fit = fit_cohort(df, entity="school", year="yr", grade="gr", value="pupils")
    assert fit.grades == GRADES
    for g in range(len(MU)):
        se = fit.ratio_se[g]
        assert abs(math.log(fit.ratios[g]) - MU[g]) < 4 * se, (g, fit.ratios[g], se)
        # tau and sigma: REML, se ~ sigma / sqrt(2 * dof) for sigma, larger for tau
        assert abs(fit.noise_sd[g] - 0.05) < 4 * 0.05 / math.sqrt(2 * (300 * 6))
        assert abs(fit.between_sd[g] - 0.03) < 0.01
    # each school's posterior ratio is closer to its own truth than the pooled one is
    post = fit.entity_log_ratio.loc[[f"s{i}" for i in range(300)], GRADES[1:]].to_numpy()
    truth = MU + a
    assert np.mean((post - truth) ** 2) < np.mean((MU - truth) ** 2)
    ds = fit.to_dataset()
    assert ds["ratio"].dims == ("grade",) and ds.sizes["entity"] == 300
    assert float(ds["entering_drift"]) == pytest.approx(-0.01, abs=0.01)


def test_fragment_is_a_valid_cohort_config():
    df, _ = by_grade_panel(np.random.default_rng(1), n=60, years=6)
    fit = fit_cohort(df, entity="school", year="yr", grade="gr", value="pupils")
    frag = fit.to_toml("s3")
    head = "[simulation]\nyears = 3\nfirst_year = 2027\ndraws = 200\nseed = 1\n"
    text = (
        head
        + '[[schools]]\nname = "s"\nfund_balance = 0\n'
        + frag.replace("[schools.enrollment]", "[schools.enrollment]")
    )
    spec = sustainsim.loads_config(text)
    en = spec.config.schools[0].enrollment
    assert en.model == "cohort" and en.grades == GRADES
    assert len(en.per_grade("progression_uncertainty")) == 5
    parsed = tomllib.loads(frag)["schools"]["enrollment"]
    want = np.exp(fit.entity_ratios("s3")[0])
    np.testing.assert_allclose(parsed["progression"], want, rtol=1e-3)
    ds = sustainsim.simulate(spec)
    assert np.isfinite(ds.enrollment.values).all()


def test_grade_order_and_errors():
    assert grade_order(["12", "K", "9", "PK"]) == ["PK", "K", "9", "12"]
    df = pd.DataFrame({"e": ["a"], "y": [2000], "g": ["K"], "v": [10]})
    with pytest.raises(ValueError, match="2 or more grades"):
        fit_cohort(df, entity="e", year="y", grade="g", value="v")
    with pytest.raises(ValueError, match="column 'grade' not found"):
        fit_cohort(df, entity="e", year="y", value="v")


def test_cohort_backtest_on_synthetic_panel_is_near_nominal():
    df, _ = by_grade_panel(np.random.default_rng(2), n=150, years=8)
    res = backtest(
        df,
        entity="school",
        year="yr",
        value="pupils",
        grade="gr",
        model="cohort",
        horizon=2,
        draws=200,
    )
    out = backtest_summary(res)
    assert out["model"] == "cohort" and out["horizons"] == [1, 2]
    # coverage within 12 points of nominal (common shocks: few independent origins)
    for k, v in out["coverage"].items():
        assert all(abs(c - float(k)) < 0.12 for c in v), (k, v)


@pytest.mark.skipif(not (DATA / "nyc_doe_by_grade.csv").is_file(), reason="NYC data absent")
def test_nyc_cohort_fit_sanity():
    fit = fit_cohort(
        DATA / "nyc_doe_by_grade.csv",
        entity="entity_id",
        year="year",
        grade="grade",
        value="enrollment",
    )
    assert fit.grades[0] == "K" and fit.grades[-1] == "12"
    # elementary grades keep almost everyone; high-school grades lose pupils every year
    for g in ("2", "3", "4", "5"):
        assert 0.95 < fit.ratios[fit.grades.index(g) - 1] < 1.05
    for g in ("10", "11", "12"):
        assert fit.ratios[fit.grades.index(g) - 1] < 0.95
    assert fit.top_grade["K"] == "5" and fit.top_grade["9"] == "12"


def test_calibrate_cli_writes_the_cohort_fragment(tmp_path, capsys):
    from sustainsim.cli.main import main

    df, _ = by_grade_panel(np.random.default_rng(3), n=40, years=5)
    path = tmp_path / "g.csv"
    df.to_csv(path, index=False)
    base = ["calibrate", str(path), "--entity", "school", "--year", "yr", "--value", "pupils"]
    out = tmp_path / "frag.toml"
    argv = base + ["--kind", "cohort", "--grade", "gr", "--for-entity", "s7", "--out", str(out)]
    assert main(argv) == 0
    frag = out.read_text()
    fit = fit_cohort(df, entity="school", year="yr", grade="gr", value="pupils")
    assert frag == fit.to_toml("s7")
    assert 'model = "cohort"' in capsys.readouterr().out
    assert main(base + ["--kind", "cohort", "--for-entity", "s7"]) == 2
    assert "grade column" in capsys.readouterr().err
    assert main(base + ["--grade", "gr"]) == 2  # grade without kind cohort


def test_noise_tails_are_fitted_per_grade():
    from sustainsim.calibration.cohort import MIN_NOISE_DF
    from sustainsim.calibration.tails import fit_student_t

    # normal noise: no tails to speak of (df above 15 or inf), the sd as REML's
    df, _ = by_grade_panel(np.random.default_rng(0))
    fit = fit_cohort(df, entity="school", year="yr", grade="gr", value="pupils")
    assert np.all(fit.noise_df > 15)
    # unit-variance t(8) noise of sd 0.05: df within 4 se of 8 (se of the ML df of as
    # many unit t(8) draws, by the same estimator on fresh draws) and the sd recovered
    rng = np.random.default_rng(1)
    n, years, g = 300, 8, len(MU)
    counts = np.zeros((n, years, len(GRADES)))
    counts[:, 0] = 80 * np.exp(rng.normal(0, 0.2, (n, len(GRADES))))
    for t in range(1, years):
        counts[:, t, 0] = counts[:, t - 1, 0] * np.exp(rng.normal(-0.01, 0.05, n))
        e = 0.05 * rng.standard_t(8, (n, g)) * math.sqrt(6 / 8)
        counts[:, t, 1:] = counts[:, t - 1, :-1] * np.exp(MU + e)
    rows = [
        (f"s{i}", 2000 + t, gr, counts[i, t, k])
        for i in range(n)
        for t in range(years)
        for k, gr in enumerate(GRADES)
    ]
    tdf = pd.DataFrame(rows, columns=["school", "yr", "gr", "pupils"])
    fit = fit_cohort(tdf, entity="school", year="yr", grade="gr", value="pupils")
    _, se, _ = fit_student_t(np.random.default_rng(2).standard_t(8, n * (years - 1)))
    for k in range(g):
        assert max(fit.noise_df[k], MIN_NOISE_DF) == fit.noise_df[k]
        assert abs(fit.noise_df[k] - 8) < 4 * se, (k, fit.noise_df[k], se)
        assert fit.noise_sd[k] == pytest.approx(0.05, rel=0.08)
