"""District finances from history: revenue and expenditure growth, and the fund balance.

The model of a district's money. For entity ``i`` in year ``t`` the vector of log growth
``g[i, t] = (log R[t]/R[t-1], log X[t]/X[t-1] [, log E[t]/E[t-1]])`` of revenue ``R``,
expenditure ``X`` (and enrollment ``E``) is::

    g[i, t] = m + c[t] + a_i + e[i, t]
    c[t] ~ N(0, Sc)                      common to all entities in year t
    a_i  ~ N(0, diag(tau**2))            the entity's own drift (random effects: shrunk)
    e[i, t] ~ lam_i * Sw, Student-t      the entity's own surprise, multivariate t(df)

and the balance is stepped as in the engine: ``B[t] = B[t-1] + R[t] - X[t]``. Revenue and
expenditure are correlated through the common shock (``Sc``) and the own one (``Sw``);
:attr:`FinanceFit.correlation` is the correlation of one year's growth of a typical entity.

The estimator is by moments, robust where the tails need it, and works on short panels
(two growth years are enough):

1. the year effects ``F[t]`` are the median growth of the entities observed in ``t``;
   ``m`` is their mean and ``Sc`` their covariance across years;
2. an entity's mean deviation from the year effects is its raw drift; ``tau**2`` is the
   variance of the raw drifts less their sampling variance, and each drift is shrunk to
   the mean by ``tau**2 / (tau**2 + lam_i Sw_kk / n_i)`` (best linear unbiased predictor);
3. ``Sw`` is the pooled covariance of the deviations from the entity drifts; each entity's
   scale ``lam_i`` (its variance over the pooled one) is shrunk to 1 by an inverse-gamma
   prior whose spread is the spread of the raw log scales less their sampling spread
   (computed for Student-t residuals with the fitted df, so heavy tails are not read as
   heterogeneity), floored at :data:`~sustainsim.calibration.tails.VARIANCE_FLOOR`;
4. ``df`` is the Student-t maximum-likelihood df of the residuals standardized by their
   entity's scale (:func:`~sustainsim.calibration.tails.fit_student_t`).

5. each component's surprise is AR(1) with ``persistence`` (the pooled lag-1 slope of
   the deviations from the year effects, :func:`_persistence`): expenditure that
   includes capital outlays is lumpy, a spike partly undone the next year (Ohio cash
   reports: -0.24; F-33 current spending: 0). Forecasts start it from the entity's last
   deviation (``last_deviation_<component>``).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> n, years = 50, np.arange(2015, 2021)
>>> rev = 1e6 * np.exp(np.cumsum(rng.normal(0.03, 0.04, (n, years.size)), axis=1))
>>> exp_ = rev * np.exp(rng.normal(0.0, 0.02, (n, years.size)))
>>> df = pd.DataFrame({"d": np.repeat(np.arange(n), years.size), "y": np.tile(years, n),
...                    "r": rev.ravel(), "x": exp_.ravel(), "b": 2e5})
>>> fit = fit_finance(df, entity="d", year="y", balance="b", revenue="r", expenditure="x")
>>> fit.components, fit.n_entities
(('revenue', 'expenditure'), 50)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from sustainsim.calibration.panel import DataError, TableLike, read_table
from sustainsim.calibration.tails import VARIANCE_FLOOR, fit_student_t

__all__ = ["FinanceFit", "FinancePanel", "fit_finance", "read_finance"]

#: Money columns of a finance panel, in the order of :attr:`FinancePanel.money`.
MONEY = ("balance", "revenue", "expenditure")


# ---------------------------------------------------------------------------------- input


def read_finance(
    data: TableLike,
    *,
    entity: str | None,
    year: str,
    balance: str | None,
    revenue: str,
    expenditure: str,
    enrollment: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The rows of a finance panel: columns ``entity``, ``year``, the money and ``enrollment``.

    Revenue, expenditure and enrollment that are not positive numbers (blank, 0,
    suppression codes) are missing; the balance may be negative, and is missing where it
    is not a number (``balance=None``: a panel without balances, for fitting growth only).

    Raises
    ------
    ValueError
        Missing or unreadable file, a missing column (naming it and the columns present),
        years that are not whole numbers, two rows for one entity-year, no usable rows.
    """
    cols = {"balance": balance, "revenue": revenue, "expenditure": expenditure}
    if enrollment is not None:
        cols["enrollment"] = enrollment
    need = [c for c in [entity, year, *cols.values()] if c is not None]
    df, where = read_table(data, need, filters)
    out = pd.DataFrame(
        {
            "entity": df[entity].astype(str).to_numpy() if entity is not None else "all",
            "year": pd.to_numeric(df[year], errors="coerce").to_numpy(),
        }
    )
    for key, col in cols.items():
        if col is None:
            out[key] = np.nan
            continue
        x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, copy=True)
        if key != "balance":
            x[~(x > 0)] = np.nan
        out[key] = np.where(np.isfinite(x), x, np.nan)
    if out.empty:
        raise DataError(f"no rows in {where} (filters: {dict(filters or {})})")
    if out["year"].isna().any() or not np.all(np.mod(out["year"], 1) == 0):
        raise DataError(f"column {year!r} in {where} must hold whole-number years")
    out["year"] = out["year"].astype(int)
    dup = out.duplicated(["entity", "year"])
    if dup.any():
        e, y = out.loc[dup, ["entity", "year"]].iloc[0]
        raise DataError(f"entity {e!r} has more than one row for {year} = {y} in {where}")
    return out.sort_values(["entity", "year"]).reset_index(drop=True)


