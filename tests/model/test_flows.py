"""Money flows inside the district (model.flows): zero-variance cases by hand, conservation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from tests.handcalc import HEAD, cents


def _run(body: str, years: int = 2, **kw):
    return sustainsim.simulate(sustainsim.loads_config(HEAD.format(years=years) + body), **kw)


def _v(ds, name, school=None):
    da = ds[name].isel(draw=0)
    return (da.sel(school=school) if school else da).values


def _conserved(ds, atol=1e-6):
    """Schools + central = district for revenue, cost, surplus and balance, every draw/year."""
    for k in ("revenue", "cost", "surplus", "fund_balance"):
        total = ds[k].sum("school") + ds[f"central_{k}"]
        np.testing.assert_allclose(total, ds[f"district_{k}"], rtol=0, atol=atol, err_msg=k)


PASS_THROUGH = """
[district]
fund_balance = 50000
[[district.revenue]]
name = "launch"
kind = "grant"
amount = 300000
start = 1
end = 2
{allocate}
[[district.cost]]
name = "team"
kind = "fixed"
amount = 40000

[models.pl]
cost = [
  {{ name = "startup_pd", kind = "one_time", year = 0, amount = 120000 }},
  {{ name = "startup_space", kind = "one_time", year = 1, amount = 60000 }},
]

[[schools]]
name = "a"
model = "pl"
conversion_year = 2
fund_balance = 10000
enrollment = {{ base = 100 }}
revenue = [{{ name = "pp", kind = "per_pupil", rate = 10000 }}]
cost = [{{ name = "staff", kind = "fixed", amount = 1000000 }}]

[[schools]]
name = "b"
enrollment = {{ base = 50 }}
revenue = [{{ name = "pp", kind = "per_pupil", rate = 10000 }}]
cost = [{{ name = "staff", kind = "fixed", amount = 500000 }}]
"""
_TO_A = (
    'allocate = { method = "pass_through", to = [{ school = "a", lines = ["startup_pd", '
    '"startup_space"] }] }'
)


def test_pass_through_grant_pays_the_startup():
    # School a converts in year 2: its planning-year PD ($120,000) falls in projected
    # year 1, its space ($60,000) in year 2. Formula 100 x 10,000 = 1,000,000 = staff.
    # Without the flow a runs a $120,000 deficit in year 1 and $60,000 in year 2:
    plain = _run(PASS_THROUGH.format(allocate=""), years=3)
    cents(_v(plain, "surplus", "a"), [-120_000, -60_000, 0])
    # With the grant passed through: a is paid 120,000 (year 1) and 60,000 (year 2),
    # so it shows no deficit; the district keeps the remainder:
    #   central revenue 300,000 - 120,000 = 180,000 | 300,000 - 60,000 = 240,000 | 0
    #   central cost 40,000 each year; surplus 140,000 | 200,000 | -40,000
    #   central balance 50,000 + 140,000 = 190,000 | 390,000 | 350,000
    ds = _run(PASS_THROUGH.format(allocate=_TO_A), years=3)
    cents(_v(ds, "allocated_revenue", "a"), [120_000, 60_000, 0])
    cents(_v(ds, "allocated_revenue", "b"), [0, 0, 0])
    cents(_v(ds, "surplus", "a"), [0, 0, 0])
    cents(_v(ds, "fund_balance", "a"), [10_000, 10_000, 10_000])
    cents(_v(ds, "temporary_revenue", "a"), [120_000, 60_000, 0])
    cents(_v(ds, "central_revenue"), [180_000, 240_000, 0])
    cents(_v(ds, "central_cost"), [40_000, 40_000, 40_000])
    cents(_v(ds, "central_fund_balance"), [190_000, 390_000, 350_000])
    # district totals as without the flow: schools 10,000 + 0 + central
    cents(_v(ds, "district_fund_balance"), [200_000, 400_000, 360_000])
    cents(_v(ds, "district_fund_balance"), _v(plain, "district_fund_balance"))
    cents(_v(ds, "district_temporary_revenue"), [300_000, 300_000, 0])
    _conserved(ds)
    assert ds.allocated_revenue.attrs["units"] == "USD"
    assert "central" in ds.central_revenue.attrs["long_name"]


def test_pass_through_short_money_pays_in_order():
    # $100,000 a year: year 1 pays 100,000 of the 120,000 PD (a: -20,000), nothing left;
    # year 2 pays the 60,000 space, 40,000 stays central.
    body = PASS_THROUGH.replace("amount = 300000", "amount = 100000")
    ds = _run(body.format(allocate=_TO_A), years=3)
    cents(_v(ds, "allocated_revenue", "a"), [100_000, 60_000, 0])
    cents(_v(ds, "surplus", "a"), [-20_000, 0, 0])
    cents(_v(ds, "central_revenue"), [0, 40_000, 0])
    _conserved(ds)


ALLOCATE = """
[district.growth]
funding = 0.02
[[district.revenue]]
name = "aid"
kind = "per_pupil"
rate = 880
growth = "funding"
allocate = {allocate}

