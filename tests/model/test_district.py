"""Central district money: its costs, fund balance and the district entry of P(solvent), by hand."""

from __future__ import annotations

import sustainsim
from tests.handcalc import cents, run


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
