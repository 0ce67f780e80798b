"""The log-growth panel estimator behind :mod:`sustainsim.calibration` (two-stage Gaussian REML)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special

from sustainsim.calibration.panel import Panel

# ------------------------------------------------------------------------------ estimator


def _ar_cov(yrs: np.ndarray, phi: float) -> np.ndarray:
    return np.power(phi, np.abs(yrs[:, None] - yrs[None, :])) / (1.0 - phi * phi)


def _logdet(cf: tuple[np.ndarray, bool]) -> float:
    return 2.0 * float(np.log(np.diag(cf[0])).sum())


def _hessian_var(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Diagonal of the inverse numerical Hessian of ``f`` at ``x`` (NaN if not positive)."""
    k = x.size
    e = np.eye(k) * h
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i + 1):
            hess[i, j] = hess[j, i] = (
                f(x + e[i] + e[j]) - f(x + e[i] - e[j]) - f(x - e[i] + e[j]) + f(x - e[i] - e[j])
            ) / (4 * h * h)
    try:
        d = np.diag(np.linalg.inv(hess)).copy()
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    d[d <= 0] = np.nan
    return d


class _Stage1:
    """Sufficient statistics per missingness pattern, and the REML objective."""

    def __init__(self, g: np.ndarray, gyears: np.ndarray, common: bool):
        pats, inv = np.unique(~np.isnan(g), axis=0, return_inverse=True)
        self.groups = []  # (rows, cols, years, growth, cross-products, column sums)
        for k, pat in enumerate(pats):
            rows, idx = np.flatnonzero(inv.ravel() == k), np.flatnonzero(pat)
            gk = g[np.ix_(rows, idx)]
            self.groups.append((rows, idx, gyears[idx].astype(float), gk, gk.T @ gk, gk.sum(0)))
        self.common, self.p = common, g.shape[1] if common else 1

    def solve(self, phi: float, se2: float, tau2: float):
        """REML objective, GLS year effects (or mean) and their covariance."""
        a, b = np.zeros((self.p, self.p)), np.zeros(self.p)
        logdet = quad = 0.0
        for rows, idx, yrs, _, sk, sumk in self.groups:
            cf = linalg.cho_factor(se2 * _ar_cov(yrs, phi) + tau2)
            vinv = linalg.cho_solve(cf, np.eye(idx.size))
            logdet += rows.size * _logdet(cf)
            quad += float(np.sum(vinv * sk))
            sel = idx if self.common else np.zeros(idx.size, dtype=int)
            np.add.at(a, (sel[:, None], sel[None, :]), rows.size * vinv)
            np.add.at(b, sel, vinv @ sumk)
        acf = linalg.cho_factor(a)
        beta = linalg.cho_solve(acf, b)
        nll = 0.5 * (logdet + quad - b @ beta + _logdet(acf))
        return nll, beta, linalg.cho_solve(acf, np.eye(self.p))

    def entity_effects(self, beta, phi, se2, tau2, own: bool):
        """Entity innovation variances (empirical Bayes if ``own``) and drift posteriors."""
        n = sum(grp[0].size for grp in self.groups)
        ss, dof, a_r, b_r = (np.zeros(n) for _ in range(4))
        for rows, idx, yrs, gk, _, _ in self.groups:
            rinv = np.linalg.inv(_ar_cov(yrs, phi))
            r1 = rinv.sum(axis=0)
            res = gk - (beta[idx] if self.common else beta[0])
            a_r[rows], b_r[rows] = r1.sum(), res @ r1
            e = res - (res @ r1 / r1.sum())[:, None]  # within-entity GLS residual
            ss[rows], dof[rows] = np.einsum("ij,jk,ik->i", e, rinv, e), idx.size - 1
        var, prior_df = _moderated_variance(ss, dof, se2) if own else (np.full(n, se2), np.inf)
        delta = tau2 * b_r / (var + tau2 * a_r)
        return var, prior_df, delta, tau2 * var / (var + tau2 * a_r)


