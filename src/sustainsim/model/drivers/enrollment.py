"""Enrollment: log-growth with drift, AR(1) persistence, a common shock and a cap.

The model, for a school ``i`` and projected year ``t = 1..T``::

    log E[t] = log E[t-1] + g[t]
    g[t]     = drift + x[t]
    x[t]     = persistence * x[t-1] + volatility * (loading * Zc[t] + sqrt(1 - loading**2) * Zi[t])
    x[0]     = 0
    E[t]     = min(E[t], capacity)  (the capped level is carried forward)

``Zc`` is a district-wide standard normal shock shared by every school of a draw and
``Zi`` the school's own. ``volatility`` is the standard deviation of the innovation of
log growth; ``loading`` is the correlation of a school's innovation with the common
shock, so two schools' innovations correlate with ``loading_i * loading_j``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["enrollment_paths"]


def enrollment_paths(
    base,
    drift,
    volatility,
    persistence,
    loading,
    z_common: np.ndarray,
    z_own: np.ndarray,
    capacity=np.inf,
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
        Standard normal shocks: district-wide and the school's own.
    capacity : float or array (n,)
        Largest enrollment the building takes. [students]

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
    for t in range(T):
        eps = z_own[t] * own_w
        if has_common:
            eps += loading * z_common[t]
        eps *= volatility
        if simple_ar:
            x = eps
        else:
            x = persistence * x + eps
        cum += x
        cum += drift
        if capped:
            np.minimum(cum, log_room, out=cum)
        np.exp(cum, out=out[t + 1])
        out[t + 1] *= base
    return out
