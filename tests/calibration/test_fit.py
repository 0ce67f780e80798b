"""Calibration: parameter recovery on panels simulated by the driver itself, distribution
fitting, config fragments, bad input, the CLI helpers, and the Ohio F-33 panel."""

from __future__ import annotations

import argparse
import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from sustainsim.calibration.fit import (
    best_distribution_spec,
    calibrate,
    fit_distribution,
    fit_enrollment,
    fit_growth,
    read_panel,
)
from sustainsim.cli.calibrate import add_arguments, run
from sustainsim.model.drivers import enrollment_paths
from sustainsim.sampling.distributions import Distribution
from tests.conftest import ohio_path

TRUE = {"drift": -0.01, "volatility": 0.035, "persistence": 0.3, "loading": 0.6, "drift_sd": 0.01}


def synth_panel(
    rng: np.random.Generator,
    n: int = 300,
    years: int = 15,
    *,
    drift: float = -0.01,
    drift_sd: float = 0.01,
    volatility=0.035,
    persistence: float = 0.3,
    loading: float = 0.6,
    burn: int = 30,
) -> pd.DataFrame:
    """A long table simulated by ``enrollment_paths``: one district draw with ``n`` entities.

    The common shock is one column repeated over entities; ``burn`` years are dropped so
    that the AR(1) deviation is stationary when the table starts.
    """
    steps = burn + years - 1
    z_common = np.repeat(rng.standard_normal((steps, 1)), n, axis=1)
    z_own = rng.standard_normal((steps, n))
    d = drift + drift_sd * rng.standard_normal(n)
    base = np.exp(rng.normal(6.0, 0.5, n))
    level = enrollment_paths(base, d, volatility, persistence, loading, z_common, z_own)[burn:]
    yrs = np.arange(2000, 2000 + years)
    return pd.DataFrame(
        {
            "entity": np.repeat(np.arange(n), years),
            "year": np.tile(yrs, n),
            "value": level.T.ravel(),
        }
    )


OHIO = {"entity": "irn", "year": "fiscal_year", "value": "enrollment", "filters": {"comparable": 1}}

# ------------------------------------------------------------------------ recovery


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_recovers_driver_parameters(seed):
    fit = fit_enrollment(synth_panel(np.random.default_rng(seed)))
    for k, true in TRUE.items():
        est, se = getattr(fit, k), getattr(fit, k + "_se")
        assert np.isfinite(se) and se > 0, k
        assert abs(est - true) < 4 * se, f"{k}: {est:.4f} vs {true} (se {se:.4f})"
    assert fit.n_obs == 300 * 14 and fit.n_entities == 300
    assert fit.options["converged"]


def test_standard_errors_are_calibrated():
    """Over replications, |estimate - truth| < 2 se about 95% of the time.

    With 30 replications the count inside is Binomial(30, 0.954): at least 25 inside
    has probability > 0.99 if the standard errors are right; overconfident errors fail.
    """
    inside = {k: 0 for k in ("persistence", "idio_volatility", "drift")}
    truth = {"persistence": 0.3, "idio_volatility": 0.035 * math.sqrt(1 - 0.36), "drift": -0.01}
    for seed in range(30):
        df = synth_panel(np.random.default_rng(100 + seed), n=40, years=12)
        fit = fit_enrollment(df, volatility="pooled")
        for k in inside:
            inside[k] += abs(getattr(fit, k) - truth[k]) < 2 * getattr(fit, k + "_se")
    assert all(v >= 25 for v in inside.values()), inside


def test_missing_years_use_consecutive_growth_only():
    rng = np.random.default_rng(5)
    df = synth_panel(rng, n=250, years=16)
    df = df[df["year"] != 2006]  # a whole year missing, like FY2014 in the Ohio panel
    df = df[rng.random(len(df)) > 0.05]  # and scattered entity-years
    fit = fit_enrollment(df)
    # independent count: rows whose previous year is present for the same entity
    prev = set(zip(df["entity"], df["year"] + 1, strict=True))
    expected = sum((e, y) in prev for e, y in zip(df["entity"], df["year"], strict=True))
    assert fit.n_obs == expected
    assert 2006 not in fit.common_shock.index and 2007 not in fit.common_shock.index
    for k, true in TRUE.items():
        assert abs(getattr(fit, k) - true) < 4 * getattr(fit, k + "_se"), k


