"""The school-finance line types, each against a budget computed by hand to the cent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim.metrics.criteria import (
    p_reserve_compliant,
    reserve_compliant,
    structural_gap,
    structurally_balanced,
)
from sustainsim.metrics.startup import seed_study
from sustainsim.model.engine import class_sections

HEAD = """
[simulation]
years = {years}
first_year = 2030
draws = 3
seed = 1
"""


def run(body: str, years: int = 2, **kw):
    spec = sustainsim.loads_config(HEAD.format(years=years) + body)
    return sustainsim.simulate(spec, lines=True, **kw)


def line(ds, part, name, school=None):
    da = ds[f"{part}_lines"].sel({f"{part}_line": name})
    da = da.sel(school=school) if school else da.isel(school=0)
    return da.isel(draw=0).values


def cents(got, expected):
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.005)


def test_class_sections_combine_small_grades():
    # K and 1 have their own sections; grades 2 and 3 are below the minimum: one multi-age pool
    n = np.array([60.0, 29.0, 12.0, 9.0])
    assert class_sections(n, 28, 15) == 3 + 2 + 1
    assert class_sections(n, 28, 0) == 3 + 2 + 1 + 1
    assert class_sections(np.array([28.0, 28.001]), 28) == 1 + 2
    # a count that is whole up to rounding error does not open a section
    assert class_sections(np.array([0.1 * 3 * 280]), 28) == 3


def test_sections_steps_cola_benefit_growth_and_stipend():
    ds = run("""
[district.growth]
salary = 0.02
health = 0.06

[[schools]]
name = "s"
[schools.enrollment]
base = 200
grades = ["K", "1", "2", "3"]
grade_shares = [0.3, 0.3, 0.3, 0.1]        # 60, 60, 60, 20

[[schools.cost]]
name = "teachers"
kind = "staff"
salary = 60000
step_rate = 0.02
benefits_rate = 0.3
benefits_growth = "health"
stipend = 1000
growth = "salary"
sections = { bands = [ { grades = ["K", "1"], max_class_size = 28, min_class_size = 20 },
                       { grades = ["2", "3"], max_class_size = 28, min_class_size = 25 } ] }
""")
    # sections: K 3, grade 1 3; grade 2 (60 >= 25) 3; grade 3 (20 < 25) pooled: 1 -> 10 positions
    # year 1 per position: 60000*1.02*1.02 = 62,424.00 + 18000*1.06 = 19,080.00 + 1000*1.02 = 1,020.00
    # year 2 per position: 60000*1.02^4 = 64,945.9296 + 18000*1.1236 = 20,224.80 + 1,040.40
    cents(line(ds, "cost", "teachers"), [825_240.00, 862_111.296])


TECH = """
[[schools]]
name = "s"
[schools.enrollment]
base = 200
drift = 0.09531017980432493      # log(1.1): 220, 242, 266.2

[[schools.cost]]
name = "devices"
kind = "technology"
devices_per_pupil = 1
device_price = 300
price_growth = -0.05
{refresh}
license_per_pupil = 20
support_per_device = 100
growth = 0.03
"""


def test_technology_cohort_refresh():
    ds = run(TECH.format(refresh="refresh_every = 3\nlast_purchase = 0"), years=3)
    # y1: 20 new * 285 = 5,700 + support 100*1.03*220 = 22,660 + licenses 20*1.03*220 = 4,532
    # y2: 22 new * 270.75 = 5,956.50 + 100*1.0609*242 = 25,673.78 + 20*1.0609*242 = 5,134.756
    # y3: (24.2 new + 242 replaced) * 257.2125 = 68,469.9675 + 29,088.39274 + 5,817.678548
    cents(line(ds, "cost", "devices"), [32_892.00, 36_765.036, 103_376.038788])


def test_technology_share_refresh():
    ds = run(TECH.format(refresh="refresh_share = 0.25"), years=1)
    # y1: (20 new + 0.25 * 200 replaced) * 285 = 19,950 + 22,660 + 4,532
    cents(line(ds, "cost", "devices"), [47_142.00])


def test_hold_harmless_prior_categorical_and_mid_year_cut():
    ds = run("""
[district.cuts]
probability = 1.0
magnitude = 0.1
timing = "mid_year"

