"""Scenarios on common random numbers, paired comparisons, stress capacity."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.cli.main import main
from sustainsim.config import ConfigError
from tests.conftest import REF10
from tests.handcalc import HAND, ZERO_VARIANCE

DELTA = 5_000.0  # scenario "costly": the fixed cost line 5,000 higher in the base year

SCENARIOS = (
    REF10.read_text()
    + f"""
[scenarios.base]

[scenarios.costly]
"schools.ref.cost.fixed.amount" = {2_000_000 + DELTA}
"""
)


@pytest.fixture(scope="module")
def scen_ds():
    spec = sustainsim.loads_config(SCENARIOS)
    return sustainsim.simulate_scenarios(spec, draws=40_000, seed=3)


def test_scenarios_share_draws(scen_ds):
    assert scen_ds["scenario"].values.tolist() == ["base", "costly"]
    a, b = scen_ds.sel(scenario="base"), scen_ds.sel(scenario="costly")
    np.testing.assert_array_equal(a.enrollment, b.enrollment)
    np.testing.assert_array_equal(a.revenue, b.revenue)
    # cost differs by exactly DELTA * 1.03^t in every draw
    t = np.arange(1, 11)
    np.testing.assert_allclose(
        (b.cost - a.cost).values[:, :, 0], np.broadcast_to(DELTA * 1.03**t, (40_000, 10)), rtol=1e-9
    )


def test_paired_difference_sign_size_and_standard_error(scen_ds):
    out = sustainsim.analysis.compare(scen_ds, "base").sel(scenario="costly", school="ref")
    # by hand: the costly scenario's balance is the base's minus DELTA * sum_{s<=t} 1.03^s,
    # so P_costly(t) = share of base draws with B_s >= that for every s <= t
    B = scen_ds.fund_balance.sel(scenario="base", school="ref").values
    shift = DELTA * np.cumsum(1.03 ** np.arange(1, 11))
    p_costly = np.cumprod(B >= shift, axis=1).mean(axis=0)
    p_base = np.cumprod(B >= 0, axis=1).mean(axis=0)
    np.testing.assert_allclose(out.b.values, p_costly, atol=1e-12)
    np.testing.assert_allclose(out.difference.values, p_costly - p_base, atol=1e-12)
    assert np.all(out.difference.values <= 0)
    # significant under pairing at the horizon
    assert float(out.difference[-1]) < -4 * float(out.se_paired[-1]) < 0
    mid = (p_base > 0.05) & (p_base < 0.95)
    assert mid.sum() >= 4
    ratio = out.se_unpaired.values[mid] / out.se_paired.values[mid]
    assert np.all(ratio >= 5), ratio
    # balances: a deterministic shift, so the paired standard error vanishes
    bal = sustainsim.analysis.compare(scen_ds, "base", metric="final_balance").sel(
        scenario="costly", school="ref"
    )
    assert float(bal.difference) == pytest.approx(-shift[-1], rel=1e-9)
    assert float(bal.se_paired) < 1e-6 * float(bal.se_unpaired)


def test_scenario_errors_name_the_scenario():
    bad = REF10.read_text() + '\n[scenarios.x]\n"schools.ref.enrollment.volatility" = -1\n'
    with pytest.raises(ConfigError, match=r"scenarios\.x: schools\.ref\.enrollment\.volatility"):
        sustainsim.loads_config(bad)
    bad2 = REF10.read_text() + '\n[scenarios.x]\n"schools.nobody.fund_balance" = 1\n'
    with pytest.raises(ConfigError, match="scenarios.x.*no entry named 'nobody'"):
        sustainsim.loads_config(bad2)
    with pytest.raises(ValueError, match="no \\[scenarios.NAME\\] tables"):
        sustainsim.simulate_scenarios(sustainsim.load_config(REF10))


def test_stress_capacity_zero_variance_closed_form():
    """Balances fall linearly in the cut: x* = min_t B_t / (cumulative exposed revenue)."""
    spec = sustainsim.loads_config(ZERO_VARIANCE)
    ds = sustainsim.simulate(spec, draws=1, lines=True)
    pp = ds.revenue_lines.sel(revenue_line="pp", school="a").values[0]
    x_star = np.min(np.array(HAND["fund_balance"]) / np.cumsum(pp))
    res = sustainsim.analysis.stress_capacity(spec, target=0.9, draws=50, tol=1e-5)
    assert float(res.capacity.sel(school="a")) == pytest.approx(x_star, abs=2e-5)


def test_stress_capacity_brackets_the_target(ref10_spec):
    spec = ref10_spec.with_overrides({"schools.ref.fund_balance": 3_000_000})
    res = sustainsim.analysis.stress_capacity(spec, target=0.5, draws=20_000, seed=4, year=2031)
    x = float(res.capacity.sel(school="ref"))
    assert 0 < x < 0.5
    assert res.lower <= x <= res.upper

    def p(cut):
        s = spec.with_overrides({"district.stress_cut": cut})
        ds = sustainsim.simulate(s, draws=20_000, seed=4)
        return float(sustainsim.p_solvent(ds).probability.sel(year=2031, school="ref"))

    assert p(x) >= 0.5 > p(x + 2e-3)


def test_compare_and_stress_cli(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SCENARIOS)
    assert main(["compare", str(cfg), "--draws", "2000", "--out", str(tmp_path / "c")]) == 0
    text = capsys.readouterr().out
    assert "costly" in text and "[95% paired]" in text
    assert (tmp_path / "c" / "compare.nc").exists()
    assert main(["compare", str(cfg), "--baseline", "nope", "--draws", "100"]) == 2
    assert main(["compare", str(REF10)]) == 2
    assert main(["stress", str(cfg), "--draws", "500", "--target", "0.2"]) == 0
    assert "costly / ref" in capsys.readouterr().out
    # run with scenarios writes a scenario dim and prints each scenario
    assert main(["run", str(cfg), "--draws", "300", "--out", str(tmp_path / "r")]) == 0
    assert "=== scenario: costly ===" in capsys.readouterr().out
    ds = sustainsim.open_results(tmp_path / "r" / "results.nc")
    assert ds.sizes["scenario"] == 2


def test_stress_capacity_is_monotone_in_the_target(ref10_spec):
    spec = ref10_spec.with_overrides({"schools.ref.fund_balance": 3_000_000})
    caps = [
        float(
            sustainsim.analysis.stress_capacity(
                spec, target=t, draws=5000, seed=1, year=2031
            ).capacity.sel(school="ref")
        )
        for t in (0.3, 0.5, 0.7, 0.9)
    ]
    assert caps == sorted(caps, reverse=True) and caps[0] > caps[-1]


def test_paired_difference_between_two_schools_of_one_run(small_data):
    from tests.conftest import spec_from_dict

    two = dict(
        small_data, schools=[small_data["schools"][0], dict(small_data["schools"][0], name="b")]
    )
    ds = sustainsim.simulate(spec_from_dict(two), draws=2000)
    s = sustainsim.metrics.solvent(ds)
    out = sustainsim.analysis.paired_difference(s.sel(school="a"), s.sel(school="b"))
    by_hand = (s.sel(school="b").astype(float) - s.sel(school="a").astype(float)).mean("draw")
    np.testing.assert_allclose(out.difference.values, by_hand.values)
