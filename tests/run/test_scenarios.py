"""simulate_scenarios takes the config's scenarios or a dict of overrides, on the same draws."""

from __future__ import annotations

import pytest
import xarray as xr

import sustainsim


def test_dict_of_overrides_equals_separate_runs_on_the_same_draws(make_spec):
    spec = make_spec("small")
    ds = sustainsim.simulate_scenarios(
        spec, {"plan": {}, "520 pupils": {"schools.a.enrollment.base": 520}}, draws=500, seed=4
    )
    assert ds["scenario"].values.tolist() == ["plan", "520 pupils"]
    alone = sustainsim.simulate(
        spec.with_overrides({"schools.a.enrollment.base": 520}), draws=500, seed=4
    )
    xr.testing.assert_identical(
        ds.fund_balance.sel(scenario="520 pupils", drop=True), alone.fund_balance
    )
    plan = sustainsim.simulate(spec, draws=500, seed=4)
    xr.testing.assert_identical(ds.fund_balance.sel(scenario="plan", drop=True), plan.fund_balance)
    assert '"520 pupils": {"schools.a.enrollment.base": 520}' in ds.attrs["scenario_overrides"]


def test_bad_scenario_dicts(make_spec):
    spec = make_spec("small")
    with pytest.raises(sustainsim.ConfigError, match="enrollment.volatility"):
        sustainsim.simulate_scenarios(spec, {"x": {"schools.a.enrollment.volatility": -1}})
    with pytest.raises(TypeError, match="overrides must be a mapping"):
        sustainsim.simulate_scenarios(spec, {"x": 3})
    with pytest.raises(ValueError, match="at least one"):
        sustainsim.simulate_scenarios(spec, {})
