"""The recurring flag in the criteria (metrics/criteria.py): structural balance and the cliff gap by hand."""

from __future__ import annotations

import pytest

from sustainsim.metrics import recurring, structural_gap, structurally_balanced
from tests.handcalc import cents, run

BODY = """
[[schools]]
name = "s"
[schools.enrollment]
base = 100

[[schools.revenue]]
name = "formula"
kind = "fixed"
amount = 1000000
[[schools.revenue]]
name = "foundation"        # renewed every year: pays to the horizon
kind = "grant"
amount = 150000
end = {grant_end}
{grant_flag}

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 980000
[[schools.cost]]
name = "contract"          # a three-year service contract
kind = "fixed"
amount = 80000
end = 3
{contract_flag}
"""


def _ds(grant_flag="", contract_flag="", grant_end=3):
    body = BODY.format(grant_flag=grant_flag, contract_flag=contract_flag, grant_end=grant_end)
    return run(body, years=3)


@pytest.mark.parametrize(
    ("grant_flag", "contract_flag", "balanced", "rr", "rc"),
    [
        # defaults: the grant is temporary and pays to the horizon, so the last year is judged:
        # recurring revenue 1,000,000 < recurring cost 980,000 + 80,000 = 1,060,000
        ("", "", False, 1_000_000, 1_060_000),
        # the grant counted as recurring: 1,150,000 >= 1,060,000
        ("recurring = true", "", True, 1_150_000, 1_060_000),
        # the contract not recurring: 1,000,000 >= 980,000
        ("", "recurring = false", True, 1_000_000, 980_000),
        ("recurring = true", "recurring = false", True, 1_150_000, 980_000),
    ],
)
def test_the_recurring_flag_moves_structural_balance(grant_flag, contract_flag, balanced, rr, rc):
    ds = _ds(grant_flag, contract_flag)
    r = recurring(ds).isel(draw=0, school=0, year=-1)
    cents(r.recurring_revenue, rr)
    cents(r.recurring_cost, rc)
    assert bool(structurally_balanced(ds).isel(draw=0, school=0)) is balanced


def test_the_recurring_flag_moves_the_cliff_gap():
    # the grant ends in year 2: cliff in year 3 (2032)
    default = structural_gap(_ds(grant_end=2)).isel(draw=0, school=0)
    assert default.cliff_year == 2032
    cents(default.gap, 60_000)  # 1,060,000 - 1,000,000
    flagged = structural_gap(_ds(contract_flag="recurring = false", grant_end=2))
    cents(flagged.gap.isel(draw=0, school=0), -20_000)  # 980,000 - 1,000,000
    # a fixed revenue flagged non-recurring is temporary money: its end is a cliff
    ds = run(
        BODY.replace('name = "foundation"', 'name = "bridge"')
        .replace('kind = "grant"', 'kind = "fixed"')
        .format(grant_flag="recurring = false", contract_flag="", grant_end=1),
        years=3,
    )
    gap = structural_gap(ds).isel(draw=0, school=0)
    assert gap.cliff_year == 2031
    cents(gap.gap, 60_000)
    s = ds.isel(draw=0, school=0)
    assert s.cliff_year == 2031
    # uncovered recurring cost: y1 max(0, 60,000 - 150,000) = 0; y2 60,000: all new
    cents(s.cliff_gap, 60_000)
