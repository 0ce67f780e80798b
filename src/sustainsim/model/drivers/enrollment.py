"""Enrollment: log-growth with drift, AR(1) persistence, a common shock and a cap.

The model, for a school ``i`` and projected year ``t = 1..T``::

    log E[t] = log E[t-1] + g[t]
    g[t]     = drift + x[t]
    x[t]     = persistence * x[t-1] + volatility * (loading * Zc[t] + sqrt(1 - loading**2) * Zi[t])
    x[0]     = 0

(with ``common_persistence`` the common and the own parts of ``x`` are two AR(1)s with
their own coefficients)
    E[t]     = min(E[t], capacity)  (the capped level is carried forward)

``Zc`` is a district-wide shock shared by every school of a draw and ``Zi`` the school's
own, both with mean 0 and variance 1: standard normal, or Student-t with ``innovation_df``
degrees of freedom scaled to unit variance (:func:`unit_shocks`; heavy tails, as annual
enrollment growth has). A school can close: with an annual ``closure_hazard`` its
enrollment drops to 0 and stays there (:func:`closure_years`). ``volatility`` is the
standard deviation of the innovation of log growth; ``loading`` is the correlation of a
school's innovation with the common shock, so two schools' innovations correlate with
``loading_i * loading_j``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["closure_years", "enrollment_paths", "unit_shocks"]


def unit_shocks(
    u: np.ndarray, df: float | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Shocks with mean 0 and variance 1 from uniforms, by inverse CDF.

    Parameters
    ----------
    u : ndarray
        Uniforms in (0, 1).
    df : float, optional
        Degrees of freedom (> 2) of a Student-t scaled by ``sqrt((df - 2) / df)`` to unit
        variance; None (or infinite): standard normal.
    out : ndarray, optional
        Where to write the shocks (``u`` itself, to transform uniforms in place).

    Returns
    -------
    ndarray, the shape of ``u``

    Examples
    --------
    >>> float(unit_shocks(np.array(0.5), 4.0))
    0.0
    >>> bool(unit_shocks(np.array(0.999), 3.0) > unit_shocks(np.array(0.999)))
    True
    """
    if df is None or not np.isfinite(df):
        return special.ndtri(u, out=out)
    if not df > 2:
        raise ValueError(f"innovation_df must be > 2 for a finite variance (got {df})")
    z = special.stdtrit(df, u, out=out)
    z *= np.sqrt((df - 2.0) / df)
    return z


def closure_years(u: np.ndarray, hazard) -> np.ndarray:
    """Whether a school is closed in each projected year, from uniforms.

    Parameters
    ----------
    u : ndarray (T, n)
        Uniforms in (0, 1), one per year.
    hazard : float or array (n,)
        Annual probability of closing while open, in [0, 1).

    Returns
    -------
    ndarray of bool (T, n)
        True from the year of closure on.

    Examples
    --------
    >>> closure_years(np.array([[0.5], [0.01], [0.9]]), 0.05)[:, 0].tolist()
    [False, True, True]
    """
    return np.logical_or.accumulate(np.asarray(u) < hazard, axis=0)


