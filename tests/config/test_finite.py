"""Finite by construction: the schema refuses non-finite and absurd numbers, naming the field.

Each case was accepted before (issue 15, defect 5): ``validate`` passed and the run gave
inf/NaN (P(solvent) of exactly 0 or 1, or a late "Out of range float values" error).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sustainsim
from sustainsim.config import ConfigError
from sustainsim.config.fields import MAX_MAGNITUDE
from sustainsim.sampling.distributions import Distribution, DistributionError
from tests.conftest import SMALL_TOML


def _with(old: str, new: str, text: str = SMALL_TOML) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (what, the TOML edit, the field path in the message, what the message says is allowed)
CASES = [
    ("inf fund balance", ("fund_balance = 200000", "fund_balance = inf"), "schools.a.fund_balance", "finite"),
    ("-inf fund balance", ("fund_balance = 200000", "fund_balance = -inf"), "schools.a.fund_balance", "finite"),
    ("nan fund balance", ("fund_balance = 200000", "fund_balance = nan"), "schools.a.fund_balance", "finite"),
    ("inf rate", ("rate = 9000", "rate = inf"), "schools.a.revenue.pp.rate", "finite"),
    ("inf drift", ("drift = -0.01", "drift = inf"), "schools.a.enrollment.drift", "finite"),
    ("drift 1000", ("drift = -0.01", "drift = 1000"), "schools.a.enrollment.drift", "<= 1"),
    ("drift -5", ("drift = -0.01", "drift = -5.0"), "schools.a.enrollment.drift", ">= -1"),
    ("volatility 1e300", ("volatility = 0.05", "volatility = 1e300"), "schools.a.enrollment.volatility", "<= 2"),
    ("inf positions", ("students_per_position = 25", "positions = inf"), "schools.a.cost.teachers.positions", "finite"),
    ("growth 1e300", ("funding = 0.02", "funding = 1e300"), "district.growth.funding.rate", "<= 1"),
    ("line growth 1e300", ('growth = "funding"', "growth = 1e300"), "schools.a.revenue.pp.growth", "1e+15"),
    ("line growth 5", ('growth = "funding"', "growth = 5.0"), "schools.a.revenue.pp.growth", "<= 1"),
    ("inf cut probability", ("probability = 0.2", "probability = inf"), "district.cuts.probability", "finite"),
    ("capacity inf", ("common_loading = 0.5", "common_loading = 0.5\ncapacity = inf"), "schools.a.enrollment.capacity", "finite"),
    ("amount 1e300", ("amount = 150000", "amount = 1e300"), "schools.a.revenue.grant.amount", "1e+15"),
    (
        "distribution with an inf parameter",
        ("salary = { dist = \"uniform\", low = 0.02, high = 0.04 }", "salary = { dist = \"uniform\", low = 0.02, high = inf }"),
        "district.growth.salary.rate",
        "finite",
    ),
    (
        "distribution with a nan parameter",
        ("magnitude = { dist = \"uniform\", low = 0.02, high = 0.08 }", "magnitude = { dist = \"uniform\", low = nan, high = 0.08 }"),
        "district.cuts.magnitude",
        "finite",
    ),
    (
        "unbounded distribution for an amount",
        ("amount = 150000", "amount = { dist = \"lognormal\", mu = 10, sigma = 5 }"),
        "schools.a.revenue.grant.amount",
        "1e+15",
    ),
    (
        "capacity below base enrollment",
        ("common_loading = 0.5", "common_loading = 0.5\ncapacity = 300"),
        "schools.a.enrollment",
        "capacity must be >=",
    ),
    ("seed 10**30", ("seed = 7", "seed = 1000000000000000000000000000000"), "simulation.seed", "9223372036854775807"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "path", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_non_finite_and_absurd_numbers_are_refused(edit, path, allowed):
    with pytest.raises(ConfigError) as info:
        sustainsim.loads_config(_with(*edit), source="bad.toml")
    text = str(info.value)
    assert f"{path}:" in text or f"{path}[" in text, text
    assert allowed in text, text


GRADES = """
grades = ["K", "1", "2"]
grade_shares = [0.4, 0.3, 0.3]
"""


def test_nan_in_grade_shares_is_refused():
    ok = _with("common_loading = 0.5", "common_loading = 0.5" + GRADES)
    sustainsim.loads_config(ok)  # the well-formed version is valid
    bad = _with("[0.4, 0.3, 0.3]", "[0.4, nan, 0.3]", ok)
    with pytest.raises(ConfigError, match=r"schools\.a\.enrollment\.grade_shares\[1\]: .*finite"):
        sustainsim.loads_config(bad)


COHORT = """
[[schools]]
name = "c"
[schools.enrollment]
model = "cohort"
grades = ["K", "1", "2"]
by_grade = [100, 95, 90]
progression = 0.98
"""


def test_nan_in_by_grade_is_refused():
    sustainsim.loads_config(SMALL_TOML + COHORT)
    bad = SMALL_TOML + COHORT.replace("[100, 95, 90]", "[100, nan, 90]")
    with pytest.raises(ConfigError, match=r"schools\.c\.enrollment\.by_grade\[1\]: .*finite"):
        sustainsim.loads_config(bad)


def test_cohort_capacity_below_base_is_refused():
    bad = SMALL_TOML + COHORT + "capacity = 200\n"
    with pytest.raises(ConfigError, match=r"schools\.c\.enrollment: capacity \(200\) is below"):
        sustainsim.loads_config(bad)
    sustainsim.loads_config(SMALL_TOML + COHORT + "capacity = 285\n")  # the sum exactly


def test_bounds_are_inclusive_and_messages_give_the_range():
    # the edges of the natural ranges are allowed
    for edge in ("drift = 1.0", "drift = -1.0"):
        sustainsim.loads_config(_with("drift = -0.01", edge))
    sustainsim.loads_config(_with("funding = 0.02", "funding = 1.0"))
    sustainsim.loads_config(_with("fund_balance = 200000", f"fund_balance = {-MAX_MAGNITUDE:.0f}"))
    with pytest.raises(ConfigError, match=r"must be >= -1 and <= 1 \(got 1000"):
        sustainsim.loads_config(_with("drift = -0.01", "drift = 1000"))


def test_a_distribution_may_leave_one_side_of_a_truncation_open():
    d = Distribution.from_spec({"dist": "truncated_normal", "mean": 0.0, "sd": 1.0, "low": 0.0})
    assert d.params["high"] == math.inf
    lo, hi = d.bounds()
    # the largest uniform used to round to p = 1 (an infinite bound): now finite, ~8.2 sd
    assert lo == 0.0 and math.isfinite(hi) and 8 < hi < 9
    text = _with(
        "amount = 150000", 'amount = { dist = "truncated_normal", mean = 1e5, sd = 1e4, low = 0 }'
    )
    spec = sustainsim.loads_config(text)
    ds = sustainsim.simulate(spec, draws=200, seed=1, progress=False)
    assert np.isfinite(ds.fund_balance.values).all()


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 0.0, "sd": math.inf},
        {"dist": "normal", "mean": math.nan, "sd": 1.0},
        {"dist": "uniform", "low": -math.inf, "high": 0.0},
        {"dist": "truncated_normal", "mean": math.inf, "sd": 1.0},
        {"dist": "gamma", "a": 2.0, "scale": math.inf},
    ],
)
def test_distribution_parameters_must_be_finite(spec):
    with pytest.raises(DistributionError, match="must be a finite number"):
        Distribution.from_spec(spec)
