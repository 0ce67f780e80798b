"""rankdata: scipy.stats.rankdata's average ranks bit for bit, and the definition by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from sustainsim.metrics.ranks import rankdata, stable_argsort

# few distinct values, so ties are common; infinities and signed zeros among them
_FLOATS = st.sampled_from([-np.inf, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1e300, np.inf])


def _brute(x: np.ndarray) -> np.ndarray:
    """Rank i = (values below) + (values equal, itself included, + 1) / 2, by comparison."""
    below = (x[None, :] < x[:, None]).sum(axis=1)
    equal = (x[None, :] == x[:, None]).sum(axis=1)
    return below + (equal + 1) / 2


@given(hnp.arrays(np.float64, st.integers(1, 60), elements=_FLOATS))
def test_ranks_are_the_definition(x):
    assert np.array_equal(rankdata(x), _brute(x))


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=9), elements=_FLOATS),
    st.data(),
)
def test_equals_scipy_along_any_axis(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert np.array_equal(rankdata(x, axis=axis), stats.rankdata(x, axis=axis))


def test_equals_scipy_on_draws_with_ties_and_nan():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50_001, 5))
    X[:, 1] = np.round(X[:, 1] * 3)  # heavy ties
    X[:, 2] = 7.0  # constant
    X[17, 4] = np.nan  # that column's ranks are NaN, as scipy propagates
    got, want = rankdata(X, axis=0), stats.rankdata(X, axis=0)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[:, 4]).all() and not np.isnan(got[:, :4]).any()


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4)])
def test_empty_keeps_its_shape(shape):
    got = rankdata(np.empty(shape))
    assert got.shape == shape and got.dtype == np.float64


_ANY = st.floats(allow_nan=True, allow_infinity=True, width=64) | _FLOATS


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=9), elements=_ANY),
    st.data(),
)
def test_stable_argsort_equals_numpys_stable_sort(x, data):
    """Ties (signed zeros among them) and NaNs keep their order, as numpy's stable sort."""
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert np.array_equal(stable_argsort(x, axis=axis), np.argsort(x, axis=axis, kind="stable"))


def test_stable_argsort_on_draws_with_and_without_ties():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100_003, 4))
    X[:, 1] = rng.integers(0, 5, size=X.shape[0])  # ties: re-sorted stably
    X[::7, 2] = np.nan  # NaNs: re-sorted stably
    X[:, 3] = rng.integers(0, 2**62, size=X.shape[0]).astype(float)  # no ties
    assert np.array_equal(stable_argsort(X, axis=0), np.argsort(X, axis=0, kind="stable"))
    ints = rng.integers(0, 3, size=(5, 1000))
    assert np.array_equal(stable_argsort(ints), np.argsort(ints, kind="stable"))
