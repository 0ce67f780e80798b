"""Real dollars, per-pupil views, reserve months and days of cash, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.metrics import (
    days_cash_on_hand,
    p_reserve_compliant,
    per_pupil,
    real_dollars,
    reserve_base,
    reserve_months,
    reserve_requirement,
)
from tests.handcalc import cents, run

# Every line grows at the deflator (5% a year) and the surplus is the base balance's
# inflation: B0 * g / (1 + g) = 210,000 * 0.05 / 1.05 = 10,000 base-year dollars.
# Price level F = 1.05, 1.1025, 1.157625.
#   revenue 1,010,000 * F = 1,060,500.00  1,113,525.00  1,169,201.25
#   cost    1,000,000 * F = 1,050,000.00  1,102,500.00  1,157,625.00
#   surplus                    10,500.00     11,025.00     11,576.25
#   balance 210,000 + ...  =  220,500.00    231,525.00    243,101.25  = 210,000 * F
# so in base-year dollars: revenue 1,010,000, cost 1,000,000, surplus 10,000 and a flat
# balance of 210,000 every year; per pupil (400 pupils): 2,525, 2,500, 25 and 525.
DEFLATED = """
[district.growth]
deflator = {deflator}

[[schools]]
name = "a"
fund_balance = 210000

[schools.enrollment]
base = 400

[[schools.revenue]]
name = "aid"
kind = "fixed"
amount = 1010000
growth = "deflator"

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 1000000
growth = "deflator"
"""


def test_every_line_at_the_deflator_gives_a_flat_real_balance():
    ds = run(DEFLATED.format(deflator="0.05"), years=3)
    cents(ds.deflator.isel(draw=0).values, [1.05, 1.1025, 1.157625])
    cents(ds.fund_balance.isel(draw=0, school=0).values, [220_500.00, 231_525.00, 243_101.25])
    real = real_dollars(ds)
    a = real.isel(draw=0, school=0)
    cents(a.fund_balance.values, [210_000.0] * 3)
    cents(a.revenue.values, [1_010_000.0] * 3)
    cents(a.cost.values, [1_000_000.0] * 3)
    cents(a.surplus.values, [10_000.0] * 3)
    cents(a.revenue_lines.sel(revenue_line="aid").values, [1_010_000.0] * 3)
    assert real.fund_balance.attrs["dollar_basis"] == "real"
    assert real.attrs["dollar_year"] == 2029
    # the starting balance is in base-year dollars already
    cents(real.initial_fund_balance.values, ds.initial_fund_balance.values)
    pp = per_pupil(ds, real=True).isel(draw=0, school=0)
    cents(pp.revenue.values, [2_525.0] * 3)
    cents(pp.cost.values, [2_500.0] * 3)
    cents(pp.surplus.values, [25.0] * 3)
    cents(pp.fund_balance.values, [525.0] * 3)
    assert pp.fund_balance.attrs["units"] == "USD/student"


def test_a_random_deflator_each_year_still_gives_flat_real_lines():
    body = DEFLATED.format(
        deflator='{ rate = { dist = "normal", mean = 0.03, sd = 0.02 }, per = "year" }'
    )
    ds = run(body, years=4)
    assert ds.deflator.dims == ("draw", "year")
    assert ds.deflator.std("draw").min() > 0  # a different price path in every draw
    real = real_dollars(ds)
    np.testing.assert_allclose(real.cost.values, 1_000_000.0, rtol=1e-12)
    np.testing.assert_allclose(real.revenue.values, 1_010_000.0, rtol=1e-12)


def test_real_dollars_needs_a_deflator_and_is_not_applied_twice():
    ds = run(DEFLATED.format(deflator="0.05").replace("deflator", "prices"), years=2)
    assert "deflator" not in ds
    with pytest.raises(ValueError, match="named 'deflator'"):
        real_dollars(ds)
    real = real_dollars(run(DEFLATED.format(deflator="0.05"), years=2))
    with pytest.raises(ValueError, match="already in real dollars"):
        real_dollars(real)


def test_per_pupil_divides_the_district_by_its_enrollment(make_spec):
    ds = sustainsim.simulate(make_spec("two_schools"), draws=50, seed=3, progress=False)
    pp = per_pupil(ds)
    np.testing.assert_allclose(pp.revenue * ds.enrollment, ds.revenue)
    total = ds.enrollment.sum("school")
    np.testing.assert_allclose(pp.district_fund_balance * total, ds.district_fund_balance)
    assert pp.district_cost.attrs["units"] == "USD/student"


# A one-time start-up cost in year 1 and a 6-month reserve, trigger "below_reserve":
#   year 1: revenue 1,000,000; cost 1,100,000 (ops, flexible) + 600,000 (start-up)
#           surplus -700,000; balance 1,400,000 - 700,000 = 700,000
#   reserve base without the start-up 1,100,000 -> reserve 550,000: 700,000 is above
#   it, no cut; year 2: surplus -100,000, balance 600,000 >= 550,000, no cut;
#   year 3: balance 500,000.
#   With the start-up in the base (include_one_time): base 1,700,000 -> reserve 850,000,
#   700,000 is below it: year 2 cuts the 700,000 gap, trim capped at 0.5 * 1,100,000
#   = 550,000: cost 550,000, surplus 450,000, balance 1,150,000; the cut stays in the
#   base (restore "never"): year 3 balance 1,600,000. Its reserve after year 1 is
#   6/12 * 550,000 = 275,000.
ONE_TIME = """
[district.reserve]
months = 6
{include}

