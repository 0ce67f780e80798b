"""Break-evens against a closed form and a brute-force grid on the same draws."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.analysis.breakeven import break_even, distribution_inputs, what_must_be_true
from tests.handcalc import HEAD

# one school, one year, no randomness: surplus = (r - v) E - F with r = 9,000 per pupil of
# revenue, v = 2,500 per pupil of cost and F = 2,600,000 of fixed cost; no starting balance
R, V, F = 9_000.0, 2_500.0, 2_600_000.0
BREAK_EVEN = F / (R - V)  # 400 pupils
ONE_SCHOOL = (
    HEAD.format(years=1)
    + f"""
[[schools]]
name = "a"
fund_balance = 0

[schools.enrollment]
base = 500

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = {R}

[[schools.cost]]
name = "supplies"
kind = "per_pupil"
rate = {V}

[[schools.cost]]
name = "building"
kind = "fixed"
amount = {F}
"""
)


def test_zero_variance_break_even_is_the_closed_form_to_the_pupil():
    spec = sustainsim.loads_config(ONE_SCHOOL)
    be = break_even(
        spec, "schools.a.enrollment.base", 0.9, low=100, high=1_000, draws=2_000, tol=0.01
    )
    assert abs(float(be["value"]) - BREAK_EVEN) < 1.0
    assert be.attrs["direction"] == "higher is better"
    assert float(be["p_low"]) == 0.0 and float(be["p_high"]) == 1.0
    # no noise and enough draws for confidence: the interval is the value, to the tolerance
    assert float(be["upper"]) - float(be["lower"]) < 0.05
    # and the fixed cost's break-even is F* = (r - v) E at the config's 500 pupils
    be_f = break_even(spec, "schools.a.cost.building.amount", 0.9, low=1e6, high=5e6, tol=1.0)
    assert be_f.attrs["direction"] == "lower is better"
    assert abs(float(be_f["value"]) - (R - V) * 500) < 2.0


def test_stochastic_break_even_matches_a_brute_force_grid_on_the_same_draws(make_spec):
    spec = make_spec("small")
    path, target, draws, seed = "schools.a.revenue.pp.rate", 0.6, 4_000, 3
    be = break_even(spec, path, target, low=6_000, high=9_000, draws=draws, seed=seed, tol=1.0)
    grid = np.arange(6_000.0, 9_001.0, 100.0)
    ps = []
    for x in grid:
        ds = sustainsim.simulate(spec.with_overrides({path: x}), draws=draws, seed=seed)
        ps.append(float(sustainsim.p_solvent(ds).probability.isel(year=-1, school=0)))
    ps = np.array(ps)
    assert np.all(np.diff(ps) >= 0), "P(solvent) must not fall as the rate rises (CRN)"
    first_ok = grid[np.argmax(ps >= target)]
    # the bisection lands in the grid cell where P crosses the target
    assert first_ok - 100 <= float(be["value"]) <= first_ok + 1.0
    # and its interval covers it, within 4 SE of P at the crossing
    se = np.sqrt(target * (1 - target) / draws)
    near = grid[np.abs(ps - target) <= 4 * se]
    assert float(be["lower"]) <= near.max() and float(be["upper"]) >= near.min()


def test_break_even_refuses_a_range_that_does_not_cross():
    spec = sustainsim.loads_config(ONE_SCHOOL)
    with pytest.raises(ValueError, match="at both ends.*widen the range"):
        break_even(spec, "schools.a.enrollment.base", 0.9, low=600, high=900)
    with pytest.raises(ValueError, match="target must be in"):
        break_even(spec, "schools.a.enrollment.base", 1.5, low=100, high=900)


def test_what_must_be_true_sets_the_break_even_beside_its_distribution():
    text = ONE_SCHOOL.replace("base = 500", 'base = { dist = "uniform", low = 300, high = 600 }')
    spec = sustainsim.loads_config(text)
    assert list(distribution_inputs(spec)) == ["schools.a.enrollment.base"]
    table = what_must_be_true(spec, 0.9, draws=3)
    row = table.loc["schools.a.enrollment.base"]
    assert abs(row["break_even"] - BREAK_EVEN) < 1.0
    # P(enrollment below 400) under uniform(300, 600), computed independently
    assert row["p_worse"] == pytest.approx((BREAK_EVEN - 300) / 300, abs=0.005)
    assert row["direction"] == "higher is better"
