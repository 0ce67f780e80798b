"""The all-years enrollment recurrence against the year-by-year one, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sustainsim.model.drivers.enrollment import enrollment_paths


@pytest.mark.parametrize("persistence", [0.0, 0.6, "random"])
@pytest.mark.parametrize("common", [False, True])
@pytest.mark.parametrize("shift", [False, True])
def test_uncapped_paths_equal_the_recurrence(persistence, common, shift):
    """A cap too high to bind takes the year-by-year loop: the numbers must not move."""
    rng = np.random.default_rng(11)
    T, n = 12, 257
    base = rng.uniform(50, 900, n)
    drift = rng.normal(0, 0.02, n)
    vol = rng.uniform(0.0, 0.1, n)
    pers = rng.uniform(-0.5, 0.9, n) if persistence == "random" else persistence
    loading = rng.uniform(-1, 1, n) if common else 0.0
    zc, zo = rng.normal(size=(T, n)), rng.normal(size=(T, n))
    sh = rng.normal(0, 0.01, (T, 1)) if shift else None
    fast = enrollment_paths(base, drift, vol, pers, loading, zc, zo, shift=sh)
    loop = enrollment_paths(base, drift, vol, pers, loading, zc, zo, capacity=1e300, shift=sh)
    np.testing.assert_array_equal(fast, loop)
    assert fast.shape == (T + 1, n) and np.all(fast > 0)
