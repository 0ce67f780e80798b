"""Flags along year: the loop over years gives numpy's accumulate and argmax, any layout."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sustainsim.metrics.years import every_year_so_far, first_true


def _flags(draws: int, years: int, schools: int, share: float, order: str, seed: int):
    """``(draw, year, school)`` flags laid out as a run's (draws fastest) or C-ordered."""
    rng = np.random.default_rng(seed)
    data = rng.random((draws, years, schools)) < share
    if order == "draws fastest":
        data = np.asfortranarray(data)
    elif order == "years first":  # (year, school, draw) memory, viewed as (draw, year, school)
        data = np.ascontiguousarray(data.transpose(1, 2, 0)).transpose(2, 0, 1)
    return xr.DataArray(data, dims=("draw", "year", "school"))


#: the flags' shapes, share of True and memory layouts the properties are checked on
CASES = {
    "draws": st.integers(1, 40),
    "years": st.integers(1, 7),
    "schools": st.integers(1, 3),
    "share": st.floats(0.0, 1.0),
    "order": st.sampled_from(["C", "draws fastest", "years first"]),
    "seed": st.integers(0, 2**16),
}


@settings(max_examples=60, deadline=None)
@given(**CASES)
def test_every_year_so_far_is_the_running_and(draws, years, schools, share, order, seed):
    f = _flags(draws, years, schools, share, order, seed)
    got = every_year_so_far(f)
    want = np.logical_and.accumulate(np.asarray(f.values), axis=1)
    assert got.dims == f.dims and got.dtype == bool
    np.testing.assert_array_equal(got.values, want)
    # brute force: year t holds iff no False among years 0..t
    for t in range(years):
        np.testing.assert_array_equal(got.values[:, t], f.values[:, : t + 1].all(axis=1))


@settings(max_examples=60, deadline=None)
@given(**CASES)
def test_first_true_is_argmax_and_any(draws, years, schools, share, order, seed):
    f = _flags(draws, years, schools, share, order, seed)
    first, seen = first_true(f)
    np.testing.assert_array_equal(first, np.argmax(f.values, axis=1))
    np.testing.assert_array_equal(seen, f.values.any(axis=1))
    for d, s in zip(*np.nonzero(seen), strict=True):  # the first True, by hand
        assert f.values[d, first[d, s], s] and not f.values[d, : first[d, s], s].any()


def test_other_dims_and_no_years():
    f = xr.DataArray(np.array([[False, True], [True, True], [False, False]]), dims=("year", "d"))
    first, seen = first_true(f)
    assert first.tolist() == [1, 0] and seen.tolist() == [True, True]
    assert every_year_so_far(f).values.tolist() == [[False, True], [False, True], [False, False]]
    empty = xr.DataArray(np.zeros((4, 0), dtype=bool), dims=("draw", "year"))
    assert every_year_so_far(empty).shape == (4, 0)
    first, seen = first_true(empty)
    assert first.tolist() == [0] * 4 and not seen.any()


def test_lazy_flags_give_the_same():
    pytest.importorskip("dask.array")
    f = _flags(50, 6, 2, 0.8, "draws fastest", 3)
    lazy = f.chunk({"draw": 16})
    np.testing.assert_array_equal(every_year_so_far(lazy).values, every_year_so_far(f).values)
    for got, want in zip(first_true(lazy), first_true(f), strict=True):
        np.testing.assert_array_equal(got, want)
