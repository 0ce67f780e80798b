"""Risk drivers against values derived independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sustainsim
from sustainsim.analysis import sensitivity
from sustainsim.analysis.sensitivity import (
    outcome_array,
    risk_drivers,
    tornado_table,
)
from sustainsim.config import Spec, parse_config


def synthetic(inputs: dict[str, np.ndarray]) -> xr.Dataset:
    """A Dataset holding only sampled inputs (role = input) over draw."""
    n = len(next(iter(inputs.values())))
    ds = xr.Dataset(
        {k: ("draw", v, {"role": "input", "units": "1"}) for k, v in inputs.items()},
        coords={"draw": np.arange(n)},
    )
    return ds


@pytest.fixture(scope="module")
def linear():
    """y = sum b_i x_i + noise with independent x of different distributions."""
    rng = np.random.default_rng(11)
    n = 20_000
    x = {
        "a": rng.normal(0.0, 2.0, n),  # var 4
        "b": rng.uniform(0.0, 1.0, n),  # var 1/12
        "c": rng.exponential(1.0, n),  # var 1
        "d": rng.normal(0.0, 1.0, n),  # no effect
    }
    b = {"a": 1.5, "b": -6.0, "c": 2.0, "d": 0.0}
    var = {"a": 4.0, "b": 1 / 12, "c": 1.0, "d": 1.0}
    sigma = 2.0
    y = sum(b[k] * x[k] for k in x) + rng.normal(0.0, sigma, n)
    explained = sum(b[k] ** 2 * var[k] for k in x)
    sd_y = np.sqrt(explained + sigma**2)
    src = {k: b[k] * np.sqrt(var[k]) / sd_y for k in x}
    ds = synthetic(x)
    return ds, xr.DataArray(y, dims="draw", name="y"), src, explained / sd_y**2, n


def test_src_and_contributions_match_the_linear_model(linear):
    ds, y, src, r2, n = linear
    rd = risk_drivers(ds, y)
    # SE of a standardized coefficient with independent inputs: sqrt((1 - R^2) / n)
    se = np.sqrt((1 - r2) / n)
    for k, v in src.items():
        assert float(rd.src.sel(input=k)) == pytest.approx(v, abs=4 * se + 2e-3)
        # independent inputs: contribution = SRC^2 (delta method SE 2 |SRC| se)
        assert float(rd.contribution.sel(input=k)) == pytest.approx(
            v**2, abs=8 * se * abs(v) + 2e-3
        )
    assert float(rd.r2) == pytest.approx(r2, abs=0.01)
    assert float(rd.contribution.sum()) == pytest.approx(float(rd.r2), abs=1e-10)
    assert rd.attrs["contribution_method"] == "lmg"
    assert set(rd.dims) == {"input", "decile"}
    # the no-effect input: rank correlation not significant at any sensible level
    assert float(rd.spearman_pvalue.sel(input="d")) > 1e-3
    assert float(rd.spearman_pvalue.sel(input="a")) < 1e-12
    lo, hi = rd.spearman_lower.sel(input="a"), rd.spearman_upper.sel(input="a")
    assert lo < rd.spearman.sel(input="a") < hi


def test_pratt_fallback_also_sums_to_r2(linear, monkeypatch):
    ds, y, src, _, n = linear
    monkeypatch.setattr(sensitivity, "MAX_LMG_INPUTS", 2)
    rd = risk_drivers(ds, y)
    assert rd.attrs["contribution_method"] == "pratt"
    assert float(rd.contribution.sum()) == pytest.approx(float(rd.r2), abs=1e-10)
    for k, v in src.items():
        assert float(rd.contribution.sel(input=k)) == pytest.approx(v**2, abs=0.01)


def test_monotone_transform_has_rank_correlation_one():
    rng = np.random.default_rng(3)
    x = rng.normal(size=5000)
    ds = synthetic({"x": x, "z": rng.normal(size=5000)})
    rd = risk_drivers(ds, xr.DataArray(np.exp(3 * x), dims="draw"))
    assert float(rd.spearman.sel(input="x")) == pytest.approx(1.0, abs=1e-12)
    assert float(rd.srrc.sel(input="x")) == pytest.approx(1.0, abs=1e-9)
    assert float(rd.rank_r2) == pytest.approx(1.0, abs=1e-9)
    assert float(rd.r2) < 0.6  # the linear fit is poor: SRC not to be trusted here
    dec = rd.decile_mean.sel(input="x").values
    assert np.all(np.diff(dec) > 0)
    # decreasing transform: -1
    rd = risk_drivers(ds, xr.DataArray(-(x**3), dims="draw"))
    assert float(rd.spearman.sel(input="x")) == pytest.approx(-1.0, abs=1e-12)


def test_decile_means_of_an_indicator_are_the_conditional_probability():
    # y = 1{u < x}, u, x ~ U(0, 1): P(y | x in decile d) = E[x | decile d] = (d - 0.5) / 10
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.uniform(size=n)
    y = xr.DataArray(rng.uniform(size=n) < x, dims="draw", name="hit")
    rd = risk_drivers(synthetic({"x": x}), y)
    expected = (np.arange(1, 11) - 0.5) / 10
    got = rd.decile_mean.sel(input="x").values
    se = np.sqrt(expected * (1 - expected) / (n / 10))
    assert np.all(np.abs(got - expected) < 4 * se)
    assert rd.attrs["binary_outcome"] == 1
    # decile edges are the input's deciles
    edges = rd.decile_upper.sel(input="x").values[:-1]
    assert np.allclose(edges, np.arange(1, 10) / 10, atol=0.02)
    assert float(rd.decile_swing.sel(input="x")) == pytest.approx(got[-1] - got[0])


def test_tornado_tails_match_closed_form(linear):
    ds, y, _, _, n = linear
    t = tornado_table(ds, y)
    assert list(t.columns[:5]) == ["input", "label", "low", "high", "base"]
    assert t["base"].iloc[0] == pytest.approx(float(y.mean()))
    swing = (t["high"] - t["low"]).abs().to_numpy()
    assert np.all(np.diff(swing) <= 0)
    # b ~ U(0, 1) with coefficient -6: E[y | b in bottom 10%] - E[y] = -6 (0.05 - 0.5)
    row = t.set_index("input").loc["b"]
    sd_tail = float(y.std()) / np.sqrt(n / 10)
    assert row["low"] - row["base"] == pytest.approx(-6 * (0.05 - 0.5), abs=4 * sd_tail)
    assert row["high"] - row["base"] == pytest.approx(-6 * (0.95 - 0.5), abs=4 * sd_tail)
    assert row["low_value"] == pytest.approx(0.1, abs=0.01)


def test_exactly_collinear_inputs_are_flagged_and_share_their_contribution():
    rng = np.random.default_rng(8)
    n = 4000
    end = rng.integers(2, 7, n).astype(float)
    ds = synthetic({"end": end, "last_year": 2026 + end, "z": rng.normal(size=n)})
    y = xr.DataArray(end + rng.normal(size=n), dims="draw")
    rd = risk_drivers(ds, y)
    assert np.isnan(float(rd.src.sel(input="last_year")))
    assert str(rd.redundant_with.sel(input="last_year").values) == "end"
    assert str(rd.redundant_with.sel(input="end").values) == ""
    c = rd.contribution
    assert float(c.sel(input="end")) == pytest.approx(float(c.sel(input="last_year")), rel=1e-6)
    assert float(c.sum()) == pytest.approx(float(rd.r2), abs=1e-10)
    t = tornado_table(ds, y)
    assert "last_year" not in set(t["input"]) and t.attrs["duplicates"] == {"last_year": "end"}


@pytest.fixture(scope="module")
def ref10_ds(ref10_spec):
    return sustainsim.simulate(ref10_spec, draws=20_000, seed=1)


def test_ref10_top_drivers_have_the_expected_signs(ref10_ds):
    rd = risk_drivers(ref10_ds, "final_balance")
    rho = rd.spearman.to_series()
    top3 = set(rho.abs().sort_values(ascending=False).index[:3])
    assert top3 == {
        "district.cuts.cumulative",
        "district.cuts.event.count",
        "schools.ref.enrollment.change",
    }
    assert rho["district.cuts.cumulative"] < -0.5 and rho["district.cuts.event.count"] < -0.5
    assert rho["schools.ref.enrollment.change"] > 0.3
    assert rho["schools.ref.revenue.grant.end"] > 0.1  # a later grant cliff helps
    assert float(rd.r2) > 0.7
    # P(solvent) by decile: more enrollment and a later cliff help, more cuts hurt
    rs = risk_drivers(ref10_ds, "solvent")
    swing = rs.decile_swing.to_series()
    assert swing["schools.ref.enrollment.change"] > 0.1
    assert swing["district.cuts.cumulative"] < -0.05
    assert swing["schools.ref.revenue.grant.end"] > 0.02
    assert float(rs.decile_mean.sel(input="schools.ref.enrollment.change", decile=1)) == 0.0


def test_ref10_tornado(ref10_ds):
    t = tornado_table(ref10_ds, "solvent")
    p = float(sustainsim.metrics.solvent(ref10_ds).isel(year=-1).mean())
    assert np.allclose(t["base"], p)
    assert t["input"].iloc[0] == "schools.ref.enrollment.change"
    grant = "schools.ref.revenue.grant"
    assert t.attrs["duplicates"] == {f"{grant}.last_year": f"{grant}.end"}
    # the label of each input, from spec.inputs() (with its summary for a summary)
    assert t.set_index("input").loc["schools.ref.enrollment.change", "label"] == (
        "ref: enrollment shock (enrollment change over the horizon)"
    )
    assert t.attrs["units"] == "1"
    assert tornado_table(ref10_ds, "final_balance").attrs["units"] == "USD"
    with pytest.raises(ValueError, match="year"):
        tornado_table(ref10_ds, "fund_balance")


def test_path_outcome_is_analysed_year_by_year(ref10_ds):
    rd = risk_drivers(ref10_ds, "fund_balance")
    assert rd.spearman.dims == ("input", "year") and rd.r2.dims == ("year",)
    one = risk_drivers(ref10_ds, "final_balance", year=2031)
    assert np.allclose(rd.spearman.sel(year=2031), one.spearman)
    assert np.allclose(rd.contribution.sum("input"), rd.r2)
    # solvency in the first projected year is certain in ref10: no correlation defined
    s = risk_drivers(ref10_ds, "solvent", year="all")
    assert np.isnan(s.spearman.sel(year=2027)).all()
    assert not np.isnan(s.spearman.sel(year=2036)).any()


def test_outcome_array_years_and_schools(ref10_ds):
    wb = outcome_array(ref10_ds, "worst_balance", year=2030)
    expected = ref10_ds.fund_balance.sel(year=slice(None, 2030)).min("year").isel(school=0)
    assert np.array_equal(wb.values, expected.values)
    assert outcome_array(ref10_ds, "solvent", year=[2030, 2031]).dims == ("draw", "year")
    with pytest.raises(ValueError, match="unknown outcome"):
        outcome_array(ref10_ds, "nope")
    with pytest.raises(ValueError, match="unknown school"):
        outcome_array(ref10_ds, school="x")
    with pytest.raises(ValueError, match="not in the run's years"):
        outcome_array(ref10_ds, year=1999)


def test_several_schools_default_to_the_district_and_scenarios_are_per_scenario(small_data):
    data = small_data
    data["schools"].append(dict(data["schools"][0], name="b"))
    spec = Spec(parse_config(data), data, "")
    ds = sustainsim.simulate(spec, draws=500, seed=2)
    y = outcome_array(ds, "final_balance")
    assert np.allclose(y, ds.fund_balance.isel(year=-1).sum("school"))
    both = xr.concat([ds, ds], dim=pd.Index(["x", "y"], name="scenario"))
    rd = risk_drivers(both, "final_balance", school="a")
    assert rd.spearman.dims == ("scenario", "input")
    assert np.allclose(rd.spearman.sel(scenario="x"), rd.spearman.sel(scenario="y"))
    with pytest.raises(ValueError, match="select one"):
        tornado_table(both)


def test_config_where_only_one_input_matters(small_data):
    """Three random inputs, only the operations cost moves the balance: it ranks first."""
    from sustainsim.config import apply_overrides

    data = apply_overrides(
        small_data,
        {
            "district.cuts.probability": 0.0,
            "district.growth.salary": 0.03,
            "schools.a.enrollment.volatility": 0.0,
            "schools.a.enrollment.base": {"dist": "uniform", "low": 300, "high": 500},
            "schools.a.revenue.grant.amount": 0.0,  # its random end year is irrelevant
            "schools.a.revenue.pp.rate": 0.0,  # enrollment does not pay...
            "schools.a.cost.teachers.students_per_position": 1e9,  # ...nor cost (one position)
            "schools.a.cost.ops.amount": {"dist": "uniform", "low": 1e6, "high": 2e6},
        },
    )
    ds = sustainsim.simulate(Spec(parse_config(data), data, ""), draws=4000, seed=2)
    rd = risk_drivers(ds, "final_balance")
    order = rd.spearman.to_series().abs().sort_values(ascending=False)
    assert order.index[0] == "schools.a.cost.ops.amount"
    assert order.iloc[0] == pytest.approx(1.0, abs=1e-9)
    others = order.iloc[1:]
    assert np.all(others.abs() < 4 / np.sqrt(4000)), others
    contrib = rd.contribution.to_series()
    assert contrib["schools.a.cost.ops.amount"] > 0.99
    assert contrib.drop("schools.a.cost.ops.amount").abs().max() < 0.005


def test_spearman_and_pvalue_equal_scipy_spearmanr():
    """The rank correlation and its t-approximation p-value are scipy's, input by input."""
    from scipy import stats

    rng = np.random.default_rng(5)
    n = 3_000
    x = {"a": rng.normal(size=n), "b": np.round(rng.normal(size=n)), "c": rng.uniform(size=n)}
    y = 0.05 * x["a"] + 0.02 * x["b"] + rng.normal(size=n)
    rd = risk_drivers(synthetic(x), xr.DataArray(y, dims="draw", name="y"))
    for k, v in x.items():
        want = stats.spearmanr(v, y)
        assert float(rd.spearman.sel(input=k)) == pytest.approx(want.statistic, rel=1e-12)
        assert float(rd.spearman_pvalue.sel(input=k)) == pytest.approx(want.pvalue, rel=1e-9)
