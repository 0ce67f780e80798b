"""The district response (trimming flexible lines) against hand calculations, and its invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim.metrics.criteria import (
    reserve_compliant,
)
from tests.handcalc import HEAD, cents, line, run

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
