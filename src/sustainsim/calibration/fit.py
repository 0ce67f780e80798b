"""Calibration: fit the enrollment and growth drivers to history, and distributions to data.

The enrollment driver (:func:`sustainsim.model.drivers.enrollment_paths`) models the log growth
``g[i, t] = log E[i, t] - log E[i, t-1]`` of entity ``i`` (a school or district) as::

    g[i, t] = drift_i + x[i, t]
    x[i, t] = persistence * x[i, t-1] + c[t] + e[i, t],   c ~ N(0, sc**2), e ~ N(0, se_i**2)

with ``c`` common to all entities, so ``volatility = sqrt(sc**2 + se**2)`` and
``loading = sc / volatility``. As the AR(1) is linear with one persistence, ``x`` splits
into a common AR(1) ``f[t]`` (innovations ``c``) and an own AR(1) (innovations ``e``).

The estimator is Gaussian maximum likelihood in two stages:

1. Year effects ``F[t] = mean drift + f[t]`` are fixed effects; entity drifts are random
   effects ``N(mean drift, drift_sd**2)`` (partial pooling; ``drift="pooled"`` sets
   ``drift_sd = 0``); the own AR(1) starts stationary. An entity's growth vector is then
   ``N(F[obs], drift_sd**2 J + se**2 R)``, ``R[s, t] = persistence**|s-t| / (1 -
   persistence**2)`` over the years observed. Growth is only taken between consecutive
   years, and a gap is handled exactly through ``|s - t|``. ``persistence``, ``se`` and
   ``drift_sd`` maximise the restricted likelihood (REML), ``F`` profiled out by GLS.
2. The year effects with their GLS covariance ``C`` are an AR(1) series,
   ``F_hat ~ N(mean drift, sc**2 R + C)``: REML gives ``sc``, GLS the mean drift.

Heavy tails, entity volatilities, life cycles (:mod:`sustainsim.calibration.tails`):

* the mean and persistence structure is fitted to growth with deviations beyond 3 robust
  sds from the year's median pulled in (a jump is a heavy tail, not drift or persistence);
  the pooled innovation variance is then the Student-t maximum-likelihood one;
* innovations are unit-variance Student-t; with ``volatility="entity"`` the entity sds
  and the within-entity tails are separated by a hierarchical model (log variance normal
  about a law in log size, Student-t within; Gauss-Hermite quadrature) and each entity
  gets its posterior mean variance, floored at a quarter of its prior median;
* the common factor gets its own persistence when a likelihood-ratio test prefers it;
* growth in an entity's first 3 years after an opening seen in the data is its opening
  ramp (mean excess growth by age, ``ramp``, with a persistence: a fast ramp stays fast,
  :mod:`sustainsim.calibration.ramp`), and the last 3 before a closure seen in the data
  is its winding down; both are left out of the mature process. The annual closure
  hazard is logistic in log size;
* an entity's drift spread scales with its volatility as ``(var_i / var)**gamma``,
  ``gamma`` in [0, 1] by marginal likelihood (``options["drift_exponent"]``); forecasts
  draw each entity's own variance from its posterior (``volatility_log_sd``).

Standard errors come from the observed information (numerical Hessian of the profile
likelihood) and the delta method. Entity drifts are posterior means (best linear unbiased
predictions) with posterior sds. With ``volatility="entity"`` each entity also gets its
own ``se_i``, shrunk to the pooled one by empirical Bayes; small districts are far more
volatile than large ones, and intervals from one pooled volatility are then too wide for
the many large entities and too narrow for the small.

Examples
--------
>>> rng = np.random.default_rng(1)
>>> years = np.arange(2000, 2012)
>>> level = 500 * np.exp(np.cumsum(rng.normal(-0.01, 0.03, (3, years.size)), axis=1))
>>> df = pd.DataFrame({"entity": np.repeat(["a", "b", "c"], years.size),
...                    "year": np.tile(years, 3), "value": level.ravel()})
>>> fit_enrollment(df).n_obs
33
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim.sampling.distributions import Distribution

__all__ = [
    "EnrollmentFit",
    "GrowthFit",
    "LogGrowthFit",
    "Panel",
    "best_distribution_spec",
    "calibrate",
    "fit_fragment",
    "fit_distribution",
    "fit_enrollment",
    "fit_growth",
    "read_panel",
]

from sustainsim.calibration.distfit import best_distribution_spec, fit_distribution
from sustainsim.calibration.loggrowth import _fit_log_growth
from sustainsim.calibration.panel import Panel, TableLike, read_panel

# -------------------------------------------------------------------------------- results

_PARAMS = {  # name: (long name, units)
    "drift": ("mean annual log growth across entities", "1/yr"),
    "volatility": ("sd of the innovation of annual log growth", "1/yr"),
    "persistence": ("AR(1) coefficient of the log-growth deviation", "1"),
    "common_persistence": ("AR(1) coefficient of the common shock", "1"),
    "loading": ("correlation of the innovation with the common shock", "1"),
    "idio_volatility": ("sd of the entity's own innovation (pooled)", "1/yr"),
    "common_volatility": ("sd of the common innovation", "1/yr"),
    "drift_sd": ("sd of drift across entities", "1/yr"),
    "innovation_df": ("degrees of freedom of the Student-t innovations (inf: normal)", "1"),
}


@dataclass(frozen=True)
class LogGrowthFit:
    """Estimates of a log-growth process (see the module docstring).

    Every parameter ``p`` of :meth:`summary` has its standard error ``p_se``; rates are
    in [1/yr]. ``entity_drift`` is a table by entity: ``drift`` (posterior mean) and
    ``drift_se``, ``volatility`` and ``loading`` (with the entity's own volatility),
    ``n_obs``, the last observed ``last_year``/``last_value`` and the deviation of the
    last observed growth from the drift (``last_growth_year``, ``last_deviation``),
    ``age`` (years since an opening seen in the data; NaN for entities there from the
    first year), ``closure_hazard`` (annual probability of closing), ``volatility_log_sd``
    (posterior sd of the log own variance) and ``ramp_deviation`` (the last ramp year's
    excess growth less the ramp's mean, carried by forecasts with
    ``options["ramp_persistence"]``).
    ``common_shock`` is the common log-growth deviation by year (year effect - drift);
    ``ramp`` the mean excess growth and extra sd of entities by age 1..3 after opening
    (their growth in those years is left out of the fit of the mature process).
    Innovations are unit-variance Student-t with ``innovation_df`` degrees of freedom.
    """

    drift: float
    drift_se: float
    drift_sd: float
    drift_sd_se: float
    volatility: float
    volatility_se: float
    persistence: float
    persistence_se: float
    common_persistence: float
    common_persistence_se: float
    loading: float
    loading_se: float
    idio_volatility: float
    idio_volatility_se: float
    common_volatility: float
    common_volatility_se: float
    innovation_df: float
    innovation_df_se: float
    n_obs: int
    n_entities: int
    first_year: int
    last_year: int
    entity_drift: pd.DataFrame = field(repr=False)
    common_shock: pd.Series | None = field(repr=False)
    ramp: pd.DataFrame = field(repr=False)
    loglik: float = field(repr=False)
    options: dict[str, Any] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Estimates and standard errors, one row per parameter."""
        rows = {k: (getattr(self, k), getattr(self, k + "_se")) for k in _PARAMS}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "se"])

    def to_dataset(self) -> xr.Dataset:
        """The estimates as a Dataset: scalars, ``entity_*`` over ``entity``, ``common_shock``."""
        ds = xr.Dataset()
        for k, (long, units) in _PARAMS.items():
            ds[k] = xr.DataArray(getattr(self, k), attrs={"long_name": long, "units": units})
            ds[k + "_se"] = xr.DataArray(getattr(self, k + "_se"), attrs={"units": units})
        ed = self.entity_drift
        ds = ds.assign_coords(entity=ed.index.to_numpy())
        for k in ("drift", "drift_se", "volatility", "loading", "n_obs", "closure_hazard"):
            ds[f"entity_{k}"] = ("entity", ed[k].to_numpy())
        if self.common_shock is not None:
            ds = ds.assign_coords(year=self.common_shock.index.to_numpy())
            ds["common_shock"] = ("year", self.common_shock.to_numpy(), {"units": "1/yr"})
        opts = {k: str(v) for k, v in self.options.items()}
        ds.attrs.update(
            n_obs=self.n_obs,
            n_entities=self.n_entities,
            first_year=self.first_year,
            last_year=self.last_year,
            loglik=self.loglik,
            method="two-stage REML (jumps clipped), Student-t innovations",
            **opts,
        )
        return ds

    def _entity_row(self, entity: Any) -> pd.Series:
        if str(entity) not in self.entity_drift.index:
            some = ", ".join(self.entity_drift.index[:5])
            raise ValueError(f"entity {str(entity)!r} is not in the fitted data (e.g. {some})")
        return cast(pd.Series, self.entity_drift.loc[str(entity)])

    def _header(self, what: str) -> list[str]:
        o = self.options
        lines = [
            f"# sustainsim calibrate: {what} fitted to {self.n_entities} entities, years "
            f"{self.first_year}-{self.last_year}, {self.n_obs} annual growth values",
            "# two-stage REML (jumps clipped), Student-t innovations: "
            + ("partially pooled drift" if o["drift"] == "entity" else "pooled drift")
            + ("; common shock from year effects" if o["common"] else "; no common shock"),
        ]
        if o["n_dropped"]:
            lines.append(f"# {o['n_dropped']} growth values beyond +-{o['max_abs_growth']} dropped")
        for k in _PARAMS:
            lines.append(
                f"#   {k:18s} {getattr(self, k):+.4f}  (se {getattr(self, k + '_se'):.4f})"
            )
        return lines


