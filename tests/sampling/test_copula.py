"""Gaussian-copula correlation: achieved rank correlations, unchanged marginals, repair."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sustainsim
from sustainsim.sampling.copula import (
    CorrelatedSource,
    correlate,
    correlation_problems,
    iman_conover,
    matrix_from_pairs,
    nearest_correlation,
    pearson_to_spearman,
    spearman_to_pearson,
    validate_correlation,
)
from sustainsim.sampling.distributions import U_MAX, U_MIN
from sustainsim.sampling.samplers import LatinHypercube, Sobol
from sustainsim.sampling.streams import MonteCarlo


def factor_model_matrix(k: int, rng: np.random.Generator, factors: int = 3) -> np.ndarray:
    """A random valid correlation matrix: loadings W (rows of norm <= 0.95) plus noise."""
    w = rng.uniform(-1, 1, size=(k, factors))
    w *= rng.uniform(0.3, 0.95, size=(k, 1)) / np.linalg.norm(w, axis=1, keepdims=True)
    c = w @ w.T
    np.fill_diagonal(c, 1.0)
    return c


def spearman_matrix(u: np.ndarray) -> np.ndarray:
    r = stats.spearmanr(u, axis=1).statistic
    return np.array([[1.0, r], [r, 1.0]]) if np.ndim(r) == 0 else r


@pytest.mark.parametrize("k", [2, 3, 5, 10, 20])
def test_achieved_rank_correlation_and_uniform_marginals(k):
    rng = np.random.default_rng(100 + k)
    target = factor_model_matrix(k, rng)
    names = [f"in{i}" for i in range(k)]
    n = 20_000
    src = CorrelatedSource(MonteCarlo(k), names, target)
    u = np.array([src.uniforms(nm, 0, n) for nm in names])
    got = spearman_matrix(u)
    # sampling error of Spearman's rho is about (1 - rho^2) / sqrt(n) < 1 / sqrt(n)
    err = np.abs(got - target)
    assert err.max() < 4.5 / np.sqrt(n), (err.max(), np.unravel_index(err.argmax(), err.shape))
    for row in u:
        assert stats.kstest(row, "uniform").pvalue > 1e-4
        assert row.min() >= U_MIN and row.max() <= U_MAX
    assert src.repair is None and src.unrequested() == []


def test_conversion_between_spearman_and_pearson():
    rho = np.linspace(-1, 1, 21)
    np.testing.assert_allclose(pearson_to_spearman(spearman_to_pearson(rho)), rho, atol=1e-12)
    assert float(spearman_to_pearson(1.0)) == pytest.approx(1.0)
    # the classic Pearson (1907) relation for a bivariate normal
    z = np.random.default_rng(0).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200_000)
    assert stats.spearmanr(z).statistic == pytest.approx(float(pearson_to_spearman(0.6)), abs=0.01)


def test_chunk_independent_cached_and_pass_through():
    calls = []

    class Counting(MonteCarlo):
        def uniforms(self, name, start, stop, index=0, out=None):
            calls.append((name, start, stop, index))
            return super().uniforms(name, start, stop, index, out=out)

    c = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 1.0]])
    src = CorrelatedSource(Counting(9), ["a", "b", "c"], c)
    whole = [src.uniforms(nm, 0, 1000, 4) for nm in "abc"]
    assert len(calls) == 3  # the group's block once for the three members
    again = CorrelatedSource(MonteCarlo(9), ["a", "b", "c"], c)
    for i, nm in enumerate("abc"):
        parts = np.concatenate([again.uniforms(nm, 0, 300, 4), again.uniforms(nm, 300, 1000, 4)])
        np.testing.assert_array_equal(parts, whole[i])
    # the first member keeps its base uniforms (Cholesky); other streams pass through
    np.testing.assert_array_equal(whole[0], MonteCarlo(9).uniforms("a", 0, 1000, 4))
    np.testing.assert_array_equal(src.uniforms("z", 5, 50), MonteCarlo(9).uniforms("z", 5, 50))
    buf = np.empty(1000)
    assert src.uniforms("b", 0, 1000, 4, out=buf) is buf
    np.testing.assert_array_equal(buf, whole[1])


@pytest.mark.parametrize("base", [LatinHypercube(3, 8192), Sobol(3, 8192)])
def test_works_on_any_sampler(base):
    c = [[1.0, 0.8], [0.8, 1.0]]
    src = CorrelatedSource(base, ["x", "y"], c)
    u, v = src.uniforms("x", 0, 8192), src.uniforms("y", 0, 8192)
    assert stats.spearmanr(u, v).statistic == pytest.approx(0.8, abs=4.5 / np.sqrt(8192))
    assert stats.kstest(v, "uniform").pvalue > 1e-4


def test_higham_example():
    # Higham (2002), section 4: the nearest correlation matrix to this one
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    expect = np.array([[1.0, 0.7607, 0.1573], [0.7607, 1.0, 0.7607], [0.1573, 0.7607, 1.0]])
    np.testing.assert_allclose(nearest_correlation(a), expect, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 8).flatmap(
        lambda k: st.lists(
            st.floats(-1, 1), min_size=k * (k - 1) // 2, max_size=k * (k - 1) // 2
        ).map(lambda x, k=k: (k, x))
    )
)
def test_nearest_correlation_is_a_correlation_matrix(kx):
    k, x = kx
    a = np.eye(k)
    a[np.triu_indices(k, 1)] = x
    a = a + np.triu(a, 1).T
    c = nearest_correlation(a)
    assert np.linalg.eigvalsh(c).min() > -1e-10
    np.testing.assert_allclose(np.diag(c), 1.0)
    np.testing.assert_allclose(c, c.T)
    if np.linalg.eigvalsh(a).min() > 1e-8:  # already valid: unchanged
        np.testing.assert_allclose(c, a, atol=1e-7)


def test_invalid_matrix_repaired_with_warning_or_rejected():
    bad = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]])
    with pytest.warns(
        UserWarning,
        match=r"not a valid correlation matrix.*Frobenius norm of the "
        r"change [0-9.]+, largest entry change [0-9.]+ \(between",
    ):
        src = CorrelatedSource(MonteCarlo(1), ["a", "b", "c"], bad)
    assert src.repair["frobenius"] > 0.1 and src.repair["max_abs"] > 0.05
    assert np.linalg.eigvalsh(src.pearson).min() > -1e-10
    u = np.array([src.uniforms(nm, 0, 20_000) for nm in "abc"])
    np.testing.assert_allclose(spearman_matrix(u), src.rank_corr, atol=4.5 / np.sqrt(20_000))
    with pytest.raises(ValueError, match="not a valid correlation matrix.*strict=False"):
        CorrelatedSource(MonteCarlo(1), ["a", "b", "c"], bad, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CorrelatedSource(MonteCarlo(1), ["a", "b"], [[1, 1], [1, 1]])  # singular but valid


@pytest.mark.parametrize(
    ("names", "matrix", "message"),
    [
        (["a", "b"], [[1, 0.5, 0], [0.5, 1, 0]], r"square matrix \(got shape \(2, 3\)\)"),
        (["a", "b", "c"], [[1, 0.5], [0.5, 1]], "is 2x2 but there are 3 inputs"),
        (["a", "b"], [[1, 0.5], [0.4, 1]], r"symmetric: \[0\]\[1\] = 0.5 but \[1\]\[0\] = 0.4"),
        (["a", "b"], [[1, 0.5], [0.5, 0.9]], r"1 on the diagonal: \[1\]\[1\] = 0.9"),
        (["a", "b"], [[1, 1.5], [1.5, 1]], r"between 'a' and 'b'\) = 1.5; .*\[-1, 1\]"),
        (["a", "b"], [[1, np.nan], [np.nan, 1]], "not a finite number"),
        (["a", "a"], [[1, 0.5], [0.5, 1]], "unique; repeated: a"),
        (["a"], [[1.0]], "at least 2 inputs"),
        (["a", "b"], "x", "square matrix"),
    ],
)
def test_validation_messages(names, matrix, message):
    with pytest.raises(ValueError, match=message):
        validate_correlation(matrix, names)


def test_pairs_and_groups():
    m = matrix_from_pairs(["a", "b", "c"], {("a", "b"): 0.3, ("c", "b"): -0.2})
    np.testing.assert_array_equal(m, [[1, 0.3, 0], [0.3, 1, -0.2], [0, -0.2, 1]])
    with pytest.raises(ValueError, match="'d' is not one of"):
        matrix_from_pairs(["a", "b"], [("a", "d", 0.1)])
    with pytest.raises(ValueError, match="with itself"):
        matrix_from_pairs(["a", "b"], [("a", "a", 0.1)])
    with pytest.raises(ValueError, match="given twice"):
        matrix_from_pairs(["a", "b"], [("a", "b", 0.1), ("b", "a", 0.2)])
    src = correlate(
        MonteCarlo(2), [(["a", "b"], [[1, 0.5], [0.5, 1]]), (["c", "d"], [[1, -0.5], [-0.5, 1]])]
    )
    n = 20_000
    assert stats.spearmanr(src.uniforms("c", 0, n), src.uniforms("d", 0, n)).statistic == (
        pytest.approx(-0.5, abs=0.03)
    )
    assert stats.spearmanr(src.uniforms("a", 0, n), src.uniforms("b", 0, n)).statistic == (
        pytest.approx(0.5, abs=0.03)
    )
    with pytest.raises(ValueError, match="'b' is in correlation groups 0 and 1"):
        correlate(MonteCarlo(2), [(["a", "b"], np.eye(2)), (["b", "c"], np.eye(2))])


def test_iman_conover_keeps_marginals_exactly():
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.lognormal(size=5000), rng.uniform(size=5000), rng.normal(size=5000)])
    target = np.array([[1, 0.6, -0.3], [0.6, 1, 0.1], [-0.3, 0.1, 1]])
    y = iman_conover(x, target, rng)
    np.testing.assert_array_equal(np.sort(y, axis=0), np.sort(x, axis=0))
    np.testing.assert_allclose(stats.spearmanr(y).statistic, target, atol=0.05)


def test_correlated_growth_rates_in_a_run(small_spec):
    # two per-draw growth rates, correlated through their stream names
    data = {**small_spec.data}
    data["district"] = {
        **data["district"],
        "growth": {
            "funding": {"dist": "uniform", "low": 0.0, "high": 0.04},
            "salary": {"dist": "uniform", "low": 0.02, "high": 0.04},
        },
    }
    from tests.conftest import spec_from_dict

    spec = spec_from_dict(data)
    n = 20_000
    src = CorrelatedSource(
        MonteCarlo(3), ["district.growth.funding", "district.growth.salary"], [[1, 0.7], [0.7, 1]]
    )
    ds = sustainsim.simulate(spec, draws=n, source=src, progress=False)
    f, s = ds["district.growth.funding"].values, ds["district.growth.salary"].values
    assert stats.spearmanr(f, s).statistic == pytest.approx(0.7, abs=4.5 / np.sqrt(n))
    assert stats.kstest(f, "uniform", args=(0.0, 0.04)).pvalue > 1e-4
    assert stats.kstest(s, "uniform", args=(0.02, 0.02)).pvalue > 1e-4
    assert ds.attrs["sampler"] == "monte_carlo+gaussian_copula"
    assert src.unrequested() == []
    small = [
        sustainsim.simulate(
            spec,
            draws=3000,
            chunk_size=c,
            progress=False,
            source=CorrelatedSource(MonteCarlo(3), src.names, src.rank_corr),
        )
        for c in (3000, 777)
    ]
    xr.testing.assert_identical(small[0], small[1])
    np.testing.assert_array_equal(small[0]["district.growth.salary"], s[:3000])


def test_correlation_problems_against_a_specs_streams(ref10_spec):
    from sustainsim.run.source import discover_streams

    streams = discover_streams(ref10_spec)
    ok = [["schools.ref.enrollment.innovation", "district.cuts.event"]]  # both per year
    assert correlation_problems(ok, streams) == []
    bad = [
        ["schools.ref.enrollment.inovation", "district.cuts.event"],
        ["schools.ref.revenue.grant.end", "district.cuts.magnitude", "district.cuts.event"],
    ]
    problems = correlation_problems(bad, streams)
    assert any("did you mean 'schools.ref.enrollment.innovation'" in p for p in problems)
    assert any("'district.cuts.event' is also in correlations[0]" in p for p in problems)
    assert any(
        "correlations[1]: mixes inputs drawn per draw and per year" in p
        and "'schools.ref.revenue.grant.end' (per draw)" in p
        for p in problems
    )


def test_source_for_reads_sampler_and_correlations(ref10_spec):
    from sustainsim.run.source import source_for
    from sustainsim.sampling.samplers import Sobol

    assert isinstance(source_for(ref10_spec, 1000, 1), MonteCarlo)  # no sampler field: default
    sob = source_for(ref10_spec, None, 1, "sobol")
    assert isinstance(sob, Sobol) and sob.streams[0] == ("district.cuts.event", 1)
    pair = {"a": "district.cuts.event", "b": "schools.ref.enrollment.innovation"}
    group = {
        "inputs": [pair["a"], pair["b"]],
        "pairs": [{**pair, "rank_corr": -0.5}],
        "strict": True,
    }
    spec = ref10_spec.with_overrides({"simulation.sampler": "lhs", "correlations": [group]})
    src = source_for(spec, 4096, 2)
    assert isinstance(src, CorrelatedSource) and isinstance(src.base, LatinHypercube)
    np.testing.assert_array_equal(src.rank_corr, [[1, -0.5], [-0.5, 1]])
    u = src.uniforms("district.cuts.event", 0, 4096, 3)
    v = src.uniforms("schools.ref.enrollment.innovation", 0, 4096, 3)
    assert stats.spearmanr(u, v).statistic == pytest.approx(-0.5, abs=4.5 / 64)
    group["pairs"][0]["rank_corr"] = 1.5
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        ref10_spec.with_overrides({"correlations": [group]})
    # a name that is no random input of the model is caught when the run's source is built
    typo = {"inputs": [pair["a"], "district.growth.salry"], "matrix": [[1, 0.2], [0.2, 1]]}
    spec = ref10_spec.with_overrides({"correlations": [typo]})
    with pytest.raises(sustainsim.ConfigError, match="salry"):
        source_for(spec, 100, 1)
