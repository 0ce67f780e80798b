"""Compensation and staffing rules against budgets computed by hand to the cent.

Salary schedules (steps x lanes, a top step, turnover replaced at the entry cell), the
benefits split (pension on pensionable pay, health per FTE on its own index, payroll
taxes), cost-of-living settlements, combination classes, soft caps, enrollment bases.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim.config import ConfigError
from sustainsim.model.engine import class_sections
from tests.handcalc import HEAD, cents, line, run

SCHOOL = """
[[schools]]
name = "s"
[schools.enrollment]
base = 114
{grades}
[[schools.cost]]
name = "teachers"
kind = "staff"
{staff}
"""


def school(staff: str, grades: str = "") -> str:
    return SCHOOL.format(staff=staff, grades=grades)


def comp(ds, component):
    return ds.compensation.sel(component=component).isel(draw=0, school=0).values


def test_two_cohort_schedule_with_a_top_step_and_turnover():
    ds = run(
        school("""
positions = 10
turnover = 0.1
[schools.cost.schedule]
salaries = [[50000, 54000], [55000, 59400], [60000, 64800]]   # 3 steps x 2 lanes
roster = [{ step = 1, lane = 1, fte = 5 }, { step = 3, lane = 2, fte = 5 }]
"""),
        years=3,
    )
    # shares (lane 1 | lane 2) by step; each year 10% leave, hired on step 1 lane 1, the
    # rest move a step (the top step stays):
    # y1: [.1, .45, 0 | 0, 0, .45] -> 5,000 + 24,750 + 29,160 = 58,910 per FTE
    # y2: [.1, .09, .405 | 0, 0, .405] -> 5,000 + 4,950 + 24,300 + 26,244 = 60,494
    # y3: [.1, .09, .4455 | 0, 0, .3645] -> 5,000 + 4,950 + 26,730 + 23,619.6 = 60,299.6
    cents(line(ds, "cost", "teachers"), [589_100, 604_940, 602_996])
    cents(comp(ds, "salary"), [589_100, 604_940, 602_996])
    cents(ds.positions.sel(cost_line="teachers").isel(draw=0, school=0).values, [10, 10, 10])


def test_generated_schedule_equals_its_table():
    table = "salaries = [[50000, 54000], [55000, 59400], [60500, 65340]]"
    gen = "base = 50000\nsteps = 3\nlanes = 2\nstep_increment = 0.1\nlane_increment = 0.08"
    body = "positions = 4\nturnover = 0.2\n[schools.cost.schedule]\n{}\nplacement = {}"
    place = "[[0.25, 0.25], [0.0, 0.25], [0.0, 0.25]]"
    a = run(school(body.format(table, place)), years=4)
    b = run(school(body.format(gen, place)), years=4)
    np.testing.assert_allclose(a.cost.values, b.cost.values, rtol=1e-12)


def test_pension_follows_pay_and_health_its_own_index():
    ds = run(
        """
[district.growth]
salary = 0.03
health = 0.06
"""
        + school("""
