"""The log-growth panel estimator behind :mod:`sustainsim.calibration` (two-stage REML, t tails)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize

from sustainsim.calibration.panel import Panel
from sustainsim.calibration.ramp import RAMP_YEARS, ramp_table, split_openings
from sustainsim.calibration.tails import (
    excess_kurtosis,
    fit_closure_hazard,
    fit_student_t,
    fit_volatility_mixture,
)

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

    def entity_stats(self, beta, phi):
        """Within-entity GLS residual sums of squares, their dof, and the drift statistics."""
        n = sum(grp[0].size for grp in self.groups)
        ss, dof, a_r, b_r = (np.zeros(n) for _ in range(4))
        for rows, idx, yrs, gk, _, _ in self.groups:
            rinv = np.linalg.inv(_ar_cov(yrs, phi))
            r1 = rinv.sum(axis=0)
            res = gk - (beta[idx] if self.common else beta[0])
            a_r[rows], b_r[rows] = r1.sum(), res @ r1
            e = res - (res @ r1 / r1.sum())[:, None]  # within-entity GLS residual
            ss[rows], dof[rows] = np.einsum("ij,jk,ik->i", e, rinv, e), idx.size - 1
        return ss, dof, a_r, b_r


def _stage2(beta, cov_beta, gyears, phi, scale, se: bool):
    """REML for the common AR(1) factor.

    Returns mean drift, its variance, sc, var(sc), the common persistence and its se. The
    common factor gets its own persistence when a likelihood-ratio test (5%) prefers it
    to the own shocks' ``phi``; otherwise it shares ``phi`` (se NaN).
    """
    ones, yrs = np.ones(beta.size), gyears.astype(float)

    def solve(lsc, ph):
        cf = linalg.cho_factor(math.exp(2 * lsc) * _ar_cov(yrs, ph) + cov_beta)
        w1 = linalg.cho_solve(cf, ones)
        m = w1 @ beta / (w1 @ ones)
        res = beta - m
        nll = 0.5 * (_logdet(cf) + res @ linalg.cho_solve(cf, res) + math.log(w1 @ ones))
        return nll, m, 1.0 / (w1 @ ones)

    lo, hi = math.log(scale * 1e-4), math.log(scale * 10)
    fixed = optimize.minimize_scalar(lambda z: solve(z, phi)[0], bounds=(lo, hi), method="bounded")
    lsc, phi_c, phi_c_se = fixed.x, phi, math.nan
    if beta.size >= 6:
        free = optimize.minimize(
            lambda z: solve(z[0], z[1])[0],
            np.array([lsc, phi]),
            method="L-BFGS-B",
            bounds=[(lo, hi), (-0.9, 0.9)],
        )
        if 2.0 * (fixed.fun - free.fun) > 3.84 and free.x[0] > lo + 0.5:
            lsc, phi_c = free.x
            if se:
                phi_c_se = math.sqrt(_hessian_var(lambda z: solve(lsc, z[0])[0], free.x[1:])[0])
    _, mean, var_m = solve(lsc, phi_c)
    if lsc <= lo + 0.5:  # at the boundary: no common shock
        return mean, var_m, 0.0, np.nan, phi, math.nan
    v = _hessian_var(lambda z: solve(z[0], phi_c)[0], np.array([lsc]))[0] if se else np.nan
    return mean, var_m, math.exp(lsc), math.exp(2 * lsc) * v, float(phi_c), phi_c_se


#: Growth deviations beyond this many robust sds are pulled in for the fit of the mean
#: and persistence structure (jumps are heavy tails, not drift or persistence). 3, not
#: the earlier 4: on the NYC school panel (development) big moves persist more than
#: small ones, and with 4 the jumps set the persistence of every shock (h-year
#: intervals too wide); 2-3 pass there, 3 is the smallest change; checked on Ohio.
CLIP_SD = 3.0


def _entity_table(panel, keep, g, gyears, pooled, effects, prior_var, opened, age):
    """By entity: drift posterior, own volatility, last level and state, age if opened.

    Entities with no usable growth (e.g. only opening-ramp years) get the pooled drift and
    their prior volatility (and the prior's spread as ``volatility_log_sd``, the posterior
    sd of the log own variance).
    """
    mean, var_m, tau2, sc = pooled
    delta, dvar, own_var, log_sd, prior_log_sd = effects
    lev = panel.level
    has = ~np.isnan(lev).all(axis=1)
    rows = np.flatnonzero(has)
    n_all, ny = lev.shape[0], panel.years.size
    drift_i, dvar_i = np.full(n_all, mean), np.full(n_all, tau2)
    var_i, nobs = prior_var.copy(), np.zeros(n_all, dtype=int)
    drift_i[keep], dvar_i[keep], var_i[keep] = mean + delta, dvar, own_var
    lsd_i = np.full(n_all, prior_log_sd)
    lsd_i[keep] = log_sd
    gmask = ~np.isnan(g)
    nobs[keep] = gmask.sum(axis=1)
    last = ny - 1 - np.argmax(~np.isnan(lev[:, ::-1]), axis=1)
    lgy, ldev = panel.years[last].copy(), np.zeros(n_all)
    glast = g.shape[1] - 1 - np.argmax(gmask[:, ::-1], axis=1)
    kr = np.flatnonzero(keep)
    lgy[kr] = gyears[glast]
    ldev[kr] = g[np.arange(kr.size), glast] - drift_i[kr]
    vol_i = np.sqrt(sc * sc + var_i)
    ar = np.arange(n_all)
    return pd.DataFrame(
        {
            "drift": drift_i,
            "drift_se": np.sqrt(dvar_i + var_m),
            "volatility": vol_i,
            "loading": sc / vol_i,
            "volatility_log_sd": lsd_i,
            "n_obs": nobs,
            "last_year": panel.years[last],
            "last_value": lev[ar, last],
            "last_growth_year": lgy,
            "last_deviation": ldev,
            "age": np.where(opened, age[ar, last], np.nan).astype(float),
            "row": ar,
        },
        index=pd.Index(panel.entities.astype(str), name="entity"),
    ).iloc[rows]


def _innovations(g, beta, delta, phi, gyears, common) -> np.ndarray:
    """Own innovations ``x[t] - phi x[t-1]`` where both years are observed and consecutive."""
    x = g - (beta[None, :] if common else beta[0]) - delta[:, None]
    u = x[:, 1:] - phi * x[:, :-1]
    u[:, np.diff(gyears) != 1] = np.nan
    return u


def _clip(g: np.ndarray, c: float) -> np.ndarray:
    """Growth with deviations from the year's median beyond ``c`` robust sds pulled in."""
    with np.errstate(all="ignore"):
        med = np.nanmedian(g, axis=0)
        dev = g - med[None, :]
        rsd = 1.4826 * float(np.nanmedian(np.abs(dev)))
    if not rsd > 0:
        return g
    return med[None, :] + np.clip(dev, -c * rsd, c * rsd)


