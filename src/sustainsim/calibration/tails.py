"""Heavy tails, robust entity volatilities, openings and closures for the log-growth fit.

* :func:`fit_student_t`: degrees of freedom of unit-variance Student-t innovations, by
  maximum likelihood on standardized residuals, with a standard error.
* :func:`fit_volatility_mixture`: entity volatilities shrunk to a prior that may depend
  on entity size, separated from the within-entity heavy tails by a hierarchical model,
  and floored (no entity gets less than a fraction of its prior).
* :func:`fit_closure_hazard`: the annual probability that an entity closes (is never
  observed again), logistic in its log size.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> df, se, sd = fit_student_t(rng.standard_t(5, 20000) * np.sqrt(3 / 5))
>>> abs(df - 5) < 4 * se
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize, special

__all__ = [
    "MAX_DF",
    "MIN_DF",
    "excess_kurtosis",
    "fit_closure_hazard",
    "fit_student_t",
    "fit_volatility_mixture",
    "student_t_sd",
]

#: Degrees of freedom beyond which the innovations are taken as normal.
MAX_DF = 30.0
#: Largest excess kurtosis reported for a Student-t (df <= 4.5).
MAX_KURTOSIS = 12.0
#: Fewest degrees of freedom simulated where a fit's tails are heavier: the Student-t
#: of kurtosis MAX_KURTOSIS (df 4.5). Below it one draw in millions is absurd (a growth
#: of e**50 at df 2.4) and a sample's CRPS with it is garbage.
MIN_DF = 4.0 + 6.0 / MAX_KURTOSIS
#: No entity's innovation variance is set below this share of its prior variance.
VARIANCE_FLOOR = 0.25


def _t_nll(th: np.ndarray, u: np.ndarray) -> float:
    """-log likelihood of ``u`` under scale * unit-variance t(df); th = (log scale, log(df-2))."""
    s, df = math.exp(th[0]), 2.0 + math.exp(th[1])
    c = s * math.sqrt((df - 2.0) / df)
    z = u / c
    ll = (
        special.gammaln((df + 1) / 2)
        - special.gammaln(df / 2)
        - 0.5 * math.log(df * math.pi)
        - math.log(c)
        - (df + 1) / 2 * np.log1p(z * z / df)
    )
    return -float(np.sum(ll))


def fit_student_t(u: np.ndarray) -> tuple[float, float, float]:
    """Degrees of freedom of a scaled Student-t fitted to ``u`` (centred at 0).

    Parameters
    ----------
    u : ndarray
        Standardized residuals (NaN ignored).

    Returns
    -------
    (df, se, sd)
        Maximum-likelihood degrees of freedom (> 2, at most :data:`MAX_DF`; ``inf`` when
        the data look normal), its standard error (observed information; NaN at a bound)
        and the fitted standard deviation (the scale of the unit-variance t).
    """
    u = np.asarray(u, dtype=float)
    u = u[np.isfinite(u)]
    if u.size < 20:
        return math.inf, math.nan, float(np.sqrt(np.mean(u * u))) if u.size else 1.0
    sd = float(np.sqrt(np.mean(u * u))) or 1.0
    bounds = [(math.log(sd) - 3, math.log(sd) + 3), (math.log(0.05), math.log(MAX_DF - 2))]
    best = min(
        (
            optimize.minimize(
                _t_nll, np.array([math.log(sd), math.log(x0)]), args=(u,), bounds=bounds
            )
            for x0 in (3.0, 20.0)
        ),
        key=lambda r: r.fun,
    )
    df = 2.0 + math.exp(best.x[1])
    if df >= MAX_DF - 1e-3:
        return math.inf, math.nan, sd
    h = 1e-3
    f = lambda z: _t_nll(np.array([best.x[0], z]), u)  # noqa: E731
    curv = (f(best.x[1] + h) - 2 * f(best.x[1]) + f(best.x[1] - h)) / h**2
    # profile over the scale is nearly orthogonal to log(df - 2); the delta method gives df's se
    se = math.exp(best.x[1]) / math.sqrt(curv) if curv > 0 else math.nan
    return df, se, math.exp(best.x[0])


def student_t_sd(u: np.ndarray, df: float) -> float:
    """Maximum-likelihood sd of a unit-variance Student-t with ``df`` (> 2) fixed, fitted to ``u``.

    Examples
    --------
    >>> u = np.random.default_rng(1).standard_t(6, 50000) * np.sqrt(4 / 6) * 0.2
    >>> round(student_t_sd(u, 6.0), 2)
    0.2
    """
    u = np.asarray(u, dtype=float)
    u = u[np.isfinite(u)]
    rms = float(np.sqrt(np.mean(u * u))) if u.size else 1.0
    if not rms > 0:
        return 0.0
    ldf = math.log(df - 2.0)
    res = optimize.minimize_scalar(
        lambda ls: _t_nll(np.array([ls, ldf]), u),
        bounds=(math.log(rms) - 6.0, math.log(rms) + 1.0),
        method="bounded",
    )
    return math.exp(float(res.x))


def excess_kurtosis(df: float) -> float:
    """Excess kurtosis of a Student-t with ``df`` degrees of freedom, capped at ``MAX_KURTOSIS``.

    Examples
    --------
    >>> excess_kurtosis(10.0), excess_kurtosis(math.inf), excess_kurtosis(3.0)
    (1.0, 0.0, 12.0)
    """
    if not math.isfinite(df):
        return 0.0
    return MAX_KURTOSIS if df <= 4.5 else min(6.0 / (df - 4.0), MAX_KURTOSIS)


def fit_closure_hazard(level: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Annual closure hazard, logistic in log size, from a level panel (entity, year).

    An entity closes after year ``t`` when ``t`` is its last observed year and not the
    panel's last year. The model is ``P(close after t) = expit(a + b (log level - m))``
    with ``m`` the mean log level of the open entity-years.

    Returns
    -------
    (a, b, hazard)
        Coefficients and each entity's hazard at its last observed level (0 when no
        entity ever closed).

    Examples
    --------
    >>> lev = np.array([[10.0, 10, np.nan], [100, 100, 100], [100, 100, 100]])
    >>> fit_closure_hazard(lev)[2].round(2).tolist()
    [0.5, 0.0, 0.0]
    """
    obs = ~np.isnan(level)
    n, y = level.shape
    hazard = np.zeros(n)
    if y < 2 or not obs.any():
        return -math.inf, 0.0, hazard
    last = y - 1 - np.argmax(obs[:, ::-1], axis=1)
    at_risk = obs[:, :-1]
    closed = np.zeros_like(at_risk)
    rows = np.flatnonzero(obs.any(axis=1) & (last < y - 1))
    closed[rows, last[rows]] = True
    k, m_all = int(closed.sum()), int(at_risk.sum())
    if k == 0 or m_all == 0:
        return -math.inf, 0.0, hazard
    ll = np.log(level[:, :-1][at_risk])
    mu = float(ll.mean())
    x, c = ll - mu, closed[at_risk].astype(float)

    def nll(th):
        eta = th[0] + th[1] * x
        return float(np.sum(np.logaddexp(0.0, eta) - c * eta))

    a0 = math.log(k / max(m_all - k, 1))
    th = optimize.minimize(nll, np.array([a0, 0.0]), bounds=[(-20, 5), (-5, 5)]).x
    last_level = level[np.arange(n), last]
    hazard = special.expit(th[0] + th[1] * (np.log(last_level) - mu))
    return float(th[0]), float(th[1]), np.where(obs.any(axis=1), hazard, 0.0)


