"""Budget cuts: random events that scale the revenue lines exposed to them.

For projected year ``t`` an event happens with ``probability``; its size is
``magnitude[t]``. The funding factor ``c`` starts at 1 and::

    c[t] = 1 - (1 - c[t-1]) * (1 - recovery)      # part of past cuts restored
    c[t] = c[t] * (1 - magnitude[t])  if an event hits in year t

``recovery = 0`` makes cuts permanent; ``recovery = 1`` makes each cut last one year.
With ``mid_year`` timing a cut announced during year ``t`` takes half a year's effect
in year ``t`` and its full effect from ``t + 1`` on. A replayed year (``fixed[t]`` not
NaN) takes the given factor, ``c[t] = fixed[t]``, and the years after it recover and
are cut from there.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cut_factors"]


def cut_factors(
    hits: np.ndarray,
    magnitude: np.ndarray,
    recovery: float = 0.0,
    mid_year: bool = False,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """Funding factors after budget cuts.

    Parameters
    ----------
    hits : bool ndarray (T, ...)
        Whether an event happens in each projected year.
    magnitude : ndarray (T, ...)
        Share of exposed revenue cut by an event, in [0, 1].
    recovery : float
        Share of the cumulative cut restored each following year, in [0, 1].
    mid_year : bool
        Whether a cut takes half its effect in the year it is announced.
    fixed : ndarray (T,), optional
        Replayed factors (a historical path), NaN in the years left to the events.

    Returns
    -------
    ndarray (T + 1, ...)
        Factor on exposed revenue, row 0 (base year) equal to 1.

    Examples
    --------
    >>> hits = np.array([[False], [True], [False]])
    >>> cut_factors(hits, np.full((3, 1), 0.1)).ravel()
    array([1. , 1. , 0.9, 0.9])
    """
    T = hits.shape[0]
    shape = np.broadcast_shapes(hits.shape, magnitude.shape)
    out = np.empty((T + 1,) + shape[1:])
    out[0] = 1.0
    if fixed is None and not recovery and not mid_year:
        # permanent cuts, the common case: the same operations in place, row by row
        factor = np.empty(shape[1:])
        for t in range(T):  # c[t] = c[t-1] * (1 - magnitude[t] * hits[t])
            np.multiply(magnitude[t], hits[t], out=factor)
            np.subtract(1.0, factor, out=factor)
            np.multiply(out[t], factor, out=out[t + 1])
        return out
    c = np.ones(hits.shape[1:])
    for t in range(T):
        if fixed is not None and not np.isnan(fixed[t]):
            c = np.full(hits.shape[1:], float(fixed[t]))
            out[t + 1] = c
            continue
        if recovery:
            c = 1.0 - (1.0 - c) * (1.0 - recovery)
        factor = 1.0 - magnitude[t] * hits[t]
        if mid_year:
            out[t + 1] = c * (1.0 - 0.5 * magnitude[t] * hits[t])
        c = c * factor
        if not mid_year:
            out[t + 1] = c
    return out
