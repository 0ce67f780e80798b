"""Costs funded by a grant: one that ends with it and one that is absorbed, by hand to the cent;
the tie follows the grant's realized years draw by draw (renewal, termination, the district's grants)."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from tests.handcalc import HEAD, cents, line, run

TIED = """
[[schools]]
name = "s"
fund_balance = 50000
[schools.enrollment]
base = 100

[[schools.revenue]]
name = "formula"
kind = "fixed"
amount = 500000
[[schools.revenue]]
name = "launch"
kind = "grant"
amount = 120000
start = 1
end = 2

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 450000
[[schools.cost]]
name = "coaches"
kind = "fixed"
amount = 100000
growth = 0.05
funded_by = "launch"
on_expiry = "{on_expiry}"
"""


def _tied(on_expiry: str):
    return run(TIED.replace("{on_expiry}", on_expiry), years=4)


def _school(ds, var):
    return ds[var].isel(draw=0, school=0).values


def test_a_funded_cost_ends_with_its_grant():
    ds = _tied("end")
    # coaches = 100,000 * 1.05^t while the launch grant pays (years 1-2), then nothing
    cents(line(ds, "cost", "coaches"), [105_000.00, 110_250.00, 0.0, 0.0])
    # balance from 50,000:
    #   y1 500,000 + 120,000 - 450,000 - 105,000 = +65,000  -> 115,000
    #   y2 620,000 - 450,000 - 110,250 = +59,750            -> 174,750
    #   y3 500,000 - 450,000 = +50,000                      -> 224,750
    #   y4 +50,000                                          -> 274,750
    cents(_school(ds, "fund_balance"), [115_000.00, 174_750.00, 224_750.00, 274_750.00])
    cents(_school(ds, "grant_funded_cost"), [105_000.00, 110_250.00, 0.0, 0.0])
    cents(_school(ds, "absorbed_cost"), [0.0, 0.0, 0.0, 0.0])
    # the grant's last year is 2 (2031): the cliff is 2032, and it leaves nothing uncovered
    # (y2: recurring cost 560,250 < recurring revenue 500,000 + grant 120,000; y3: 450,000 < 500,000)
    assert _school(ds, "cliff_year") == 2032
    cents(_school(ds, "cliff_gap"), 0.0)


def test_a_funded_cost_is_absorbed_when_its_grant_ends():
    ds = _tied("absorb")
    # coaches go on: y3 100,000 * 1.157625 = 115,762.50; y4 * 1.21550625 = 121,550.625
    cents(line(ds, "cost", "coaches"), [105_000.00, 110_250.00, 115_762.50, 121_550.625])
    # balance: y1, y2 as when it ends (115,000; 174,750), then
    #   y3 500,000 - 450,000 - 115,762.50 = -65,762.50      -> 108,987.50
    #   y4 500,000 - 450,000 - 121,550.625 = -71,550.625    -> 37,436.875
    cents(_school(ds, "fund_balance"), [115_000.00, 174_750.00, 108_987.50, 37_436.875])
    cents(_school(ds, "grant_funded_cost"), [105_000.00, 110_250.00, 0.0, 0.0])
    cents(_school(ds, "absorbed_cost"), [0.0, 0.0, 115_762.50, 121_550.625])
    # cliff 2032: uncovered recurring cost y2 max(0, 560,250 - 500,000 - 120,000) = 0,
    # y3 565,762.50 - 500,000 = 65,762.50: all of it newly uncovered
    assert _school(ds, "cliff_year") == 2032
    cents(_school(ds, "cliff_gap"), 65_762.50)


def test_without_ties_the_outputs_are_as_before():
    plain = TIED.replace('funded_by = "launch"\non_expiry = "{on_expiry}"\n', "")
    ds = run(plain, years=4)
    for k in ("grant_funded_cost", "absorbed_cost", "cliff_year", "cliff_gap"):
        assert k not in ds


RANDOM = """
[district]
fund_balance = 0
[[district.revenue]]
name = "foundation"
kind = "grant"
amount = 50000
end = { dist = "integer_uniform", low = 1, high = 4 }
renewal_probability = 0.3