def _own_variances(stats, g, g_clip, gyears, fit, size, volatility):
    """Pooled and entity innovation variances, drift posteriors and the t degrees of freedom.

    ``stats`` are the entity statistics of the clipped growth (drift evidence) and of the
    raw growth (residual sums of squares); the pooled variance is the Student-t maximum
    likelihood one on the raw innovations (robust to the jumps the clipped fit ignored).
    """
    phi, se2, tau2, beta, common = fit
    (_, _, a_r, b_r), (ss, dof, _, _) = stats

    def deltas(var):
        return tau2 * b_r / (var + tau2 * a_r)

    d_pool = deltas(np.full(ss.size, se2))
    u = _innovations(g, beta, d_pool, phi, gyears, common)
    u_clip = _innovations(g_clip, beta, d_pool, phi, gyears, common)
    df, df_se, sd = fit_student_t(u / math.sqrt(se2))
    pooled_df = df
    # the t fit's variance over the clipped innovations' mean square: 1 for normal data
    with np.errstate(invalid="ignore"):
        ms = float(np.nanmean(u_clip * u_clip)) / se2
    se2 = se2 * sd * sd / ms if ms > 0 else se2
    if volatility == "entity":
        var = np.full(ss.size, se2)
        for _ in range(2):  # drifts given the variances, variances given the drifts
            u = _innovations(g, beta, deltas(var), phi, gyears, common)
            # the drift estimate took w_i of the entity's n_i degrees of freedom
            w = tau2 * a_r / (var + tau2 * a_r)
            u *= np.sqrt((dof + 1.0) / np.maximum(dof + 1.0 - w, 0.5))[:, None]
            prior = fit_volatility_mixture(u, size)
            var = prior["var"]
        df, df_se = prior["df"], prior["df_se"]
    else:
        var, prior = np.full(ss.size, se2), {"df": math.inf}
    tau2, gamma = _drift_spread(stats[0], var, se2, tau2)
    delta = deltas(var)
    prior = {**prior, "pooled_df": pooled_df, "drift_exponent": gamma}
    return se2, var, prior, delta, tau2 * var / (var + tau2 * a_r), df, df_se


def _drift_spread(stats, var, se2, tau2):
    """Entity drift variances ``tau2_i = t * (var_i / se2)**gamma``, by marginal likelihood.

    A volatile entity's trend may vary more than a quiet one's (``gamma = 1``: the whole
    deviation process scales with the entity's volatility) or not (``gamma = 0``, one
    spread for all). ``t`` and ``gamma`` in [0, 1] maximize the Gaussian likelihood of
    the entities' growth given their own variances, in closed form per entity from the
    GLS statistics (``a = 1'R^-1 1``, ``b = 1'R^-1 r``): ``-1/2 sum[log(1 + tau2_i a /
    var_i) - tau2_i b**2 / (var_i (var_i + tau2_i a))]`` up to terms free of both.
    Returns the (n,) drift variances and ``gamma``.
    """
    _, _, a_r, b_r = stats
    use = a_r > 0
    if not (tau2 > 0) or use.sum() < 3:
        return np.full(var.size, tau2), 0.0
    lam, a, b, v = var / se2, a_r[use], b_r[use], var[use]

    def nll(th):
        t2 = math.exp(th[0]) * lam[use] ** th[1]
        q = v + t2 * a
        return 0.5 * float(np.sum(np.log(q / v) - t2 * b * b / (v * q)))

    lt = math.log(tau2)
    th = optimize.minimize(
        nll, np.array([lt, 0.5]), method="L-BFGS-B", bounds=[(lt - 10, lt + 5), (0.0, 1.0)]
    ).x
    return math.exp(th[0]) * lam ** th[1], float(th[1])