def test_pooled_drift_and_single_entity():
    rng = np.random.default_rng(7)
    pooled = fit_enrollment(synth_panel(rng, n=200, drift_sd=0.0), drift="pooled")
    assert pooled.drift_sd == 0.0
    assert np.allclose(pooled.entity_drift["drift"], pooled.drift)
    assert abs(pooled.drift - TRUE["drift"]) < 4 * pooled.drift_se
    # one long series: no common shock to identify, loading reported as 0
    one = synth_panel(rng, n=1, years=80, drift_sd=0.0, loading=0.0)
    fit = fit_enrollment(one)
    assert not fit.options["common"] and fit.loading == 0.0
    assert abs(fit.drift - TRUE["drift"]) < 4 * fit.drift_se
    assert abs(fit.volatility - 0.035) < 4 * fit.volatility_se
    assert abs(fit.persistence - 0.3) < 4 * fit.persistence_se
    assert "base = " in fit.to_toml()  # the single entity's own fragment


def test_entity_volatility_separates_small_and_large():
    rng = np.random.default_rng(11)
    vol = np.where(np.arange(300) % 2 == 0, 0.02, 0.06)  # two kinds of entity
    df = synth_panel(rng, volatility=vol, loading=0.3)
    fit = fit_enrollment(df)
    ent = fit.entity_drift
    low = ent["volatility"][ent.index.astype(int) % 2 == 0].median()
    high = ent["volatility"][ent.index.astype(int) % 2 == 1].median()
    assert low < fit.volatility < high
    assert abs(low - 0.02) < abs(fit.volatility - 0.02)
    assert abs(high - 0.06) < abs(fit.volatility - 0.06)
    pooled = fit_enrollment(df, volatility="pooled")
    assert np.allclose(pooled.entity_drift["volatility"], pooled.volatility)
    assert pooled.volatility == pytest.approx(fit.volatility)  # pooled estimates unchanged


@settings(max_examples=10, deadline=None)
@given(scale=st.floats(1e-3, 1e4), seed=st.integers(0, 2**16))
@example(scale=2.0, seed=14670)  # L-BFGS-B once stopped at its start here
def test_fit_invariant_to_units_and_row_order(scale, seed):
    rng = np.random.default_rng(seed)
    df = synth_panel(rng, n=20, years=10)
    a = fit_enrollment(df, se=False)
    shuffled = df.sample(frac=1.0, random_state=seed).assign(value=df["value"] * scale)
    b = fit_enrollment(shuffled, se=False)
    for k in ("drift", "volatility", "persistence", "loading", "drift_sd"):
        # equal up to the optimizer's tolerance (summation order differs)
        assert getattr(a, k) == pytest.approx(getattr(b, k), rel=1e-4, abs=1e-6)


# ------------------------------------------------------------------ outputs


def test_to_toml_and_dataset():
    from sustainsim.config.schema import Enrollment

    fit = fit_enrollment(synth_panel(np.random.default_rng(3), n=50, years=10))
    enr = tomllib.loads(fit.to_toml())["schools"]["enrollment"]
    assert set(enr) == {"base", "drift", "volatility", "persistence", "common_loading"}
    assert enr["drift"]["dist"] == "normal"
    assert enr["drift"]["mean"] == pytest.approx(fit.drift, rel=1e-3)
    assert enr["drift"]["sd"] == pytest.approx(math.hypot(fit.drift_sd, fit.drift_se), rel=1e-3)
    assert enr["volatility"] == pytest.approx(fit.volatility, rel=1e-3)
    assert enr["base"] == round(fit.entity_drift["last_value"].median())
    Enrollment.model_validate(enr)  # the config language accepts the fragment
    one = tomllib.loads(fit.to_toml(entity=7, drift_uncertainty=False))["schools"]["enrollment"]
    row = fit.entity_drift.loc["7"]
    assert one["base"] == round(row["last_value"])
    assert one["drift"] == pytest.approx(row["drift"], rel=1e-3)
    assert one["common_loading"] == pytest.approx(row["loading"], rel=1e-3)
    Enrollment.model_validate(one)
    with pytest.raises(ValueError, match="entity 'nope' is not in the fitted data"):
        fit.to_toml(entity="nope")
    ds = fit.to_dataset()
    assert float(ds["persistence"]) == fit.persistence
    assert ds["entity_drift"].dims == ("entity",) and ds.sizes["entity"] == 50
    assert ds["common_shock"].dims == ("year",) and ds.sizes["year"] == 9
    assert ds["volatility"].attrs["units"] == "1/yr"