positions = 2
salary = 60000
growth = "salary"
stipend = 3000
pension_rate = 0.12
health_per_fte = 12000
health_growth = "health"
payroll_tax_rate = 0.0145
"""),
        years=2,
    )
    # y1 per FTE: salary 61,800 + stipend 3,090 (not pensionable); pension 0.12 * 61,800 =
    # 7,416; health 12,000 * 1.06 = 12,720; payroll tax 0.0145 * 64,890 = 940.905
    # y2: 63,654 + 3,182.70; pension 7,638.48; health 13,483.20; tax 0.0145 * 66,836.70
    cents(comp(ds, "salary"), [2 * 64_890, 2 * 66_836.70])
    cents(comp(ds, "pension"), [2 * 7_416, 2 * 7_638.48])
    cents(comp(ds, "health"), [2 * 12_720, 2 * 13_483.20])
    cents(comp(ds, "payroll_tax"), [2 * 940.905, 2 * 969.13215])
    cents(comp(ds, "other_benefits"), [0, 0])
    cents(line(ds, "cost", "teachers"), [171_933.81, 177_855.0243])
    # pensionable stipends: 0.12 * 3,090 more pension per FTE in year 1
    ds2 = run(
        "[district.growth]\nsalary = 0.03\nhealth = 0.06\n"
        + school(
            "positions = 2\nsalary = 60000\ngrowth = 'salary'\nstipend = 3000\n"
            "pension_rate = 0.12\nstipend_pensionable = true"
        ),
        years=1,
    )
    cents(comp(ds2, "pension"), [2 * 0.12 * 64_890])


@pytest.mark.parametrize(
    "rule,expected",
    [
        ("on_time", [51_000, 52_530, 52_530]),
        ("late", [50_000, 51_000, 52_530]),
        # year 2 pays year 1's settlement and its arrears (1,000); year 3 year 2's (1,530)
        ("late_retroactive", [50_000, 52_000, 54_060]),
    ],
)
def test_cost_of_living_settlements(rule, expected):
    body = f'positions = 1\nsalary = 50000\ncola = [0.02, 0.03, 0.0]\ncola_settlement = "{rule}"'
    ds = run(school(body), years=3)
    cents(line(ds, "cost", "teachers"), expected)


@pytest.mark.parametrize("rule", ["on_time", "late", "late_retroactive"])
def test_a_zero_variance_settlement_is_the_fixed_one(rule):
    fixed = "cola = [0.02, 0.03, 0.0]"
    zero = (
        "cola = [{ dist = 'normal', mean = 0.02, sd = 0 }, "
        "{ dist = 'uniform', low = 0.03, high = 0.03 }, 0.0]"
    )
    body = "positions = 1\nsalary = 50000\n{}\ncola_settlement = '{}'"
    a = run(school(body.format(fixed, rule)), years=3)
    b = run(school(body.format(zero, rule)), years=3)
    np.testing.assert_array_equal(a.cost.values, b.cost.values)
    # one value for every year: 2% settled on time each year, 50,000 * 1.02^t
    every = "positions = 1\nsalary = 50000\ncola = { dist = 'uniform', low = 0.02, high = 0.02 }"
    cents(line(run(school(every), years=3), "cost", "teachers"), [51_000, 52_020, 53_060.40])
    assert "schools.s.cost.teachers.cola.mean" in b  # a random settlement is an input of the run


@pytest.mark.parametrize("rule", ["on_time", "late_retroactive"])
def test_random_settlements_have_the_closed_form_mean(rule):
    # c[t] ~ Uniform(0, 0.06) independently by year (E = 0.03, Var = 0.06^2 / 12) on one
    # position of 50,000 with no other growth: C[t] = prod (1 + c[s]), E C[t] = 1.03^t.
    # On time the year-t salary is 50,000 C[t]; late with arrears it is
    # 50,000 (C[t-1] + C[t-1] - C[t-2]) from year 2 (year 1: 50,000).
    body = (
        "positions = 1\nsalary = 50000\n"
        f"cola = {{ dist = 'uniform', low = 0.0, high = 0.06 }}\ncola_settlement = '{rule}'"
    )
    ds = run(school(body), years=4, draws=4000, seed=7)
    x = ds.cost.isel(school=0).values  # (draws, years)
    c = 1.03 ** np.arange(5)
    expected = 50_000 * (c[1:] if rule == "on_time" else np.r_[1.0, 2 * c[1:4] - c[0:3]])
    k = 0 if rule == "on_time" else 1  # late: year 1 pays the base salary in every draw
    cents(x[:, :k], 50_000)
    se = x[:, k:].std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    assert np.all(se > 0)
    assert np.all(np.abs(x[:, k:].mean(axis=0) - expected[k:]) < 4 * se)
    if rule == "on_time":  # each year its own stream: years 1 and 2 settle independently
        r = np.diff(np.log(x), axis=1)
        assert abs(np.corrcoef(np.log(x[:, 0]), r[:, 0])[0, 1]) < 4 / np.sqrt(x.shape[0])


def test_random_settlements_have_their_own_streams_and_keep_the_others():
    from sustainsim.run.source import discover_streams

    grades = "drift = -0.02\nvolatility = 0.05"
    base = "positions = 1\nsalary = 50000"
    spec = sustainsim.loads_config(
        HEAD.format(years=3)
        + school(base + "\ncola = [0.02, { dist = 'uniform', low = 0, high = 0.04 }]", grades)
    )
    streams = [s for s in discover_streams(spec) if s[0].endswith(".cola")]
    assert streams == [("schools.s.cost.teachers.cola", 2)]  # year 1 is fixed
    a = run(school(base, grades), years=3, draws=50)
    b = run(
        school(base + "\ncola = { dist = 'uniform', low = 0, high = 0.04 }", grades),
        years=3,
        draws=50,
    )
    np.testing.assert_array_equal(a.enrollment.values, b.enrollment.values)
    assert not np.array_equal(a.cost.values, b.cost.values)


def test_lines_of_a_bargaining_unit_share_their_settlements():
    two = """
