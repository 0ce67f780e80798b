"""Grants and other temporary revenue: when they pay.

A grant pays in projected years ``start..end`` (both included). At its scheduled end
it is renewed for another term of the same length with ``renewal_probability``, again
and again (so the number of renewals is geometric). In each year it pays, it may be
terminated early with ``termination_probability``: it pays nothing from that year on.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grant_schedule"]


def grant_schedule(
    start,
    end,
    years: int,
    renewal_u: np.ndarray | None = None,
    renewal_probability: float = 0.0,
    termination_hits: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which projected years a grant pays in.

    Parameters
    ----------
    start, end : int, float or array (n,)
        First and last projected year (1-based) of the scheduled term.
    years : int
        Projected years ``T``.
    renewal_u : ndarray (n,), optional
        Uniforms deciding the number of renewals.
    renewal_probability : float
        Chance of renewal at each scheduled end, in [0, 1).
    termination_hits : bool ndarray (T, n), optional
        Early-termination events by year.

    Returns
    -------
    paying : bool ndarray (T + 1, n)
        Row ``t`` says whether the grant pays in year ``t`` (row 0, the base year, is False).
    last_year : ndarray (n,)
        The last projected year with a payment (0 if it never pays within or before the horizon).

    Examples
    --------
    >>> paying, last = grant_schedule(1, np.array([2.0, 4.0]), 5)
    >>> paying[1:].T.astype(int)
    array([[1, 1, 0, 0, 0],
           [1, 1, 1, 1, 0]])
    """
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    n = renewal_u.shape[0] if renewal_u is not None else max(start.size, end.size)
    if termination_hits is not None:
        n = termination_hits.shape[1]
    # start and end stay scalars (0-d) when they are: a comparison with a broadcast view is
    # several times slower than with a scalar or a contiguous row
    if start.ndim:
        start = np.broadcast_to(start, (n,))
    if end.ndim:
        end = np.broadcast_to(end, (n,))
    if renewal_u is not None and renewal_probability > 0:
        # P(renewals >= k) = p**k: the inverse CDF of a geometric count from 0
        k = np.floor(np.log(renewal_u) / np.log(renewal_probability))
        term = end - start + 1
        end = end + k * term
    paying = np.zeros((years + 1, n), dtype=bool)
    for t in range(1, years + 1):  # row t: start <= t <= end
        np.less_equal(float(t), end, out=paying[t])
        paying[t] &= start <= float(t)
    if termination_hits is not None:
        # terminated from the first year the grant pays and a hit occurs
        hit = np.zeros((years + 1, n), dtype=bool)
        hit[1:] = termination_hits & paying[1:]
        stopped = np.logical_or.accumulate(hit, axis=0)
        paying &= ~stopped
    if termination_hits is None:
        # a contiguous window: the last paid year follows from start and end alone
        starts_in_time = (start <= np.maximum(end, 0)) & (start <= years) & (end >= 1)
        last = np.where(starts_in_time, end, 0.0)
        return paying, np.broadcast_to(np.asarray(last, dtype=float), (n,)).copy()
    any_pay = paying.any(axis=0)
    last = np.where(any_pay, years - np.argmax(paying[::-1], axis=0), 0.0)
    # beyond the horizon the scheduled end stands (no termination can be observed there)
    beyond = any_pay & paying[-1]
    last = np.where(beyond, np.maximum(end, years), last)
    return paying, last.astype(float)
