"""Growth indices: cumulative factors from annual growth rates."""

from __future__ import annotations

import numpy as np

__all__ = ["growth_factors", "replay_rates"]


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


def replay_rates(rates, path, first: int, years: int) -> np.ndarray:
    """Annual rates with a given path replayed from projected year ``first`` (1-based).

    Parameters
    ----------
    rates : float, array (n,) or array (years, n)
        The sampled (or fixed) annual rates.
    path : sequence of float
        The replayed rates of years ``first .. first + len(path) - 1``.
    first, years : int
        First replayed projected year and projected years.

    Returns
    -------
    ndarray (years, n) or (years, 1)
        One rate per year, the path's in its years.

    Examples
    --------
    >>> replay_rates(0.02, [-0.05, 0.0], 2, 4).ravel()
    array([ 0.02, -0.05,  0.  ,  0.02])
    """
    r = np.asarray(rates, dtype=float)
    width = r.shape[-1] if r.ndim else 1
    out = np.array(np.broadcast_to(r if r.ndim == 2 else r.reshape(1, -1), (years, width)))
    p = np.asarray(path, dtype=float)
    if first < 1 or first + p.size - 1 > years:
        raise ValueError(
            f"a path of {p.size} years from projected year {first} does not fit {years} years"
        )
    out[first - 1 : first - 1 + p.size] = p[:, None]
    return out
