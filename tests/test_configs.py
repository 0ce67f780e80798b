"""The shipped configs: they run, and the seed cases say what the public figures say."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.cli.main import main
from tests.conftest import CONFIGS

SHIPPED = [
    "flagship.toml",
    "leap_chicago.toml",
    "ngsi_grant_cliff.toml",
    "declining_enrollment.toml",
    "ohio_levy.toml",
    "teacher_leader.toml",
]


@pytest.mark.parametrize("name", SHIPPED)
def test_config_runs_from_the_cli(name, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["run", str(CONFIGS / name), "--draws", "400", "--out", str(out), "--no-progress"])
        == 0
    )
    assert (out / "results.nc").exists() and (out / "summary.json").exists()
    assert "P(solvent through year)" in capsys.readouterr().out


def test_leap_central_case_matches_the_seed_study():
    """Start-up <= 7% of per-pupil funding ($233-$1,135 a pupil, $338K-$780K a school),
    technology ~40% and PD ~21% of start-up, recurring IT ~2% of the budget in year five."""
    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    central = sustainsim.central_case(spec)
    # the PL school launches in projected year 2: its fifth year is projected year 6
    s = sustainsim.metrics.seed_study(central, projected_year=6).sel(school="pl_k8")
    assert float(s.startup_share_of_funding) <= 0.07
    assert 233 <= float(s.startup_per_pupil) <= 1_135
    assert 338_000 <= float(s.startup_total) <= 780_000
    assert float(s.technology_share_of_startup) == pytest.approx(0.40, abs=0.05)
    assert float(s.pd_share_of_startup) == pytest.approx(0.21, abs=0.05)
    assert float(s.recurring_it_share) == pytest.approx(0.02, abs=0.005)
    # the traditional school has no start-up
    assert float(sustainsim.metrics.seed_study(central).sel(school="trad_k8").startup_total) == 0


def test_leap_personalized_advantage_is_rounding():
    # with split classes for the traditional school, it is the more solvent; staff it with
    # each grade rounded up and the personalized school wins, with enrollment noise only
    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    ds = sustainsim.simulate_scenarios(spec, draws=4000)
    p = sustainsim.p_solvent(ds).probability.sel(year=2036)
    for sc in ("expected", "severe_cuts"):
        assert float(p.sel(scenario=sc, school="trad_k8")) > float(
            p.sel(scenario=sc, school="pl_k8")
        )
    # severe cuts lower every school's chance on the same draws
    assert np.all(p.sel(scenario="severe_cuts").values <= p.sel(scenario="expected").values)
    bands = [
        {"grades": ["K", "1", "2", "3"], "max_class_size": 28},
        {"grades": ["4", "5", "6", "7", "8"], "max_class_size": 31},
    ]
    rounded = {"models.traditional.cost.homeroom_teachers.sections": {"bands": bands}}
    quiet = {f"schools.{k}.enrollment.volatility": 0.0 for k in ("pl_k8", "trad_k8")}
    for ov, pl_wins in ((rounded, True), ({**rounded, **quiet}, False)):
        q = sustainsim.p_solvent(sustainsim.simulate(spec.with_overrides(ov), draws=4000))
        q = q.probability.sel(year=2036)
        assert (float(q.sel(school="pl_k8")) > float(q.sel(school="trad_k8"))) == pl_wins


def test_grant_cliff_is_what_the_district_absorbed():
    spec = sustainsim.load_config(CONFIGS / "ngsi_grant_cliff.toml")
    schools = [s.name for s in spec.config.schools]
    # with every growth rate and step at zero the absorbed cost is the two positions' pay:
    # interventionist 64,000 x 1.38 = 88,320 plus coach 72,000 x 1.38 = 99,360, 187,680 a
    # school from FY2030 (both grants last pay in FY2029 without a renewal)
    flat = {f"district.growth.{g}": 0.0 for g in ("salary", "prices")}
    flat |= {
        "district.growth.funding": {"rate": 0.0, "per": "year"},
        "district.growth.health": {"rate": 0.0, "per": "year"},
        "district.revenue.ngsi_grant.renewal_probability": 0.0,
        "models.personalized.cost.interventionists.step_rate": 0.0,
        "models.personalized.cost.pl_coaches.step_rate": 0.0,
    }
    x = sustainsim.central_case(spec.with_overrides(flat)).isel(draw=0)
    absorbed = x.absorbed_cost.sel(school=schools)
    np.testing.assert_allclose(absorbed.sel(year=slice(2030, None)).values, 187_680.0, atol=0.01)
    np.testing.assert_allclose(absorbed.sel(year=slice(None, 2029)).values, 0.0)
    # the tutors end with the relief money: nothing grant-funded is left from FY2030
    np.testing.assert_allclose(x.grant_funded_cost.sel(year=slice(2030, None)).values, 0.0)

    ds = sustainsim.simulate_scenarios(spec, draws=3000)
    base = sustainsim.simulate(spec, draws=3000)  # the config as written, on the same draws
    # the pass-through pays the schools' start-up: no school runs its temporary money short
    assert float(base.allocated_revenue.sel(school=schools, year=2027).min()) > 0
    # the temporary money is near the ESSER figures: about $900 a pupil, 8-10% of revenue
    pupils = base.enrollment.sel(school=schools).sum("school")
    temp = base.district_temporary_revenue.sel(year=2029)
    assert 800 < float((temp / pupils.sel(year=2029)).median()) < 1000
    assert 0.08 < float((temp / base.district_revenue.sel(year=2029)).median()) < 0.10
    # the cliff is smaller than the money: what is absorbed, about $450 a pupil
    ab = base.absorbed_cost.sel(school=schools, year=2030).sum("school")
    assert 380 < float((ab / pupils.sel(year=2030)).median()) < 520
    gap = sustainsim.metrics.structural_gap(ds.sel(scenario="no_renewal")).sel(school="district")
    assert np.all(gap.cliff_year.values == 2030)
    assert float(gap.gap.median()) > 0  # recurring cost exceeds recurring revenue
    # solvent while the money flows; about 85% through FY2034; renewal and a bridge help
    p0 = sustainsim.p_solvent(base).probability.sel(school="district")
    assert float(p0.sel(year=2029)) > 0.98 and 0.8 < float(p0.sel(year=2034)) < 0.9
    p34 = sustainsim.p_solvent(ds).probability.sel(school="district", year=2034)
    assert float(p34.sel(scenario="no_renewal")) < float(p34.sel(scenario="renewal_likely"))
    assert float(p34.sel(scenario="no_renewal")) < float(p34.sel(scenario="bridge_funding"))
    # attrition carries the response: the freeze makes most of the cuts, trims are modest,
    # a reduction in force is needed in a minority of draws
    cut = base.cut.sel(school=schools).sum(["year", "school"])
    share = cut.mean("draw") / cut.sum("lever").mean("draw")
    assert float(share.sel(lever="freeze")) > 0.75 and float(share.sel(lever="trim")) < 0.2
    assert 0.05 < float((cut.sel(lever="rif") > 0).mean()) < 0.3


def test_declining_enrollment_costs_fall_slower_than_revenue():
    spec = sustainsim.load_config(CONFIGS / "declining_enrollment.toml")
    x = sustainsim.central_case(spec).isel(draw=0, school=0)
    per_pupil_cost = (x.cost / x.enrollment).values
    per_pupil_rev = (x.revenue / x.enrollment).values
    assert per_pupil_cost[-1] / per_pupil_cost[0] > per_pupil_rev[-1] / per_pupil_rev[0]
    assert x.fund_balance.values[-1] < 0 < x.fund_balance.values[0]


def test_teacher_leader_supplements_are_what_costs_the_mcl_school():
    spec = sustainsim.load_config(CONFIGS / "teacher_leader.toml")
    central = sustainsim.central_case(spec).isel(draw=0)
    pos = central.positions.sel(year=2030)
    # the same teaching positions give or take one: 20 team teachers and 4 leaders (one
    # per 2.5 rooms) against 23 classroom teachers and 2 coaches, before the response
    mcl = pos.sel(school="mcl_k5", cost_line=["team_teachers", "multi_classroom_leaders"])
    trad = pos.sel(
        school="self_contained_k5", cost_line=["classroom_teachers", "instructional_coaches"]
    )
    assert abs(float(mcl.sum()) - float(trad.sum())) <= 1.5
    # supplements on the leaders, pensionable: the pension follows them, 24.04% of the
    # $12,040 (flat) on each leader's FTE
    plain = spec.with_overrides(
        {"models.mcl_teams.cost.multi_classroom_leaders.stipend_pensionable": False}
    )
    other = sustainsim.central_case(plain).isel(draw=0)
    fte = float(
        central.positions.sel(school="mcl_k5", cost_line="multi_classroom_leaders", year=2028)
    )
    pension = [
        c.compensation.sel(school="mcl_k5", year=2028, component="pension")
        for c in (central, other)
    ]
    assert fte == 4.0
    assert float(pension[0] - pension[1]) == pytest.approx(0.2404 * 12_040 * fte, abs=0.01)
    ds = sustainsim.simulate(spec, draws=4000, seed=5)
    free = spec.with_overrides({"models.mcl_teams.cost.multi_classroom_leaders.stipend": 0.0})
    ds0 = sustainsim.simulate(free, draws=4000, seed=5)
    p = sustainsim.p_solvent(ds).probability.sel(year=2036)
    p0 = sustainsim.p_solvent(ds0).probability.sel(year=2036)
    assert float(p.sel(school="mcl_k5")) < float(p.sel(school="self_contained_k5"))
    # on the same draws, the supplements alone lower the MCL school's chance
    assert float(p.sel(school="mcl_k5")) < float(p0.sel(school="mcl_k5")) - 0.03
    assert float(p0.sel(school="self_contained_k5")) == float(p.sel(school="self_contained_k5"))