[[schools]]
name = "a"
attributes = {{ need = 1.5 }}
enrollment = {{ base = 300 }}

[[schools]]
name = "b"
attributes = {{ need = 1.0 }}
enrollment = {{ base = 200 }}
"""


def test_per_pupil_allocation_of_a_district_formula():
    # The district's formula pays 880 x 1.02 x (300 + 200) = 448,800 in year 1 (growth
    # from the base year), x 1.02 = 457,776 in year 2; half goes out per pupil:
    #   a 0.5 x 448,800 x 300 / 500 = 134,640 | 0.5 x 457,776 x 0.6 = 137,332.80
    #   b 0.5 x 448,800 x 200 / 500 =  89,760 | 91,555.20; central keeps 224,400 | 228,888
    ds = _run(ALLOCATE.format(allocate='{ method = "per_pupil", share = 0.5 }'))
    cents(_v(ds, "allocated_revenue", "a"), [134_640, 137_332.80])
    cents(_v(ds, "allocated_revenue", "b"), [89_760, 91_555.20])
    cents(_v(ds, "revenue", "a"), [134_640, 137_332.80])
    cents(_v(ds, "central_revenue"), [224_400, 228_888])
    cents(_v(ds, "district_revenue"), [448_800, 457_776])
    _conserved(ds)


def test_weighted_and_shares_allocations():
    # weighted by need x pupils: a 1.5 x 300 = 450, b 1.0 x 200 = 200 of 650:
    # a 448,800 x 450 / 650 = 310,707.69, b 448,800 x 200 / 650 = 138,092.31; central 0
    ds = _run(ALLOCATE.format(allocate='{ method = "weighted", weight_attribute = "need" }'))
    cents(_v(ds, "allocated_revenue", "a")[0], 310_707.69)
    cents(_v(ds, "allocated_revenue", "b")[0], 138_092.31)
    cents(_v(ds, "central_revenue"), [0, 0])
    # weights given per school, only a receiving: all 448,800 to a
    w = '{ method = "weighted", schools = ["a"], weights = { a = 2.0 } }'
    cents(_v(_run(ALLOCATE.format(allocate=w)), "allocated_revenue", "a")[0], 448_800)
    # fixed shares: a 25% = 112,200, b 50% = 224,400, central 112,200
    ds = _run(ALLOCATE.format(allocate='{ method = "shares", shares = { a = 0.25, b = 0.5 } }'))
    cents(_v(ds, "allocated_revenue", "a")[0], 112_200)
    cents(_v(ds, "allocated_revenue", "b")[0], 224_400)
    cents(_v(ds, "central_revenue")[0], 112_200)
    _conserved(ds)


CHARGES = """
[district.growth]
prices = 0.1
[[district.cost]]
name = "central_office"
kind = "fixed"
amount = 200000
charge = { method = "indirect_rate", rate = 0.05 }
[[district.cost]]
name = "transport"
kind = "fixed"
amount = 50000
charge = { method = "per_pupil", schools = ["a"] }
[[district.cost]]
name = "it"
kind = "fixed"
amount = 0
charge = { method = "per_pupil", rate = 100, growth = "prices" }

[[schools]]
name = "a"
fund_balance = 100000
enrollment = { base = 300 }
revenue = [{ name = "pp", kind = "per_pupil", rate = 4000 }]
cost = [
  { name = "staff", kind = "fixed", amount = 1100000 },
  { name = "supplies", kind = "fixed", amount = 100000, flexible = true },
]
response = { trigger = "deficit", cap = 1.0, lag = 1 }