def _num(x: float) -> str:
    return repr(float(f"{x:.4g}"))


@dataclass(frozen=True)
class EnrollmentFit(LogGrowthFit):
    """A fitted enrollment process; :meth:`to_toml` writes the ``[schools.enrollment]`` table."""

    def to_toml(self, entity: Any = None, *, drift_uncertainty: bool = True) -> str:
        """Config fragment for ``entity`` (its drift, volatility, last value) or a typical one.

        A typical entity has the mean drift, the pooled volatility (with the tails of the
        innovations over it, ``options["pooled_innovation_df"]``) and the median last
        value. With ``drift_uncertainty`` the drift is a normal distribution (sampled once
        per draw) whose sd is the entity's posterior sd, or for a typical entity the
        spread of drifts across entities and the standard error of their mean combined.
        """
        lines = self._header("enrollment")
        if entity is None and self.n_entities == 1:
            entity = self.entity_drift.index[0]
        if entity is None:
            base = float(self.entity_drift["last_value"].median())
            drift, vol, load = self.drift, self.volatility, self.loading
            drift_sd = math.hypot(self.drift_sd, self.drift_se)
            hazard = float(self.entity_drift["closure_hazard"].mean())
            lines.append("# typical entity: median last value, mean drift; set your school's own")
        else:
            row = self._entity_row(entity)
            base, drift, drift_sd = row["last_value"], row["drift"], row["drift_se"]
            vol, load, hazard = row["volatility"], row["loading"], row["closure_hazard"]
            lines.append(
                f"# entity {entity}: its value in {int(row['last_year'])}, own drift and volatility"
            )
        if drift_uncertainty and drift_sd > 0:
            drift_text = f'{{ dist = "normal", mean = {_num(drift)}, sd = {_num(drift_sd)} }}'
        else:
            drift_text = _num(drift)
        lines += [
            "[schools.enrollment]",
            f"base = {round(float(base))}",
            f"drift = {drift_text}",
            f"volatility = {_num(vol)}",
            f"persistence = {_num(self.persistence)}",
            f"common_loading = {_num(load)}",
        ]
        if self.common_persistence != self.persistence:
            lines.append(f"common_persistence = {_num(self.common_persistence)}")
        # a typical entity has the pooled volatility: the tails of innovations over it
        df = (
            self.innovation_df
            if entity is not None
            else self.options.get("pooled_innovation_df", self.innovation_df)
        )
        if math.isfinite(df):
            lines.append(f"innovation_df = {_num(max(df, 2.05))}")
        if hazard > 0:
            lines.append(f"closure_hazard = {_num(min(hazard, 0.99))}")
        return "\n".join(lines) + "\n"


