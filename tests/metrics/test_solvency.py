"""Metrics on hand-made Datasets, closed forms and invariants."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special

import sustainsim
from sustainsim.metrics import solvency
from sustainsim.metrics.solvency import (
    count_true,
    first_deficit_distribution,
    first_deficit_year,
    p_solvent,
    probability,
    solvent,
    summary,
    wilson_interval,
    worst_balance,
)


def _ds(balances: np.ndarray, schools=("a",)) -> xr.Dataset:
    """A results-like Dataset from fund balances (draw, year, school)."""
    b = np.asarray(balances, dtype=float)
    if b.ndim == 2:
        b = b[:, :, None]
    years = np.arange(2030, 2030 + b.shape[1])
    return xr.Dataset(
        {"fund_balance": (("draw", "year", "school"), b, {"units": "USD"})},
        coords={"draw": np.arange(b.shape[0]), "year": years, "school": list(schools)},
        attrs={"seed": 0},
    )


def test_solvent_is_cumulative():
    ds = _ds([[5, -1, 3], [1, 2, 3], [-1, 2, 3], [0, 0, 0]])
    s = solvent(ds).sel(school="a").values
    np.testing.assert_array_equal(s, [[1, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 1]])
    p = p_solvent(ds).sel(school="a")
    np.testing.assert_allclose(p.probability, [0.75, 0.5, 0.5])
    np.testing.assert_allclose(p.se, np.sqrt([0.75 * 0.25 / 4, 0.25 / 4, 0.25 / 4]))
    fd = first_deficit_year(ds).sel(school="a").values
    np.testing.assert_array_equal(fd, [2031, np.nan, 2030, np.nan])
    np.testing.assert_allclose(worst_balance(ds).sel(school="a"), [-1, 1, -1, 0])


@pytest.mark.parametrize("k,n", [(0, 10), (5, 20), (37, 50), (1000, 1000), (3, 1_000_000)])
def test_wilson_bounds_solve_the_score_equation(k, n):
    """The Wilson bounds are the p where |p_hat - p| = z sqrt(p (1 - p) / n)."""
    lo, hi = wilson_interval(k, n, 0.95)
    z = special.ndtri(0.975)
    ph = k / n
    for b in (lo, hi):
        if 0 < b < 1:
            assert (ph - b) ** 2 == pytest.approx(z * z * b * (1 - b) / n, rel=1e-9, abs=1e-15)
    assert lo <= ph <= hi


def test_wilson_interval_covers_at_its_nominal_rate():
    rng = np.random.default_rng(0)
    p, n, reps = 0.07, 200, 20_000
    k = rng.binomial(n, p, reps)
    lo, hi = wilson_interval(k, n)
    cover = np.mean((lo <= p) & (p <= hi))
    assert cover == pytest.approx(0.95, abs=0.015)


def test_district_total_entry_with_several_schools():
    a = np.array([[1.0, -2.0], [1.0, 1.0]])
    b = np.array([[3.0, 1.0], [-5.0, 1.0]])
    ds = _ds(np.stack([a, b], axis=-1), schools=("a", "b"))
    p = p_solvent(ds)
    assert p["school"].values.tolist() == ["a", "b", "district"]
    # district balances: [[4, -1], [-4, 2]] -> solvent through 2030: 1 of 2; through 2031: 0
    np.testing.assert_allclose(p.probability.sel(school="district"), [0.5, 0.0])
    np.testing.assert_allclose(p.probability.sel(school="a"), [1.0, 0.5])


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 40), st.integers(1, 8)), elements=st.floats(-1e6, 1e6)
    )
)
def test_probability_invariants(b):
    ds = _ds(b)
    p = p_solvent(ds).sel(school="a")
    prob = p.probability.values
    assert np.all((0 <= prob) & (prob <= 1))
    assert np.all(np.diff(prob) <= 0)  # solvent through t is non-increasing in t
    assert np.all(p.lower.values <= prob + 1e-12) and np.all(prob <= p.upper.values + 1e-12)
    fd = first_deficit_distribution(ds).sel(school="a")
    # P(first deficit <= t) + P(solvent through t) = 1, and everything sums to one
    np.testing.assert_allclose(np.cumsum(fd.probability.values) + prob, 1.0, atol=1e-12)
    assert float(fd.probability.sum() + fd.never) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(
    base=st.floats(50, 2000),
    drift=st.floats(-0.1, 0.1),
    vol=st.floats(0, 0.3),
    rate=st.floats(0, 20_000),
    fixed=st.floats(0, 5e6),
    balance=st.floats(-1e6, 1e6),
    p=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_balance_identity_for_random_models(base, drift, vol, rate, fixed, balance, p, seed):
    text = f"""
