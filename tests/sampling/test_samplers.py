"""Samplers: Latin hypercube and Sobol against their defining properties and Monte Carlo.

Reference values are independent of the code under test: the design properties
(strata, (0, m, 2)-nets), scipy's own unscrambled Sobol sequence, and closed-form
expectations (a lognormal moment; a budget whose expected final balance is a sum of
products of independent expectations).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.stats import qmc

import sustainsim
from sustainsim.run.source import discover_streams
from sustainsim.sampling.distributions import U_MAX, U_MIN
from sustainsim.sampling.samplers import (
    SAMPLERS,
    LatinHypercube,
    Sobol,
    make_source,
)
from sustainsim.sampling.streams import MonteCarlo

# --- a budget with a closed-form expected final balance ------------------------------------

CLOSED_FORM = """
[simulation]
years = 5
first_year = 2030
draws = 1024
seed = 1

[district.growth]
funding = { dist = "uniform", low = 0.0, high = 0.04 }
salary = { dist = "uniform", low = 0.01, high = 0.05 }

[district.cuts]
probability = 0.2
magnitude = 0.05

[[schools]]
name = "a"
fund_balance = { dist = "normal", mean = 300000, sd = 100000 }

[schools.enrollment]
base = 400
drift = -0.01
volatility = 0.08

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 9000
growth = "funding"
exposed_to_cuts = true

[[schools.revenue]]
name = "grant"
kind = "grant"
amount = 150000
end = { dist = "integer_uniform", low = 1, high = 4 }

[[schools.cost]]
name = "fixed"
kind = "fixed"
amount = 2500000
growth = "salary"