[[schools]]
name = "s"
[schools.enrollment]
base = 100
[[schools.revenue]]
name = "launch"
kind = "grant"
amount = 1000
start = 2
end = 4
renewal_probability = 0.5
termination_probability = 0.2

[[schools.cost]]
name = "ends"
kind = "fixed"
amount = 10
funded_by = "launch"
[[schools.cost]]
name = "absorbed"
kind = "fixed"
amount = 20
funded_by = "launch"
on_expiry = "absorb"
[[schools.cost]]
name = "central"
kind = "fixed"
amount = 30
funded_by = "foundation"
"""


@pytest.fixture(scope="module")
def random_ties():
    spec = sustainsim.loads_config(HEAD.format(years=8) + RANDOM)
    return sustainsim.simulate(spec, draws=4000, seed=3, lines=True, progress=False)


def test_the_tie_follows_the_grants_realized_years_draw_by_draw(random_ties):
    ds = random_ties
    s = ds.isel(school=0)
    pays = s.revenue_lines.sel(revenue_line="launch").values > 0  # (draw, year)
    t = np.arange(1, ds.sizes["year"] + 1)[None, :]
    # "end": runs before the grant starts (year 1) and while it pays, never after it stopped
    ends = s.cost_lines.sel(cost_line="ends").values > 0
    np.testing.assert_array_equal(ends, (t < 2) | pays)
    # "absorb": runs every year; grant-funded while the grant pays, absorbed after
    absorbed = s.cost_lines.sel(cost_line="absorbed").values
    assert (absorbed == 20).all()
    funded = s.grant_funded_cost.values
    expected_funded = 10 * pays + 20 * pays + 30 * _central_pays(ds)
    np.testing.assert_allclose(funded, expected_funded)
    stopped = (t >= 2) & ~pays
    np.testing.assert_allclose(s.absorbed_cost.values, 20 * stopped)
    # renewals and termination both happen in these draws
    last = ds["schools.s.revenue.launch.last_year"].values - 2029
    assert (last > 4).any() and ((last >= 2) & (last < 4)).any()


def _central_pays(ds):
    # the district grant pays years 1..last (its last year recorded as an input)
    last = ds["district.revenue.foundation.last_year"].values - 2029
    t = np.arange(1, ds.sizes["year"] + 1)[None, :]
    return t <= last[:, None]


def test_a_district_grant_ties_a_schools_cost(random_ties):
    ds = random_ties
    central = ds.cost_lines.sel(cost_line="central").isel(school=0).values > 0
    np.testing.assert_array_equal(central, _central_pays(ds))


def test_a_models_cost_is_tied_to_the_models_grant():
    ds = run(
        """
[models.old]
[[models.old.revenue]]
name = "launch"
kind = "grant"
amount = 5
end = 8
[models.pl]
[[models.pl.revenue]]
name = "launch"
kind = "grant"
amount = 100
start = 0                  # the planning year before the launch: projected year 2
end = 1                    # and the launch year, 3
[[models.pl.cost]]
name = "coach"
kind = "fixed"
amount = 40
funded_by = "launch"

[[schools]]
name = "s"
model = "pl"
previous_model = "old"
conversion_year = 3
[schools.enrollment]
base = 100
""",
        years=5,
    )
    # the model's own grant (not the previous model's, which pays to year 8) pays years 2-3;
    # the model runs from year 3: coach in year 3 only
    cents(line(ds, "cost", "coach"), [0, 0, 40, 0, 0])


def test_a_district_cost_ends_with_a_district_grant():
    ds = run(
        """
[district]
[[district.revenue]]
name = "esser"
kind = "grant"
amount = 300
end = 2
[[district.cost]]
name = "tutors"
kind = "fixed"
amount = 200
funded_by = "esser"

[[schools]]
name = "s"
[schools.enrollment]
base = 100
""",
        years=4,
    )
    # district totals: revenue 300, 300, 0, 0; cost 200, 200, 0, 0 (tutors end with the grant)
    cents(ds.district_cost.isel(draw=0).values, [200, 200, 0, 0])
    cents(ds.district_fund_balance.isel(draw=0).values, [100, 200, 200, 200])
