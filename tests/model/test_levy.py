"""Levies against budgets computed by hand to the cent: a failed renewal, a retry, the lag."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.metrics import p_levy_lapse, recurring
from tests.handcalc import HEAD, cents, line, run

SCHOOL = """
[[schools]]
name = "s"
fund_balance = 50000
[schools.enrollment]
base = 100

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 400000
"""

RETRY = (
    SCHOOL
    + """
[[schools.revenue]]
name = "oplevy"
kind = "levy"
millage = 5                  # 5 mills on $100M assessed: $500,000 billed
valuation = 100_000_000
valuation_growth = 0.02
collection_rate = 0.96       # $480,000 collected in the base year
expires = 2                  # the current levy's last collection: year 2
election_years = [2, 3, 4]
pass_probability = [0, 1]    # the renewal fails in year 2, the retry passes in year 3
"""
)


def test_a_levy_that_fails_once_and_passes_on_retry():
    # base yield 5 / 1000 * 100,000,000 * 0.96 = 480,000, growing 2% a year:
    #   year 1: 480,000 * 1.02   = 489,600.00   (the current levy)
    #   year 2: 480,000 * 1.0404 = 499,392.00   (its last year; the renewal fails)
    #   year 3: 0                               (passed in year 3: collected from year 4)
    #   year 4: 480,000 * 1.02^4 = 519,567.4368
    #   year 5: 480,000 * 1.02^5 = 529,958.7855
    # cost 400,000 a year; balance 50,000 + revenue - cost:
    #   50,000 + 489,600 - 400,000 = 139,600.00; + 499,392 - 400,000 = 238,992.00;
    #   - 400,000 = -161,008.00; + 519,567.4368 - 400,000 = -41,440.5632;
    #   + 529,958.785536 - 400,000 = 88,518.222336
    ds = run(RETRY, years=5)
    levy = [489_600.00, 499_392.00, 0.0, 519_567.4368, 529_958.785536]
    cents(line(ds, "revenue", "oplevy"), levy)
    cents(
        ds.fund_balance.isel(draw=0, school=0).values,
        [139_600.00, 238_992.00, -161_008.00, -41_440.5632, 88_518.222336],
    )
    np.testing.assert_array_equal(ds.levy_in_force.isel(draw=0, school=0), [1, 1, 0, 1, 1])
    np.testing.assert_array_equal(ds["schools.s.revenue.oplevy.election.passed_attempt"], [2, 2, 2])
    # a levy is recurring money: no temporary revenue, all of it in recurring revenue
    assert "temporary_revenue" not in ds
    cents(recurring(ds).recurring_revenue.isel(draw=0, school=0).values, levy)


def test_a_renewal_passed_before_expiry_continues_without_a_gap():
    # passed on the first try in year 2 (the expiry year): collected every year
    ds = run(RETRY.replace("pass_probability = [0, 1]", "pass_probability = 1.0"), years=5)
    np.testing.assert_array_equal(ds.levy_in_force.isel(draw=0, school=0), [1] * 5)
    # the lag matters only after a lapse: a failed renewal retried in year 2's second
    # election (elections_per_year = 2) still continues without a gap
    twice = RETRY.replace(
        "election_years = [2, 3, 4]", "election_years = [2]\nelections_per_year = 2"
    )
    ds = run(twice, years=5)
    np.testing.assert_array_equal(ds.levy_in_force.isel(draw=0, school=0), [1] * 5)
    np.testing.assert_array_equal(ds["schools.s.revenue.oplevy.election.passed_attempt"], [2, 2, 2])


def test_a_new_levy_is_collected_collection_lag_years_after_it_passes():
    # a fixed sum of $300,000 growing 3%, voted in year 2, with a two-year lag:
    # collected from year 4 at 300,000 * 1.03^4 = 337,652.643
    ds = run(
        SCHOOL
        + """
