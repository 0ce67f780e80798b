"""Regime-switching budget cuts: a two-state normal/recession Markov chain per draw.

Each draw has its own chain over the projected years ``t = 1..T``; state 0 is
*normal*, 1 is *recession*. From one year to the next::

    P(recession next | normal)    = p_enter
    P(normal next    | recession) = p_exit

so cuts cluster: a cut is more likely (``p_recession`` instead of ``p_normal``) and may
be larger in recession years, and recession years follow each other.

Closed forms (what the tests check):

* long-run (stationary) share of recession years ``pi = p_enter / (p_enter + p_exit)``;
* a recession run lasts a geometric number of years with mean ``1 / p_exit``
  (a normal run ``1 / p_enter``);
* the lag-1 autocorrelation of the state is ``1 - p_enter - p_exit``.

``initial`` is the state of the base year (year 0): ``"normal"``, ``"recession"``
(e.g. a district entering a downturn) or ``"stationary"`` (drawn with probability
``pi``, so every projected year is a recession with probability ``pi``). Year ``t``'s
state is one transition from year ``t - 1``'s, driven by uniform ``u_steps[t - 1]``.

Uniforms in, arrays out, vectorized over draws and looped over years; the random
numbers come from named streams (see :mod:`sustainsim.sampling`). Parameters may be
floats or per-draw arrays ``(n,)``.

Examples
--------
>>> u0 = np.array([0.9, 0.1])
>>> steps = np.array([[0.5, 0.5], [0.05, 0.9], [0.9, 0.1]])
>>> regime_states(u0, steps, p_enter=0.1, p_exit=0.3, initial="normal").T
array([[0, 1, 1],
       [0, 0, 0]], dtype=int8)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

__all__ = [
    "INITIAL_STATES",
    "mean_run_length",
    "regime_cut_hits",
    "regime_magnitudes",
    "regime_states",
    "stationary_share",
]

#: the state of a recession year (a normal year is 0)
RECESSION = 1


class _HasPpf(Protocol):
    def ppf(self, u: np.ndarray) -> np.ndarray: ...


def _prob(name: str, p) -> np.ndarray:
    a = np.asarray(p, dtype=float)
    if not np.all((a >= 0.0) & (a <= 1.0)):
        bad = a[~((a >= 0.0) & (a <= 1.0))].ravel()[0]
        raise ValueError(f"{name} must be a probability in [0, 1] (got {bad})")
    return a


def stationary_share(p_enter, p_exit):
    """Long-run share of recession years, ``p_enter / (p_enter + p_exit)``.

    Examples
    --------
    >>> stationary_share(0.1, 0.4)
    0.2
    """
    pe, px = _prob("p_enter", p_enter), _prob("p_exit", p_exit)
    total = pe + px
    if np.any(total <= 0.0):
        raise ValueError(
            "the stationary share needs p_enter + p_exit > 0 (with both 0 the regime never changes)"
        )
    out = pe / total
    return float(out) if out.ndim == 0 else out


def mean_run_length(p_exit):
    """Mean length of a recession run in years, ``1 / p_exit`` (infinite if 0).

    Examples
    --------
    >>> mean_run_length(0.25)
    4.0
    """
    px = _prob("p_exit", p_exit)
    with np.errstate(divide="ignore"):
        out = np.where(px > 0, 1.0 / np.where(px > 0, px, 1.0), np.inf)
    return float(out) if out.ndim == 0 else out


#: how the base year's state is drawn: name -> P(recession in the base year)
INITIAL_STATES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "stationary": lambda pe, px: np.asarray(stationary_share(pe, px), dtype=float),
    "normal": lambda pe, px: np.zeros(np.broadcast(pe, px).shape),
    "recession": lambda pe, px: np.ones(np.broadcast(pe, px).shape),
}


def regime_states(
    u_init: np.ndarray,
    u_steps: np.ndarray,
    p_enter,
    p_exit,
    initial: str = "stationary",
) -> np.ndarray:
    """The regime of every projected year and draw.

    Parameters
    ----------
    u_init : ndarray (n,)
        Uniforms drawing the base year's state (recession iff ``u < P(recession)``);
        unused for ``initial="normal"`` / ``"recession"``.
    u_steps : ndarray (T, n)
        Uniforms of the transitions into years 1..T.
    p_enter : float or ndarray (n,)
        Annual probability of a recession starting after a normal year.
    p_exit : float or ndarray (n,)
        Annual probability of a recession ending after a recession year.
    initial : {"stationary", "normal", "recession"}
        The base year's state (see the module docstring).

    Returns
    -------
    int8 ndarray (T, n)
        1 in recession years, 0 in normal years.
    """
    init = INITIAL_STATES.get(initial)
    if init is None:
        raise ValueError(f"initial must be one of {', '.join(INITIAL_STATES)} (got {initial!r})")
    pe, px = _prob("p_enter", p_enter), _prob("p_exit", p_exit)
    u_steps = np.asarray(u_steps, dtype=float)
    if u_steps.ndim != 2:
        raise ValueError(f"u_steps must be (years, draws) (got shape {u_steps.shape})")
    T, n = u_steps.shape
    state = np.broadcast_to(np.asarray(u_init, dtype=float) < init(pe, px), (n,))
    out = np.empty((T, n), dtype=np.int8)
    for t in range(T):
        u = u_steps[t]
        # recession stays unless u < p_exit; normal turns to recession iff u < p_enter
        state = np.where(state, u >= px, u < pe)
        out[t] = state
    return out


def regime_cut_hits(states: np.ndarray, u_event: np.ndarray, p_normal, p_recession) -> np.ndarray:
    """Budget-cut events: a hit iff ``u_event`` is below the probability of the year's regime.

    Parameters
    ----------
    states : int ndarray (T, n)
        From :func:`regime_states`.
    u_event : ndarray (T, n)
        Uniforms of the events (the same stream as regime-free cuts use).
    p_normal, p_recession : float or ndarray (n,)
        Annual probability of a cut in a normal and a recession year.

    Returns
    -------
    bool ndarray (T, n)

    Examples
    --------
    >>> regime_cut_hits(np.array([[0, 1]]), np.array([[0.2, 0.2]]), 0.1, 0.5)
    array([[False,  True]])
    """
    pn, pr = _prob("p_normal", p_normal), _prob("p_recession", p_recession)
    return np.asarray(u_event) < np.where(np.asarray(states) == RECESSION, pr, pn)


def regime_magnitudes(
    states: np.ndarray,
    u_magnitude: np.ndarray,
    normal: float | _HasPpf,
    recession: float | _HasPpf,
) -> np.ndarray:
    """Cut magnitudes by regime, from one uniform per year and draw.

    The same uniform feeds both regimes' distributions (a comonotone pairing), so a
    draw's cut is larger in recession exactly when the recession distribution is
    larger, and scenarios changing one regime's magnitudes keep common random numbers.

    Parameters
    ----------
    states : int ndarray (T, n)
    u_magnitude : ndarray (T, n)
    normal, recession : float or Distribution
        The magnitude (share of exposed revenue cut) in each regime.

    Returns
    -------
    float ndarray (T, n)

    Examples
    --------
    >>> regime_magnitudes(np.array([[0, 1]]), np.array([[0.5, 0.5]]), 0.03, 0.08)
    array([[0.03, 0.08]])
    """
    u = np.asarray(u_magnitude, dtype=float)

    def values(m) -> np.ndarray:
        if hasattr(m, "ppf"):
            return np.asarray(m.ppf(u), dtype=float)
        return np.full(u.shape, float(m))

    return np.where(np.asarray(states) == RECESSION, values(recession), values(normal))