def enrollment_paths(
    base,
    drift,
    volatility,
    persistence,
    loading,
    z_common: np.ndarray,
    z_own: np.ndarray,
    capacity=np.inf,
    closed: np.ndarray | None = None,
    common_persistence=None,
    shift: np.ndarray | None = None,
    level: np.ndarray | None = None,
) -> np.ndarray:
    """Enrollment paths of one school.

    Parameters
    ----------
    base : float or array (n,)
        Enrollment in the base year. [students]
    drift : float or array (n,)
        Mean annual log growth. [1/yr]
    volatility : float or array (n,)
        Standard deviation of the innovation of annual log growth (>= 0).
    persistence : float or array (n,)
        AR(1) coefficient of the log-growth deviation, in (-1, 1).
    loading : float or array (n,)
        Correlation of the innovation with the common shock, in [-1, 1].
    z_common, z_own : ndarray (T, n)
        Unit-variance shocks (:func:`unit_shocks`): district-wide and the school's own.
    capacity : float or array (n,)
        Largest enrollment the building takes. [students]
    closed : ndarray of bool (T, n), optional
        Closed in the projected year (:func:`closure_years`): enrollment 0 then.
    common_persistence : float or array (n,), optional
        AR(1) coefficient of the common part of the deviation, if it differs from the
        own part's ``persistence``: ``x = xo + xc``, ``xo[t] = persistence * xo[t-1] +
        own innovation``, ``xc[t] = common_persistence * xc[t-1] + common innovation``.
    shift : ndarray (T, n) or (T, 1), optional
        Added to the log growth of each projected year (a recession's enrollment
        coupling, :mod:`sustainsim.model.macro`): ``g[t] = drift + x[t] + shift[t]``.
    level : ndarray (T + 1, n), optional
        A one-time multiplier of the level in each year (a choice event taking a share of
        the pupils): applied before the cap and carried forward.

    Returns
    -------
    ndarray (T + 1, n)
        Enrollment, row 0 the base year. [students]

    Examples
    --------
    >>> z = np.zeros((3, 1))
    >>> enrollment_paths(100.0, np.log(1.1), 0.0, 0.0, 0.0, z, z, capacity=125.0).round(2)
    array([[100.],
           [110.],
           [121.],
           [125.]])
    """
    T, n = z_own.shape
    loading = np.asarray(loading, dtype=float)
    has_common = bool(np.any(loading != 0.0))
    own_w = np.sqrt(np.clip(1.0 - loading * loading, 0.0, None)) if has_common else 1.0
    base = np.broadcast_to(np.asarray(base, dtype=float), (n,))
    out = np.empty((T + 1, n))
    out[0] = base
    # cumulative log growth since the base year: E[t] = base * exp(L[t]), so a path
    # with no growth stays exactly at its base
    cum = np.zeros(n)
    x = np.zeros(n)
    capped = bool(np.any(np.isfinite(capacity)))
    log_room = np.log(capacity / base) if capped else np.full(1, np.inf)
    simple_ar = np.ndim(persistence) == 0 and persistence == 0.0
    split = common_persistence is not None and has_common
    if not (split or capped or level is not None):
        _uncapped_paths(out, base, drift, volatility, persistence, loading, own_w, has_common,
                        z_common, z_own, simple_ar, shift)  # fmt: skip
        if closed is not None:
            out[1:] = np.where(closed, 0.0, out[1:])
        return out
    xc = np.zeros(n)
    for t in range(T):
        eps = z_own[t] * own_w
        if split:
            eps *= volatility
            x = persistence * x + eps
            xc = common_persistence * xc + volatility * loading * z_common[t]
            cum += xc
        else:
            if has_common:
                eps += loading * z_common[t]
            eps *= volatility
            if simple_ar:
                x = eps
            else:
                x = persistence * x + eps
        cum += x
        cum += drift
        if shift is not None:
            cum += shift[t]
        if level is not None:
            cum = cum + np.log(level[t + 1])
        if capped:
            np.minimum(cum, log_room, out=cum)
        np.exp(cum, out=out[t + 1])
        out[t + 1] *= base
    if closed is not None:
        out[1:] = np.where(closed, 0.0, out[1:])
    return out


def _uncapped_paths(
    out, base, drift, volatility, persistence, loading, own_w, has_common, z_common, z_own,
    simple_ar, shift,
) -> None:  # fmt: skip
    """:func:`enrollment_paths` without a cap or level events: every year's innovation at once.

    The same operations on the same numbers as the year-by-year recurrence, so the same
    results bit for bit: the innovations of every year in one pass, then the AR(1) and
    the cumulative log growth year by year, adding ``x[t]``, then ``drift``, then
    ``shift[t]`` as the recurrence does.
    """
    T, n = z_own.shape
    if has_common:
        eps = z_own * own_w
        eps += loading * z_common
        eps *= volatility
    else:  # own_w is 1.0: z * 1.0 * volatility is z * volatility, bit for bit
        eps = z_own * volatility
    if not simple_ar:
        for t in range(1, T):  # x[t] = persistence * x[t-1] + eps[t], x[0] = eps[0]
            eps[t] += persistence * eps[t - 1]
    cum = np.zeros(n)
    for t in range(T):  # in-place adds of contiguous rows (an accumulate over years is slower)
        cum += eps[t]
        cum += drift
        if shift is not None:
            cum += shift[t]
        np.exp(cum, out=out[t + 1])
        out[t + 1] *= base
