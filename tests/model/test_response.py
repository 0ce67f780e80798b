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


def test_below_reserve_spends_the_reserve_down_before_cutting():
    # fund balance 1.5M, reserve 2 months of 1.3M: no cut until B falls below 216,666.67
    ds = run(
        RESPONSE.format(trigger="below_reserve", reserve="[district.reserve]\nmonths = 2").replace(
            "fund_balance = 500000", "fund_balance = 1500000"
        ),
        years=6,
    )
    # B: 1.2M, 0.9M, 0.6M, 0.3M (all above reserve: no trim), 0 (y5: below) -> trim in y6
    cents(ds.trimmed.isel(draw=0, school=0).values, [0, 0, 0, 0, 0, 100_000])
    cents(
        ds.fund_balance.isel(draw=0, school=0).values,
        [1_200_000, 900_000, 600_000, 300_000, 0, -200_000],
    )


def test_response_below_reserve():
    ds = run(
        RESPONSE.format(trigger="below_reserve", reserve="[district.reserve]\nmonths = 2"), years=3
    )
    # y1: cost 1.3M, deficit 300K, B 200K < reserve 2/12 * 1.3M = 216,666.67 -> gap 300K
    # y2: trim 100K (the cap: half of pd), cost 1.2M, deficit 200K, B 0 < reserve -> gap 200K
    # y3: required 100K + 200K, trim still 100K (the cap), B -200K
    cents(ds.trimmed.isel(draw=0, school=0).values, [0, 100_000, 100_000])
    cents(ds.required_cut.isel(draw=0, school=0).values, [0, 300_000, 300_000])
    cents(ds.fund_balance.isel(draw=0, school=0).values, [200_000, 0, -200_000])
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
            assert np.all(p <= prev_p + 1e-12)
            if trigger == "deficit":  # draw by draw, under common random numbers
                assert np.all(bal <= prev_bal + 1e-6)
            # (not under "below_reserve": a larger cut crosses the reserve sooner and so
            # starts cutting sooner; a draw's balance may then end higher, P(solvent) not)
        prev_bal, prev_p = bal, p
        flex = ds.cost_lines.sel(cost_line=["pd", "tech"])
        assert float(flex.min()) >= 0
        assert np.all(ds.trimmed.values >= 0)
        untrimmed = 250_000 + 300 * ds.enrollment
        assert np.all(ds.trimmed.values <= cap * untrimmed.values + 1e-6)


# --- persistent base reductions, lever by lever (zero variance, by hand) ----------------------

GAP = """
[district.response]
trigger = "deficit"
cap = 0.5
lag = {lag}
{extra}
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
{revenue}
[[schools.cost]]
name = "core"
kind = "fixed"
amount = 800000
[[schools.cost]]
name = "pd"
kind = "fixed"
amount = 300000
flexible = true
"""


def gap(lag=1, extra="", reserve="", revenue="", years=6):
    return run(GAP.format(lag=lag, extra=extra, reserve=reserve, revenue=revenue), years=years)


def first(ds, name):
    return ds[name].isel(draw=0, school=0).values


def test_constant_gap_is_trimmed_every_year_after_the_lag_and_the_balance_holds():
    # $100K structural gap, $300K flexible, cap 0.5, lag 1: the year-1 deficit is cut from
    # the base in year 2 and stays cut; the balance stays at 500K - 100K
    ds = gap()
    cents(first(ds, "trimmed"), [0] + [100_000] * 5)
    cents(first(ds, "required_cut"), [0] + [100_000] * 5)
    cents(first(ds, "unmet_gap"), [0] * 6)
    cents(line(ds, "cost", "pd"), [300_000] + [200_000] * 5)
    cents(first(ds, "fund_balance"), [400_000] * 6)
    cut = ds.cut.isel(draw=0, school=0)
    assert list(ds.lever.values) == ["trim", "freeze", "rif", "reserves"]
    cents(cut.sel(lever="trim").values, [0] + [100_000] * 5)
    cents(cut.sel(lever=["freeze", "rif", "reserves"]).values, np.zeros((6, 3)))


