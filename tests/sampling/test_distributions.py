"""Inverse CDFs of the named distributions against scipy.stats, and their validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sustainsim.sampling.distributions import U_MAX, U_MIN, Distribution, DistributionError

U = np.concatenate(
    [[U_MIN, 1e-9, 0.01, 0.25, 0.5, 0.75, 0.99, U_MAX], np.linspace(0.001, 0.999, 37)]
)

CASES = [
    ({"dist": "normal", "mean": 0.02, "sd": 0.01}, stats.norm(0.02, 0.01)),
    ({"dist": "lognormal", "mu": 1.0, "sigma": 0.5}, stats.lognorm(s=0.5, scale=np.e)),
    ({"dist": "uniform", "low": 0.03, "high": 0.1}, stats.uniform(0.03, 0.07)),
    (
        {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0},
        stats.triang(c=0.25, loc=1, scale=4),
    ),
    (
        {"dist": "beta", "a": 2.0, "b": 5.0, "low": 10, "high": 20},
        stats.beta(2, 5, loc=10, scale=10),
    ),
    (
        {"dist": "truncated_normal", "mean": 0.0, "sd": 1.0, "low": -1, "high": 2},
        stats.truncnorm(-1, 2),
    ),
    ({"dist": "gamma", "a": 2.0, "scale": 3.0}, stats.gamma(2.0, scale=3.0)),
]


@pytest.mark.parametrize("spec,ref", CASES, ids=[c[0]["dist"] for c in CASES])
def test_ppf_matches_scipy(spec, ref):
    d = Distribution.from_spec(spec)
    np.testing.assert_allclose(d.ppf(U), ref.ppf(U), rtol=1e-9, atol=1e-12)


def test_integer_uniform_is_equiprobable_and_inclusive():
    d = Distribution.from_spec({"dist": "integer_uniform", "low": 3, "high": 7})
    u = (np.arange(100_000) + 0.5) / 100_000
    values, counts = np.unique(d.ppf(u), return_counts=True)
    np.testing.assert_array_equal(values, [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(counts, 20_000)
    assert d.ppf(np.array([U_MAX]))[0] == 7 and d.is_integer
    assert d.bounds() == (3.0, 7.0)


def test_bernoulli_and_fixed():
    b = Distribution.from_spec({"dist": "bernoulli", "p": 0.3})
    u = (np.arange(10_000) + 0.5) / 10_000
    assert b.ppf(u).mean() == pytest.approx(0.3, abs=1e-4)
    f = Distribution.from_spec({"dist": "fixed", "value": 4.5})
    np.testing.assert_array_equal(f.ppf(u[:3]), 4.5)


@pytest.mark.parametrize(
    "spec,match",
    [
        ({"dist": "nope"}, "unknown distribution 'nope'"),
        ({"dist": "normal", "mean": 0}, "missing sd"),
        ({"dist": "normal", "mean": 0, "sd": 1, "scale": 2}, "unknown scale"),
        ({"dist": "uniform", "low": 2, "high": 1}, "low must be <= high"),
        ({"dist": "triangular", "low": 0, "mode": 3, "high": 2}, "low <= mode <= high"),
        ({"dist": "beta", "a": 0, "b": 1}, "a must be > 0"),
        ({"dist": "integer_uniform", "low": 1.5, "high": 3}, "whole number"),
        ({"dist": "bernoulli", "p": 2}, r"probability in \[0, 1\]"),
        ({"dist": "normal", "mean": "a", "sd": 1}, "must be a number"),
        ({"dist": "gamma", "a": -1}, "invalid parameters|gamma"),
        ({"mean": 1}, "'dist' must name a distribution"),
    ],
)
def test_bad_specs(spec, match):
    with pytest.raises(DistributionError, match=match):
        Distribution.from_spec(spec)


def test_roundtrip_spec_and_median():
    d = Distribution.from_spec({"dist": "triangular", "low": 0, "mode": 1, "high": 2})
    assert Distribution.from_spec(d.to_spec()) == d
    assert d.median() == pytest.approx(1.0)