[[schools]]
name = "b"
enrollment = { base = 200 }
cost = [{ name = "staff", kind = "fixed", amount = 500000 }]
"""


def test_indirect_and_per_pupil_charges():
    # a: direct expenditure 1,100,000 + 100,000 = 1,200,000 = its formula (300 x 4,000).
    # charges to a: indirect 5% x 1,200,000 = 60,000 (on the budget before the response,
    # both years); all of transport (only a is charged) 50,000; IT fee 100 x 1.1 x 300 =
    # 33,000 (x 1.1 = 36,300 in year 2): 143,000 | 146,300.
    # Year 1: a's surplus -143,000. The response sees it: year 2 would trim 143,000 of
    # supplies but has only 100,000 (cap 1): surplus -146,300 + 100,000 = -46,300.
    # Balance 100,000 - 143,000 = -43,000 | -89,300.
    # b: indirect 5% x 500,000 = 25,000; IT 100 x 1.1 x 200 = 22,000 | 24,200.
    ds = _run(CHARGES)
    cents(_v(ds, "indirect_charge", "a"), [143_000, 146_300])
    cents(_v(ds, "indirect_charge", "b"), [47_000, 49_200])
    cents(_v(ds, "surplus", "a"), [-143_000, -46_300])
    cents(_v(ds, "fund_balance", "a"), [-43_000, -89_300])
    cents(_v(ds, "trimmed", "a"), [0, 100_000])
    # central cost 250,000 - (143,000 + 47,000) = 60,000 | 250,000 - 195,500 = 54,500
    cents(_v(ds, "central_cost"), [60_000, 54_500])
    cents(_v(ds, "district_cost"), _v(ds, "cost").sum(axis=-1) + [60_000, 54_500])
    _conserved(ds)


BACKSTOP = """
[district]
fund_balance = 500000
[district.backstop]
cap = 120000
per_school = 100000
schools = ["a", "b"]

[[schools]]
name = "a"
enrollment = { base = 100 }
cost = [{ name = "c", kind = "fixed", amount = 150000 }]
[[schools]]
name = "b"
enrollment = { base = 100 }
cost = [{ name = "c", kind = "fixed", amount = 60000 }]
[[schools]]
name = "c"
enrollment = { base = 100 }
cost = [{ name = "c", kind = "fixed", amount = 10000 }]
"""


def test_backstop_hits_its_cap():
    # claims: a min(150,000, 100,000) = 100,000, b 60,000 (c is not covered): 160,000 is
    # over the 120,000 cap, so each is paid 120/160 = 75%: a 75,000, b 45,000.
    # a: -150,000 + 75,000 = -75,000 a year; b: -15,000; c: -10,000.
    # central: revenue -120,000, balance 500,000 - 120,000 = 380,000 | 260,000.
    ds = _run(BACKSTOP)
    cents(_v(ds, "backstop_transfer", "a"), [75_000, 75_000])
    cents(_v(ds, "backstop_transfer", "b"), [45_000, 45_000])
    cents(_v(ds, "backstop_transfer", "c"), [0, 0])
    cents(_v(ds, "surplus", "a"), [-75_000, -75_000])
    cents(_v(ds, "fund_balance", "b"), [-15_000, -30_000])
    cents(_v(ds, "central_revenue"), [-120_000, -120_000])
    cents(_v(ds, "central_fund_balance"), [380_000, 260_000])
    cents(_v(ds, "district_fund_balance"), [280_000, 60_000])  # 500,000 - 220,000 a year
    _conserved(ds)
    # under the cap: a cap of 1,000,000 pays each claim in full (a 100,000, b 60,000)
    ds = _run(BACKSTOP.replace("cap = 120000", "cap = 1000000"))
    cents(_v(ds, "backstop_transfer", "a"), [100_000, 100_000])
    cents(_v(ds, "backstop_transfer", "b"), [60_000, 60_000])


def test_pooled_reserve():
    # a: start 10,000, surplus +5,000 a year; b: start 0, surplus -20,000 a year.
    # Swept to the district: year 1 a 15,000, b -20,000; then 5,000 and -20,000.
    # central: 100,000 - 5,000 = 95,000 | 80,000; the schools hold nothing.
    ds = _run("""
[district]
fund_balance = 100000
pooled_reserve = true
[[schools]]
name = "a"
fund_balance = 10000
enrollment = { base = 100 }
revenue = [{ name = "f", kind = "fixed", amount = 5000 }]
[[schools]]
name = "b"
enrollment = { base = 100 }
cost = [{ name = "c", kind = "fixed", amount = 20000 }]
""")
    cents(_v(ds, "pooled_transfer", "a"), [15_000, 5_000])
    cents(_v(ds, "pooled_transfer", "b"), [-20_000, -20_000])
    cents(_v(ds, "fund_balance", "a"), [0, 0])
    cents(_v(ds, "central_fund_balance"), [95_000, 80_000])
    cents(_v(ds, "district_fund_balance"), [95_000, 80_000])
    _conserved(ds)


# --- conservation under random flows ---------------------------------------------------------


def _school(i: int, data) -> str:
    base = data.draw(st.integers(50, 600))
    rate = data.draw(st.integers(5000, 9000))
    staff = data.draw(st.integers(200_000, 5_000_000))
    out = f"""