def test_fit_growth_fragment():
    rng = np.random.default_rng(4)
    years = np.arange(1990, 2020)
    g = 0.03 + 0.02 * rng.standard_normal(years.size)  # i.i.d. log growth
    df = pd.DataFrame({"year": years, "rev": 1e6 * np.exp(np.cumsum(g)), "pupils": 1000.0})
    fit = fit_growth(df, entity=None, value="rev", per_pupil="pupils")
    assert abs(fit.drift - 0.03) < 4 * fit.drift_se
    assert abs(fit.persistence) < 4 * fit.persistence_se
    r = np.expm1(g)  # the simple rates, i.i.d.: their sample moments estimate the same
    assert fit.rate_mean == pytest.approx(r.mean(), abs=4 * r.std() / math.sqrt(r.size))
    assert fit.rate_sd == pytest.approx(r.std(), rel=4 / math.sqrt(2 * (r.size - 1)))
    spec = fit.to_spec(form="year", horizon=1)
    Distribution.from_spec(spec["rate"])
    assert spec["per"] == "year"
    # one year ahead, the per-year rate is that of the fitted process: exp(g) - 1 moments
    mu, v = fit.drift, fit.volatility**2 / (1 - fit.persistence**2) + fit.drift_se**2
    assert spec["rate"]["mean"] == pytest.approx(math.exp(mu + v / 2) - 1, rel=1e-3)
    doc = tomllib.loads(fit.to_toml("funding", form="draw"))
    rate = doc["district"]["growth"]["funding"]
    Distribution.from_spec(rate)
    assert rate["dist"] == "normal" and rate["sd"] < spec["rate"]["sd"]
    district = tomllib.loads(fit.to_toml())["district"]
    entry = district["growth"]["funding"]
    assert entry["per"] == "year" and entry["rate"]["dist"] == "normal"
    from sustainsim.config.schema import District

    District.model_validate(district)  # the config language accepts the fragment


# ------------------------------------------------------------- distributions


@pytest.mark.parametrize(
    ("family", "sample"),
    [
        ("gamma", lambda r: stats.gamma(a=2.0, scale=3.0).rvs(5000, random_state=r)),
        ("lognormal", lambda r: stats.lognorm(s=0.6, scale=20.0).rvs(5000, random_state=r)),
        ("t", lambda r: stats.t(df=3, loc=1.0, scale=2.0).rvs(5000, random_state=r)),
        ("normal", lambda r: stats.norm(5.0, 2.0).rvs(5000, random_state=r)),
    ],
)
def test_fit_distribution_picks_generating_family(family, sample):
    x = sample(np.random.default_rng(21))
    ranked = fit_distribution(x, ("normal", "lognormal", "gamma", "t", "logistic"), "bic")
    assert ranked.index[0] == family
    assert ranked["delta"].iloc[0] == 0 and ranked["weight"].sum() == pytest.approx(1.0)
    spec = best_distribution_spec(x, ("normal", "lognormal", "gamma", "t", "logistic"), "bic")
    dist = Distribution.from_spec(spec)
    # the config distribution reproduces the sample's quartiles
    q = np.quantile(x, [0.25, 0.5, 0.75])
    assert dist.ppf(np.array([0.25, 0.5, 0.75])) == pytest.approx(q, rel=0.05, abs=0.1)


def test_fit_distribution_config_families_and_failures():
    rng = np.random.default_rng(2)
    x = rng.triangular(1.0, 2.0, 5.0, 4000)
    ranked = fit_distribution(x, ["triangular", "uniform", "normal"], "aic")
    assert ranked.index[0] == "triangular"
    spec = ranked["spec"].iloc[0]
    assert spec["dist"] == "triangular" and spec["mode"] == pytest.approx(2.0, abs=0.2)
    neg = rng.normal(0, 1, 500)
    ranked = fit_distribution(neg, ["lognormal", "normal"])
    assert ranked.index[0] == "normal" and ranked.loc["lognormal", "error"] != ""
    with pytest.raises(ValueError, match="unknown candidate 'nosuch'"):
        fit_distribution(x, ["nosuch"])
    with pytest.raises(ValueError, match="criterion must be 'aic' or 'bic'"):
        fit_distribution(x, criterion="hqic")


# ------------------------------------------------------------------ bad input


