"""School-choice events: a charter opening or a boundary change takes a share of the pupils.

An event happens in projected year ``tau`` (a fixed year, or a random year with an annual
``hazard``: ``P(tau <= t) = 1 - (1 - hazard)**t``) and from then on removes ``share`` of
the entering grade (``scope = "entry"``) or of every grade (``scope = "all"``)::

    entering[t] *= (1 - share)            t >= tau          (both scopes)
    n[g, tau]   *= (1 - share)            g >= 1, once      (scope "all")

so under ``"all"`` the pupils who leave in year ``tau`` stay gone as their cohorts move up,
and the entering grade is smaller from then on. For the aggregate model (no grades) only
``"all"`` applies: the enrollment level drops by ``share`` in year ``tau`` and grows from
there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["choice_factors", "event_years"]


def event_years(u: np.ndarray, hazard: float) -> np.ndarray:
    """The projected year of an event with an annual hazard, from one uniform per draw.

    ``tau = floor(log(u) / log(1 - hazard)) + 1`` is geometric: ``P(tau <= t) =
    P(u > (1 - hazard)**t) = 1 - (1 - hazard)**t``. It may lie beyond the horizon (the event
    does not happen in the run).

    Parameters
    ----------
    u : ndarray (n,)
        Uniforms in (0, 1).
    hazard : float
        Annual probability of the event while it has not happened, in (0, 1].

    Returns
    -------
    ndarray (n,) of float
        Projected year of the event (1 = the first projected year).

    Examples
    --------
    >>> event_years(np.array([0.5, 0.9, 0.01]), 0.2).tolist()  # 0.8**3 > 0.5 > 0.8**4
    [4.0, 1.0, 21.0]
    """
    u = np.asarray(u, dtype=float)
    if not 0 < hazard <= 1:
        raise ValueError(f"hazard must be in (0, 1] (got {hazard})")
    if hazard == 1:
        return np.ones_like(u)
    return np.floor(np.log(u) / np.log1p(-hazard)) + 1.0


def choice_factors(
    years: Sequence[np.ndarray | float],
    shares: Sequence[float],
    scopes: Sequence[str],
    T: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers of the entering grade and of the continuing grades, per year.

    Parameters
    ----------
    years : sequence of float or ndarray (n,)
        Each event's projected year (:func:`event_years`, or a fixed year).
    shares : sequence of float
        Share of pupils each event removes, in (0, 1).
    scopes : sequence of {"entry", "all"}
        What each event removes a share of.
    T : int
        Projected years.

    Returns
    -------
    entry : ndarray (T + 1, n)
        ``prod(1 - share)`` over the events that have happened by year ``t`` (row 0 = 1).
    loss : ndarray (T + 1, n)
        ``prod(1 - share)`` over the ``"all"`` events happening in year ``t`` itself.

    Examples
    --------
    >>> e, l = choice_factors([2.0, 3.0], [0.5, 0.2], ["entry", "all"], 3)
    >>> e[:, 0].tolist(), l[:, 0].tolist()
    ([1.0, 1.0, 0.5, 0.4], [1.0, 1.0, 1.0, 0.8])
    """
    t = np.arange(T + 1, dtype=float)[:, None]
    n = max([np.size(y) for y in years] + [1])
    entry = np.ones((T + 1, n))
    loss = np.ones((T + 1, n))
    for y, s, scope in zip(years, shares, scopes, strict=True):
        tau = np.broadcast_to(np.asarray(y, dtype=float), (n,))[None, :]
        keep = 1.0 - float(s)
        entry *= np.where(t >= tau, keep, 1.0)
        if scope == "all":
            loss *= np.where(t == tau, keep, 1.0)
    return entry, loss