[[schools]]
name = "s{i}"
fund_balance = {data.draw(st.integers(-100_000, 300_000))}
attributes = {{ need = {data.draw(st.floats(0, 3))} }}
enrollment = {{ base = {base}, volatility = 0.1, drift = -0.01, closure_hazard = 0.05 }}
revenue = [{{ name = "pp", kind = "per_pupil", rate = {rate} }}]
cost = [
  {{ name = "staff", kind = "fixed", amount = {staff} }},
  {{ name = "supplies", kind = "per_pupil", rate = 300, flexible = true }},
  {{ name = "startup", kind = "one_time", year = 1, amount = {data.draw(st.integers(0, 400_000))} }},
]
"""
    if data.draw(st.booleans()):
        out += 'response = { trigger = "deficit", cap = 0.5, lag = 1 }\n'
    return out


def _allocate(data, names: list[str]) -> str:
    m = data.draw(st.sampled_from(["per_pupil", "weighted", "shares", "pass_through", "none"]))
    share = data.draw(st.floats(0, 1))
    if m == "per_pupil":
        return f'allocate = {{ method = "per_pupil", share = {share} }}'
    if m == "weighted":
        return 'allocate = { method = "weighted", weight_attribute = "need" }'
    if m == "shares":
        w = [data.draw(st.floats(0, 1)) for _ in names]
        t = sum(w) or 1.0
        table = ", ".join(f"{n} = {x / t * share}" for n, x in zip(names, w, strict=True))
        return f'allocate = {{ method = "shares", shares = {{ {table} }} }}'
    if m == "pass_through":
        to = ", ".join(f'{{ school = "{n}", lines = ["startup", "staff"] }}' for n in names)
        return f'allocate = {{ method = "pass_through", to = [{to}] }}'
    return ""


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_conservation_random_flows(data):
    k = data.draw(st.integers(1, 3))
    names = [f"s{i}" for i in range(k)]
    rate = data.draw(st.floats(0, 0.2))
    cap = data.draw(st.integers(0, 2_000_000))
    per = data.draw(st.integers(0, 1_000_000))
    pooled = data.draw(st.booleans())
    body = f"""
