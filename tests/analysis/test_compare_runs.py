"""compare_runs checks that runs share their draws before calling a difference paired."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim.analysis import compare, compare_runs
from sustainsim.metrics import solvent


@pytest.fixture(scope="module")
def runs():
    spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    likely = spec.with_overrides({"district.cuts.probability": 0.3})
    return {
        "as planned": sustainsim.simulate(spec, draws=3_000, seed=1),
        "cuts likelier": sustainsim.simulate(likely, draws=3_000, seed=1),
        "other seed": sustainsim.simulate(likely, draws=3_000, seed=2),
    }


def test_same_seed_runs_are_paired_and_equal_a_scenario_run(runs):
    out = compare_runs({k: runs[k] for k in ("as planned", "cuts likelier")})
    assert out.attrs["paired"] is True and out.attrs["pairing_problems"] == ""
    # the same numbers as simulate_scenarios on the same draws, then compare
    spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    both = sustainsim.simulate_scenarios(
        spec, {"as planned": {}, "cuts likelier": {"district.cuts.probability": 0.3}},
        draws=3_000, seed=1,
    )  # fmt: skip
    ref = compare(both)
    xr.testing.assert_allclose(out.difference, ref.difference)
    xr.testing.assert_allclose(out.se_paired, ref.se_paired)
    # brute force: the mean of per-draw differences of the solvency indicator
    a = solvent(runs["as planned"]).isel(year=-1, school=0).values.astype(float)
    b = solvent(runs["cuts likelier"]).isel(year=-1, school=0).values.astype(float)
    last = out.isel(year=-1, school=0, scenario=0)
    assert float(last.difference) == pytest.approx((b - a).mean())
    assert float(last.se_paired) == pytest.approx((b - a).std(ddof=1) / np.sqrt(a.size))
    assert float(last.se_paired) < float(last.se_unpaired)


def test_runs_with_other_seeds_are_compared_unpaired_and_say_so(runs):
    with pytest.warns(UserWarning, match="do not share their draws.*seed"):
        out = compare_runs({k: runs[k] for k in ("as planned", "other seed")})
    assert out.attrs["paired"] is False
    assert "seed: as planned=1, other seed=2" in out.attrs["pairing_problems"]
    np.testing.assert_array_equal(out.se_paired.values, out.se_unpaired.values)


def test_compare_runs_refuses_one_run_or_scenario_datasets(runs):
    with pytest.raises(ValueError, match="at least two runs"):
        compare_runs({"only": runs["as planned"]})
    with pytest.raises(ValueError, match="scenario dim"):
        compare_runs({"a": runs["as planned"].expand_dims(scenario=["x"]), "b": runs["as planned"]})
