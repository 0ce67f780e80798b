"""Cohort-survival enrollment: the closed form, lognormal noise around the ratio, grades feeding sections."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from tests.handcalc import HEAD, cents, line, run


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


def _cohort_text(extra: str, draws: int = 100000) -> str:
    return (
        HEAD.format(years=1).replace("draws = 3", f"draws = {draws}")
        + """
[[schools]]
name = "s"
[schools.enrollment]
model = "cohort"
grades = ["K", "1", "2"]
by_grade = [100, 100, 100]
progression = [0.9, 0.8]
"""
        + extra
    )


def test_cohort_noise_per_grade_and_uncertain_ratios():
    # grade 1: sd 0.02 of noise and 0.04 of ratio uncertainty -> log sd sqrt(0.02^2 + 0.04^2)
    # grade 2: no noise, no uncertainty -> exactly 100 * 0.8
    text = _cohort_text("progression_sd = [0.02, 0.0]\nprogression_uncertainty = [0.04, 0.0]\n")
    ds = sustainsim.simulate(sustainsim.loads_config(text), mode="full")
    total = ds.enrollment.isel(school=0, year=0).values
    g1 = total - 100 - 80  # K stays 100 (no volatility), grade 2 is 80
    assert np.log(g1 / 90).std() == pytest.approx(np.hypot(0.02, 0.04), rel=0.01)
    assert np.log(g1 / 90).mean() == pytest.approx(0.0, abs=4 * 0.045 / np.sqrt(g1.size))


def test_cohort_per_grade_lists_are_checked():
    with pytest.raises(sustainsim.ConfigError, match="progression_sd must be one value or 2"):
        sustainsim.loads_config(_cohort_text("progression_sd = [0.1]\n", draws=3))
    with pytest.raises(sustainsim.ConfigError, match="progression_uncertainty"):
        sustainsim.loads_config(_cohort_text("progression_uncertainty = 2.0\n", draws=3))


CAPPED = """
[[schools]]
name = "s"
[schools.enrollment]
model = "cohort"
grades = ["K", "1", "2"]
by_grade = [50, 50, 0]
progression = [0.4, 1.1]
capacity = 100
capacity_rule = "{rule}"
"""


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # y1 applies: K 50 (entering, flat), 1 = 50*0.4 = 20, 2 = 50*1.1 = 55 -> 125 for 100
        # proportional: x 100/125 = 0.8 -> K 40, 1 16, 2 44 = 100
        # y2: K 50, 1 = 40*0.4 = 16, 2 = 16*1.1 = 17.6 -> 83.6 (room: no cap)
        # y3: K 50, 1 = 50*0.4 = 20, 2 = 16*1.1 = 17.6 -> 87.6
        ("proportional", [100.0, 83.6, 87.6]),
        # entrants_first: 25 entrants turned away -> K 25, 1 20, 2 55 = 100
        # y2: K 50, 1 = 25*0.4 = 10, 2 = 20*1.1 = 22 -> 82
        # y3: K 50, 1 = 50*0.4 = 20, 2 = 10*1.1 = 11 -> 81
        ("entrants_first", [100.0, 82.0, 81.0]),
    ],
)
def test_capped_cohort_moves_up_without_the_pupils_turned_away(rule, expected):
    # before the fix year 2 showed the uncapped cohort of year 1 moving up: K 50, 1 = 50*0.4
    # = 20, 2 = 20*1.1 = 22 -> 92 pupils, as if the 25 turned away in year 1 had been admitted
    ds = run(CAPPED.format(rule=rule), years=3)
    cents(ds.enrollment.isel(draw=0, school=0).values, expected)


def test_entrants_first_turns_continuing_pupils_away_only_after_every_entrant():
    from sustainsim.model.drivers.cohort import cap_grades

    # 130 for 100: the 20 entrants go, then 10 of grade 1; grade 2 keeps all 60
    got = cap_grades(np.array([[20.0], [50.0], [60.0]]), 100.0, "entrants_first")
    cents(got[:, 0], [0.0, 40.0, 60.0])


def test_capacity_rule_belongs_to_the_cohort_model():
    body = '[[schools]]\nname = "s"\n[schools.enrollment]\nbase = 100\ncapacity = 200\n'
    with pytest.raises(sustainsim.ConfigError, match="capacity_rule = 'entrants_first'"):
        sustainsim.loads_config(HEAD.format(years=1) + body + 'capacity_rule = "entrants_first"\n')
    with pytest.raises(sustainsim.ConfigError, match="capacity_rule"):
        sustainsim.loads_config(HEAD.format(years=1) + body + 'capacity_rule = "lottery"\n')