[simulation]
years = 6
first_year = 2030
draws = 50
seed = {seed}
[district.cuts]
probability = {p!r}
magnitude = {{ dist = "uniform", low = 0.0, high = 0.2 }}
recovery = 0.3
[[schools]]
name = "s"
fund_balance = {balance!r}
[schools.enrollment]
base = {base!r}
drift = {drift!r}
volatility = {vol!r}
[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = {rate!r}
[[schools.revenue]]
name = "g"
kind = "grant"
amount = 100000
end = {{ dist = "integer_uniform", low = 1, high = 4 }}
termination_probability = 0.1
[[schools.cost]]
name = "f"
kind = "fixed"
amount = {fixed!r}
growth = 0.03
[[schools.cost]]
name = "t"
kind = "staff"
students_per_position = 22
salary = 60000
benefits_rate = 0.4
"""
    ds = sustainsim.simulate(sustainsim.loads_config(text))
    b = ds.fund_balance.values
    prev = np.concatenate([ds.initial_fund_balance.values[:, None, :], b[:, :-1]], axis=1)
    scale = 1 + np.abs(b).max()
    np.testing.assert_allclose(b - prev, ds.revenue.values - ds.cost.values, atol=1e-9 * scale)
    assert np.all(ds.revenue.values >= 0) and np.all(ds.cost.values >= 0)
    pr = p_solvent(ds).probability.values
    assert np.all((pr >= 0) & (pr <= 1))


def test_probability_of_flags_matches_counts():
    flags = xr.DataArray(np.array([[1, 0], [1, 1], [0, 0], [1, 0]], bool), dims=("draw", "x"))
    out = probability(flags)
    np.testing.assert_allclose(out.probability, [0.75, 0.25])
    assert out.attrs["draws"] == 4


def test_summary_is_json_ready(ref10_spec):
    import json

    ds = sustainsim.simulate(ref10_spec, draws=2000, seed=2)
    s = summary(ds)
    json.dumps(s, allow_nan=False)
    ent = s["entities"]["ref"]
    p = p_solvent(ds).sel(school="ref")
    assert ent["p_solvent"]["2036"]["probability"] == pytest.approx(float(p.probability[-1]))
    q = ent["final_balance_quantiles"]
    assert q["0.05"] <= q["0.5"] <= q["0.95"]
    assert q["0.5"] == pytest.approx(float(np.quantile(ds.fund_balance.values[:, -1, 0], 0.5)))


@settings(max_examples=50, deadline=None)
@given(
    shape=st.tuples(st.integers(0, 30), st.integers(1, 5), st.integers(1, 3)),
    share=st.floats(0.0, 1.0),
    fortran=st.booleans(),
    axis=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_count_true_is_sum(shape, share, fortran, axis, seed):
    """Counting each cell on its own gives sum's integers, dims and coords, any layout."""
    assert solvency._COUNT_CELLS_FROM > 30  # these sizes take sum's path...
    with pytest.MonkeyPatch.context() as mp:  # ... and, here, the per-cell count
        mp.setattr(solvency, "_COUNT_CELLS_FROM", 0)
        _check_count(shape, share, fortran, axis, seed)


def _check_count(shape, share, fortran, axis, seed):
    data = np.random.default_rng(seed).random(shape) < share
    data = np.asfortranarray(data) if fortran else data
    dims = ("draw", "year", "school")
    coords = {"year": np.arange(shape[1]) + 2027, "school": [f"s{i}" for i in range(shape[2])]}
    flags = xr.DataArray(data, dims=dims, coords=coords, name="ok", attrs={"units": "1"})
    dim = dims[axis]
    got, want = count_true(flags, dim), flags.sum(dim)
    xr.testing.assert_equal(got, want)  # dims, coords and values (attrs: by xarray's version)
    assert got.dtype == want.dtype and got.name == want.name
    # brute force: count the Trues of each cell by hand
    moved = np.moveaxis(data, axis, -1)
    for idx in np.ndindex(*moved.shape[:-1]):
        assert got.values[idx] == sum(bool(v) for v in moved[idx])


def test_count_true_of_few_draws_and_lazy_flags():
    flags = xr.DataArray(np.eye(3, dtype=bool), dims=("draw", "year"))
    assert count_true(flags).values.tolist() == [1, 1, 1]  # sum's own path
    pytest.importorskip("dask.array")
    many = xr.DataArray(np.random.default_rng(1).random((5000, 2)) < 0.3, dims=("draw", "year"))
    xr.testing.assert_equal(count_true(many.chunk({"draw": 1000})).compute(), many.sum("draw"))
    xr.testing.assert_equal(count_true(many), many.sum("draw"))