[[schools.revenue]]
name = "new"
kind = "levy"
amount = 300000
growth = 0.03
in_force = false
election_years = [2]
pass_probability = 1.0
collection_lag = 2
""",
        years=5,
    )
    cents(line(ds, "revenue", "new"), [0, 0, 0, 337_652.643, 347_782.22229])
    # a levy that never passes (max_attempts: one try, which fails) is never collected
    ds = run(
        SCHOOL
        + """
[[schools.revenue]]
name = "new"
kind = "levy"
amount = 300000
in_force = false
pass_probability = [0, 1]
max_attempts = 1
""",
        years=5,
    )
    cents(line(ds, "revenue", "new"), [0.0] * 5)
    assert p_levy_lapse(ds, 1).probability.item() == 1.0


def test_a_permanent_levy_is_collected_every_year_and_holds_no_vote():
    ds = run(
        SCHOOL
        + """
[[schools.revenue]]
name = "inside"
kind = "levy"
amount = 100000
""",
        years=3,
    )
    cents(line(ds, "revenue", "inside"), [100_000.0] * 3)
    assert "schools.s.revenue.inside.election.passed_attempt" not in ds
    with pytest.raises(ValueError, match="no levy that goes to the voters"):
        p_levy_lapse(ds, 1)


def test_a_district_levy_counts_in_the_district_levy_in_force():
    ds = run(
        """
[[district.revenue]]
name = "district_levy"
kind = "levy"
amount = 200000
expires = 1
election_years = [2]
pass_probability = [0]
"""
        + RETRY,
        years=5,
    )
    # the district's levy lapses after year 1 (its only vote fails); the school's as above
    np.testing.assert_array_equal(ds.district_levy_in_force.isel(draw=0), [2, 1, 0, 1, 1])
    cents(
        (ds.district_revenue - ds.revenue.sum("school")).isel(draw=0).values,
        [200_000, 0, 0, 0, 0],
    )


def _lapse_spec(p: str, years: int = 6, extra: str = "") -> sustainsim.Spec:
    return sustainsim.loads_config(
        HEAD.format(years=years)
        + SCHOOL
        + f"""
[[schools.revenue]]
name = "oplevy"
kind = "levy"
amount = 480000
expires = 1
elections_per_year = 2
pass_probability = {p}
{extra}
"""
    )


@pytest.mark.parametrize("chunk", [1, 7, 250])
def test_election_outcomes_do_not_depend_on_the_chunk_size(chunk):
    spec = _lapse_spec('{ dist = "uniform", low = 0.2, high = 0.6 }', extra="pass_decay = 0.8")
    whole = sustainsim.simulate(spec, draws=500, seed=3, progress=False)
    split = sustainsim.simulate(spec, draws=500, seed=3, chunk_size=chunk, progress=False)
    np.testing.assert_array_equal(whole.levy_in_force, split.levy_in_force)
    np.testing.assert_array_equal(
        whole["schools.s.revenue.oplevy.election.passed_attempt"],
        split["schools.s.revenue.oplevy.election.passed_attempt"],
    )
    np.testing.assert_array_equal(whole.fund_balance, split.fund_balance)


def test_a_model_levy_counts_its_years_from_the_conversion():
    # the model's year 1 is projected year 3: expires in model year 1 (projected 3), the
    # renewal vote in model year 2 (projected 4) fails, the retry in model year 3
    # (projected 5) passes, collected from projected year 6; nothing before conversion
    ds = run(
        """
[models.m]
[[models.m.revenue]]
name = "oplevy"
kind = "levy"
amount = 100000
expires = 1
election_years = [2, 3]
pass_probability = [0, 1]

[[schools]]
name = "s"
model = "m"
conversion_year = 3
[schools.enrollment]
base = 100
""",
        years=6,
    )
    np.testing.assert_array_equal(ds.levy_in_force.isel(draw=0, school=0), [0, 0, 1, 0, 0, 1])
    cents(line(ds, "revenue", "oplevy"), [0, 0, 100_000, 0, 0, 100_000])
