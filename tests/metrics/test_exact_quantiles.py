"""quantiles_1d and quantiles_rows give numpy's nanquantile bit for bit: brute force on the same values."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from sustainsim.metrics import exact_quantiles
from sustainsim.metrics.exact_quantiles import draw_quantiles, quantiles_1d, quantiles_rows

QS = [[0.1, 0.5, 0.9], [0.05, 0.25, 0.75, 0.95], [0.001, 0.999], [0.5]]


def _values(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(size=n) * 1e6
    if kind == "ties":
        x = np.round(x / 1e5)
    elif kind == "sorted":  # a strided sample of sorted values still brackets
        x = np.sort(x)
    elif kind == "inf":
        x[rng.random(n) < 0.3] = np.inf
    elif kind == "three values":  # brackets hold one value: falls back, same numbers
        x = rng.integers(0, 3, size=n).astype(float)
    elif kind == "lump":  # a mass point: its brackets only count, the others select
        x[rng.random(n) < 0.5] = 0.0
    elif kind == "nan":
        x[rng.random(n) < 0.1] = np.nan
    return x


@pytest.mark.parametrize("kind", ["normal", "ties", "sorted", "inf", "three values", "lump", "nan"])
@pytest.mark.parametrize("q", QS)
def test_equals_numpy(kind, q):
    x = _values(kind, 123_457, np.random.default_rng(len(kind)))
    with np.errstate(invalid="ignore"):
        want = np.nanquantile(x, q)
        got = quantiles_1d(x, q)
    assert np.array_equal(got, want, equal_nan=True)


@given(
    n=st.integers(1, 60_000),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(1e-3, 1e9),
    q=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4),
)
def test_equals_numpy_any_size(n, seed, scale, q):
    x = np.random.default_rng(seed).standard_t(3, size=n) * scale
    assert np.array_equal(quantiles_1d(x, q), np.quantile(x, q))


def test_strided_input():
    x = np.asfortranarray(np.random.default_rng(5).normal(size=(50_000, 3)))
    for j in range(3):
        assert np.array_equal(quantiles_1d(x[:, j], QS[0]), np.quantile(x[:, j], QS[0]))


@pytest.mark.parametrize("q", [0.05, [0.05, 0.5, 0.95]])
def test_draw_quantiles_is_xarrays(q):
    rng = np.random.default_rng(7)
    values = np.asfortranarray(rng.normal(size=(40_000, 3, 2)))
    values[:5, 1, 0] = np.nan
    da = xr.DataArray(
        values,
        dims=("draw", "year", "school"),
        coords={"year": [2027, 2028, 2029], "school": ["a", "b"]},
        name="fund_balance",
        attrs={"units": "USD"},
    )
    xr.testing.assert_identical(draw_quantiles(da, q), da.quantile(q, dim="draw"))


def test_lumps():
    # a constant line, and lumps at the quantiles: brackets of one value
    rng = np.random.default_rng(3)
    for x in (
        np.zeros(100_000),
        np.where(rng.random(100_000) < 0.8, 5.0, rng.normal(size=100_000)),
    ):
        assert np.array_equal(quantiles_1d(x, QS[0]), np.quantile(x, QS[0]))


KINDS = ["normal", "ties", "sorted", "inf", "three values", "lump", "nan"]


@pytest.mark.parametrize("q", QS)
def test_rows_equal_numpy_row_by_row(q):
    # every kind of row in one call: each row's brackets, lumps and fallbacks its own
    rng = np.random.default_rng(11)
    x = np.stack([_values(kind, 54_321, rng) for kind in KINDS] + [np.full(54_321, -0.0)])
    with np.errstate(invalid="ignore"):
        want = np.stack([np.nanquantile(row, q) for row in x])
        got = quantiles_rows(x, q)
    assert got.shape == (len(x), len(q))
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))  # -0.0 stays -0.0 where numpy's does


def test_rows_of_a_draw_first_array_and_many_blocks(monkeypatch):
    # rows strided in memory (columns of a draw-first array), in blocks of 1,024 values
    # with the uint8 counters added up mid-pass (255 blocks of one row)
    monkeypatch.setattr(exact_quantiles, "_CELLS", 2_048)
    x = np.random.default_rng(12).normal(size=(300_000, 2)) * 1e6
    want = np.quantile(x, QS[1], axis=0).T

    def no_fallback(*args, **kwargs):
        raise AssertionError("the brackets missed: numpy was asked")

    monkeypatch.setattr(np, "nanquantile", no_fallback)
    assert np.array_equal(quantiles_rows(x.T, QS[1]), want)


def test_rows_reject_other_shapes():
    with pytest.raises(ValueError, match="2-D"):
        quantiles_rows(np.zeros(30_000), [0.5])


def test_no_quantiles_asked():
    x = np.random.default_rng(14).normal(size=(2, 30_000))
    assert quantiles_rows(x, []).shape == (2, 0)
    assert quantiles_1d(x[0], []).shape == np.nanquantile(x[0], []).shape == (0,)


def test_many_rows_keep_the_buffers_small():
    # 300 rows go through the pass in groups: each thread's buffers stay within _CELLS
    x = np.random.default_rng(13).normal(size=(300, 20_000))
    assert np.array_equal(quantiles_rows(x, QS[0]), np.quantile(x, QS[0], axis=1).T)
    for name in ("below", "inside", "counts"):
        assert getattr(exact_quantiles._SCRATCH, name).size <= exact_quantiles._CELLS


def test_rows_that_follow_each_other_are_passed_as_views():
    x = np.zeros((6, 10))
    assert np.shares_memory(exact_quantiles._rows(x, np.arange(1, 5)), x)
    picked = exact_quantiles._rows(x, np.array([0, 2, 5]))
    assert not np.shares_memory(picked, x) and picked.shape == (3, 10)