[[schools]]
name = "s"
[schools.enrollment]
base = 500
drift = -0.10536051565782628       # log(0.9): 450, 405

[[schools.revenue]]
name = "current"
kind = "per_pupil"
rate = 8000
[[schools.revenue]]
name = "hold"
kind = "per_pupil"
rate = 8000
enrollment_basis = "max_current_prior"
[[schools.revenue]]
name = "prior"
kind = "per_pupil"
rate = 8000
enrollment_basis = "prior"
[[schools.revenue]]
name = "title1"
kind = "categorical"
rate = 2000
eligible_share = 0.4
""")
    # cut factor: y1 half of the 10% cut announced mid-year -> 0.95; y2 0.9 * 0.95 = 0.855
    cents(
        line(ds, "revenue", "current"), [8000 * 450 * 0.95, 8000 * 405 * 0.855]
    )  # 3,420,000; 2,770,200
    cents(line(ds, "revenue", "hold"), [3_800_000.00, 3_078_000.00])
    cents(line(ds, "revenue", "prior"), [3_800_000.00, 3_078_000.00])
    cents(line(ds, "revenue", "title1"), [360_000.00, 324_000.00])


RESPONSE = """
[district.response]
trigger = "{trigger}"
cap = 0.5
lag = 1
{reserve}

[[schools]]
name = "s"
fund_balance = 500000
[schools.enrollment]
base = 100
[[schools.revenue]]
name = "funding"
kind = "fixed"
amount = 1000000
[[schools.cost]]
name = "core"
kind = "fixed"
amount = 1100000
[[schools.cost]]
name = "pd"
kind = "fixed"
amount = 200000
flexible = true
"""


def test_response_trims_flexible_lines_after_a_deficit():
    ds = run(RESPONSE.format(trigger="deficit", reserve=""), years=4)
    # y1: deficit 300K, B 200K; y2: trim min(0.5*200K, 300K) = 100K, deficit 200K, B 0;
    # y3, y4: trim 100K, deficit 200K
    cents(ds.trimmed.isel(draw=0, school=0).values, [0, 100_000, 100_000, 100_000])
    cents(line(ds, "cost", "pd"), [200_000, 100_000, 100_000, 100_000])
    cents(ds.fund_balance.isel(draw=0, school=0).values, [200_000, 0, -200_000, -400_000])


def test_response_below_reserve():
    ds = run(
        RESPONSE.format(trigger="below_reserve", reserve="[district.reserve]\nmonths = 2"), years=3
    )
    # y1: cost 1.3M, reserve 216,666.67, B 200K -> gap 16,666.67
    # y2: trim 16,666.67, cost 1,283,333.33, B -83,333.33; reserve 213,888.89 -> gap 297,222.22
    # y3: trim 100K (the cap), cost 1.2M, B -283,333.33
    cents(ds.trimmed.isel(draw=0, school=0).values, [0, 16_666.666667, 100_000])
    cents(ds.fund_balance.isel(draw=0, school=0).values, [200_000, -83_333.333333, -283_333.333333])
    assert not reserve_compliant(ds).isel(draw=0, school=0).values.any()


def test_models_conversion_one_time_and_relative_grants():
    ds = run(
        """
[models.traditional]
cost = [ { name = "teachers", kind = "fixed", amount = 100000 } ]

[models.personalized]
revenue = [ { name = "startup_grant", kind = "grant", amount = 70000, start = 0, end = 1 } ]
cost = [
  { name = "teachers", kind = "fixed", amount = 80000 },
  { name = "devices", kind = "one_time", amount = 50000, year = 0, category = "technology" },
  { name = "training", kind = "one_time", amount = 20000, year = 1, category = "pd" },
]

