"""A levy's bad input: each error names the field, the value and what is allowed."""

from __future__ import annotations

import pytest

import sustainsim
from sustainsim.config import ConfigError
from tests.handcalc import HEAD

BASE = {
    "name": '"oplevy"',
    "kind": '"levy"',
    "millage": "5",
    "valuation": "100000000",
    "expires": "2",
    "pass_probability": "0.6",
}


def _config(line: dict[str, str], years: int = 5, growth: str = "") -> str:
    body = "\n".join(f"{k} = {v}" for k, v in line.items())
    return (
        HEAD.format(years=years)
        + f"""
[district.growth]
valuation = 0.02
{growth}

[[schools]]
name = "s"
[schools.enrollment]
base = 100

[[schools.revenue]]
{body}
"""
    )


def _with(**changes: str | None) -> dict[str, str]:
    line = {**BASE, **changes}
    return {k: v for k, v in line.items() if v is not None}


def test_the_base_levy_is_valid():
    sustainsim.loads_config(_config(BASE))
    sustainsim.loads_config(_config(_with(valuation_growth='"valuation"')))


BAD = {
    "both forms": (_with(amount="300000"), ["schools.s.revenue", "exactly one form", "got both"]),
    "neither form": (_with(millage=None, valuation=None), ["exactly one form", "got neither"]),
    "millage without valuation": (_with(valuation=None), ["valuation is missing"]),
    "negative millage": (_with(millage="-1"), ["millage", ">= 0", "-1"]),
    "negative valuation": (_with(valuation="-5"), ["valuation", ">= 0", "-5"]),
    "collection rate above 1": (_with(collection_rate="1.2"), ["collection_rate", "<= 1", "1.2"]),
    "unknown growth index": (
        _with(valuation_growth='"assessed"'),
        [
            "schools.s.revenue.oplevy.valuation_growth",
            "unknown growth index 'assessed'",
            "valuation",
        ],
    ),
    "growth with millage": (_with(growth="0.02"), ["growth is for the amount form"]),
    "valuation_growth with amount": (
        _with(millage=None, valuation=None, amount="1", valuation_growth="0.02"),
        ["valuation_growth is for the millage form"],
    ),
    "election year outside the horizon": (
        _with(election_years="[2, 7]"),
        ["schools.s.revenue.oplevy.election_years", "[7]", "after the horizon", "1..5"],
    ),
    "election year zero": (
        _with(election_years="[0, 2]"),
        ["election_years[0]", "greater than or equal to 1", "got 0"],
    ),
    "election years out of order": (
        _with(election_years="[3, 2]"),
        ["election_years [3, 2]", "strictly increasing", "elections_per_year = 2"],
    ),
    "three elections a year": (
        _with(elections_per_year="3"),
        ["elections_per_year", "less than or equal to 2", "got 3"],
    ),
    "pass probability above 1": (_with(pass_probability="1.5"), ["pass_probability"]),
    "no pass probability": (_with(pass_probability=None), ["needs pass_probability"]),
    "pass decay above 1": (
        _with(pass_decay="1.1"),
        ["pass_decay", "less than or equal to 1", "got 1.1"],
    ),
    "pass decay with a list": (
        _with(pass_probability="[0.5, 0.4]", pass_decay="0.9"),
        ["pass_decay is for one pass_probability"],
    ),
    "zero attempts": (
        _with(max_attempts="0"),
        ["max_attempts", "greater than or equal to 1", "got 0"],
    ),
    "negative expiry": (_with(expires="-1"), ["expires", "greater than or equal to 0", "got -1"]),
    "a new levy that expires": (
        _with(in_force="false"),
        ["expires (2) is for a levy in force", "in_force = false"],
    ),
    "a permanent levy with elections": (
        _with(expires=None, election_years="[2]"),
        ["a permanent levy", "holds no elections", "election_years, pass_probability"],
    ),
    "negative lag": (
        _with(collection_lag="-1"),
        ["collection_lag", "greater than or equal to 0", "got -1"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_levy_input_is_rejected_with_a_clear_error(case):
    line, expected = BAD[case]
    with pytest.raises(ConfigError) as err:
        sustainsim.loads_config(_config(line))
    msg = str(err.value)
    for part in expected:
        assert part in msg, f"{case}: {part!r} not in\n{msg}"
