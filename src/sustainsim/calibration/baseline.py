"""The empirical-quantile baseline of back-tests, and closures as outcomes.

The baseline forecast of an entity ``h`` years after an origin is its log level in the
origin year plus the pooled ``h``-year log changes of every entity in the history up
to the origin (ten lines, no model): a forecast worth using must beat it.

Closed entities are outcomes, not missing data: the scored quantity is
``log(max(enrollment, 1))`` with an entity that is never observed again scored as 0
(enrollment 0) from the year after its last observation (:func:`scored_log`).

Examples
--------
>>> lev = np.array([[100.0, 110, np.nan], [50, np.nan, 60]])
>>> scored_log(lev).round(2).tolist()
[[4.61, 4.7, 0.0], [3.91, nan, 4.09]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sustainsim.calibration.scores import crps_sample

__all__ = ["baseline_scores", "pooled_changes", "scored_log"]

#: The baseline's empirical distribution is reduced to this many quantiles (for speed).
MAX_MEMBERS = 1000


def scored_log(level: np.ndarray) -> np.ndarray:
    """``log(max(level, 1))`` by (entity, year), 0 after an entity's last observation."""
    lev = np.asarray(level, dtype=float)
    obs = ~np.isnan(lev)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.maximum(lev, 1.0))
    ny = lev.shape[1]
    last = ny - 1 - np.argmax(obs[:, ::-1], axis=1)
    after = np.arange(ny)[None, :] > last[:, None]
    return np.where(after & obs.any(axis=1)[:, None], 0.0, y)


def pooled_changes(level: np.ndarray, h: int) -> np.ndarray:
    """Every ``h``-year change of :func:`scored_log` from an observed (open) year.

    Where the history is shorter than ``h`` years, the longest available ``k``-year
    changes are stretched: mean times ``h / k``, spread about it times ``sqrt(h / k)``.
    """
    y = scored_log(level)
    start_ok = ~np.isnan(np.asarray(level, dtype=float))
    for k in range(min(h, y.shape[1] - 1), 0, -1):
        ch = (y[:, k:] - y[:, :-k])[start_ok[:, :-k]]
        ch = ch[np.isfinite(ch)]
        if ch.size >= 2:
            if k == h:
                return ch
            m = ch.mean()
            return m * h / k + (ch - m) * np.sqrt(h / k)
    return np.zeros(2)


def baseline_scores(
    changes: np.ndarray, y0: np.ndarray, y_obs: np.ndarray, levels: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage hits (level, n), CRPS (n) and PIT (n) of ``y0 + changes`` against ``y_obs``.

    Examples
    --------
    >>> hits, crps, pit = baseline_scores(np.linspace(-1, 1, 201), np.zeros(1), np.zeros(1), [0.5])
    >>> hits.tolist(), round(float(pit[0]), 2)
    ([[True]], 0.5)
    """
    ch = np.sort(np.asarray(changes, dtype=float))
    if ch.size > MAX_MEMBERS:
        ch = np.quantile(ch, (np.arange(MAX_MEMBERS) + 0.5) / MAX_MEMBERS)
    lv = np.asarray(levels, dtype=float)
    q = np.quantile(ch, np.concatenate([(1 - lv) / 2, (1 + lv) / 2]))
    d = y_obs - y0
    with np.errstate(invalid="ignore"):
        hits = (q[: lv.size, None] <= d[None]) & (d[None] <= q[lv.size :, None])
    crps = crps_sample(ch[:, None] + np.zeros_like(d)[None], d)
    below = np.searchsorted(ch, d, side="left")
    at = np.searchsorted(ch, d, side="right") - below
    pit = np.where(np.isfinite(d), (below + 0.5 * at) / ch.size, np.nan)
    return hits, crps, pit