def test_constant_gap_with_a_two_year_lag():
    # years 1 and 2 run the deficit; from year 3 the cut is the gap, never twice the gap
    ds = gap(lag=2)
    cents(first(ds, "trimmed"), [0, 0] + [100_000] * 4)
    cents(first(ds, "fund_balance"), [400_000, 300_000] + [300_000] * 4)


def test_restore_by_surplus_and_above_reserve():
    grant = '[[schools.revenue]]\nname = "g"\nkind = "grant"\namount = 150000\nstart = 3\nend = 6'
    # y1 deficit 100K (B 400K); y2 trim 100K (B 400K); y3 grant: surplus 150K (B 550K)
    never = gap(revenue=grant)
    cents(first(never, "trimmed"), [0] + [100_000] * 5)
    # surplus: y4 needs max(100K - 150K, 0) = 0: restored; y4, y5, y6 surplus 50K
    surplus = gap(revenue=grant, extra='restore = "surplus"')
    cents(first(surplus, "trimmed"), [0, 100_000, 100_000, 0, 0, 0])
    cents(first(surplus, "fund_balance"), [400_000, 400_000, 550_000, 600_000, 650_000, 700_000])
    # above_reserve with 7 months: y3 B 550K < 583,333.33 keeps the cut in y4 (B 700K);
    # y4 B 700K >= 583,333.33 gives it back in y5
    above = gap(
        revenue=grant, extra='restore = "above_reserve"', reserve="[district.reserve]\nmonths = 7"
    )
    cents(first(above, "trimmed"), [0, 100_000, 100_000, 100_000, 0, 0])
    cents(first(above, "fund_balance"), [400_000, 400_000, 550_000, 700_000, 750_000, 800_000])


def test_reserves_first_down_to_the_floor_then_trims():
    ds = gap(extra='levers = ["reserves", "trim"]\nreserve_floor = 2', years=5)
    floor0 = 2 / 12 * 1_100_000  # 183,333.33
    # y2, y3: the reserves cover the 100K; y4: only 200K - floor0 is left above the floor
    res4 = 200_000 - floor0
    trim4 = 100_000 - res4
    bal4 = 200_000 - res4
    # y5: the 83,333.33 trim stays in the base, the deficit 16,666.67 adds to it; the floor
    # is 2 months of y4's cost (1.1M - trim4)
    res5 = bal4 - 2 / 12 * (1_100_000 - trim4)
    cut = ds.cut.isel(draw=0, school=0)
    cents(cut.sel(lever="reserves").values, [0, 100_000, 100_000, res4, res5])
    cents(cut.sel(lever="trim").values, [0, 0, 0, trim4, 100_000 - res5])
    cents(first(ds, "fund_balance"), [400_000, 300_000, 200_000, bal4, bal4 - res5])
    cents(first(ds, "unmet_gap"), [0] * 5)


STAFF = """
[district.response]
trigger = "deficit"
cap = 0.5
lag = 1
levers = [{levers}]
notice_lag = {notice}

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
name = "other"
kind = "fixed"
amount = {other}
[[schools.cost]]
name = "teachers"
kind = "staff"
positions = 10
salary = 50000
step_rate = {step}
benefits_rate = 0.2
turnover = 0.1
"""


def test_hiring_freeze_grows_by_the_turnover_rate():
    ds = run(STAFF.format(levers='"freeze"', notice=1, other=520_000, step=0.0), years=4)
    # 10 positions at 60K; gap 120K. y2: at most 10% of the positions frozen (60K), unmet
    # 60K; y3: 20% could be (120K): the 120K (60K in force + 60K deficit) is met
    cut = ds.cut.isel(draw=0, school=0).sel(lever="freeze").values
    cents(cut, [0, 60_000, 120_000, 120_000])
    cents(first(ds, "unmet_gap"), [0, 60_000, 0, 0])
    cents(line(ds, "cost", "teachers"), [600_000, 540_000, 480_000, 480_000])
    cents(first(ds, "fund_balance"), [380_000, 320_000, 320_000, 320_000])