[[schools]]
name = "s"
model = "personalized"
previous_model = "traditional"
conversion_year = 3
[schools.enrollment]
base = 100
""",
        years=5,
    )
    # traditional in years 1-2, personalized from year 3; planning year 2 buys devices,
    # launch year 3 trains; the start-up grant pays in planning and launch years
    cents(line(ds, "cost", "teachers"), [100_000, 100_000, 80_000, 80_000, 80_000])
    cents(ds.cost.isel(draw=0, school=0).values, [100_000, 150_000, 100_000, 80_000, 80_000])
    cents(ds.revenue.isel(draw=0, school=0).values, [0, 70_000, 70_000, 0, 0])
    cents(ds.one_time_cost.isel(draw=0, school=0).values, [0, 50_000, 20_000, 0, 0])
    seed = seed_study(ds).isel(school=0)
    assert float(seed.startup_total) == pytest.approx(70_000)
    assert float(seed.technology_share_of_startup) == pytest.approx(50 / 70)
    assert float(seed.pd_share_of_startup) == pytest.approx(20 / 70)
    # start-up per pupil over enrollment in the first start-up year (100), share of that year's revenue
    assert float(seed.startup_per_pupil) == pytest.approx(700.0)
    assert float(seed.startup_share_of_funding) == pytest.approx(70_000 / 70_000)


def test_cohort_survival_closed_form():
    ds = run(
        """
[[schools]]
name = "s"
[schools.enrollment]
model = "cohort"
grades = ["K", "1", "2"]
by_grade = [100, 90, 80]
progression = [0.95, 0.9]
""",
        years=2,
    )
    # y1: K 100, 1 = 100*0.95 = 95, 2 = 90*0.9 = 81 -> 276; y2: 100, 95, 85.5 -> 280.5
    cents(ds.enrollment.isel(draw=0, school=0).values, [276.0, 280.5])


def test_cohort_noise_is_lognormal_around_the_ratio():
    text = (
        HEAD.format(years=1).replace("draws = 3", "draws = 100000")
        + """
[[schools]]
name = "s"
[schools.enrollment]
model = "cohort"
grades = ["K", "1"]
by_grade = [100, 100]
progression = 0.9
progression_sd = 0.05
"""
    )
    ds = sustainsim.simulate(sustainsim.loads_config(text))
    g1 = ds.enrollment.isel(school=0, year=0).values - 100  # grade 1 = 100 * 0.9 * exp(noise)
    mean = 90 * np.exp(0.05**2 / 2)
    assert g1.mean() == pytest.approx(mean, abs=4 * g1.std() / np.sqrt(g1.size))
    assert np.log(g1 / 90).std() == pytest.approx(0.05, rel=0.01)


def test_district_central_costs_and_totals():
    ds = run("""
[district]
fund_balance = 100000
cost = [ { name = "central_office", kind = "per_pupil", rate = 100 } ]

[[schools]]
name = "a"
fund_balance = 10000
[schools.enrollment]
base = 300
[[schools.revenue]]
name = "f"
kind = "fixed"
amount = 500000

[[schools]]
name = "b"
fund_balance = 20000
[schools.enrollment]
base = 200
[[schools.cost]]
name = "f2"
kind = "fixed"
amount = 300000
""")
    # district: revenue 500K; cost 300K + 100 * 500 pupils = 350K; surplus 150K per year
    cents(ds.district_cost.isel(draw=0).values, [350_000, 350_000])
    cents(ds.district_fund_balance.isel(draw=0).values, [280_000, 430_000])
    p = sustainsim.p_solvent(ds)
    assert p["school"].values.tolist() == ["a", "b", "district"]
    assert float(p.probability.sel(school="b", year=2031)) == 0.0
    assert float(p.probability.sel(school="district", year=2031)) == 1.0


def test_structural_gap_after_the_grant_cliff_and_reserve_compliance():
    ds = run(
        """
[district.reserve]
months = 2

[[schools]]
name = "s"
fund_balance = 400000
[schools.enrollment]
base = 250
[[schools.revenue]]
name = "formula"
kind = "per_pupil"
rate = 4000
[[schools.revenue]]
name = "grant"
kind = "grant"
amount = 150000
end = 2
[[schools.cost]]
name = "all"
kind = "fixed"
amount = 1080000
""",
        years=4,
    )
    # recurring revenue 1,000,000 vs cost 1,080,000: an 80,000 hole once the grant ends (2032)
    gap = structural_gap(ds).isel(draw=0, school=0)
    assert float(gap.cliff_year) == 2032
    cents(float(gap.gap), 80_000)
    cents(float(gap.gap_per_pupil), 320)
    assert not bool(structurally_balanced(ds).isel(draw=0, school=0))
    # balances 470K, 540K, 460K, 380K vs reserve 180K: compliant every year
    cents(ds.fund_balance.isel(draw=0, school=0).values, [470_000, 540_000, 460_000, 380_000])
    assert reserve_compliant(ds).isel(draw=0, school=0).values.all()
    assert float(p_reserve_compliant(ds, months=5).probability.isel(school=0, year=-1)) == 0.0


MONO = (
    HEAD.format(years=8).replace("draws = 3", "draws = 400")
    + """