def _moderated_variance(ss: np.ndarray, dof: np.ndarray, se2: float) -> tuple[np.ndarray, float]:
    """Empirical-Bayes (limma-style) entity variances.

    ``ss / dof`` estimates an entity's innovation variance with ``dof`` degrees of freedom.
    The variances get a scaled inverse-chi-square prior ``(d0, s0**2)`` fitted by maximum
    likelihood (``(ss / dof) / s0**2 ~ F(dof, d0)``); each entity gets the posterior mean
    ``(d0 s0**2 + ss) / (d0 + dof)``.
    """
    ok = dof >= 1
    if ok.sum() < 3:
        return np.full(ss.size, se2), math.inf
    s2, df = np.maximum(ss[ok] / dof[ok], 1e-12 * se2), dof[ok]

    def nll(th):  # -log density of s2 under the F(df, d0) law scaled by s0
        s0, d0 = se2 * math.exp(th[0]), math.exp(th[1])
        x = s2 / s0
        logpdf = (
            0.5 * df * np.log(df / d0)
            + (0.5 * df - 1.0) * np.log(x)
            - 0.5 * (df + d0) * np.log1p(df * x / d0)
            - special.betaln(0.5 * df, 0.5 * d0)
        )
        return -np.sum(logpdf - math.log(s0))

    bounds = [(-5.0, 5.0), (math.log(0.5), math.log(1e4))]
    th = optimize.minimize(nll, np.array([0.0, math.log(10.0)]), bounds=bounds).x
    s0, d0 = se2 * math.exp(th[0]), math.exp(th[1])
    return (d0 * s0 + ss) / (d0 + dof), d0


def _stage2(beta, cov_beta, gyears, phi, scale, se: bool):
    """REML for the common AR(1) factor; returns mean drift, its variance, sc, var(sc)."""
    r, ones = _ar_cov(gyears.astype(float), phi), np.ones(beta.size)

    def solve(lsc):
        cf = linalg.cho_factor(math.exp(2 * lsc) * r + cov_beta)
        w1 = linalg.cho_solve(cf, ones)
        m = w1 @ beta / (w1 @ ones)
        res = beta - m
        nll = 0.5 * (_logdet(cf) + res @ linalg.cho_solve(cf, res) + math.log(w1 @ ones))
        return nll, m, 1.0 / (w1 @ ones)

    lo, hi = math.log(scale * 1e-4), math.log(scale * 10)
    lsc = optimize.minimize_scalar(lambda z: solve(z)[0], bounds=(lo, hi), method="bounded").x
    _, mean, var_m = solve(lsc)
    if lsc <= lo + 0.5:  # at the boundary: no common shock
        return mean, var_m, 0.0, np.nan
    v = _hessian_var(lambda z: solve(z[0])[0], np.array([lsc]))[0] if se else np.nan
    return mean, var_m, math.exp(lsc), math.exp(2 * lsc) * v


