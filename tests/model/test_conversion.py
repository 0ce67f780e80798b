"""A school converting between models: lines by year, one-time costs and start-up grants, by hand."""

from __future__ import annotations

import pytest

from sustainsim.metrics.startup import seed_study
from tests.handcalc import cents, line, run


def test_models_conversion_one_time_and_relative_grants():
    ds = run(
        """
[models.traditional]
cost = [ { name = "teachers", kind = "fixed", amount = 100000 } ]

[models.personalized]
revenue = [ { name = "startup_grant", kind = "grant", amount = 70000, start = 0, end = 1 } ]
cost = [
  { name = "teachers", kind = "fixed", amount = 80000 },
  { name = "devices", kind = "one_time", amount = 50000, year = 0, category = "technology" },
  { name = "training", kind = "one_time", amount = 20000, year = 1, category = "pd" },
]

[[schools]]
name = "s"
model = "personalized"
previous_model = "traditional"
conversion_year = 3
[schools.enrollment]
base = 100
""",
        years=5,
    )
    # traditional in years 1-2, personalized from year 3; planning year 2 buys devices,
    # launch year 3 trains; the start-up grant pays in planning and launch years
    cents(line(ds, "cost", "teachers"), [100_000, 100_000, 80_000, 80_000, 80_000])
    cents(ds.cost.isel(draw=0, school=0).values, [100_000, 150_000, 100_000, 80_000, 80_000])
    cents(ds.revenue.isel(draw=0, school=0).values, [0, 70_000, 70_000, 0, 0])
    cents(ds.one_time_cost.isel(draw=0, school=0).values, [0, 50_000, 20_000, 0, 0])
    seed = seed_study(ds).isel(school=0)
    assert float(seed.startup_total) == pytest.approx(70_000)
    assert float(seed.technology_share_of_startup) == pytest.approx(50 / 70)
    assert float(seed.pd_share_of_startup) == pytest.approx(20 / 70)
    # start-up per pupil over enrollment in the first start-up year (100), share of that year's revenue
    assert float(seed.startup_per_pupil) == pytest.approx(700.0)
    assert float(seed.startup_share_of_funding) == pytest.approx(70_000 / 70_000)