[district.response]
trigger = "below_reserve"
cap = 0.5
lag = 1

[[schools]]
name = "a"
fund_balance = 1400000

[schools.enrollment]
base = 400

[[schools.revenue]]
name = "aid"
kind = "fixed"
amount = 1000000

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 1100000
flexible = true

[[schools.cost]]
name = "startup"
kind = "one_time"
year = 1
amount = 600000
"""


def test_the_reserve_base_leaves_one_time_spending_out_by_default():
    ds = run(ONE_TIME.format(include=""), years=3)
    a = ds.isel(draw=0, school=0)
    cents(a.fund_balance.values, [700_000.0, 600_000.0, 500_000.0])
    cents(a.required_cut.values, [0.0, 0.0, 0.0])
    assert ds.attrs["reserve_base"] == "recurring"
    cents(reserve_base(ds).isel(draw=0, school=0).values, [1_100_000.0] * 3)
    cents(reserve_requirement(ds).isel(draw=0, school=0).values, [550_000.0] * 3)
    p = p_reserve_compliant(ds).probability.isel(school=0).values
    assert p.tolist() == [1.0, 1.0, 0.0]
    # months: 700,000 / (1,100,000 / 12) = 7.636364; days: 700,000 * 365 / 1,100,000 = 232.27
    m = reserve_months(ds).isel(draw=0, school=0).values
    np.testing.assert_allclose(
        m, [8_400_000 / 1_100_000, 7_200_000 / 1_100_000, 6_000_000 / 1_100_000]
    )
    d = days_cash_on_hand(ds).isel(draw=0, school=0).values
    np.testing.assert_allclose(
        d, [255_500_000 / 1_100_000, 219_000_000 / 1_100_000, 182_500_000 / 1_100_000]
    )
    assert round(float(d[0]), 2) == 232.27
    # the option puts one-time spending back, for the metrics alone too
    cents(
        reserve_base(ds, include_one_time=True).isel(draw=0, school=0).values,
        [1_700_000.0, 1_100_000.0, 1_100_000.0],
    )
    m_total = reserve_months(ds, include_one_time=True).isel(draw=0, school=0).values
    np.testing.assert_allclose(m_total[0], 700_000 / (1_700_000 / 12))


def test_include_one_time_puts_the_start_up_in_the_reserve_base():
    ds = run(ONE_TIME.format(include="include_one_time = true"), years=3)
    a = ds.isel(draw=0, school=0)
    cents(a.fund_balance.values, [700_000.0, 1_150_000.0, 1_600_000.0])
    cents(a.required_cut.values, [0.0, 700_000.0, 550_000.0])
    cents(a.trimmed.values, [0.0, 550_000.0, 550_000.0])
    assert ds.attrs["reserve_base"] == "total"
    cents(reserve_requirement(ds).isel(draw=0, school=0).values, [850_000.0, 275_000.0, 275_000.0])
    assert p_reserve_compliant(ds).probability.isel(school=0).values.tolist() == [0.0] * 3


def test_reserve_months_are_nan_without_expenditure():
    body = (
        ONE_TIME.format(include="")
        .replace("amount = 1100000", "amount = 0")
        .replace("amount = 600000", "amount = 0")
    )
    m = reserve_months(run(body, years=2))
    assert np.isnan(m.values).all()
