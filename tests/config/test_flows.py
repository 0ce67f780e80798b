"""Flows in the config (config.flows): every reference checked, clear errors."""

from __future__ import annotations

import tomllib

import pytest

from sustainsim.config import ConfigError, parse_config

BASE = """
[simulation]
years = 3
first_year = 2030

[models.pl]
cost = [{ name = "startup_pd", kind = "one_time", year = 0, amount = 1.0 }]

[[schools]]
name = "a"
model = "pl"
attributes = { need = 1.2 }
enrollment = { base = 100 }
cost = [{ name = "staff", kind = "fixed", amount = 1.0 }]

[[schools]]
name = "b"
enrollment = { base = 100 }
"""


def _errors(extra: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(tomllib.loads(BASE + extra))
    return str(info.value)


def _grant(allocate: str) -> str:
    return f"""
[[district.revenue]]
name = "g"
kind = "grant"
amount = 1.0
end = 1
allocate = {allocate}
"""


def test_valid_flows_parse():
    cfg = parse_config(
        tomllib.loads(
            BASE
            + _grant(
                '{ method = "pass_through", to = [{ school = "a", lines = ["startup_pd", '
                '"staff"] }] }'
            )
            + """
[[district.cost]]
name = "office"
kind = "fixed"
amount = 1.0
charge = { method = "indirect_rate", rate = 0.05, schools = ["b"] }
[district.backstop]
cap = 1000
"""
        )
    )
    assert cfg.district.revenue[0].allocate.to[0].lines == ["startup_pd", "staff"]
    assert cfg.district.backstop.per_school is None


@pytest.mark.parametrize(
    ("allocate", "expected"),
    [
        (
            '{ method = "pass_through", to = [{ school = "zed", lines = ["staff"] }] }',
            "district.revenue.g.allocate.to[0].school: unknown school 'zed'; allowed: a, b",
        ),
        (
            '{ method = "pass_through", to = [{ school = "b", lines = ["staff"] }] }',
            "district.revenue.g.allocate.to[0].lines: unknown cost line of 'b' 'staff'; "
            "allowed: none",
        ),
        (
            '{ method = "pass_through", to = [{ school = "a", lines = ["startup"] }] }',
            "unknown cost line of 'a' 'startup'; allowed: startup_pd, staff",
        ),
        (
            '{ method = "per_pupil", schools = ["a", "c"] }',
            "district.revenue.g.allocate.schools: unknown school 'c'; allowed: a, b",
        ),
        (
            '{ method = "shares", shares = { a = 0.5, q = 0.2 } }',
            "district.revenue.g.allocate.shares: unknown school 'q'",
        ),
        (
            '{ method = "weighted", weight_attribute = "need" }',
            "weight_attribute: school 'b' has no attribute 'need'; its attributes: none",
        ),
        (
            '{ method = "weighted", weights = { a = 2.0 } }',
            "district.revenue.g.allocate.weights: no weight for b",
        ),
        ('{ method = "weighted" }', "needs weights (per school) or weight_attribute"),
        ('{ method = "shares", shares = { a = 0.7, b = 0.6 } }', "summing to at most 1"),
        (
            '{ method = "per_pupil", shares = { a = 1.0 } }',
            "shares does not apply to method = 'per_pupil' (allowed: schools, share)",
        ),
        ('{ method = "by_lottery" }', "method"),
    ],
)
def test_bad_allocations(allocate, expected):
    assert expected in _errors(_grant(allocate))


def test_bad_charges_and_backstop():
    msg = _errors("""
[[district.cost]]
name = "office"
kind = "fixed"
amount = 1.0
charge = { method = "per_pupil", rate = 10, growth = "wages", schools = ["x"] }
[district.backstop]
cap = 10
schools = ["y"]
""")
    assert "district.cost.office.charge.schools: unknown school 'x'; allowed: a, b" in msg
    assert "district.cost.office.charge.growth: unknown growth index 'wages'; allowed: none" in msg
    assert "district.backstop.schools: unknown school 'y'; allowed: a, b" in msg
    msg = _errors("""
[[district.cost]]
name = "office"
kind = "fixed"
amount = 1.0
charge = { method = "indirect_rate", rate = 1.5 }
""")
    assert "needs a rate in [0, 1]" in msg and "(got 1.5)" in msg
    assert "cap" in _errors("[district.backstop]\nper_school = 1\n")


def test_flows_only_on_district_lines():
    msg = _errors("""
[[schools.revenue]]
name = "own"
kind = "fixed"
amount = 1.0
allocate = { method = "per_pupil" }
""")
    assert "schools.b.revenue.own.allocate: only district lines move money" in msg
    msg = _errors("""
[[district.cost]]
name = "office"
kind = "fixed"
amount = 1.0
allocate = { method = "per_pupil" }
[[district.revenue]]
name = "aid"
kind = "fixed"
amount = 1.0
charge = { method = "per_pupil" }
""")
    assert "district.cost.office.allocate: only revenue lines are allocated" in msg
    assert "district.revenue.aid.charge: only cost lines are charged" in msg


def test_pooled_reserve_refuses_a_response_that_reads_the_balance():
    msg = _errors("""
[district]
pooled_reserve = true
[district.response]
trigger = "below_reserve"
""")
    assert "district.response: with district.pooled_reserve = true" in msg
    parse_config(tomllib.loads(BASE + "[district]\npooled_reserve = true\n[district.response]\n"))
