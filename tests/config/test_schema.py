"""Config validation: every kind of bad input gets a message naming field, value and what is allowed."""

from __future__ import annotations

import copy

import pytest

import sustainsim
from sustainsim.config import ConfigError, apply_overrides, parse_config
from sustainsim.sampling.distributions import Distribution
from tests.conftest import REF10


def _set(data: dict, path: str, value) -> dict:
    return apply_overrides(data, {path: value})


def _del(data: dict, path: str) -> dict:
    d = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = d
    for k in parents:
        node = next(x for x in node if x.get("name") == k) if isinstance(node, list) else node[k]
    del node[last]
    return d


BAD = {
    "unknown key": (
        lambda d: _set(d, "simulation.yeers", 10),
        ["simulation.yeers", "unknown key"],
    ),
    "negative volatility": (
        lambda d: _set(d, "schools.a.enrollment.volatility", -0.04),
        ["schools.a.enrollment.volatility", ">= 0", "-0.04"],
    ),
    "probability above 1": (
        lambda d: _set(d, "district.cuts.probability", 1.5),
        ["district.cuts.probability", "<= 1", "1.5"],
    ),
    "end year before start": (
        lambda d: _set(
            _set(d, "schools.a.revenue.grant.start", 3), "schools.a.revenue.grant.end", 2
        ),
        ["schools.a.revenue.grant", "end year", "before start"],
    ),
    "unknown distribution": (
        lambda d: _set(d, "district.cuts.magnitude", {"dist": "unifrom", "low": 0, "high": 1}),
        ["district.cuts.magnitude", "unknown distribution 'unifrom'", "triangular"],
    ),
    "wrong type": (
        lambda d: _set(d, "simulation.years", "ten"),
        ["simulation.years", "'ten'", "integer"],
    ),
    "empty schools": (
        lambda d: {**d, "schools": []},
        ["schools", "at least 1"],
    ),
    "unknown growth index": (
        lambda d: _set(d, "schools.a.revenue.pp.growth", "fundng"),
        ["schools.a.revenue.pp.growth", "'fundng'", "funding, salary"],
    ),
    "duplicate school": (
        lambda d: {**d, "schools": d["schools"] * 2},
        ["school names must be unique", "a"],
    ),
    "missing required field": (
        lambda d: _del(d, "schools.a.enrollment.base"),
        ["schools.a.enrollment", "base is required"],
    ),
    "missing required line field": (
        lambda d: _del(d, "schools.a.cost.ops.amount"),
        ["schools.a.cost.ops.amount", "missing"],
    ),
    "unknown line kind": (
        lambda d: _set(d, "schools.a.cost.ops.kind", "loan"),
        ["schools.a.cost.ops", "'loan'", "staff"],
    ),
    "bad distribution parameter": (
        lambda d: _set(d, "district.growth.salary", {"dist": "normal", "mean": 0.03, "sd": -1}),
        ["district.growth.salary", "sd must be >= 0"],
    ),
    "distribution outside the range": (
        lambda d: _set(
            d, "schools.a.enrollment.volatility", {"dist": "normal", "mean": 0.04, "sd": 0.02}
        ),
        ["schools.a.enrollment.volatility", "must be >= 0", "normal"],
    ),
    "missing distribution parameter": (
        lambda d: _set(d, "district.cuts.magnitude", {"dist": "triangular", "low": 0, "high": 1}),
        ["district.cuts.magnitude", "missing mode"],
    ),
    "staff rule ambiguous": (
        lambda d: _set(d, "schools.a.cost.teachers.positions", 3),
        ["schools.a.cost.teachers", "exactly one of students_per_position"],
    ),
    "reserved school name": (
        lambda d: _set(d, "schools.a.name", "district"),
        ["schools", "reserved"],
    ),
    "non-integer grant year": (
        lambda d: _set(d, "schools.a.revenue.grant.end", 2.5),
        ["schools.a.revenue.grant.end", "whole number", "2.5"],
    ),
    "negative seed": (
        lambda d: _set(d, "simulation.seed", -1),
        ["simulation.seed", "greater than or equal to 0"],
    ),
    "boolean for a number": (
        lambda d: _set(d, "schools.a.fund_balance", True),
        ["schools.a.fund_balance", "True"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_message_names_field_value_and_allowed(case, small_data):
    mutate, needles = BAD[case]
    with pytest.raises(ConfigError) as info:
        parse_config(mutate(small_data), source="x.toml")
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in:\n{msg}"


def test_several_problems_reported_at_once(small_data):
    d = _set(_set(small_data, "simulation.years", 0), "district.cuts.probability", 2)
    with pytest.raises(ConfigError) as info:
        parse_config(d)
    assert len(info.value.errors) == 2


def test_missing_file_and_toml_syntax(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        sustainsim.load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulation]\nyears = = 3\n")
    with pytest.raises(ConfigError, match="TOML syntax error.*line 2"):
        sustainsim.load_config(bad)
    with pytest.raises(ConfigError, match="directory"):
        sustainsim.load_config(tmp_path)


def test_numbers_and_distributions_accepted(small_data):
    cfg = parse_config(small_data)
    school = cfg.schools[0]
    assert school.enrollment.base == 400.0
    assert isinstance(cfg.district.growth["salary"].rate, Distribution)
    grant = school.revenue[1]
    assert grant.end.name == "integer_uniform" and grant.end.params == {"low": 1.0, "high": 3.0}
    # a fixed "distribution" collapses to its number
    d = _set(small_data, "schools.a.fund_balance", {"dist": "fixed", "value": 5.0})
    assert parse_config(d).schools[0].fund_balance == 5.0


def test_scipy_distribution_by_name(small_data):
    d = _set(small_data, "district.cuts.magnitude", {"dist": "gamma", "a": 2.0, "scale": 0.02})
    mag = parse_config(d).district.cuts.magnitude
    assert mag.name == "gamma"
    with pytest.raises(ConfigError, match="gamma takes a, loc, scale"):
        parse_config(_set(small_data, "district.cuts.magnitude", {"dist": "gamma", "scale": 0.02}))


def test_overrides_revalidate_and_change_hash(ref10_spec):
    s2 = ref10_spec.with_overrides({"district.cuts.probability": 0.3})
    assert s2.config.district.cuts.probability == 0.3
    assert ref10_spec.config.district.cuts.probability == 0.15
    assert s2.sha256 != ref10_spec.sha256
    assert s2.with_overrides(district__cuts__probability=0.15).sha256 == ref10_spec.sha256
    with pytest.raises(ConfigError, match="no entry named 'nobody'"):
        ref10_spec.with_overrides({"schools.nobody.fund_balance": 1})
    with pytest.raises(ConfigError, match="district.cuts.probability"):
        ref10_spec.with_overrides({"district.cuts.probability": -0.1})


def test_reference_config_is_the_issue_model():
    spec = sustainsim.load_config(REF10)
    cfg = spec.config
    assert cfg.simulation.years == 10
    s = cfg.schools[0]
    assert s.name == "ref" and s.fund_balance == 500_000
    assert (s.enrollment.base, s.enrollment.drift, s.enrollment.volatility) == (500, -0.01, 0.04)
    cuts = cfg.district.cuts
    assert (
        cuts.probability == 0.15
        and cuts.recovery == 0
        and str(cuts.magnitude) == "uniform(low=0.03, high=0.1)"
    )
    grant = s.revenue[1]
    assert grant.amount == 400_000 and grant.start == 1 and grant.end.bounds() == (2.0, 6.0)