def test_reduction_in_force_after_notice_at_entry_pay():
    ds = run(STAFF.format(levers='"rif"', notice=1, other=450_000, step=0.05), years=4)
    # pay per position 50K * 1.05^t * 1.2: 63,000, 66,150, 69,457.5, 72,930.375; entry
    # pay 60K. y1 deficit 80K; y2 needs 80K but no notice was given in y1: nothing;
    # y2 deficit 111,500; y3 needs 111,500, the 80K noticed in y2 is cut (1.33 positions at
    # 60K); y3 deficit 64,575; y4 needs 80K + 64,575, the 111,500 noticed in y3 is cut
    cut = ds.cut.isel(draw=0, school=0).sel(lever="rif").values
    cents(cut, [0, 0, 80_000, 111_500])
    cents(first(ds, "required_cut"), [0, 80_000, 111_500, 144_575])
    cents(first(ds, "unmet_gap"), [0, 80_000, 31_500, 33_075])
    cents(line(ds, "cost", "teachers"), [630_000, 661_500, 614_575, 617_803.75])
    cents(first(ds, "fund_balance"), [420_000, 308_500, 243_925, 176_121.25])


def test_levers_in_order_trim_then_freeze():
    # gap 220K: trims (cap 0.5 of 300K... here none flexible) so freeze-then-trim order
    body = STAFF.format(levers='"freeze", "trim"', notice=1, other=520_000, step=0.0)
    body += '[[schools.cost]]\nname = "pd"\nkind = "fixed"\namount = 100000\nflexible = true\n'
    ds = run(body, years=4)
    cut = ds.cut.isel(draw=0, school=0)
    # gap 220K; y2: freeze 60K, trim 50K (cap), unmet 110K; y3: need 110K + 110K in force:
    # freeze 120K, trim 50K, unmet 50K; y4: need 170K + 50K: freeze 180K, trim 40K
    cents(cut.sel(lever="freeze").values, [0, 60_000, 120_000, 180_000])
    cents(cut.sel(lever="trim").values, [0, 50_000, 50_000, 40_000])
    cents(first(ds, "unmet_gap"), [0, 110_000, 50_000, 0])


# --- invariants of the levers --------------------------------------------------------------------

LEVERS_TOML = MONO.replace(
    "lag = {lag}",
    'lag = {lag}\nlevers = [{levers}]\nnotice_lag = {notice}\nrestore = "{restore}"\n'
    "reserve_floor = 1",
).replace("growth = 0.03\n", "growth = 0.03\nturnover = {turnover}\nstep_rate = 0.03\n")

lever_orders = st.lists(
    st.sampled_from(["trim", "freeze", "rif", "reserves"]), min_size=1, max_size=4, unique=True
)


def _levers_spec(levers, **kw):
    text = LEVERS_TOML.format(levers=", ".join(f'"{x}"' for x in levers), **kw)
    return sustainsim.loads_config(text)


