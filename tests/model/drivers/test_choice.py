"""School-choice events: a fixed year by hand, a random year against its geometric law."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.model.drivers.choice import event_years
from tests.handcalc import HEAD, cents, run

COHORT = """
[[schools]]
name = "s"
[schools.enrollment]
model = "cohort"
grades = ["K", "1", "2"]
by_grade = [100, 80, 60]
progression = [0.9, 1.0]
choice_events = [
  { name = "charter", share = 0.25, scope = "entry", year = 2 },
  { name = "boundary", share = 0.1, scope = "all", year = 3 },
]
"""


def test_fixed_year_events_by_hand():
    ds = run(COHORT, years=3)
    # y1 (no event yet): K 100, 1 = 100*0.9 = 90, 2 = 80*1.0 = 80          -> 270
    # y2 (the charter takes a quarter of the entrants): K 75, 1 = 90, 2 = 90 -> 255
    # y3 (the boundary moves 10% of every grade): K = 100*0.75*0.9 = 67.5,
    #    1 = 75*0.9*0.9 = 60.75, 2 = 90*1.0*0.9 = 81                        -> 209.25
    cents(ds.enrollment.isel(draw=0, school=0).values, [270.0, 255.0, 209.25])


def test_aggregate_event_drops_the_level_once_and_grows_from_there():
    body = """
[[schools]]
name = "s"
[schools.enrollment]
base = 400
drift = 0.1
choice_events = [{ name = "charter", share = 0.25, scope = "all", year = 2 }]
"""
    ds = run(body, years=3)
    # 400 e^0.1 = 442.07; y2 400 e^0.2 * 0.75 = 366.42; y3 400 e^0.3 * 0.75 = 404.96
    e = np.exp(0.1)
    cents(ds.enrollment.isel(draw=0, school=0).values, [400 * e, 300 * e**2, 300 * e**3])


def test_hazard_event_year_at_the_median_by_hand():
    # the central case draws u = 0.5: 0.8^3 = 0.512 > 0.5 > 0.8^4 = 0.4096 -> the event
    # happens in projected year 4; grades K, 1 of 100 with ratio 1 lose half in year 4
    text = HEAD.format(years=5) + (
        '[[schools]]\nname = "s"\n[schools.enrollment]\nmodel = "cohort"\ngrades = ["K", "1"]\n'
        "by_grade = [100, 100]\nprogression = 1.0\n"
        'choice_events = [{ name = "c", share = 0.5, scope = "all", hazard = 0.2 }]\n'
    )
    ds = sustainsim.central_case(sustainsim.loads_config(text))
    cents(ds.enrollment.isel(draw=0, school=0).values, [200, 200, 200, 100, 100])
    assert event_years(np.array([0.5]), 0.2).tolist() == [4.0]


def test_event_by_year_t_is_geometric():
    h, draws, T = 0.15, 40_000, 6
    text = HEAD.format(years=T).replace("draws = 3", f"draws = {draws}") + (
        '[[schools]]\nname = "s"\n[schools.enrollment]\nmodel = "cohort"\ngrades = ["K", "1"]\n'
        "by_grade = [100, 100]\nprogression = 1.0\n"
        f'choice_events = [{{ name = "c", share = 0.5, scope = "all", hazard = {h} }}]\n'
    )
    ds = sustainsim.simulate(sustainsim.loads_config(text))
    happened = (ds.enrollment.isel(school=0) < 199.0).mean("draw").values
    t = np.arange(1, T + 1)
    closed_form = 1 - (1 - h) ** t  # P(event by year t)
    se = np.sqrt(closed_form * (1 - closed_form) / draws)
    assert np.all(np.abs(happened - closed_form) < 4 * se), (happened, closed_form)


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ('{ name = "c", share = 0.2 }', "exactly one of hazard"),
        ('{ name = "c", share = 0.2, hazard = 0.1, year = 2 }', "exactly one of hazard"),
        ('{ name = "c", share = 1.2, year = 2 }', "share"),
        ('{ name = "c", share = 0.2, hazard = 0.0 }', "hazard"),
        (
            '{ name = "c", share = 0.2, year = 2 }, { name = "c", share = 0.1, year = 3 }',
            "repeated: c",
        ),
    ],
)
def test_bad_choice_events_name_the_field(event, needle):
    text = HEAD.format(years=2) + COHORT.split("choice_events")[0] + f"choice_events = [{event}]\n"
    with pytest.raises(sustainsim.ConfigError, match=needle):
        sustainsim.loads_config(text)


def test_entry_scope_needs_grades():
    text = HEAD.format(years=2) + (
        '[[schools]]\nname = "s"\n[schools.enrollment]\nbase = 100\n'
        'choice_events = [{ name = "c", share = 0.2, year = 1 }]\n'
    )
    with pytest.raises(sustainsim.ConfigError, match='scope = "entry" needs grades'):
        sustainsim.loads_config(text)
