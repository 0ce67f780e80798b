"""The millage a new levy needs, by bisection, against its closed form on a zero-variance school."""

from __future__ import annotations

import pytest

import sustainsim
from sustainsim.analysis import levy_millage
from tests.handcalc import HEAD

LINE = "schools.s.revenue.new_levy"


def _spec(pass_probability: str = "1.0", extra: str = "") -> sustainsim.Spec:
    return sustainsim.loads_config(
        HEAD.format(years=5)
        + f"""
[[schools]]
name = "s"
fund_balance = 150000
[schools.enrollment]
base = 100

[[schools.revenue]]
name = "state"
kind = "fixed"
amount = 1000000

[[schools.revenue]]
name = "new_levy"
kind = "levy"
millage = 1.0
valuation = 200_000_000
collection_rate = 0.95
in_force = false
election_years = [1]          # voted in year 1, collected from year 2
pass_probability = {pass_probability}
max_attempts = 1
{extra}

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 1100000
"""
    )


# Closed form: deficit d = 100,000 a year, levy yield L = m / 1000 * 200,000,000 * 0.95
# in years 2..5, so B_t = 150,000 - 100,000 t + (t - 1) L. With L < d the balance falls
# every year and year 5 binds: 150,000 - 500,000 + 4 L >= 0, L >= 87,500, i.e.
# m* = 1000 * 87,500 / (200,000,000 * 0.95) = 0.46052631578947... mills
# (then B = 50,000, 37,500, 25,000, 12,500, 0 in years 1..5).
M_STAR = 1000 * 87_500 / (200_000_000 * 0.95)


def test_the_millage_bisection_matches_the_closed_form():
    m = levy_millage(_spec(), LINE, 0.9, low=0.0, high=5.0, tol=1e-7)
    assert float(m.p_low) == 0.0 and float(m.p_high) == 1.0
    assert M_STAR <= float(m.value) <= M_STAR + 1e-6
    assert float(m.annual_yield) == pytest.approx(87_500, abs=0.5)
    assert m.attrs["units"] == "mills" and m.attrs["line"] == LINE


def test_on_common_draws_only_the_draws_where_the_levy_passes_are_saved():
    # one try at 60%: P(solvent | m) = 0.6 for m >= m*, else 0, on the same draws
    spec = _spec("0.6")
    m = levy_millage(spec, LINE, 0.5, low=0.0, high=5.0, draws=4000, tol=1e-7)
    assert M_STAR <= float(m.value) <= M_STAR + 1e-6
    passed = float(m.p_high)
    assert 0.6 - 4 * (0.24 / 4000) ** 0.5 <= passed <= 0.6 + 4 * (0.24 / 4000) ** 0.5
    with pytest.raises(ValueError, match="misses the target 0.9 at both ends"):
        levy_millage(spec, LINE, 0.9, low=0.0, high=5.0, draws=4000)


def test_only_a_levy_of_the_millage_form_has_a_millage():
    with pytest.raises(ValueError, match="not a revenue line.*schools.s.revenue.new_levy"):
        levy_millage(_spec(), "schools.s.revenue.nothing")
    with pytest.raises(ValueError, match="not a levy of the millage form.*'fixed'"):
        levy_millage(_spec(), "schools.s.revenue.state")
    with pytest.raises(ValueError, match="low must be >= 0 mills"):
        levy_millage(_spec(), LINE, low=-1.0)