def _cumvar(phi: float, h: int) -> float:
    """Variance of a sum of ``h`` years of a stationary AR(1) with unit innovation variance."""
    k = np.arange(1, h)
    return float(h + 2.0 * np.sum((h - k) * phi**k)) / (1.0 - phi * phi)


@dataclass(frozen=True)
class GrowthFit(LogGrowthFit):
    """A fitted growth-rate process; :meth:`to_spec` maps it to a ``[district.growth]`` entry."""

    @property
    def rate_mean(self) -> float:
        """Mean annual simple growth rate ``exp(g) - 1`` of a typical entity. [1/yr]"""
        return math.exp(self.drift + self._rate_var / 2) - 1.0

    @property
    def rate_sd(self) -> float:
        """Standard deviation of one year's simple growth rate of a typical entity. [1/yr]"""
        return (1.0 + self.rate_mean) * math.sqrt(math.expm1(self._rate_var))

    @property
    def _rate_var(self) -> float:  # stationary variance of one year's log growth
        return self.volatility**2 / (1 - self.persistence**2) + self.drift_sd**2

    def to_spec(self, *, form: str = "year", horizon: int = 5, entity: Any = None) -> dict:
        """A growth entry whose cumulative growth over ``horizon`` years matches the fit.

        Config rates are i.i.d. each year (``form="year"``) or one per draw (``"draw"``),
        not AR(1): the sd is chosen so that the variance of ``horizon``-year cumulative log
        growth matches the fit's, persistence and the uncertainty of the mean rate
        included (``drift_sd`` and ``drift_se`` for a typical entity, the posterior sd for a
        named one). Mean and sd are those of the simple rate ``exp(g) - 1``. [1/yr]
        """
        if form not in ("year", "draw"):
            raise ValueError(f"form must be 'year' or 'draw' (got {form!r})")
        if not (isinstance(horizon, int) and horizon >= 1):
            raise ValueError(f"horizon must be a whole number of years >= 1 (got {horizon!r})")
        if entity is None:
            mu, v_mu, vol = self.drift, self.drift_sd**2 + self.drift_se**2, self.volatility
        else:
            row = self._entity_row(entity)
            mu, v_mu, vol = row["drift"], row["drift_se"] ** 2, row["volatility"]
        v_h = vol**2 * _cumvar(self.persistence, horizon) + horizon**2 * v_mu
        v = v_h / horizon if form == "year" else v_h / horizon**2
        m1 = math.exp(mu + v / 2)
        rate = {
            "dist": "normal",
            "mean": float(_num(m1 - 1)),
            "sd": float(_num(m1 * math.sqrt(math.expm1(v)))),
        }
        Distribution.from_spec(rate)
        return {"rate": rate, "per": "year"} if form == "year" else rate

    def to_toml(
        self, name: str = "funding", *, form: str = "year", horizon: int = 5, entity: Any = None
    ) -> str:
        """The ``[district.growth]`` fragment with entry ``name``."""
        spec = self.to_spec(form=form, horizon=horizon, entity=entity)
        rate = spec.get("rate", spec)
        inner = f'{{ dist = "normal", mean = {_num(rate["mean"])}, sd = {_num(rate["sd"])} }}'
        entry = f'{{ rate = {inner}, per = "year" }}' if form == "year" else inner
        lines = self._header("growth")
        lines.append(f"# sd matched to the variance of {horizon}-year cumulative growth ({form})")
        lines += ["[district.growth]", f"{name} = {entry}"]
        return "\n".join(lines) + "\n"