@dataclass(frozen=True)
class FinancePanel:
    """A finance panel on a grid of consecutive years: arrays (entity, year), NaN missing.

    ``money`` holds balance, revenue and expenditure (3, N, Y) [USD]; ``enrollment`` is
    (N, Y) [students] or None.
    """

    entities: np.ndarray
    years: np.ndarray
    money: np.ndarray
    enrollment: np.ndarray | None = None

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> FinancePanel:
        """Build from the output of :func:`read_finance`."""
        years = np.arange(table["year"].min(), table["year"].max() + 1)

        def wide(col: str) -> np.ndarray:
            w = table.pivot(index="entity", columns="year", values=col).reindex(columns=years)
            return w.to_numpy(dtype=float)

        ents = np.asarray(sorted(table["entity"].unique()), dtype=object)
        enr = wide("enrollment") if "enrollment" in table else None
        return cls(ents, years, np.stack([wide(c) for c in MONEY]), enr)

    @property
    def balance(self) -> np.ndarray:
        """Ending fund balance (N, Y). [USD]"""
        return self.money[0]

    @property
    def revenue(self) -> np.ndarray:
        """Revenue (N, Y). [USD]"""
        return self.money[1]

    @property
    def expenditure(self) -> np.ndarray:
        """Expenditure (N, Y). [USD]"""
        return self.money[2]

    @property
    def components(self) -> tuple[str, ...]:
        """Names of the growth components."""
        return ("revenue", "expenditure") + (("enrollment",) if self.enrollment is not None else ())

    @property
    def growth(self) -> np.ndarray:
        """Log growth of each component from the year before (N, Y, K); NaN where any is missing.

        Growth counts only where every component is observed in both years.
        """
        lev = [self.revenue, self.expenditure]
        if self.enrollment is not None:
            lev.append(self.enrollment)
        g = np.full(self.revenue.shape + (len(lev),), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            for k, x in enumerate(lev):
                g[:, 1:, k] = np.diff(np.log(x), axis=1)
        g[~np.isfinite(g).all(axis=-1)] = np.nan
        return g

    def until(self, last_year: int) -> FinancePanel:
        """The panel truncated to years <= ``last_year``."""
        keep = self.years <= last_year
        enr = self.enrollment[:, keep] if self.enrollment is not None else None
        return FinancePanel(self.entities, self.years[keep], self.money[:, :, keep], enr)


# -------------------------------------------------------------------------------- the fit


@dataclass(frozen=True)
class FinanceFit:
    """Estimates of the finance process (see the module docstring); rates in [1/yr].

    ``mean`` (K,) and ``mean_se``; ``common_cov`` (K, K) from ``n_years`` year effects;
    ``own_cov`` (K, K); ``drift_var`` (K,); ``df`` of the Student-t surprises (inf: normal)
    and ``df_se``; ``entity`` a table by entity: ``drift_<k>`` (posterior mean, mean
    included) and ``drift_sd_<k>`` (posterior sd), ``scale`` (``lam_i``), ``n_obs``, and
    the last year with all money observed, ``last_year``, ``revenue``, ``expenditure``,
    ``balance`` (and ``enrollment``) in it, and the growth deviation then
    (``last_deviation_<k>``); ``persistence`` (K,) the AR(1) coefficient of the surprises.
    """

    components: tuple[str, ...]
    mean: np.ndarray
    mean_se: np.ndarray
    common_cov: np.ndarray
    own_cov: np.ndarray
    drift_var: np.ndarray
    df: float
    df_se: float
    n_years: int
    n_obs: int
    first_year: int
    last_year: int
    entity: pd.DataFrame = field(repr=False)
    own_cov_se: np.ndarray = field(repr=False)
    persistence: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_entities(self) -> int:
        """Entities with at least one growth value."""
        return int((self.entity["n_obs"] > 0).sum())

    @property
    def cov(self) -> np.ndarray:
        """Covariance of one year's log growth of a typical entity (common + own). (K, K)"""
        return self.common_cov + self.own_cov

    @property
    def correlation(self) -> float:
        """Correlation of one year's revenue and expenditure growth of a typical entity."""
        return _corr(self.cov)

    def summary(self) -> pd.DataFrame:
        """Estimates and standard errors, one row per parameter (NaN: not computed)."""
        n_y, rows = self.n_years, {}
        for k, name in enumerate(self.components):
            c_sd, o_sd = math.sqrt(self.common_cov[k, k]), math.sqrt(self.own_cov[k, k])
            rows[f"{name}_growth"] = (self.mean[k], self.mean_se[k])
            rows[f"{name}_common_sd"] = (c_sd, c_sd / math.sqrt(2.0 * max(n_y - 1, 1)))
            se = self.own_cov_se[k, k] / (2 * o_sd) if o_sd > 0 else math.nan
            rows[f"{name}_own_sd"] = (o_sd, se)
            rows[f"{name}_drift_sd"] = (math.sqrt(self.drift_var[k]), math.nan)
        rows["correlation"] = (self.correlation, math.nan)
        rows["common_correlation"] = _corr_se(self.common_cov, n_y)
        rows["own_correlation"] = _corr_se(self.own_cov, self.n_obs - self.n_entities)
        if len(self.components) > 2:
            cov = self.cov
            for k in (0, 1):
                rows[f"{self.components[k]}_enrollment_correlation"] = (
                    _corr(cov[np.ix_([k, 2], [k, 2])]),
                    math.nan,
                )
        rows["innovation_df"] = (self.df, self.df_se)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "se"])

    def _entity_row(self, entity: Any) -> pd.Series:
        if str(entity) not in self.entity.index:
            some = ", ".join(map(str, self.entity.index[:5]))
            raise ValueError(f"entity {str(entity)!r} is not in the fitted data (e.g. {some})")
        row: pd.Series = self.entity.loc[str(entity)]
        return row

    def to_toml(self, entity: Any = None, *, horizon: int = 5) -> str:
        """The district's config fragment: growth of funding and costs and their correlation.

        ``[district.growth]`` gets ``funding`` (revenue) and ``costs`` (expenditure), new
        normal rates each year whose sd matches the variance of ``horizon``-year cumulative
        log growth (the drift's uncertainty included, as
        :meth:`~sustainsim.calibration.fit.GrowthFit.to_spec` does); ``[[correlations]]``
        their rank correlation. With ``entity``, also the district's own money from its
        last year: ``[district] fund_balance`` and a fixed revenue and cost line.
        """
        from sustainsim.calibration.finance_toml import finance_toml

        return finance_toml(self, entity, horizon=horizon)