def test_bad_input_messages(tmp_path):
    df = synth_panel(np.random.default_rng(0), n=5, years=6)
    with pytest.raises(ValueError, match="does not exist"):
        fit_enrollment(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="column 'pupils' not found.*available columns: entity"):
        fit_enrollment(df, value="pupils")
    with pytest.raises(ValueError, match="too few years"):
        fit_enrollment(df[df["year"] < 2003])
    with pytest.raises(ValueError, match="must be positive"):
        fit_enrollment(df.assign(value=df["value"] - 1e6))
    with pytest.raises(ValueError, match="more than one row"):
        fit_enrollment(pd.concat([df, df.iloc[:1]]))
    with pytest.raises(ValueError, match="whole-number years"):
        fit_enrollment(df.assign(year=df["year"] + 0.5))
    with pytest.raises(ValueError, match="drift must be 'entity' or 'pooled'"):
        fit_enrollment(df, drift="fixed")
    table = read_panel(df.assign(keep=df["entity"] % 2), filters={"keep": "1"})
    assert set(table["entity"]) == {"1", "3"}


# ------------------------------------------------------------------------ CLI


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_run_prints_and_writes_atomically(tmp_path, capsys):
    csv = tmp_path / "hist.csv"
    df = synth_panel(np.random.default_rng(9), n=30, years=10)
    df.rename(columns={"entity": "school", "year": "fy", "value": "n"}).to_csv(csv, index=False)
    args = ["--entity", "school", "--year", "fy", "--value", "n"]
    assert run(_parse([str(csv), *args])) == 0
    out, err = capsys.readouterr()
    assert "[schools.enrollment]" in out and "persistence" in out  # the fragment: stdout
    assert "persistence" in err and "se" in err  # the estimates' table: stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist.csv"]  # nothing written
    target = tmp_path / "frag.toml"
    assert run(_parse([str(csv), *args, "--out", str(target)])) == 0
    text = target.read_text()
    assert text == calibrate(csv, entity="school", year="fy", value="n")
    assert -1 < tomllib.loads(text)["schools"]["enrollment"]["persistence"] < 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frag.toml", "hist.csv"]
    with pytest.raises(ValueError, match="column 'enrollment' not found"):
        run(_parse([str(csv), "--entity", "school", "--year", "fy", "--value", "enrollment"]))
    with pytest.raises(ValueError, match="kind must be"):
        calibrate(csv, entity="school", year="fy", value="n", kind="cuts")


def test_calibrate_dispatches_on_kind(tmp_path):
    """Each kind writes its own fragment (EnrollmentFit.to_toml, GrowthFit.to_toml)."""
    csv = tmp_path / "hist.csv"
    df = synth_panel(np.random.default_rng(3), n=20, years=10)
    df.assign(pupils=100.0).to_csv(csv, index=False)
    own = tomllib.loads(calibrate(csv, entity="entity", year="year", value="value", for_entity=4))
    assert own["schools"]["enrollment"]["base"] == round(df[df.entity == 4].value.iloc[-1])
    kw = dict(entity="entity", year="year", value="value", kind="growth", per_pupil="pupils")
    text = calibrate(csv, name="revenue", **kw)
    assert tomllib.loads(text)["district"]["growth"]["revenue"]["per"] == "year"
    with pytest.raises(ValueError, match="per_pupil applies to kind 'growth' only"):
        calibrate(csv, entity="entity", year="year", value="value", per_pupil="pupils")


# --------------------------------------------------------------------- Ohio


def test_ohio_enrollment_fit():
    fit = fit_enrollment(ohio_path(), **OHIO)
    assert fit.n_entities > 600 and fit.n_obs > 6000
    assert 2014 not in fit.common_shock.index and 2015 not in fit.common_shock.index
    # README: median district change about -1.1%/yr with a log sd about 3.5%
    assert -0.03 < fit.drift < 0.0 and 0.025 < fit.volatility < 0.045
    assert 0.0 < fit.loading < 1.0 and abs(fit.persistence) < 0.5
    # README: FY2020 -> FY2021 COVID drop of about -3.5% across districts
    covid = fit.drift + fit.common_shock.loc[2021]
    assert covid == pytest.approx(-0.035, abs=0.01)
    tomllib.loads(fit.to_toml())


def test_ohio_growth_cli(tmp_path, capsys):
    path = ohio_path()
    argv = [str(path), "--entity", "irn", "--year", "fiscal_year", "--value", "current_spending"]
    argv += ["--kind", "growth", "--per-pupil", "enrollment", "--filter", "comparable=1"]
    assert run(_parse(argv)) == 0
    text = capsys.readouterr().out
    entry = tomllib.loads(text.split("\n\nparameter")[0])["district"]["growth"]["funding"]
    Distribution.from_spec(entry["rate"])
    assert 0.0 < entry["rate"]["mean"] < 0.08