def fit_enrollment(
    data: TableLike | Panel,
    *,
    entity: str | None = "entity",
    year: str = "year",
    value: str = "value",
    drift: str = "entity",
    volatility: str = "entity",
    volatility_size: bool = True,
    common: bool | str = "auto",
    filters: Mapping[str, Any] | None = None,
    max_abs_growth: float | None = None,
    se: bool = True,
) -> EnrollmentFit:
    """Fit the enrollment driver to a history of enrollment levels.

    Parameters
    ----------
    data : DataFrame, CSV path or Panel
        Long table, one row per entity and year (or a :class:`Panel`). [students]
    entity, year, value : str
        Column names (``entity=None``: a single entity).
    drift : {"entity", "pooled"}
        Partially pooled drift per entity (random effects) or one drift for all.
    volatility : {"entity", "pooled"}
        Also give each entity its own volatility (empirical Bayes, robust to heavy tails,
        floored at half the prior's; the pooled estimates are unchanged), or not.
    volatility_size : bool
        The entity volatilities' prior varies with entity size (small entities are more
        volatile).
    common : bool or "auto"
        Estimate a common shock from year effects ("auto": with >= 3 entities).
    filters : mapping, optional
        Row filters, column -> required value.
    max_abs_growth : float, optional
        Drop annual log growth beyond this magnitude (data errors, mergers). [1/yr]
    se : bool
        Compute the standard errors of persistence, volatilities and loading.

    Returns
    -------
    EnrollmentFit

    Raises
    ------
    ValueError
        Missing file/column, bad values, or fewer than 3 years of consecutive-year growth.

    Examples
    --------
    >>> df = pd.DataFrame({"year": range(2010, 2020),
    ...                    "value": [500, 490, 492, 480, 470, 468, 471, 460, 452, 450]})
    >>> fit = fit_enrollment(df, entity=None)
    >>> round(fit.drift, 3)
    -0.012
    """
    if not isinstance(data, Panel):
        data = Panel.from_table(
            read_panel(data, entity=entity, year=year, value=value, filters=filters)
        )
    return EnrollmentFit(
        **_fit_log_growth(
            data,
            drift=drift,
            volatility=volatility,
            volatility_size=volatility_size,
            common=common,
            max_abs_growth=max_abs_growth,
            se=se,
        )
    )


