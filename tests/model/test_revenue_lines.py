"""Revenue lines against budgets computed by hand to the cent: hold harmless, prior-year basis, categorical aid, a mid-year cut."""

from __future__ import annotations

from tests.handcalc import cents, line, run


def test_hold_harmless_prior_categorical_and_mid_year_cut():
    ds = run("""
[district.cuts]
probability = 1.0
magnitude = 0.1
timing = "mid_year"

[[schools]]
name = "s"
[schools.enrollment]
base = 500
drift = -0.10536051565782628       # log(0.9): 450, 405

[[schools.revenue]]
name = "current"
kind = "per_pupil"
rate = 8000
[[schools.revenue]]
name = "hold"
kind = "per_pupil"
rate = 8000
enrollment_basis = "max_current_prior"
[[schools.revenue]]
name = "prior"
kind = "per_pupil"
rate = 8000
enrollment_basis = "prior"
[[schools.revenue]]
name = "title1"
kind = "categorical"
rate = 2000
eligible_share = 0.4
""")
    # cut factor: y1 half of the 10% cut announced mid-year -> 0.95; y2 0.9 * 0.95 = 0.855
    cents(
        line(ds, "revenue", "current"), [8000 * 450 * 0.95, 8000 * 405 * 0.855]
    )  # 3,420,000; 2,770,200
    cents(line(ds, "revenue", "hold"), [3_800_000.00, 3_078_000.00])
    cents(line(ds, "revenue", "prior"), [3_800_000.00, 3_078_000.00])
    cents(line(ds, "revenue", "title1"), [360_000.00, 324_000.00])
