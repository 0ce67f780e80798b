"""Growth indices: cumulative factors from annual growth rates."""

from __future__ import annotations

import numpy as np

__all__ = ["growth_factors"]


def growth_factors(rates, years: int, n: int) -> np.ndarray:
    """Cumulative growth factors ``F[t] = prod_{s<=t} (1 + g[s])``, ``F[0] = 1``.

    Parameters
    ----------
    rates : float, array (n,) or array (years, n)
        Annual growth rates: one for all years (fixed or per draw) or one per year.
    years, n : int
        Projected years and draws.

    Returns
    -------
    ndarray (years + 1, n)

    Examples
    --------
    >>> growth_factors(0.02, 3, 1).ravel().round(6)
    array([1.      , 1.02    , 1.0404  , 1.061208])
    """
    out = np.empty((years + 1, n))
    out[0] = 1.0
    r = np.asarray(rates, dtype=float)
    if r.ndim == 2:
        np.cumprod(1.0 + r, axis=0, out=out[1:])
    else:
        base = np.broadcast_to(1.0 + r, (n,))
        # repeated multiplication, not power, so a fixed rate compounds exactly like
        # a hand calculation year after year
        acc = np.ones(n)
        for t in range(1, years + 1):
            acc = acc * base
            out[t] = acc
    return out