#: Gauss-Hermite nodes of the log-volatility integral.
_NODES = 24


def fit_volatility_mixture(
    u: np.ndarray, size: np.ndarray | None = None, *, floor: float = VARIANCE_FLOOR
) -> dict[str, Any]:
    """Entity volatilities and heavy tails separated: a hierarchical Student-t model.

    Innovations ``u[i, t] = sigma_i * T[i, t]``, ``T`` unit-variance Student-t with ``df``
    degrees of freedom (within-entity tails), ``log sigma_i**2 ~ N(a + b z_i, omega**2)``
    (between-entity spread; ``z_i`` the centred log size, ``b = 0`` without ``size``).
    The marginal likelihood integrates ``log sigma_i`` by Gauss-Hermite quadrature; each
    entity's variance is its posterior mean ``E[sigma_i**2 | u_i]`` (entities with no
    innovations get the prior mean), at least ``floor`` times the prior median.

    Parameters
    ----------
    u : ndarray (n, T)
        Innovations, NaN where not observed.
    size : ndarray (n,), optional
        Entity size (e.g. mean enrollment).

    Returns
    -------
    dict
        ``var`` (n,) posterior mean variances, ``log_var_sd`` (n,) posterior sds of
        ``log sigma_i**2`` (the forecast draws the variance from its posterior with them),
        ``prior_var`` (n,) prior mean variances,
        ``df``, ``df_se``, ``omega``, ``size_slope``, ``log_scale`` (a), ``center`` (the
        mean log size ``z`` is centred on).
    """
    u = np.asarray(u, dtype=float)
    n = u.shape[0]
    ok = np.isfinite(u)
    ls = np.zeros(n)
    uz = np.where(ok, u, 0.0)
    z = np.zeros(n)
    if size is not None:
        ls = np.log(np.asarray(size, dtype=float))
        z = ls - ls.mean()
    x, w = np.polynomial.hermite.hermgauss(_NODES)
    logw = np.log(w / math.sqrt(math.pi))
    m2 = float(np.sum(uz * uz) / max(ok.sum(), 1)) or 1e-12
    use_b = size is not None

    def node_loglik(th):  # (n, K): log prod_t f(u_it | sigma_ik)
        a, b, lom, ldf = th
        df = 2.0 + math.exp(ldf)
        lv = a + (b * z if use_b else np.zeros(n))[:, None] + math.sqrt(2) * math.exp(lom) * x
        lv = np.broadcast_to(lv, (n, _NODES))
        lc = 0.5 * lv + 0.5 * math.log((df - 2.0) / df)  # log of the t's scale
        const = (
            special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * math.log(df * math.pi)
        )
        q = (uz * uz)[:, :, None] * np.exp(-2 * lc)[:, None, :] / df
        ll = np.where(ok[:, :, None], const - lc[:, None, :] - (df + 1) / 2 * np.log1p(q), 0.0)
        return ll.sum(axis=1), lv

    def nll(th):
        ll, _ = node_loglik(th)
        return -float(special.logsumexp(ll + logw, axis=1).sum())

    x0 = np.array([math.log(m2), 0.0, math.log(0.5), math.log(4.0)])
    bounds = [
        (math.log(m2) - 10, math.log(m2) + 5),
        (-3, 3),
        (math.log(0.01), math.log(3)),
        (math.log(0.05), math.log(MAX_DF - 2)),
    ]
    th = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds).x
    ll, lv = node_loglik(th)
    post = ll + logw
    post = np.exp(post - special.logsumexp(post, axis=1, keepdims=True))
    var = np.sum(post * np.exp(lv), axis=1)
    m_lv = np.sum(post * lv, axis=1)
    log_var_sd = np.sqrt(np.maximum(np.sum(post * lv * lv, axis=1) - m_lv * m_lv, 0.0))
    prior_med = np.exp(th[0] + (th[1] * z if use_b else 0.0))
    prior_var = prior_med * math.exp(math.exp(2 * th[2]) / 2)
    df = 2.0 + math.exp(th[3])
    h = 1e-3
    f0 = nll(th)
    e = np.array([0, 0, 0, h])
    curv = (nll(th + e) - 2 * f0 + nll(th - e)) / h**2
    df_se = math.exp(th[3]) / math.sqrt(curv) if curv > 0 and df < MAX_DF - 1e-3 else math.nan
    return {
        "var": np.maximum(var, floor * prior_med),
        "log_var_sd": log_var_sd,
        "prior_var": prior_var,
        "df": df if df < MAX_DF - 1e-3 else math.inf,
        "df_se": df_se,
        "omega": math.exp(th[2]),
        "size_slope": float(th[1]) if use_b else 0.0,
        "log_scale": float(th[0]),
        "center": float(ls.mean()) if use_b else 0.0,
    }