def _corr(c: np.ndarray) -> float:
    d = math.sqrt(c[0, 0] * c[1, 1])
    return float(c[0, 1] / d) if d > 0 else 0.0


def _corr_se(c: np.ndarray, n: int) -> tuple[float, float]:
    """A correlation and its large-sample standard error ``(1 - r**2) / sqrt(n - 3)``."""
    r = _corr(c)
    return r, (1 - r * r) / math.sqrt(n - 3) if n > 3 else math.nan


def fit_finance(
    data: TableLike | FinancePanel,
    *,
    entity: str | None = "entity",
    year: str = "year",
    balance: str | None = "balance",
    revenue: str = "revenue",
    expenditure: str = "expenditure",
    enrollment: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> FinanceFit:
    """Fit revenue and expenditure growth (and enrollment's) to a district finance panel.

    Parameters
    ----------
    data : DataFrame, CSV path or FinancePanel
        One row per entity and year. [USD]
    entity, year, balance, revenue, expenditure, enrollment : str
        Column names (``entity=None``: one district; ``balance`` and ``enrollment``
        optional: growth needs neither).
    filters : mapping, optional
        Row filters, column -> required value.

    Returns
    -------
    FinanceFit

    Raises
    ------
    ValueError
        Bad data (see :func:`read_finance`) or too few years: fewer than two years of
        growth (three consecutive years with revenue and expenditure) in the panel.
    """
    if not isinstance(data, FinancePanel):
        table = read_finance(
            data,
            entity=entity,
            year=year,
            balance=balance,
            revenue=revenue,
            expenditure=expenditure,
            enrollment=enrollment,
            filters=filters,
        )
        data = FinancePanel.from_table(table)
    return _fit(data)


def _fit(p: FinancePanel) -> FinanceFit:
    g = p.growth
    ok = np.isfinite(g[..., 0])
    year_ok = ok.any(axis=0)
    n_y = int(year_ok.sum())
    if n_y < 2:
        raise ValueError(
            "too few years: the finance fit needs at least two years of growth (three "
            "consecutive years with revenue and expenditure observed); the data cover "
            f"{p.years[0]}-{p.years[-1]} with {n_y} year(s) of growth"
        )
    with np.errstate(invalid="ignore"):
        f_year = np.nanmedian(g[:, year_ok], axis=0)  # (n_y, K)
    dev = g[:, year_ok] - f_year[None]
    n_i = ok[:, year_ok].sum(axis=1)
    raw = np.where(n_i[:, None] > 0, np.nansum(dev, axis=1) / np.maximum(n_i, 1)[:, None], np.nan)
    within = dev - raw[:, None, :]
    multi = n_i >= 2
    dof = float(np.sum(n_i[multi] - 1))
    e = within[multi][np.isfinite(within[multi, :, 0])]  # (n_resid, K)
    own = e.T @ e / dof if dof > 0 else np.zeros((g.shape[-1],) * 2)
    own_se = np.sqrt(np.var(e[:, :, None] * e[:, None, :], axis=0) / max(e.shape[0], 1))
    scale, df, df_se = _scales(within, n_i, own)
    drift, drift_sd, tau2, mu_a = _drifts(raw, n_i, scale, own)
    mean = f_year.mean(axis=0) + mu_a
    common = np.cov(f_year.T, ddof=1).reshape(own.shape)
    table = _entity_table(p, n_i, scale, drift + f_year.mean(axis=0), drift_sd)
    phi = _persistence(dev)
    last_dev = _last_deviation(p, g, f_year, year_ok, drift)
    for k, name in enumerate(p.components):
        table[f"last_deviation_{name}"] = last_dev[:, k]
    return FinanceFit(
        components=p.components,
        mean=mean,
        mean_se=np.sqrt(np.diag(common) / n_y),
        common_cov=common,
        own_cov=own,
        drift_var=tau2,
        df=df,
        df_se=df_se,
        n_years=n_y,
        n_obs=int(ok.sum()),
        first_year=int(p.years[0]),
        last_year=int(p.years[-1]),
        entity=table,
        own_cov_se=own_se,
        persistence=phi,
    )


def _persistence(dev: np.ndarray) -> np.ndarray:
    """Lag-1 regression slope of each component's deviation from the year effects, (K,).

    Pooled over entities and consecutive years, deviations beyond 4 robust sds pulled in;
    entity drifts are not removed (removing them from two to five years biases the slope
    by about -1/(T-1); leaving them in biases it towards +, so a negative slope is if
    anything understated). Clipped to [-0.9, 0.9]; 0 with fewer than 30 pairs.
    """
    out = np.zeros(dev.shape[-1])
    for k in range(dev.shape[-1]):
        a, b = dev[:, :-1, k].ravel(), dev[:, 1:, k].ravel()
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 30:
            continue
        a, b = a[ok], b[ok]
        rsd = 1.4826 * float(np.median(np.abs(np.r_[a, b] - np.median(np.r_[a, b]))))
        if not rsd > 0:
            continue
        a, b = np.clip(a, -4 * rsd, 4 * rsd), np.clip(b, -4 * rsd, 4 * rsd)
        a, b = a - a.mean(), b - b.mean()
        out[k] = float(np.clip(np.sum(a * b) / np.sum(a * a), -0.9, 0.9))
    return out


def _last_deviation(p: FinancePanel, g, f_year, year_ok, drift) -> np.ndarray:
    """Each entity's growth deviation from the year effect and its drift, (N, K).

    Taken in its last year with all money observed; 0 where that year's growth is not.
    """
    full = np.isfinite(p.money).all(axis=0)
    if not np.isfinite(p.balance).any():
        full = np.isfinite(p.money[1:]).all(axis=0)
    has = full.any(axis=1)
    last = np.where(has, p.years.size - 1 - np.argmax(full[:, ::-1], axis=1), 0)
    effect = np.full((p.years.size, g.shape[-1]), np.nan)
    effect[year_ok] = f_year
    rows = np.arange(p.entities.size)
    out = g[rows, last] - effect[last] - np.nan_to_num(drift)
    return np.where(np.isfinite(out) & has[:, None], out, 0.0)


def _drifts(raw, n_i, scale, own):
    """Shrunk entity drifts about their mean, posterior sds, ``tau**2`` and the mean."""
    k_dim = own.shape[0]
    samp = scale[:, None] * np.diag(own)[None] / np.maximum(n_i, 1)[:, None]  # (N, K)
    use = n_i >= 1
    if use.sum() < 2:
        return np.nan_to_num(raw), np.zeros_like(raw), np.zeros(k_dim), np.zeros(k_dim)
    mu = np.average(raw[use], axis=0, weights=n_i[use])
    tau2 = np.maximum(np.var(raw[use], axis=0, ddof=1) - samp[use].mean(axis=0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(samp > 0, tau2 / (tau2 + samp), 1.0)
    drift = np.where(use[:, None], mu + w * (raw - mu), mu)
    post_sd = np.where(use[:, None], np.sqrt(w * samp), np.sqrt(tau2))
    return drift, post_sd, tau2, mu


def _scales(within, n_i, own):
    """Entity variance scales (shrunk, floored) and the df of the standardized residuals.

    The df is fitted to residuals standardized by the entity's scale computed without the
    residual's own year (leave one out): a jump must not inflate the scale that judges it.
    """
    n, k_dim = n_i.size, own.shape[0]
    sd = np.sqrt(np.diag(own))
    if not np.all(sd > 0):
        return np.ones(n), math.inf, math.nan
    m_i = np.maximum(n_i - 1, 0)
    ss = np.nansum((within / sd) ** 2, axis=2)  # (N, T): one year's squared residuals
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = ss.sum(axis=1) / (m_i * k_dim)
    df0 = fit_student_t(_resid(within, n_i, np.ones((n, 1)), sd))[0]
    fine = (m_i >= 1) & (raw > 0)
    scale, loo = np.ones(n), np.ones(ss.shape)
    if fine.sum() >= 10:
        log_raw = np.log(raw[fine])
        v_obs = (1.4826 * np.median(np.abs(log_raw - np.median(log_raw)))) ** 2
        nu0 = _prior_df(v_obs - _log_scale_noise(m_i[fine], own, df0).mean())
        if math.isfinite(nu0):
            m = (m_i * k_dim)[:, None]
            scale = (nu0 + m[:, 0] * np.nan_to_num(raw)) / (nu0 + m[:, 0])
            m_loo = np.maximum(m - k_dim, 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                raw_loo = np.where(m_loo > 0, (ss.sum(axis=1)[:, None] - ss) / m_loo, 1.0)
            loo = (nu0 + m_loo * raw_loo) / (nu0 + m_loo)
            norm = np.average(scale[fine], weights=m[fine, 0])
            scale = np.maximum(scale / norm, VARIANCE_FLOOR)
            loo = np.maximum(loo / norm, VARIANCE_FLOOR)
    df, df_se, _ = fit_student_t(_resid(within, n_i, loo, sd))
    return scale, df, df_se


def _resid(within, n_i, scale, sd):
    """Residuals standardized by a scale (N, T) or (N, 1), corrected for the removed mean."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.sqrt(n_i / np.maximum(n_i - 1, 1))[:, None, None]
        u = within * corr / (np.sqrt(scale)[:, :, None] * sd)
    return u[n_i >= 2].ravel()


def _log_scale_noise(m_i: np.ndarray, own: np.ndarray, df: float) -> np.ndarray:
    """Sampling variance of the log raw scale for each entity's residual count (simulated).

    Residuals are multivariate Student-t with ``own``'s correlation, demeaned over the
    entity's ``n = m + 1`` years, as in the fit; a fixed seed keeps the fit repeatable.
    """
    rng = np.random.default_rng(20240601)
    sd = np.sqrt(np.diag(own))
    chol = np.linalg.cholesky(own / np.outer(sd, sd) + 1e-9 * np.eye(sd.size))
    out = {}
    for m in np.unique(m_i):
        z = rng.standard_normal((4000, m + 1, sd.size)) @ chol.T
        if math.isfinite(df):
            z *= np.sqrt((df - 2.0) / rng.chisquare(df, (4000, m + 1, 1)))
        z -= z.mean(axis=1, keepdims=True)
        out[int(m)] = float(np.var(np.log(np.sum(z * z, axis=(1, 2)) / (m * sd.size))))
    return np.array([out[int(m)] for m in m_i])


def _prior_df(v_prior: float) -> float:
    """``nu0 = 2 (a - 1)`` of the inverse-gamma prior with ``var(log lam) = trigamma(a)``."""
    if not v_prior > 1e-4:
        return math.inf
    if v_prior >= float(special.polygamma(1, 1.01)):
        return 0.02
    a = optimize.brentq(lambda a: float(special.polygamma(1, a)) - v_prior, 1.01, 1e4)
    return 2.0 * (a - 1.0)


def _entity_table(p: FinancePanel, n_i, scale, drift, drift_sd) -> pd.DataFrame:
    """Per-entity estimates and the money of the last year with all of it observed."""
    data: dict[str, Any] = {}
    for k, name in enumerate(p.components):
        data[f"drift_{name}"] = drift[:, k]
        data[f"drift_sd_{name}"] = drift_sd[:, k]
    data["scale"], data["n_obs"] = scale, n_i
    full = np.isfinite(p.money).all(axis=0)
    if not np.isfinite(p.balance).any():  # a panel without balances
        full = np.isfinite(p.money[1:]).all(axis=0)
    if p.enrollment is not None:
        full &= np.isfinite(p.enrollment)
    has = full.any(axis=1)
    last = np.where(has, p.years.size - 1 - np.argmax(full[:, ::-1], axis=1), 0)
    rows = np.arange(p.entities.size)
    data["last_year"] = np.where(has, p.years[last], -1)
    for j, name in enumerate(MONEY):
        data[name] = np.where(has, p.money[j, rows, last], np.nan)
    if p.enrollment is not None:
        data["enrollment"] = np.where(has, p.enrollment[rows, last], np.nan)
    return pd.DataFrame(data, index=pd.Index(p.entities.astype(str), name="entity"))
