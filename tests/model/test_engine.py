"""The engine against a budget computed by hand, to the cent."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.model.engine import staff_positions

ZERO_VARIANCE = """
[simulation]
years = 3
first_year = 2025
draws = 4
seed = 1

[district.growth]
funding = 0.02
salary = 0.03

[district.cuts]
probability = 1.0     # a 5% cut at the start of every year
magnitude = 0.05

[[schools]]
name = "a"
fund_balance = 100000

[schools.enrollment]
base = 400

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 9000
growth = "funding"
exposed_to_cuts = true

[[schools.revenue]]
name = "fixed"
kind = "fixed"
amount = 150000

[[schools.revenue]]
name = "grant"
kind = "grant"
amount = 100000
start = 1
end = 2

[[schools.cost]]
name = "teachers"
kind = "staff"
students_per_position = 25
salary = 60000
benefits_rate = 0.35
growth = "salary"

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 500000
growth = 0.025

[[schools.cost]]
name = "supplies"
kind = "per_pupil"
rate = 300
growth = 0.025
"""

# Worked by hand (see the comments): enrollment stays 400, 16 teachers (400 / 25).
# year 1: pp 9000*1.02*400*0.95 = 3,488,400.00; + fixed 150,000 + grant 100,000
#         teachers 16*60000*1.03*1.35 = 1,334,880.00; ops 512,500.00; supplies 300*1.025*400 = 123,000.00
# year 2: pp 9000*1.0404*400*0.9025 = 3,380,259.60; teachers 16*60000*1.0609*1.35 = 1,374,926.40
#         ops 525,312.50; supplies 126,075.00
# year 3: pp 9000*1.061208*400*0.857375 = 3,275,471.5524; no grant
#         teachers 16*60000*1.092727*1.35 = 1,416,174.192; ops 538,445.3125; supplies 129,226.875
HAND = {
    "revenue": [3_738_400.00, 3_630_259.60, 3_425_471.5524],
    "cost": [1_970_380.00, 2_026_313.90, 2_083_846.3795],
    "fund_balance": [1_868_020.00, 3_471_965.70, 4_813_590.8729],
}


def test_zero_variance_budget_to_the_cent():
    spec = sustainsim.loads_config(ZERO_VARIANCE)
    ds = sustainsim.simulate(spec, lines=True)
    for var, expected in HAND.items():
        got = ds[var].sel(school="a").values  # (draw, year): every draw equal
        np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=0, atol=0.005)
    np.testing.assert_allclose(ds.surplus.values, (ds.revenue - ds.cost).values, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ds.enrollment.values, 400.0)
    # per-line breakdowns add up to the totals
    np.testing.assert_allclose(ds.revenue_lines.sum("revenue_line"), ds.revenue, rtol=1e-12)
    np.testing.assert_allclose(ds.cost_lines.sum("cost_line"), ds.cost, rtol=1e-12)
    assert float(ds.revenue_lines.sel(revenue_line="grant", school="a").isel(draw=0, year=2)) == 0


def test_staff_positions_round_up_to_whole_positions():
    e = np.array([0.0, 1.0, 24.999, 25.0, 25.0000001, 50.0, 51.0])
    np.testing.assert_array_equal(staff_positions(e, 25.0), [0, 1, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(staff_positions(e, 25.0, minimum=2), [2, 2, 2, 2, 2, 2, 3])
    # ratios whose quotient is whole up to rounding do not add a position
    assert staff_positions(np.array([0.3 * 3]), 0.3)[0] == 3


def test_fixed_positions_and_central_case(small_spec):
    cc = sustainsim.central_case(small_spec)
    assert cc.sizes["draw"] == 1
    # the median enrollment path: drift only (median shocks are 0)
    e = cc.enrollment.sel(school="a").values.ravel()
    np.testing.assert_allclose(e, 400 * np.exp(-0.01 * np.arange(1, 6)), rtol=1e-12)
    # median uniform 0.5 > cut probability: no cut in the central case
    assert float(cc["cuts.count"][0]) == 0


@pytest.mark.parametrize("recovery", [0.0, 0.5])
def test_balance_identity_with_cuts(small_spec, recovery):
    spec = small_spec.with_overrides({"district.cuts.recovery": recovery})
    ds = sustainsim.simulate(spec, draws=500)
    b = ds.fund_balance.values
    prev = np.concatenate([ds.initial_fund_balance.values[:, None, :], b[:, :-1]], axis=1)
    np.testing.assert_allclose(b - prev, (ds.revenue - ds.cost).values, rtol=1e-9, atol=1e-6)