[[schools]]
name = "a"
[schools.enrollment]
base = 100
[[schools.cost]]
name = "teachers"
kind = "staff"
positions = 1
salary = 50000
cola = {{ dist = "uniform", low = 0, high = 0.06 }}
{unit}
[[schools.cost]]
name = "aides"
kind = "staff"
positions = 1
salary = 25000
cola = {{ dist = "uniform", low = 0, high = 0.06 }}
{unit}
[[schools]]
name = "b"
[schools.enrollment]
base = 100
[[schools.cost]]
name = "teachers"
kind = "staff"
positions = 2
salary = 50000
cola = {{ dist = "uniform", low = 0, high = 0.06 }}
{unit}
"""
    ds = run(two.format(unit='bargaining_unit = "teachers"'), years=3, draws=20)
    a, b = ds.cost_lines.sel(school="a"), ds.cost_lines.sel(school="b")
    # one contract: the same settlements on every line of the unit, in both schools
    np.testing.assert_allclose(2 * a.sel(cost_line="teachers"), b.sel(cost_line="teachers"))
    np.testing.assert_allclose(a.sel(cost_line="teachers"), 2 * a.sel(cost_line="aides"))
    assert "settlements.teachers.cola.mean" in ds
    own = run(two.format(unit=""), years=3, draws=20)
    a, b = own.cost_lines.sel(school="a"), own.cost_lines.sel(school="b")
    assert not np.allclose(2 * a.sel(cost_line="teachers"), b.sel(cost_line="teachers"))
    assert not np.allclose(a.sel(cost_line="teachers"), 2 * a.sel(cost_line="aides"))


def test_bad_settlements_are_named():
    cases = {
        "cola = [0.02, { dist = 'uniform', low = -2, high = 0 }]": "item 1",
        "cola = [0.02, 1.5]": "<= 1",
        "cola = 'high'": "list of settlements",
    }
    for body, needle in cases.items():
        with pytest.raises(ConfigError) as info:
            sustainsim.loads_config(
                HEAD.format(years=2) + school("positions = 1\nsalary = 1\n" + body)
            )
        msg = str(info.value)
        assert needle in msg and "schools.s.cost.teachers.cola" in msg, msg


def test_split_class_for_the_leftovers_of_adjacent_grades():
    assert class_sections(np.array([57.0, 57.0]), 28, combine=True) == 5
    assert class_sections(np.array([57.0, 57.0]), 28) == 6
    # leftovers 4 + 1 share one class; 27 + 27 do not fit one class of 28
    assert class_sections(np.array([60.0, 29.0]), 28, combine=True) == 4
    assert class_sections(np.array([27.0, 27.0]), 28, combine=True) == 2
    grades = 'grades = ["K", "1"]\ngrade_shares = [0.5, 0.5]'  # 57 + 57
    band = "{{ grades = ['K', '1'], max_class_size = 28{} }}"
    for extra, sections in (("", 6), (", combine_adjacent = true", 5)):
        body = f"salary = 50000\nsections = {{ bands = [{band.format(extra)}] }}"
        ds = run(school(body, grades), years=1)
        cents(ds.positions.sel(cost_line="teachers").isel(draw=0, school=0).values, [sections])
        cents(line(ds, "cost", "teachers"), [50_000 * sections])


def test_soft_cap_overage_cost():
    grades = 'grades = ["K", "1"]\ngrade_shares = [0.5, 0.5]'
    band = (
        "{ grades = ['K', '1'], max_class_size = 28, soft_max_class_size = 18, overage_cost = 100 }"
    )
    ds = run(school(f"salary = 50000\nsections = {{ bands = [{band}] }}", grades), years=1)
    # 6 sections of at most 18 hold 108 of the 114 pupils: 6 above the soft cap at $100
    cents(line(ds, "cost", "teachers"), [300_600])


def test_enrollment_basis_prior_and_projection():
    grades = 'drift = 0.2\ngrades = ["K", "1"]\ngrade_shares = [0.5, 0.5]'
    for basis in ("current", "prior", "projection"):
        body = f'salary = 1000\nstudents_per_position = 25\nenrollment_basis = "{basis}"'
        ds = run(school(body, grades), years=3)
        e = np.concatenate([[114.0], ds.enrollment.isel(draw=0, school=0).values])
        staffed = {"current": e[1:], "prior": e[:-1], "projection": e[:-1]}[basis]
        # projection: last year's K moves to grade 1 and a new K as large: 2 * K = E[t - 1]
        expected = np.ceil(staffed / 25 - 1e-9)
        cents(ds.positions.sel(cost_line="teachers").isel(draw=0, school=0).values, expected)


def test_components_add_up_to_the_staff_lines_after_a_reduction_in_force():
    body = """