@settings(max_examples=15, deadline=None)
@given(
    levers=lever_orders,
    trigger=st.sampled_from(["deficit", "below_reserve"]),
    restore=st.sampled_from(["never", "surplus", "above_reserve"]),
    cap=st.floats(0, 1),
    lag=st.integers(1, 3),
    notice=st.integers(0, 2),
    turnover=st.floats(0, 0.3),
)
def test_the_response_never_raises_a_cost_line_nor_cuts_one_below_zero(
    levers, trigger, restore, cap, lag, notice, turnover
):
    kw = dict(trigger=trigger, cap=cap, lag=lag, notice=notice, restore=restore)
    spec = _levers_spec(levers, turnover=turnover, **kw)
    on = sustainsim.simulate(spec, lines=True)
    off_text = spec.text.replace("[district.response]", "[district.unused]")
    off_text = (
        off_text.split("[district.unused]")[0]
        + "[[schools]]"
        + (off_text.split("[district.unused]")[1].split("[[schools]]", 1)[1])
    )
    off = sustainsim.simulate(sustainsim.loads_config(off_text), lines=True)
    assert np.all(on.cost_lines.values <= off.cost_lines.values + 1e-6)
    assert float(on.cost_lines.min()) >= -1e-6
    assert float(on.cut.min()) >= 0 and float(on.unmet_gap.min()) >= -1e-6
    total = on.cut.sum("lever") + on.unmet_gap
    np.testing.assert_allclose(total.values, on.required_cut.values, atol=1e-6)
    saved = (off.cost - on.cost).values
    base = on.cut.sel(lever=["trim", "freeze", "rif"]).sum("lever").values
    np.testing.assert_allclose(saved, base, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    levers=st.permutations(["trim", "freeze", "rif"]).map(list),
    gap_=st.floats(0, 150_000),
    flex=st.floats(0, 400_000),
    cap=st.floats(0, 1),
    lag=st.integers(1, 3),
    notice=st.integers(0, 2),
)
def test_with_a_constant_gap_the_balance_after_the_lag_is_non_decreasing(
    levers, gap_, flex, cap, lag, notice
):
    from hypothesis import assume

    assume(gap_ <= cap * flex)  # the trims alone could close it
    body = (
        STAFF.format(levers=", ".join(f'"{x}"' for x in levers), notice=notice, other=0, step=0.0)
        .replace("lag = 1", f"lag = {lag}")
        .replace("cap = 0.5", f"cap = {cap}")
    )
    body = body.replace("amount = 1000000", f"amount = {600_000 + flex - gap_}")
    body += f'[[schools.cost]]\nname = "pd"\nkind = "fixed"\namount = {flex}\nflexible = true\n'
    ds = run(body, years=7)
    bal = ds.fund_balance.isel(draw=0, school=0).values
    assert np.all(np.diff(bal[lag - 1 :]) >= -1e-6)


@settings(max_examples=15, deadline=None)
@given(
    cuts=st.lists(st.floats(0, 0.3), min_size=2, max_size=4),
    levers=lever_orders,
    restore=st.sampled_from(["never", "surplus", "above_reserve"]),
    cap=st.floats(0, 1),
    lag=st.integers(1, 3),
    notice=st.integers(0, 2),
)
def test_a_larger_permanent_cut_never_raises_p_solvent_with_the_levers(
    cuts, levers, restore, cap, lag, notice
):
    kw = dict(trigger="deficit", cap=cap, lag=lag, notice=notice, restore=restore)
    spec = _levers_spec(levers, turnover=0.1, **kw)
    prev = None
    for x in sorted(cuts):
        ds = sustainsim.simulate(spec.with_overrides({"district.stress_cut": x}))
        p = sustainsim.p_solvent(ds).probability.values
        if prev is not None:
            assert np.all(p <= prev + 1e-12)
        prev = p


def test_bad_levers_are_named():
    from sustainsim.config import ConfigError

    bad = {
        'levers = ["trim", "layoffs"]': ["district.response.levers", "'layoffs'", "rif"],
        'levers = ["trim", "trim"]': ["district.response.levers", "repeated: trim"],
        'restore = "sometimes"': ["district.response.restore", "'sometimes'", "above_reserve"],
        "notice_lag = -1": ["district.response.notice_lag", "-1"],
    }
    for extra, needles in bad.items():
        text = HEAD.format(years=2) + GAP.format(lag=1, extra=extra, reserve="", revenue="")
        try:
            sustainsim.loads_config(text)
        except ConfigError as e:
            for needle in needles:
                assert needle in str(e), (needle, str(e))
        else:
            raise AssertionError(f"{extra} accepted")