def _prior_variance(prior, se2, size, keep, by_size) -> np.ndarray:
    """The volatility prior's mean variance for every entity (size-dependent if fitted so)."""
    if "log_scale" not in prior:
        return np.full(size.size, se2)
    b = prior["size_slope"] if by_size else 0.0
    return np.exp(
        prior["log_scale"] + b * (np.log(size) - prior["center"]) + prior["omega"] ** 2 / 2
    )


def _fit_log_growth(
    panel: Panel,
    *,
    drift="entity",
    volatility="entity",
    volatility_size=True,
    common="auto",
    max_abs_growth=None,
    ramp_years=RAMP_YEARS,
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
    n_growth = int((~np.isnan(g_all)).sum())
    g_all, ramp, age, opened = split_openings(panel.level, g_all, ramp_years)
    cols, keep = np.flatnonzero((~np.isnan(g_all)).any(0)), (~np.isnan(g_all)).any(1)
    g_raw, gyears = g_all[np.ix_(keep, cols)], panel.years[cols]
    g = _clip(g_raw, CLIP_SD)
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
    lev_all = panel.level
    n_lev = (~np.isnan(lev_all)).sum(axis=1)
    size = np.exp(np.nansum(np.log(lev_all), axis=1) / np.maximum(n_lev, 1))
    se2, own_var, prior, delta, dvar, t_df, t_df_se = _own_variances(
        (st1.entity_stats(beta, phi), _Stage1(g_raw, gyears, common).entity_stats(beta, phi)),
        g_raw,
        g,
        gyears,
        (phi, se2, tau2, beta, common),
        size[keep] if volatility_size else None,
        volatility,
    )
    if common:
        mean, var_m, sc, var_sc, phi_c, phi_c_se = _stage2(beta, cov_beta, gyears, phi, scale, se)
    else:
        mean, var_m, sc, var_sc, phi_c, phi_c_se = beta[0], cov_beta[0, 0], 0.0, np.nan, phi, np.nan
    kurt = excess_kurtosis(t_df)
    # the Gaussian information understates the variance of a variance under heavy tails
    sev, var_se = math.sqrt(se2), se2 * var_th[1] * (1.0 + kurt / 2.0)  # delta method
    vol = math.hypot(sc, sev)
    ramp_tab, ramp_rho, ramp_dev = ramp_table(
        ramp, age, panel.years, beta, gyears, common, se2 + tau2, ramp_years, panel.level
    )
    prior_var = _prior_variance(prior, se2, size, keep, volatility_size)
    table = _entity_table(
        panel,
        keep,
        g,
        gyears,
        (mean, var_m, tau2, sc),
        (
            delta,
            dvar,
            own_var,
            prior.get("log_var_sd", np.zeros(own_var.size)),
            prior.get("omega", 0.0),
        ),
        prior_var,
        opened,
        age,
    )
    a_c, b_c, hazard = fit_closure_hazard(panel.level)
    table["closure_hazard"] = hazard[table["row"].to_numpy()]
    table["ramp_deviation"] = ramp_dev[table["row"].to_numpy()]
    table = table.drop(columns="row")
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
        common_persistence=float(phi_c),
        common_persistence_se=float(phi_c_se),
        loading=sc / vol,
        loading_se=load_se,
        idio_volatility=sev,
        idio_volatility_se=math.sqrt(var_se),
        common_volatility=sc,
        common_volatility_se=math.sqrt(var_sc),
        innovation_df=float(t_df),
        innovation_df_se=float(t_df_se),
        n_obs=n_growth,
        n_entities=n_ent,
        first_year=int(panel.years[0]),
        last_year=int(panel.years[-1]),
        entity_drift=table,
        common_shock=shock,
        ramp=ramp_tab,
        loglik=-float(nll),
        options={
            "drift": drift,
            "volatility": volatility,
            "volatility_spread": prior.get("omega", 0.0),
            "volatility_size_slope": prior.get("size_slope", 0.0),
            "common": common,
            "max_abs_growth": max_abs_growth,
            "n_dropped": int(big.sum()),
            "n_ramp": int((~np.isnan(ramp)).sum()),
            "ramp_persistence": ramp_rho,
            "drift_exponent": float(prior.get("drift_exponent", 0.0)),
            "n_life_cycle": n_growth - n_obs,
            "closure_intercept": a_c,
            "closure_size_slope": b_c,
            "converged": bool(opt.success),
            "pooled_innovation_df": float(prior.get("pooled_df", t_df)),
        },
    )
