"""Levies renewed by vote: which elections pass, and the years a levy is collected.

A levy in force is collected through its expiry year ``expires`` (none: a permanent
levy, collected every year). Elections are held on a calendar of projected years
(one entry per attempt, a year twice for two elections in it). Attempt ``i``
(0-based) passes when its uniform is below ``p * decay**i``; the first pass ends the
campaign, and at most ``max_attempts`` attempts are made. Collection then resumes:

* a renewal passed in or before the expiry year (``y <= expires``): from
  ``expires + 1``, without a gap;
* otherwise (a replacement after the levy lapsed, or a new levy): from
  ``y + lag``, the first tax year after the vote with the usual ``lag = 1``.

So the chance that the levy is still unreplaced after ``k`` attempts is
``prod_{i<k} (1 - p * decay**i)`` (``(1 - p)**k`` for a constant rate), whatever the
calendar. Pure numpy, vectorized over draws.
"""

from __future__ import annotations

import numpy as np

__all__ = ["election_calendar", "levy_schedule"]


def election_calendar(
    years: int,
    election_years=None,
    per_year: int = 1,
    *,
    first: int = 1,
) -> np.ndarray:
    """The projected year of every election attempt within the horizon, in order.

    ``election_years`` (default every year from ``first`` to ``years``), each
    ``per_year`` times; years outside ``1..years`` are dropped.

    Examples
    --------
    >>> election_calendar(4, per_year=2, first=3)
    array([3, 3, 4, 4])
    """
    ys = np.arange(max(first, 1), years + 1) if election_years is None else election_years
    ys = np.asarray(ys, dtype=int).reshape(-1)
    ys = ys[(ys >= 1) & (ys <= years)]
    return np.repeat(ys, per_year)


def levy_schedule(
    years: int,
    calendar,
    pass_u: np.ndarray,
    pass_probability,
    *,
    in_force: bool = True,
    expires: int | None = None,
    pass_decay: float = 1.0,
    max_attempts: int | None = None,
    collection_lag: int = 1,
    attempt_probabilities=None,
) -> tuple[np.ndarray, np.ndarray]:
    """The years a levy is collected and the attempt that passed it, for every draw.

    Parameters
    ----------
    years : int
        Projected years ``T``.
    calendar : sequence of int
        The projected year of each election attempt, in order (non-decreasing).
    pass_u : ndarray (K, n)
        One uniform per attempt and draw (``K >= len(calendar)`` rows are read up to
        the calendar's length).
    pass_probability : float or ndarray (n,)
        Chance the first attempt passes, in [0, 1] (unused with
        ``attempt_probabilities``).
    in_force : bool
        Whether the levy is collected at the start (else a new levy).
    expires : int, optional
        Last projected year of collection of the levy in force; None: permanent.
    pass_decay : float
        Factor on the pass probability after each failed attempt, in (0, 1].
    max_attempts : int, optional
        Attempts allowed (None: every election of the calendar).
    collection_lag : int
        Years from the vote to the first collection of a levy that is not a renewal.
    attempt_probabilities : sequence of float, optional
        Pass probability of each attempt in turn (the last one for any later attempt),
        instead of ``pass_probability * pass_decay**i``.

    Returns
    -------
    collected : bool ndarray (T + 1, n)
        Row ``t`` says whether the levy is collected in year ``t`` (row 0, the base
        year: ``in_force``).
    attempt : ndarray (n,)
        The attempt (1 = the first) that passed, 0 when none did.

    Examples
    --------
    A levy expiring in year 2, renewals voted in years 2, 3 and 4: the first fails,
    the second passes, collection resumes a year later (year 3 goes without).

    >>> u = np.array([[0.9], [0.1], [0.5]])
    >>> collected, attempt = levy_schedule(5, [2, 3, 4], u, 0.5, expires=2)
    >>> collected[1:, 0].astype(int), attempt
    (array([1, 1, 0, 1, 1]), array([2.]))
    """
    cal = np.asarray(calendar, dtype=float).reshape(-1)
    if max_attempts is not None:
        cal = cal[:max_attempts]
    k = cal.size
    p = np.asarray(0.0 if pass_probability is None else pass_probability, dtype=float)
    n = pass_u.shape[1] if pass_u.ndim == 2 else p.size
    t = np.arange(years + 1, dtype=float)[:, None]
    if in_force and expires is None:  # permanent: no vote
        return np.ones((years + 1, n), dtype=bool), np.zeros(n)
    start = np.full(n, np.inf)
    attempt = np.zeros(n)
    if k:
        if attempt_probabilities is not None:
            given = np.asarray(attempt_probabilities, dtype=float)
            rates = given[np.minimum(np.arange(k), given.size - 1)][:, None]
        else:
            rates = np.broadcast_to(p, (n,))[None, :] * pass_decay ** np.arange(k)[:, None]
        passed = pass_u[:k] < rates  # (K, n)
        won = passed.any(axis=0)
        first = np.argmax(passed, axis=0)
        attempt = np.where(won, first + 1.0, 0.0)
        vote = np.where(won, cal[first], np.inf)
        after = vote + collection_lag
        if in_force and expires is not None:
            start = np.where(vote <= expires, expires + 1.0, after)
        else:
            start = after
    collected = t >= start[None, :]
    if in_force and expires is not None:
        collected |= t <= expires
    collected[0] = in_force
    return collected, attempt