def fit_growth(
    data: TableLike,
    *,
    entity: str | None = "entity",
    year: str = "year",
    value: str = "value",
    per_pupil: str | None = None,
    drift: str = "entity",
    volatility: str = "entity",
    common: bool | str = "auto",
    filters: Mapping[str, Any] | None = None,
    max_abs_growth: float | None = None,
) -> GrowthFit:
    """Fit a funding or cost growth process to a history of levels (e.g. revenue).

    The model and estimator of :func:`fit_enrollment`, for ``log(value / per_pupil)``;
    ``drift`` is the mean log growth rate, :attr:`GrowthFit.rate_mean` and
    :attr:`GrowthFit.rate_sd` the simple rate's, and :meth:`GrowthFit.to_toml` gives the
    ``[district.growth]`` entry.

    Parameters
    ----------
    data : DataFrame or CSV path
        Long table, one row per entity and year. [USD]
    per_pupil : str, optional
        Column to divide the value by (e.g. enrollment). [students]
    entity, year, value, drift, volatility, common, filters, max_abs_growth
        As for :func:`fit_enrollment`.

    Returns
    -------
    GrowthFit

    Examples
    --------
    >>> years = np.arange(2000, 2010)
    >>> noise = np.exp(np.random.default_rng(2).normal(0, 0.01, years.size))
    >>> df = pd.DataFrame({"year": years, "value": 100 * 1.03 ** (years - 2000) * noise})
    >>> "[district.growth]" in fit_growth(df, entity=None).to_toml()
    True
    """
    table = read_panel(
        data, entity=entity, year=year, value=value, per_pupil=per_pupil, filters=filters
    )
    return GrowthFit(
        **_fit_log_growth(
            Panel.from_table(table),
            drift=drift,
            volatility=volatility,
            common=common,
            max_abs_growth=max_abs_growth,
        )
    )


# ------------------------------------------------------------------------- config fragments


def calibrate(
    path: str | os.PathLike,
    *,
    entity: str | None,
    year: str,
    value: str,
    kind: str = "enrollment",
    per_pupil: str | None = None,
    **options: Any,
) -> str:
    """Fit ``kind`` ("enrollment", "growth" or "cohort") to a CSV file; return the fragment.

    ``options``: ``filters``, ``drift``, ``volatility``, ``max_abs_growth`` (see
    :func:`fit_enrollment`), ``for_entity`` (write that entity's fragment) and ``name``
    (the growth entry's key, default "funding"); for ``kind="cohort"`` also ``grade``
    (the grade column) and ``for_entity`` (required: the school).
    """
    return fit_fragment(
        path, entity=entity, year=year, value=value, kind=kind, per_pupil=per_pupil, **options
    )[0]


def fit_fragment(
    path, *, kind, per_pupil, for_entity=None, name="funding", **kw
) -> tuple[str, Any]:
    """Fit ``kind`` to a CSV file; return the TOML fragment and the fit."""
    kw = dict(kw)
    grade = kw.pop("grade", None)
    if kind == "cohort":
        kw["grade"] = grade
    elif grade is not None:
        raise ValueError(f"grade applies to kind 'cohort' only (got kind {kind!r})")
    if kind == "enrollment":
        if per_pupil is not None:
            raise ValueError("per_pupil applies to kind 'growth' only (got kind 'enrollment')")
        enrollment = fit_enrollment(path, **kw)
        return enrollment.to_toml(entity=for_entity), enrollment
    if kind == "growth":
        growth = fit_growth(path, per_pupil=per_pupil, **kw)
        return growth.to_toml(name, entity=for_entity), growth
    if kind == "cohort":
        from sustainsim.calibration.cohort import fit_cohort

        if kw.get("grade") is None or for_entity is None:
            raise ValueError("kind 'cohort' needs the grade column and the school (for_entity)")
        keep = ("entity", "year", "value", "grade", "filters")
        cohort = fit_cohort(path, **{k: v for k, v in kw.items() if k in keep})
        return cohort.to_toml(for_entity), cohort
    raise ValueError(f"kind must be 'enrollment', 'growth' or 'cohort' (got {kind!r})")
