"""Scoring kernels of back-tests: the CRPS of an ensemble and interval coverage.

Examples
--------
>>> crps_sample(np.array([[0.0], [1.0]]), np.array([0.0])).round(3)
array([0.])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["crps_sample", "interval_coverage"]


def crps_sample(samples: np.ndarray, obs: np.ndarray, axis: int = 0) -> np.ndarray:
    """CRPS of an ensemble: the fair sample estimator.

    ``CRPS = mean|X - y| - sum_j (2j - m - 1) x_(j) / (m (m - 1))`` with ``x_(j)`` the
    sorted members (``j = 1..m``); the second term is half the mean absolute difference
    of distinct pairs, which makes the score unbiased for the forecast distribution.

    Parameters
    ----------
    samples : ndarray
        Ensemble members along ``axis`` (``m >= 2``).
    obs : ndarray
        Observations, the shape of ``samples`` without ``axis``.

    Returns
    -------
    ndarray
        The score, in the units of ``obs``; NaN where ``obs`` is NaN.

    Examples
    --------
    >>> float(crps_sample(np.array([1.0, 3.0]), np.array(2.0)))
    0.0
    """
    x = np.sort(np.moveaxis(np.asarray(samples, dtype=float), axis, 0), axis=0)
    m = x.shape[0]
    if m < 2:
        raise ValueError(f"samples need at least 2 members along axis {axis} (got {m})")
    obs = np.asarray(obs, dtype=float)
    w = (2.0 * np.arange(1, m + 1) - m - 1).reshape((m,) + (1,) * (x.ndim - 1))
    spread = np.sum(w * x, axis=0) / (m * (m - 1.0))
    return np.mean(np.abs(x - obs), axis=0) - spread


def interval_coverage(
    samples: np.ndarray, obs: np.ndarray, levels: Sequence[float] | np.ndarray, axis: int = 0
) -> np.ndarray:
    """Whether ``obs`` lies in each central prediction interval of the ensemble.

    Returns
    -------
    ndarray of bool, shape ``(len(levels),) + obs.shape``
        False where ``obs`` is NaN.

    Examples
    --------
    >>> ens = np.linspace(0.0, 1.0, 101)
    >>> interval_coverage(ens, np.array(0.85), [0.5, 0.8]).tolist()
    [False, True]
    """
    lv = np.asarray(levels, dtype=float)
    if lv.ndim != 1 or np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"levels must be probabilities strictly between 0 and 1 (got {levels})")
    q = np.concatenate([(1 - lv) / 2, (1 + lv) / 2])
    bounds = np.quantile(samples, q, axis=axis)
    lo, hi = bounds[: lv.size], bounds[lv.size :]
    with np.errstate(invalid="ignore"):
        return (lo <= obs) & (obs <= hi)