[district.growth]
funding = {{ rate = {{ dist = "normal", mean = 0.02, sd = 0.02 }}, per = "year" }}
[district.cuts]
probability = 0.2
magnitude = {{ dist = "uniform", low = 0.0, high = 0.1 }}
[district.reserve]
months = 1
[district.response]
trigger = "{trigger}"
cap = {cap}
lag = {lag}

[[schools]]
name = "s"
fund_balance = 200000
[schools.enrollment]
base = 400
drift = -0.01
volatility = 0.05
[[schools.revenue]]
name = "formula"
kind = "per_pupil"
rate = 10000
growth = "funding"
[[schools.cost]]
name = "staff"
kind = "staff"
students_per_position = 20
salary = 70000
benefits_rate = 0.4
growth = 0.03
[[schools.cost]]
name = "pd"
kind = "fixed"
amount = 250000
flexible = true
[[schools.cost]]
name = "tech"
kind = "per_pupil"
rate = 300
flexible = true
"""
)


@settings(max_examples=20, deadline=None)
@given(
    cuts=st.lists(st.floats(0, 0.3), min_size=2, max_size=4),
    trigger=st.sampled_from(["deficit", "below_reserve"]),
    cap=st.floats(0, 1),
    lag=st.integers(1, 3),
)
def test_larger_cut_never_raises_p_solvent_and_trims_stay_nonnegative(cuts, trigger, cap, lag):
    spec = sustainsim.loads_config(MONO.format(trigger=trigger, cap=cap, lag=lag))
    prev_bal = prev_p = None
    for x in sorted(cuts):
        ds = sustainsim.simulate(spec.with_overrides({"district.stress_cut": x}), lines=True)
        bal = ds.fund_balance.values
        p = sustainsim.p_solvent(ds).probability.values
        if prev_bal is not None:
            assert np.all(bal <= prev_bal + 1e-6)  # draw by draw, under common random numbers
            assert np.all(p <= prev_p + 1e-12)
        prev_bal, prev_p = bal, p
        flex = ds.cost_lines.sel(cost_line=["pd", "tech"])
        assert float(flex.min()) >= 0
        assert np.all(ds.trimmed.values >= 0)
        untrimmed = 250_000 + 300 * ds.enrollment
        assert np.all(ds.trimmed.values <= cap * untrimmed.values + 1e-6)


def test_seed_study_year_is_a_fiscal_year_or_a_projected_index():
    from tests.conftest import CONFIGS

    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    central = sustainsim.central_case(spec)
    a = sustainsim.metrics.seed_study(central, 2032)
    b = sustainsim.metrics.seed_study(central, projected_year=6)
    assert a.identical(b) and a.attrs["it_year"] == 2032
    with pytest.raises(ValueError, match="2027..2036"):
        sustainsim.metrics.seed_study(central, 6)


def test_cohort_grades_feed_the_section_rule():
    ds = run(
        """
[[schools]]
name = "s"
[schools.enrollment]
model = "cohort"
grades = ["K", "1", "2"]
by_grade = [30, 20, 20]
progression = 0.5
[[schools.cost]]
name = "teachers"
kind = "staff"
salary = 1000
sections = { bands = [ { grades = ["K", "1", "2"], max_class_size = 30, min_class_size = 28 } ] }
""",
        years=2,
    )
    # y1: K 30 (own section), grades 1 and 2 = 15 and 10 (< 28: one pooled room) -> 2
    # y2: K 30, grades 15 and 7.5 -> 2 (three rooms without the minimum)
    cents(line(ds, "cost", "teachers"), [2_000.0, 2_000.0])
    cents(ds.enrollment.isel(draw=0, school=0).values, [55.0, 52.5])
