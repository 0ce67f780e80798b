"""funded_by references: a cost's grant must be one its school runs; errors name field, value, allowed."""

from __future__ import annotations

import pytest

import sustainsim
from sustainsim.config import ConfigError
from sustainsim.config.funding import uses_funding
from tests.handcalc import HEAD

BASE = """
[district]
[[district.revenue]]
name = "esser"
kind = "grant"
amount = 1
end = 2
[[district.revenue]]
name = "levy"
kind = "fixed"
amount = 1

[models.pl]
[[models.pl.revenue]]
name = "launch"
kind = "grant"
amount = 1
end = 1
[models.other]
[[models.other.revenue]]
name = "other_grant"
kind = "grant"
amount = 1
end = 1

[[schools]]
name = "s"
model = "pl"
[schools.enrollment]
base = 100
[[schools.revenue]]
name = "own"
kind = "grant"
amount = 1
end = 1
"""


def _load(extra: str):
    return sustainsim.loads_config(HEAD.format(years=3) + BASE + extra)


def _cost(where: str, ref: str, more: str = "") -> str:
    return f'[[{where}.cost]]\nname = "c"\nkind = "fixed"\namount = 1\nfunded_by = "{ref}"\n{more}'


@pytest.mark.parametrize("ref", ["own", "launch", "esser"])
def test_a_school_cost_may_be_funded_by_its_own_its_models_or_the_districts_grant(ref):
    spec = _load(_cost("schools", ref, 'on_expiry = "absorb"\n'))
    assert spec.config.schools[0].cost[0].funded_by == ref
    assert uses_funding(spec.config)


def test_an_unknown_grant_is_refused_naming_field_value_and_allowed_names():
    with pytest.raises(ConfigError) as info:
        _load(_cost("schools", "esr"))
    msg = str(info.value)
    assert "schools.s.cost.c.funded_by: unknown grant line 'esr'" in msg
    assert "esser, launch, own" in msg  # the grants the school runs, not another model's
    assert "other_grant" not in msg


def test_a_revenue_line_that_is_not_a_grant_is_refused():
    with pytest.raises(ConfigError, match=r"funded_by: 'levy' is a revenue line but not a grant"):
        _load(_cost("schools", "levy"))


def test_a_models_cost_is_checked_against_the_grants_its_schools_run():
    _load(_cost("models.pl", "launch"))
    with pytest.raises(ConfigError, match=r"models.other.cost.c.funded_by: unknown grant line"):
        _load(_cost("models.other", "own"))  # no school runs 'other': its grants and the district's


def test_a_district_cost_may_name_only_a_district_grant():
    _load(_cost("district", "esser"))
    with pytest.raises(
        ConfigError, match=r"district.cost.c.funded_by: unknown grant line 'own'.*: esser$"
    ):
        _load(_cost("district", "own"))


def test_on_expiry_needs_funded_by_and_is_end_or_absorb():
    extra = '[[schools.cost]]\nname = "c"\nkind = "fixed"\namount = 1\non_expiry = "absorb"\n'
    with pytest.raises(ConfigError, match=r"on_expiry = 'absorb' needs funded_by"):
        _load(extra)
    with pytest.raises(ConfigError, match=r"on_expiry.*'end' or 'absorb'"):
        _load(_cost("schools", "own", 'on_expiry = "keep"\n'))


def test_recurring_must_be_a_boolean_and_counts_as_a_funding_feature():
    line = '[[schools.cost]]\nname = "c"\nkind = "fixed"\namount = 1\nrecurring = {v}\n'
    with pytest.raises(ConfigError, match=r"schools.*recurring"):
        _load(line.format(v='"yes"'))
    assert uses_funding(_load(line.format(v="false")).config)
    assert not uses_funding(_load("").config)
