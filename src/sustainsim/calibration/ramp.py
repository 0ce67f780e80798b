"""Openings and closures in a log-growth panel: the opening ramp, fitted and forecast.

An entity that opens within the panel grows faster than the year's effect for its first
:data:`RAMP_YEARS` years (a new school phases in grades); an entity that closes within
it winds down first. Both are left out of the fit of the mature process
(:func:`split_openings`). The ramp is then modelled by age ``a`` as::

    excess[i, a] = m_a + n[i, a],   n[i, a] = rho * n[i, a-1] + s_a * z

``m_a`` the mean excess growth over the year effect at age ``a`` (0 where it is not
clearly nonzero), ``rho`` (``ramp_persistence``) the regression of one age's excess on
the previous age's (a school that ramps fast keeps ramping fast), ``s_a`` chosen so
that the excess at age ``a`` has its observed spread beyond the mature process's
(``extra_sd``). A forecast starts ``n`` from the entity's last observed ramp deviation
(``ramp_deviation``) and lets it decay with ``rho`` after the ramp ends
(:func:`ramp_factor`).

Examples
--------
>>> lev = np.array([[np.nan, 10.0, 20, 30, 35], [50, 50, 50, 50, 50]])
>>> g = np.diff(np.log(lev), axis=1, prepend=np.nan)
>>> mature, ramp, age, opened = split_openings(lev, g, 3)
>>> opened.tolist(), np.isfinite(ramp[0]).sum().item()
([True, False], 3)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["RAMP_YEARS", "ramp_factor", "ramp_table", "split_openings"]

#: Years after an entity's first appearance (within the panel) read as its opening ramp.
RAMP_YEARS = 3
#: Fewest pairs of consecutive ramp ages for the ramp persistence to be estimated.
MIN_PAIRS = 10


def split_openings(level: np.ndarray, g_all: np.ndarray, ramp_years: int):
    """Growth of entities in their first ``ramp_years`` after opening within the panel.

    Also left out of the fit of the mature process: the last ``ramp_years`` growth values
    before a closure within the panel (closing schools wind down; their decline is the
    closure, not volatility or persistence). Returns the growth without those values, the
    opening-ramp values (NaN elsewhere), the age of each growth value (years since the
    entity's first year) and whether it opened in-panel.
    """
    obs = ~np.isnan(level)
    ny = level.shape[1]
    first = np.argmax(obs, axis=1)
    last = ny - 1 - np.argmax(obs[:, ::-1], axis=1)
    opened = obs.any(axis=1) & (first > 0)
    closed = obs.any(axis=1) & (last < ny - 1)
    cols = np.arange(ny)[None, :]
    age = cols - first[:, None]
    mask = opened[:, None] & (age >= 1) & (age <= ramp_years) & ~np.isnan(g_all)
    winding = closed[:, None] & (cols > last[:, None] - ramp_years)
    return np.where(mask | winding, np.nan, g_all), np.where(mask, g_all, np.nan), age, opened


def _persistence(excess: np.ndarray, age: np.ndarray, means: np.ndarray, ramp_years: int):
    """Pooled regression slope of one age's ramp deviation on the previous age's, in [0, 0.95]."""
    xs, ys = [], []
    for a in range(1, ramp_years):
        x = np.where(age == a, excess, np.nan)
        y = np.where(age == a + 1, excess, np.nan)
        pair = np.isfinite(x[:, :-1]) & np.isfinite(y[:, 1:])
        xs.append(x[:, :-1][pair] - means[a - 1])
        ys.append(y[:, 1:][pair] - means[a])
    x, y = np.concatenate(xs) if xs else np.zeros(0), np.concatenate(ys) if ys else np.zeros(0)
    if x.size < MIN_PAIRS or not np.sum(x * x) > 0:
        return 0.0
    return float(np.clip(np.sum(x * y) / np.sum(x * x), 0.0, 0.95))


def ramp_table(ramp, age, years, beta, gyears, common, var_mature, ramp_years, level):
    """The ramp by age, its persistence and each entity's last ramp deviation.

    Returns
    -------
    (table, rho, deviation)
        ``table`` by age 1..``ramp_years``: ``excess_growth`` (mean excess over the year
        effect; 0 where not clearly nonzero), ``extra_sd`` (sd beyond the mature
        process's), ``n``; ``rho`` the ramp persistence; ``deviation`` (entity,) the
        entity's excess in its last observed year (``level``, entity x year) less that
        age's mean, if that year is in its ramp (else 0).
    """
    effect = np.full(years.size, np.nan)
    if common:
        effect[np.searchsorted(years, gyears)] = beta
    else:
        effect[:] = beta[0]
    excess = ramp - effect[None, :]
    rows, raw = [], []
    for a in range(1, ramp_years + 1):
        vals = excess[(age == a) & np.isfinite(excess)]
        enough = vals.size >= 5
        m = float(vals.mean()) if enough else 0.0
        v = float(vals.var(ddof=1)) if enough else 0.0
        raw.append(m)
        if abs(m) < 2.0 * math.sqrt(v / max(vals.size, 1)):  # no clear ramp at this age
            m, v = 0.0, 0.0
        rows.append((a, m, math.sqrt(max(v - var_mature, 0.0)), vals.size))
    table = pd.DataFrame(rows, columns=["age", "excess_growth", "extra_sd", "n"]).set_index("age")
    rho = _persistence(excess, age, np.asarray(raw), ramp_years)
    obs = ~np.isnan(level)
    last = level.shape[1] - 1 - np.argmax(obs[:, ::-1], axis=1)  # last observed year
    rr = np.arange(excess.shape[0])
    a_last = age[rr, last]
    in_ramp = np.isfinite(excess[rr, last]) & (a_last >= 1) & (a_last <= ramp_years)
    m_last = np.asarray(raw)[np.clip(a_last - 1, 0, ramp_years - 1)]
    deviation = np.where(in_ramp, np.nan_to_num(excess[rr, last]) - m_last, 0.0)
    return table, rho, deviation


def ramp_factor(ramp, rho, age, deviation, horizon, d, rng) -> np.ndarray:
    """exp(cumulative ramp growth), (horizon, d, n), of entities in or after their ramp.

    ``age`` (n,) is the entity's age in the origin year (NaN: not opened in the data),
    ``deviation`` (n,) its last ramp deviation; the ramp's noise is AR(1) with ``rho``
    and innovation sds that give each age its ``extra_sd``.
    """
    n = age.size
    out = np.ones((horizon, d, n))
    if ramp.empty or not np.isfinite(age).any():
        return out
    steps = np.where(np.isfinite(age), age, 1e9)[None, :] + np.arange(1, horizon + 1)[:, None]
    extra = ramp["extra_sd"].to_numpy()
    prev = np.r_[0.0, extra[:-1]]
    innov = np.sqrt(np.maximum(extra**2 - rho**2 * prev**2, 0.0))
    mean, sd = np.zeros((horizon, n)), np.zeros((horizon, n))
    for k, a in enumerate(ramp.index):
        hit = steps == a
        mean[hit], sd[hit] = ramp["excess_growth"].iloc[k], innov[k]
    dev = np.where(np.isfinite(age), np.nan_to_num(deviation), 0.0)
    if not (mean.any() or sd.any() or dev.any()):
        return out
    z = rng.standard_normal((horizon, d, n))
    noise = np.broadcast_to(dev, (d, n)).astype(float)
    inc = np.empty((horizon, d, n))
    for t in range(horizon):
        noise = rho * noise + sd[t][None, :] * z[t]
        inc[t] = mean[t][None, :] + noise
    return np.exp(np.cumsum(inc, axis=0))
