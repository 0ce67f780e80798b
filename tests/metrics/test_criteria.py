"""Budget criteria on hand-computed budgets: the structural gap after a grant cliff, reserve compliance."""

from __future__ import annotations

from sustainsim.metrics.criteria import (
    p_reserve_compliant,
    reserve_compliant,
    structural_gap,
    structurally_balanced,
)
from tests.handcalc import cents, run


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
