"""Operating deficits (a flow) beside the fund balance (a stock), on hand-made Datasets."""

from __future__ import annotations

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sustainsim.metrics import (
    first_deficit_spending_year,
    first_negative_balance_year,
    first_year_summary,
    median_first_year,
    p_no_deficit_spending,
    p_no_operating_deficit,
    p_solvent,
    summary,
)


def _ds(surplus, start=0.0) -> xr.Dataset:
    s = np.asarray(surplus, dtype=float)[:, :, None]
    bal = start + np.cumsum(s, axis=1)
    years = np.arange(2030, 2030 + s.shape[1])
    dims = ("draw", "year", "school")
    return xr.Dataset(
        {"surplus": (dims, s), "fund_balance": (dims, bal)},
        coords={"draw": np.arange(s.shape[0]), "year": years, "school": ["a"]},
        attrs={"seed": 0},
    )


def test_a_deficit_is_a_flow_and_a_negative_balance_a_stock():
    # draw 0: a reserve absorbs two deficits (balance 100 -> 60 -> 20 -> 30): deficit
    # spending from 2030, never a negative balance; draw 1: one deficit in 2031 empties it
    ds = _ds([[-40, -40, 10], [10, -150, 50]], start=100)
    np.testing.assert_allclose(
        p_no_operating_deficit(ds).probability.sel(school="a"), [0.5, 0.0, 1.0]
    )
    np.testing.assert_allclose(p_no_deficit_spending(ds).probability.sel(school="a"), [0.5, 0, 0])
    np.testing.assert_array_equal(first_deficit_spending_year(ds).sel(school="a"), [2030, 2031])
    np.testing.assert_array_equal(first_negative_balance_year(ds).sel(school="a"), [np.nan, 2031])
    np.testing.assert_allclose(p_solvent(ds).probability.sel(school="a"), [1.0, 0.5, 0.5])
    e = summary(ds)["entities"]["a"]
    assert e["p_balance_never_negative"] == 0.5
    assert e["first_negative_balance"] == {"median_year": 2031, "share_of_draws": 0.5}
    assert e["p_no_deficit_spending"] == 0.0
    assert e["first_deficit_spending"] == {"median_year": 2030, "share_of_draws": 1.0}
    assert e["p_no_operating_deficit"]["2032"]["probability"] == 1.0


def test_median_first_year_among_the_draws_where_it_happens():
    years = np.array([2030, 2031, 2032])
    assert median_first_year(np.array([0, 0, 0]), years) == (None, 0)
    assert median_first_year(np.array([1, 1, 0]), years) == (2030, 2)  # lower median
    assert median_first_year(np.array([1, 1, 1]), years) == (2031, 3)
    assert median_first_year(np.array([0, 1, 5]), years) == (2032, 6)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=st.floats(-10, 10)
    )
)
def test_first_year_summaries_match_brute_force(s):
    ds = _ds(s, start=5.0)
    for first, flags in (
        (first_deficit_spending_year(ds), s < 0),
        (first_negative_balance_year(ds), 5.0 + np.cumsum(s, axis=1) < 0),
    ):
        got = first_year_summary(first)["a"]
        firsts = [2030 + int(np.argmax(row)) for row in flags if row.any()]
        assert got["share_of_draws"] == len(firsts) / s.shape[0]
        if firsts:
            assert got["median_year"] == sorted(firsts)[(len(firsts) - 1) // 2]
        else:
            assert got["median_year"] is None
    p = p_no_deficit_spending(ds).probability.sel(school="a").values
    np.testing.assert_allclose(p, (s >= 0).cumprod(axis=1).mean(axis=0))


def test_year_counts_by_offset_and_by_sort():
    from sustainsim.metrics.deficit import _year_counts

    years = np.array([2040.0, 2031.0, 2031.0, 2035.0])
    counts, at = _year_counts(years)
    assert counts.sum() == 4 and dict(zip(at[counts > 0], counts[counts > 0], strict=True)) == {
        2031.0: 2,
        2035.0: 1,
        2040.0: 1,
    }
    # not whole years: counted by np.unique, the same pairs
    odd = np.array([2030.5, 2030.5, 2031.0])
    counts, at = _year_counts(odd)
    assert counts.tolist() == [2, 1] and at.tolist() == [2030.5, 2031.0]