[district]
fund_balance = {data.draw(st.integers(0, 1_000_000))}
pooled_reserve = {str(pooled).lower()}
[district.cuts]
probability = 0.3
magnitude = {{ dist = "uniform", low = 0.0, high = 0.1 }}
[district.backstop]
cap = {cap}
per_school = {per}
[[district.revenue]]
name = "aid"
kind = "per_pupil"
rate = {data.draw(st.integers(0, 3000))}
{_allocate(data, names)}
[[district.revenue]]
name = "grant"
kind = "grant"
amount = {data.draw(st.integers(0, 1_000_000))}
end = {{ dist = "integer_uniform", low = 1, high = 3 }}
{_allocate(data, names)}
[[district.cost]]
name = "office"
kind = "per_pupil"
rate = 200
charge = {{ method = "indirect_rate", rate = {rate} }}
[[district.cost]]
name = "it"
kind = "fixed"
amount = {data.draw(st.integers(0, 500_000))}
charge = {{ method = "per_pupil" }}
""" + "".join(_school(i, data) for i in range(k))
    spec = sustainsim.loads_config(HEAD.format(years=4) + body).with_overrides(
        {"simulation.draws": 20}
    )
    ds = sustainsim.simulate(spec, lines=True)
    _conserved(ds)
    np.testing.assert_allclose(ds.revenue_lines.sum("revenue_line"), ds.revenue, atol=1e-6)
    np.testing.assert_allclose(ds.cost_lines.sum("cost_line"), ds.cost, atol=1e-6)
    assert float(ds.backstop_transfer.min()) >= 0
    assert float(ds.backstop_transfer.max()) <= per + 1e-6
    assert float(ds.backstop_transfer.sum("school").max()) <= cap + 1e-6
    assert float(ds.allocated_revenue.min()) >= 0
    if pooled:
        assert float(abs(ds.fund_balance).max()) == 0.0
    # the district's books do not depend on money moved inside it: its revenue is the
    # external revenue of the same draws without flows
    plain = spec.with_overrides(
        {
            "district.backstop": None,
            "district.pooled_reserve": False,
            "district.revenue.aid.allocate": None,
            "district.revenue.grant.allocate": None,
            "district.cost.office.charge": None,
            "district.cost.it.charge": None,
        }
    )
    np.testing.assert_allclose(
        ds.district_revenue, sustainsim.simulate(plain).district_revenue, rtol=0, atol=1e-6
    )


def test_line_breakdowns_show_the_flows():
    # with line breakdowns each flow is a column of its district line at the school (the
    # backstop's under district_backstop), so the columns add up to revenue and cost
    ds = _run(PASS_THROUGH.format(allocate=_TO_A), years=3, lines=True)
    cents(ds.revenue_lines.sel(revenue_line="launch", school="a").isel(draw=0), [120e3, 60e3, 0])
    ds = _run(CHARGES, lines=True)
    cents(ds.cost_lines.sel(cost_line="central_office", school="a").isel(draw=0), [60e3, 60e3])
    cents(ds.cost_lines.sel(cost_line="it", school="b").isel(draw=0), [22_000, 24_200])
    for body in (BACKSTOP, CHARGES, ALLOCATE.format(allocate='{ method = "per_pupil" }')):
        ds = _run(body, lines=True)
        np.testing.assert_allclose(ds.revenue_lines.sum("revenue_line"), ds.revenue, atol=1e-6)
        np.testing.assert_allclose(ds.cost_lines.sum("cost_line"), ds.cost, atol=1e-6)
    assert str(ds.revenue_kind.sel(revenue_line="aid").values) == "per_pupil"
    ds = _run(BACKSTOP, lines=True)
    cents(
        ds.revenue_lines.sel(revenue_line="district_backstop", school="a").isel(draw=0), [75e3] * 2
    )


def test_two_pass_throughs_do_not_pay_a_line_twice():
    # a second grant of 100,000 a year passed to the same lines after "launch" (300,000)
    # finds them paid: it pays nothing and stays central (central revenue + 100,000).
    second = """
[[district.revenue]]
name = "relief"
kind = "grant"
amount = 100000
start = 1
end = 2
allocate = { method = "pass_through", to = [{ school = "a", lines = ["startup_pd"] }] }
"""
    body = PASS_THROUGH.format(allocate=_TO_A).replace(
        "[[district.cost]]", second + "[[district.cost]]"
    )
    ds = _run(body, years=3)
    cents(_v(ds, "allocated_revenue", "a"), [120_000, 60_000, 0])
    cents(_v(ds, "central_revenue"), [280_000, 340_000, 0])
    # the other way round: relief pays 100,000 of the PD first, launch the last 20,000
    body = PASS_THROUGH.format(allocate=_TO_A).replace(
        "[[district.revenue]]", second + "[[district.revenue]]", 1
    )
    ds = _run(body, years=3)
    cents(_v(ds, "allocated_revenue", "a"), [120_000, 60_000, 0])
    cents(_v(ds, "surplus", "a"), [0, 0, 0])
    cents(_v(ds, "central_revenue"), [280_000, 340_000, 0])


def test_flows_do_not_depend_on_the_chunk_size():
    # random enrollment and cuts with every flow on: chunks of 3 draws or one chunk of 20
    body = (
        BACKSTOP.replace(
            "enrollment = { base = 100 }", "enrollment = { base = 100, volatility = 0.2 }"
        )
        + """
[district.cuts]
probability = 0.5
magnitude = { dist = "uniform", low = 0.0, high = 0.2 }
[[district.revenue]]
name = "aid"
kind = "per_pupil"
rate = 500
exposed_to_cuts = true
allocate = { method = "per_pupil", share = 0.7 }
[[district.cost]]
name = "office"
kind = "fixed"
amount = 30000
charge = { method = "indirect_rate", rate = 0.03 }
"""
    )
    spec = sustainsim.loads_config(HEAD.format(years=3) + body)
    one = sustainsim.simulate(spec, draws=20, chunk_size=20)
    many = sustainsim.simulate(spec, draws=20, chunk_size=3)
    for k in ("allocated_revenue", "indirect_charge", "backstop_transfer", "central_fund_balance"):
        np.testing.assert_array_equal(one[k].values, many[k].values)
    assert float(one.allocated_revenue.std("draw").max()) > 0  # the draws differ
    _conserved(one)
