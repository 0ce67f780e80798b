"""The grant cliff per school and draw (cliff_year, cliff_gap), worked by hand."""

from __future__ import annotations

import numpy as np

from sustainsim.metrics import structural_gap
from sustainsim.model.cliff import fill_cliff
from tests.handcalc import cents, run

CLIFF = """
[[schools]]
name = "s"
fund_balance = 0
[schools.enrollment]
base = 100

[[schools.revenue]]
name = "formula"
kind = "fixed"
amount = 1000000
[[schools.revenue]]
name = "esser"
kind = "grant"
amount = 200000
end = 2

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 1020000
[[schools.cost]]
name = "tutors"
kind = "fixed"
amount = 100000
funded_by = "esser"
on_expiry = "absorb"
[[schools.cost]]
name = "startup"
kind = "one_time"
amount = 150000
year = 2
"""


def test_cliff_year_and_size_by_hand():
    ds = run(CLIFF, years=4)
    s = ds.isel(draw=0, school=0)
    # recurring revenue RR = 1,000,000; recurring cost RC = 1,020,000 + 100,000 = 1,120,000;
    # temporary money TR = 200,000 in years 1-2; non-recurring cost NC = 150,000 in year 2.
    # uncovered recurring cost U = max(0, RC - RR - max(0, TR - NC)):
    #   y1 max(0, 120,000 - 200,000) = 0
    #   y2 max(0, 120,000 - (200,000 - 150,000)) = 70,000   (the start-up ate the grant)
    #   y3 120,000 (no temporary money)
    # cliff: the first year after the last grant payment, y3 = 2032;
    # size: newly uncovered = U[y3] - U[y2] = 50,000
    assert s.cliff_year == 2032
    cents(s.cliff_gap, 50_000.00)
    # the structural gap after the cliff is the whole shortfall, 120,000
    gap = structural_gap(ds).isel(draw=0, school=0)
    assert gap.cliff_year == 2032
    cents(gap.gap, 120_000.00)
    cents(s.grant_funded_cost.values, [100_000, 100_000, 0, 0])
    cents(s.absorbed_cost.values, [0, 0, 100_000, 100_000])


def _fill(temp, rev=1000.0, cost=900.0):
    temp = np.asarray(temp, float)[:, None, None]
    out = {
        "revenue": rev + temp,
        "cost": np.full_like(temp, cost),
        "temporary_revenue": temp,
        "cliff_year": np.empty((1, 1)),
        "cliff_gap": np.empty((1, 1)),
    }
    fill_cliff(out, 2030)
    return float(out["cliff_year"][0, 0]), float(out["cliff_gap"][0, 0])


def test_no_cliff_without_temporary_money_or_when_it_pays_to_the_horizon():
    assert all(np.isnan(_fill([0, 0, 0])))
    assert all(np.isnan(_fill([5, 5, 5])))
    # money that pays in year 1 only, with a recurring surplus: a cliff in 2031 of size 0
    assert _fill([5, 0, 0]) == (2031.0, 0.0)
    # a gap: recurring cost 1,100 on recurring revenue 1,000, a 300 grant in years 1-2
    assert _fill([300, 300, 0], cost=1100.0) == (2032.0, 100.0)
    # the cliff is after the last payment, even with a gap between payments
    assert _fill([300, 0, 300, 0], cost=1100.0) == (2033.0, 100.0)