[district.response]
trigger = "deficit"
levers = ["rif"]
notice_lag = 0
[[schools]]
name = "s"
[schools.enrollment]
base = 100
[[schools.revenue]]
name = "funding"
kind = "fixed"
amount = 500000
[[schools.cost]]
name = "teachers"
kind = "staff"
positions = 10
salary = 50000
pension_rate = 0.1
health_per_fte = 10000
"""
    ds = run(body, years=3)
    # 10 x (50,000 + 5,000 + 10,000) = 650K against 500K: y2 cuts 150K at 65K per
    # position (the entry pay is the pay): 2.3077 positions
    cents(line(ds, "cost", "teachers"), [650_000, 500_000, 500_000])
    pos = ds.positions.sel(cost_line="teachers").isel(draw=0, school=0).values
    cents(pos, [10, 10 - 150 / 65, 10 - 150 / 65])
    total = ds.compensation.sum("component").isel(draw=0, school=0).values
    cents(total, [650_000, 500_000, 500_000])


def test_bad_schedules_are_named():
    cases = {
        "positions = 1\n[schools.cost.schedule]\nbase = 1\nsteps = 2\nentry_step = 3": "outside",
        "positions = 1\nsalary = 1\n[schools.cost.schedule]\nbase = 1\nsteps = 2": "not both",
        "positions = 1\n[schools.cost.schedule]\nsalaries = [[1, 2], [3]]": "2 lanes",
        "positions = 1\nsalary = 1\nbenefits_rate = 0.3\npension_rate = 0.1": "benefits_rate",
    }
    for body, needle in cases.items():
        with pytest.raises(ConfigError) as info:
            sustainsim.loads_config(HEAD.format(years=2) + school(body))
        assert needle in str(info.value) and "schools.s.cost.teachers" in str(info.value)


def test_components_and_positions_of_a_shipped_config():
    from tests.conftest import CONFIGS

    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    ds = sustainsim.simulate(spec, draws=200, seed=3, lines=True)
    staff = [
        str(n)
        for n, k in zip(ds.cost_line.values, ds.cost_kind.values, strict=True)
        if k == "staff"
    ]
    np.testing.assert_allclose(
        ds.compensation.sum("component"), ds.cost_lines.sel(cost_line=staff).sum("cost_line")
    )
    other = [str(n) for n in ds.cost_line.values if str(n) not in staff]
    assert float(abs(ds.positions.sel(cost_line=other)).max()) == 0
    assert float(ds.positions.sel(cost_line=staff).min()) >= 0


def _greedy(grades, cap):
    """Combination classes one pupil count at a time (plain Python, whole pupils)."""
    classes, pending = 0, 0
    for n in grades:
        classes += n // cap
        r = n % cap
        if pending:
            classes += 1
            pending = 0 if pending + r <= cap else r
        else:
            pending = r
    return classes + (pending > 0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 120), min_size=6, max_size=6), min_size=1, max_size=5),
    st.integers(15, 35),
)
def test_combination_classes_match_a_pupil_count_and_never_add_sections(columns, cap):
    n = np.array(columns, dtype=float).T  # (grades, draws)
    got = class_sections(n, cap, combine=True)
    plain = class_sections(n, cap)
    np.testing.assert_array_equal(got, [_greedy(c, cap) for c in columns])
    assert np.all(got <= plain)
    assert np.all(got >= np.ceil(n.sum(axis=0) / cap))