[[schools.cost]]
name = "pp"
kind = "per_pupil"
rate = 2500
growth = "salary"
"""


def _growth_moment(a: float, b: float, t: int) -> float:
    """E[(1 + g)**t] for g ~ Uniform(a, b)."""
    return ((1 + b) ** (t + 1) - (1 + a) ** (t + 1)) / ((t + 1) * (b - a))


def expected_final_balance() -> float:
    """E[B_5] by hand: independent inputs, so expectations of products factor.

    E[E_t] = 400 exp(t (drift + vol^2 / 2)); E[cut factor_t] = (1 - p m)^t for permanent
    cuts; the grant pays in year t iff end >= t, end uniform on 1..4.
    """
    total = 300_000.0
    for t in range(1, 6):
        e_enrol = 400 * np.exp(t * (-0.01 + 0.08**2 / 2))
        e_cut = (1 - 0.2 * 0.05) ** t
        total += 9000 * _growth_moment(0.0, 0.04, t) * e_cut * e_enrol
        total += 150_000 * max(0, 5 - t) / 4
        total -= (2_500_000 + 2500 * e_enrol) * _growth_moment(0.01, 0.05, t)
    return total


@pytest.fixture(scope="module")
def closed_spec():
    return sustainsim.loads_config(CLOSED_FORM, source="closed.toml")


# --- Latin hypercube -------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    n=st.integers(1, 1500),
    cuts=st.lists(st.integers(0, 1500), max_size=5),
    index=st.integers(0, 12),
)
def test_lhs_one_draw_per_stratum_whatever_the_chunks(seed, n, cuts, index):
    src = LatinHypercube(seed, n)
    edges = sorted({0, n, *[c for c in cuts if c < n]})
    u = np.concatenate(
        [src.uniforms("s.x", a, b, index) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    )
    np.testing.assert_array_equal(u, LatinHypercube(seed, n).uniforms("s.x", 0, n, index))
    assert np.array_equal(np.sort(np.floor(u * n)), np.arange(n))
    assert u.min() >= U_MIN and u.max() <= U_MAX


def test_lhs_streams_are_independent_and_keyed():
    n = 100_000
    src = LatinHypercube(4, n)
    a, b = src.uniforms("a", 0, n), src.uniforms("b", 0, n)
    assert abs(stats.spearmanr(a, b).statistic) < 4 / np.sqrt(n)
    assert not np.array_equal(a, src.uniforms("a", 0, n, index=1))
    assert not np.array_equal(a, LatinHypercube(5, n).uniforms("a", 0, n))
    # a stream does not depend on which others exist or were asked first
    np.testing.assert_array_equal(b, LatinHypercube(4, n).uniforms("b", 0, n))
    # the pairs fill the unit square like independent uniforms (chi-square on a 10x10 grid)
    counts = np.histogram2d(a, b, bins=10, range=[[0, 1], [0, 1]])[0]
    assert stats.chisquare(counts.ravel()).pvalue > 1e-3


def test_lhs_is_over_the_whole_run_so_more_draws_change_it():
    small, big = LatinHypercube(1, 100), LatinHypercube(1, 200)
    a, b = small.uniforms("s", 0, 100), big.uniforms("s", 0, 200)
    assert not np.array_equal(a, b[:100])  # documented: strata are 1/draws wide
    assert np.array_equal(np.sort(np.floor(b * 200)), np.arange(200))
    with pytest.raises(ValueError, match="has 100 draws"):
        small.uniforms("s", 50, 101)


# --- Sobol ---------------------------------------------------------------------------------


def test_unscrambled_sobol_is_scipys_sequence_at_any_offset():
    src = Sobol(0, scramble=False)
    names = [f"dim{j}" for j in range(12)]
    ref = qmc.Sobol(d=12, scramble=False, bits=32).random(4096)
    ref = np.clip(ref, U_MIN, U_MAX)
    got = np.column_stack([src.uniforms(nm, 0, 4096) for nm in names])
    np.testing.assert_array_equal(got, ref)
    eng = qmc.Sobol(d=12, scramble=False, bits=32)
    eng.fast_forward(1000)
    np.testing.assert_array_equal(
        np.column_stack([src.uniforms(nm, 1000, 1500) for nm in names]), eng.random(500)
    )


def test_scrambled_sobol_keeps_the_net_property():
    m = 10
    src = Sobol(7, 2**m)
    u, v = src.uniforms("a", 0, 2**m), src.uniforms("b", 0, 2**m)
    # dims 0 and 1 of Sobol form a (0, m, 2)-net: one point in every elementary box
    for a in range(m + 1):
        cell = np.floor(u * 2**a) * 2 ** (m - a) + np.floor(v * 2 ** (m - a))
        assert np.array_equal(np.sort(cell), np.arange(2**m)), a
    # every power-of-two prefix of a dimension is stratified
    w = src.uniforms("c", 0, 2**m, index=3)
    for k in range(1, m + 1):
        assert np.array_equal(np.sort(np.floor(w[: 2**k] * 2**k)), np.arange(2**k))


def test_scrambled_points_are_uniform_over_seeds():
    first = np.array([Sobol(s, 1024).uniforms("x", 0, 1)[0] for s in range(300)])
    assert stats.kstest(first, "uniform").pvalue > 1e-3
    later = np.array([Sobol(s, 1024).uniforms("x", 0, 300, index=2)[299] for s in range(300)])
    assert stats.kstest(later, "uniform").pvalue > 1e-3


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3000), cuts=st.lists(st.integers(0, 3000), max_size=5))
def test_sobol_any_split_gives_the_same_numbers(n, cuts):
    src = Sobol(3)
    for nm in ("a", "b", "c"):
        src.dimension(nm)
    edges = sorted({0, n, *[c for c in cuts if c < n]})
    for nm in ("c", "a"):
        parts = [src.uniforms(nm, a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        whole = src.uniforms(nm, 0, n)
        np.testing.assert_array_equal(np.concatenate(parts), whole)
        assert whole.min() >= U_MIN and whole.max() <= U_MAX


def test_sobol_dimensions_follow_first_request_or_the_given_list():
    lazy = Sobol(2, 256)
    lazy.uniforms("b", 0, 4)
    lazy.uniforms("a", 0, 4, index=1)
    assert lazy.streams == [("b", 0), ("a", 1)]
    fixed = Sobol(2, 256, streams=[("b", 0), ("a", 1)])
    # asked in another order, the fixed list keeps every stream's numbers
    a = fixed.uniforms("a", 0, 256, index=1)
    np.testing.assert_array_equal(a, lazy.uniforms("a", 0, 256, index=1))
    # extensible: more draws keep the first
    np.testing.assert_array_equal(Sobol(2, 1024, streams=lazy.streams).uniforms("a", 0, 256, 1), a)


def test_make_source_table_and_errors():
    assert set(SAMPLERS) == {"monte_carlo", "lhs", "sobol"}
    assert isinstance(make_source("monte_carlo", 1, 10), MonteCarlo)
    assert isinstance(make_source("lhs", 1, 10), LatinHypercube)
    assert isinstance(make_source("sobol", 1, 16), Sobol)
    assert make_source("lhs", 1, 10).name == "lhs" and make_source("sobol", 1, 16).name == "sobol"
    with pytest.raises(ValueError, match="unknown sampler 'qmc'; allowed: monte_carlo, lhs, sobol"):
        make_source("qmc", 1, 10)
    with pytest.raises(ValueError, match="lhs needs the run's number of draws"):
        make_source("lhs", 1)
    with pytest.warns(UserWarning, match="power of two.*1000.*1024"):
        make_source("sobol", 1, 1000)
    with pytest.raises(ValueError, match="draws must be in 1..4294967296"):
        Sobol(1, 2**33)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        LatinHypercube(-1, 5)


def test_out_argument_is_filled():
    for src in (LatinHypercube(1, 64), Sobol(1, 64)):
        buf = np.zeros((2, 64))
        got = src.uniforms("x", 0, 64, 1, out=buf[1])
        assert got is buf[1] or np.shares_memory(got, buf)
        np.testing.assert_array_equal(buf[1], src.uniforms("x", 0, 64, 1))


# --- variance reduction against Monte Carlo --------------------------------------------------


def _rmse_ratios(estimate, truth: float, seeds: int = 20) -> dict[str, float]:
    rmse = {}
    for name in SAMPLERS:
        err = np.array(
            [estimate(make_source(name, seed, 1024), seed) - truth for seed in range(seeds)]
        )
        # unbiased: the mean error is within 4 standard errors of zero
        assert abs(err.mean()) <= 4 * err.std(ddof=1) / np.sqrt(seeds) + 1e-12 * abs(truth)
        rmse[name] = float(np.sqrt(np.mean(err**2)))
    return {k: rmse[k] / rmse["monte_carlo"] for k in ("lhs", "sobol")}


def test_lhs_and_sobol_beat_monte_carlo_on_a_lognormal_moment():
    scales = np.array([0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05])
    truth = float(np.exp(np.sum(scales**2) / 2))  # E[exp(sum s_i Z_i)]

    def estimate(src, seed):
        z = np.array([special.ndtri(src.uniforms(f"x{i}", 0, 1024)) for i in range(8)])
        return float(np.exp(scales @ z).mean())

    ratio = _rmse_ratios(estimate, truth)
    # measured (20 seeds, 1024 draws): lhs 0.48, sobol 0.036. LHS removes only the
    # additive part of the variance: with scales twice as large it gets 0.75 (sobol 0.12)
    assert ratio["lhs"] < 0.7 and ratio["sobol"] < 0.2, ratio


def test_lhs_and_sobol_beat_monte_carlo_on_a_budget(closed_spec):
    truth = expected_final_balance()

    def estimate(src, seed):
        ds = sustainsim.simulate(closed_spec, draws=1024, seed=seed, source=src, progress=False)
        return float(ds.fund_balance.isel(year=-1, school=0).mean())

    ratio = _rmse_ratios(estimate, truth)
    # measured (20 seeds, 1024 draws): lhs ~0.10, sobol ~0.03
    assert ratio["lhs"] < 0.4 and ratio["sobol"] < 0.3, ratio


def test_closed_form_budget_is_right(closed_spec):
    ds = sustainsim.simulate(closed_spec, draws=200_000, seed=11, progress=False)
    fb = ds.fund_balance.isel(year=-1, school=0).values
    assert abs(fb.mean() - expected_final_balance()) < 4 * fb.std() / np.sqrt(fb.size)


# --- whole runs ------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_simulate_is_identical_for_any_chunk_size(ref10_spec, sampler):
    n = 4096
    runs = [
        sustainsim.simulate(
            ref10_spec,
            draws=n,
            seed=5,
            chunk_size=c,
            progress=False,
            source=make_source(sampler, 5, n),
        )
        for c in (n, 1000, 777)
    ]
    xr.testing.assert_identical(runs[0], runs[1])
    xr.testing.assert_identical(runs[0], runs[2])
    assert runs[0].attrs["sampler"] == sampler


def _with_extra_input(data: dict) -> dict:
    """ref10 with a new random growth index listed first and a cost line using it."""
    out = {**data, "district": {**data["district"]}}
    out["district"]["growth"] = {
        "prices": {"dist": "uniform", "low": 0.01, "high": 0.03},
        **data["district"]["growth"],
    }
    school = dict(data["schools"][0])
    school["cost"] = [
        *school["cost"],
        {"name": "ops", "kind": "fixed", "amount": 1.0, "growth": "prices"},
    ]
    out["schools"] = [school]
    return out


@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_adding_an_input_leaves_the_others_alone(ref10_spec, sampler):
    from tests.conftest import spec_from_dict

    n = 2048
    more = spec_from_dict(_with_extra_input(ref10_spec.data))
    kw = {"streams": discover_streams(ref10_spec)} if sampler == "sobol" else {}
    a = sustainsim.simulate(
        ref10_spec, draws=n, source=make_source(sampler, 1, n, **kw), progress=False
    )
    b = sustainsim.simulate(more, draws=n, source=make_source(sampler, 1, n, **kw), progress=False)
    for v in (
        "enrollment",
        "schools.ref.revenue.grant.last_year",
        "district.cuts.event.count",
        "district.cuts.cumulative",
    ):
        np.testing.assert_array_equal(a[v].values, b[v].values)
    if sampler == "sobol":
        # without a fixed stream list the new input takes dimension 0 and shifts the rest
        c = sustainsim.simulate(more, draws=n, source=make_source("sobol", 1, n), progress=False)
        assert not np.array_equal(
            a["district.cuts.event.count"].values, c["district.cuts.event.count"].values
        )


@pytest.mark.parametrize("sampler", ["monte_carlo", "sobol"])
def test_more_draws_keep_the_first(ref10_spec, sampler):
    a = sustainsim.simulate(
        ref10_spec, draws=1024, seed=2, source=make_source(sampler, 2, 1024), progress=False
    )
    b = sustainsim.simulate(
        ref10_spec, draws=4096, seed=2, source=make_source(sampler, 2, 4096), progress=False
    )
    xr.testing.assert_equal(a.drop_attrs(), b.isel(draw=slice(0, 1024)).drop_attrs())
    if sampler == "monte_carlo":  # the default source is this one
        c = sustainsim.simulate(ref10_spec, draws=1024, seed=2, progress=False)
        xr.testing.assert_identical(a, c)


def test_discover_streams_of_ref10(ref10_spec):
    streams = discover_streams(ref10_spec)
    assert len(streams) == len(set(streams))
    assert ("district.cuts.event", 1) in streams and ("district.cuts.event", 10) in streams
    assert ("schools.ref.enrollment.innovation", 10) in streams
    assert ("schools.ref.revenue.grant.end", 0) in streams


def test_sobol_maxdim_is_scipys():
    """The dimension limit is scipy's own (kept as a constant so scipy.stats loads lazily)."""
    from scipy.stats import qmc

    from sustainsim.sampling.samplers import SOBOL_MAXDIM

    assert qmc.Sobol.MAXDIM == SOBOL_MAXDIM


def test_import_leaves_scipy_stats_and_matplotlib_unloaded():
    """``import sustainsim`` loads neither (a quarter and a third of a second here)."""
    import subprocess
    import sys

    code = (
        "import sys, sustainsim; print('scipy.stats' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