def _fit_log_growth(
    panel: Panel,
    *,
    drift="entity",
    volatility="entity",
    common="auto",
    max_abs_growth=None,
    se=True,
) -> dict[str, Any]:
    """Two-stage REML fit of the log-growth process; the fields of :class:`LogGrowthFit`."""
    for name, v in (("drift", drift), ("volatility", volatility)):
        if v not in ("entity", "pooled"):
            raise ValueError(f"{name} must be 'entity' or 'pooled' (got {v!r})")
    if max_abs_growth is not None and not (
        isinstance(max_abs_growth, int | float)
        and not isinstance(max_abs_growth, bool)
        and math.isfinite(max_abs_growth)
        and max_abs_growth > 0
    ):
        raise ValueError(
            f"max_abs_growth must be a finite number > 0 (a log growth; got {max_abs_growth!r})"
        )
    g_all = panel.growth
    big = np.abs(np.nan_to_num(g_all)) > (np.inf if max_abs_growth is None else max_abs_growth)
    g_all[big] = np.nan
    cols, keep = np.flatnonzero((~np.isnan(g_all)).any(0)), (~np.isnan(g_all)).any(1)
    g, gyears = g_all[np.ix_(keep, cols)], panel.years[cols]
    n_ent, n_obs = int(keep.sum()), int((~np.isnan(g)).sum())
    common = n_ent >= 3 if common == "auto" else bool(common)
    if cols.size < 3 or n_obs < 4:
        raise ValueError(
            f"too few years: growth between consecutive years is observed in {cols.size} "
            f"year(s) ({n_obs} values); need at least 3 years (4 consecutive years of data)"
        )
    est_tau = drift == "entity" and n_ent >= 2
    scale = float(np.nanstd(g - np.nanmean(g, axis=0) if common else g)) or 1e-3
    st1 = _Stage1(g, gyears, common)

    def unpack(th):  # (persistence, log se / scale, drift_sd / scale)
        return th[0], (scale * math.exp(th[1])) ** 2, (scale * th[2]) ** 2 if est_tau else 0.0

    def nll1(th):
        try:
            return st1.solve(*unpack(th))[0]
        except (np.linalg.LinAlgError, ValueError):
            return 1e300

    n_th = 3 if est_tau else 2
    bounds = [(-0.95, 0.95), (-12.0, 3.0), (0.0, 5.0)][:n_th]
    tol = {"ftol": 1e-13, "gtol": 1e-9}
    # two starts, the better kept: a finite-difference step into a singular region can stop
    # L-BFGS-B at its starting point (seen on synthetic panels: persistence left at 0.1)
    starts = (np.array([0.1, 0.0, 0.3])[:n_th], np.array([0.5, -0.5, 0.1])[:n_th])
    fits = [
        optimize.minimize(nll1, x0, method="L-BFGS-B", bounds=bounds, options=tol) for x0 in starts
    ]
    opt = min(fits, key=lambda r: r.fun)
    th = opt.x
    phi, se2, tau2 = unpack(th)
    nll, beta, cov_beta = st1.solve(phi, se2, tau2)
    var_th = np.full(n_th, np.nan)
    at_bound = [abs(th[0]) > 0.949, False, est_tau and th[-1] < 1e-4][:n_th]
    free = [i for i in range(n_th) if not at_bound[i]]
    if se and free:

        def sub(z):
            full = th.copy()
            full[free] = z
            return nll1(full)

        var_th[free] = _hessian_var(sub, th[free])
    own_var, prior_df, delta, dvar = st1.entity_effects(
        beta, phi, se2, tau2, volatility == "entity"
    )
    if common:
        mean, var_m, sc, var_sc = _stage2(beta, cov_beta, gyears, phi, scale, se)
    else:
        mean, var_m, sc, var_sc = beta[0], cov_beta[0, 0], 0.0, np.nan
    sev, var_se = math.sqrt(se2), se2 * var_th[1]  # delta method from log se
    vol = math.hypot(sc, sev)
    # entity table: drift posterior, own volatility, last observed level and state
    ent_drift, lev, gmask = mean + delta, panel.level[keep], ~np.isnan(g)
    last = panel.years.size - 1 - np.argmax(~np.isnan(lev[:, ::-1]), axis=1)
    glast = g.shape[1] - 1 - np.argmax(gmask[:, ::-1], axis=1)
    vol_i, ar = np.sqrt(sc * sc + own_var), np.arange(n_ent)
    table = pd.DataFrame(
        {
            "drift": ent_drift,
            "drift_se": np.sqrt(dvar + var_m),
            "volatility": vol_i,
            "loading": sc / vol_i,
            "n_obs": gmask.sum(axis=1),
            "last_year": panel.years[last],
            "last_value": lev[ar, last],
            "last_growth_year": gyears[glast],
            "last_deviation": g[ar, glast] - ent_drift,
        },
        index=pd.Index(panel.entities[keep].astype(str), name="entity"),
    )
    shock = pd.Series(beta - mean, index=pd.Index(gyears, name="year")) if common else None
    if common:  # delta method
        vol_se = math.sqrt((sev**2 * var_se + (sc**2 * var_sc if sc > 0 else 0.0)) / vol**2)
        load_se = math.sqrt((sev**4 * var_sc + sc**2 * sev**2 * var_se) / vol**6)
    else:
        vol_se, load_se = math.sqrt(var_se), np.nan
    return dict(
        drift=float(mean),
        drift_se=math.sqrt(var_m),
        drift_sd=math.sqrt(tau2),
        drift_sd_se=scale * math.sqrt(var_th[2]) if est_tau else np.nan,
        volatility=vol,
        volatility_se=vol_se,
        persistence=float(phi),
        persistence_se=math.sqrt(var_th[0]),
        loading=sc / vol,
        loading_se=load_se,
        idio_volatility=sev,
        idio_volatility_se=math.sqrt(var_se),
        common_volatility=sc,
        common_volatility_se=math.sqrt(var_sc),
        n_obs=n_obs,
        n_entities=n_ent,
        first_year=int(panel.years[0]),
        last_year=int(panel.years[-1]),
        entity_drift=table,
        common_shock=shock,
        loglik=-float(nll),
        options={
            "drift": drift,
            "volatility": volatility,
            "volatility_prior_df": prior_df,
            "common": common,
            "max_abs_growth": max_abs_growth,
            "n_dropped": int(big.sum()),
            "converged": bool(opt.success),
        },
    )
