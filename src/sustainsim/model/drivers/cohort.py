"""Grade-level enrollment by cohort survival (the method district demographers use).

Each year every cohort moves up one grade, scaled by that grade's progression ratio
(survival plus net migration), with log-normal noise; the entering grade follows its
own path (the aggregate log-growth process)::

    n[0, t] = entering[t]
    n[g, t] = n[g-1, t-1] * ratio[g] * exp(noise[g, t])      g = 1..G-1

The ratio is the median progression, fixed or one per draw (an uncertain ratio); the
noise has standard deviation ``progression_sd`` (one per grade) on the log
scale. Pupils leaving the last grade graduate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["cohort_paths"]


def cohort_paths(
    by_grade: np.ndarray,
    ratios: Sequence[float] | np.ndarray,
    entering: np.ndarray,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Enrollment by grade over years.

    Parameters
    ----------
    by_grade : ndarray (G,) or (G, n)
        Base-year enrollment per grade (one column per path). [students]
    ratios : sequence of float (G - 1) or ndarray (G - 1, n)
        Progression ratio into grades 1..G-1, fixed or one per draw.
    entering : ndarray (T + 1, n)
        Entering-grade enrollment path (row 0 = ``by_grade[0]``).
    noise : ndarray (G - 1, T, n), optional
        Log-scale noise on each grade's progression each year.

    Returns
    -------
    ndarray (G, T + 1, n)

    Examples
    --------
    >>> cohort_paths(np.array([100.0, 90.0]), [0.95], np.full((3, 1), 100.0))[:, :, 0]
    array([[100., 100., 100.],
           [ 90.,  95.,  95.]])
    """
    G = len(by_grade)
    T1, n = entering.shape
    r = np.asarray(ratios, dtype=float)
    r = r[:, None] if r.ndim == 1 else r
    n = max(n, r.shape[-1], noise.shape[-1] if noise is not None else 1)
    out = np.empty((G, T1, n))
    bg = np.asarray(by_grade, dtype=float)
    out[:, 0] = bg[:, None] if bg.ndim == 1 else bg
    out[0] = entering
    for t in range(1, T1):
        step = out[:-1, t - 1] * r
        if noise is not None:
            step = step * np.exp(noise[:, t - 1])
        out[1:, t] = step
    return out
