"""Cost-of-living settlements of a staff line: fixed or random rates by projected year.

``cola`` in the config is a list of settlements by projected year (year ``t`` is item
``t - 1``; years past the list settle nothing) or one value for every projected year.
Each value is a rate or a distribution of it; a distribution is drawn for every draw
and year from the line's own stream ``<entity>.cost.<line>.cola`` (index ``t``, one
stream per year, as every per-year input), so a settlement never moves another input's
numbers and the same config and seed give the same settlements in any chunk. Lines of
one ``bargaining_unit`` (in any school) draw from the unit's stream
``settlements.<unit>.cola`` instead: one contract, the same settlement for all of them
(the same uniforms; each line's own distribution maps them).

The result is the cumulative factor ``C[t] = prod_{s <= t} (1 + c[s])`` with
``C[0] = 1``, ``(years + 1, 1)`` when every rate is fixed and ``(years + 1, n)``
otherwise; :func:`sustainsim.model.compensation.settled` then pays it on time, late or
late with arrears.
"""

from __future__ import annotations

import numpy as np

from sustainsim.sampling.distributions import Distribution
from sustainsim.sampling.streams import ChunkDraws

__all__ = ["cola_factor", "cola_rates", "random_cola"]

Rates = float | Distribution | list[float | Distribution]


def random_cola(cola: Rates) -> bool:
    """Whether any settlement is a distribution."""
    vals = cola if isinstance(cola, list) else [cola]
    return any(isinstance(v, Distribution) for v in vals)


def cola_rates(cola: Rates, draws: ChunkDraws, stream: str, years: int) -> np.ndarray:
    """Settlement rates of projected years ``1..years``: ``(years, 1)`` or ``(years, n)``.

    Parameters
    ----------
    cola : float, Distribution or list of them
        By projected year (a list), or one for every year.
    draws : ChunkDraws
        The chunk's uniforms; a distribution of year ``t`` reads ``(stream, t)``.
    stream : str
        The line's settlement stream, ``<entity>.cost.<line>.cola``.
    years : int
        Projected years.

    Examples
    --------
    >>> from sustainsim.sampling.streams import Median
    >>> d = ChunkDraws(Median(), 0, 2)
    >>> u = Distribution.from_spec({"dist": "uniform", "low": 0.0, "high": 0.04})
    >>> cola_rates([0.03, u], d, "s.cost.t.cola", 3)[:, 0]
    array([0.03, 0.02, 0.  ])
    """
    per_year = cola if isinstance(cola, list) else [cola] * years
    vals = list(per_year[:years]) + [0.0] * max(years - len(per_year), 0)
    if not random_cola(vals):
        return np.asarray(vals, dtype=float)[:, None]
    out = np.empty((years, draws.n))
    for t, v in enumerate(vals, start=1):
        if isinstance(v, Distribution):
            out[t - 1] = v.ppf(draws.uniform(stream, t))
        else:
            out[t - 1] = float(v)
    return out


def cola_factor(rates: np.ndarray) -> np.ndarray:
    """The cumulative factor ``(years + 1, ·)`` of rates ``(years, ·)``, 1 in the base year.

    Examples
    --------
    >>> cola_factor(np.array([[0.02], [0.03]]))[:, 0]
    array([1.    , 1.02  , 1.0506])
    """
    r = np.asarray(rates, dtype=float)
    return np.cumprod(np.vstack([np.zeros((1, r.shape[1])), r]) + 1.0, axis=0)
