"""Back-testing: rolling-origin forecasts of enrollment, scored against what happened.

For each origin year ``y`` the enrollment process is fitted (:func:`fit_enrollment`) to the
years ``<= y`` only, every entity observed in ``y`` is simulated ``1..horizon`` years ahead
with :func:`sustainsim.model.drivers.enrollment_paths` (all draws and entities in one call),
and the simulated distribution is scored against the observed enrollment in ``y + h``:

* coverage of central prediction intervals (share of outcomes inside the ``level``
  interval; a calibrated forecast covers ``level`` of them);
* the continuous ranked probability score (CRPS) of log enrollment (about a relative
  error; lower is better) and of enrollment in students.

Forecasts integrate over the uncertainty of the drifts (the mean drift's standard error,
shared by all entities of a draw, and each entity's posterior sd) and, with
``conditional=True``, start the AR(1) deviation from its last observed value instead of
0 as a config-driven simulation does.

The scoring kernels are in :mod:`sustainsim.calibration.scores`, the baseline and the
scoring of closures in :mod:`sustainsim.calibration.baseline`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim.calibration.baseline import baseline_scores, pooled_changes, scored_log
from sustainsim.calibration.fit import EnrollmentFit, Panel, fit_enrollment, read_panel
from sustainsim.calibration.ramp import ramp_factor
from sustainsim.calibration.scores import crps_sample, interval_coverage
from sustainsim.model.drivers.enrollment import closure_years, enrollment_paths

__all__ = [
    "backtest_enrollment",
    "coverage_table",
    "crps_sample",
    "forecast_enrollment",
    "interval_coverage",
]


def forecast_enrollment(
    fit: EnrollmentFit,
    *,
    horizon: int = 5,
    draws: int = 1000,
    rng: np.random.Generator | int = 0,
    origin: int | None = None,
    parameter_uncertainty: bool = True,
    conditional: bool = True,
    closures: bool = True,
) -> xr.DataArray:
    """Simulate enrollment of the fitted entities from their value in ``origin``.

    Parameters
    ----------
    fit : EnrollmentFit
    horizon : int
        Years ahead. [yr]
    draws : int
    rng : numpy.random.Generator or int
        Source of the standard normal shocks (an int seeds a new generator).
    origin : int, optional
        Base year (default: the last year of the fit); entities not observed in it are left out.
    parameter_uncertainty : bool
        Draw the mean drift, each entity's drift and its own volatility from their
        estimation distributions.
    conditional : bool
        Start the AR(1) deviation from its expected value given the last observed growth
        (``persistence**k`` times its deviation from the drift, ``k`` years before
        ``origin``), not from 0 as a simulation from a config does.
    closures : bool
        Close entities with their fitted annual ``closure_hazard`` (enrollment 0 after).

    Innovations are unit-variance Student-t with the fit's ``innovation_df``; entities
    that opened within the data and are still in their opening ramp (``age`` < 3) get the
    ramp's mean excess growth and extra sd for the ages they pass through.

    Returns
    -------
    DataArray (draw, horizon, entity)
        Simulated enrollment in ``origin + horizon``. [students]
    """
    if not (isinstance(horizon, int | np.integer) and horizon >= 1):
        raise ValueError(f"horizon must be a whole number >= 1 (got {horizon!r})")
    if not (isinstance(draws, int | np.integer) and draws >= 2):
        raise ValueError(f"draws must be a whole number >= 2 (got {draws!r})")
    rng = np.random.default_rng(rng)
    origin = fit.last_year if origin is None else int(origin)
    ed = fit.entity_drift[fit.entity_drift["last_year"] == origin]
    if ed.empty:
        raise ValueError(f"no fitted entity was observed in origin year {origin}")
    n, d, phi = len(ed), int(draws), fit.persistence
    drift = np.broadcast_to(ed["drift"].to_numpy(), (d, n)).copy()
    if parameter_uncertainty:
        own_var = np.clip(ed["drift_se"].to_numpy() ** 2 - fit.drift_se**2, 0.0, None)
        drift += fit.drift_se * rng.standard_normal((d, 1))
        drift += np.sqrt(own_var) * rng.standard_normal((d, n))
    z_common = np.repeat(_unit_t(rng, (horizon, d), fit.innovation_df), n, axis=1)
    z_own = _unit_t(rng, (horizon, d * n), fit.innovation_df)
    base = np.tile(ed["last_value"].to_numpy(), d)
    vol, load = (np.tile(ed[k].to_numpy(), d) for k in ("volatility", "loading"))
    if parameter_uncertainty and "volatility_log_sd" in ed:
        vol, load = _draw_volatility(vol, load, np.tile(ed["volatility_log_sd"], d), rng)
    closed = None
    if closures and (ed["closure_hazard"] > 0).any():
        closed = closure_years(rng.random((horizon, d * n)), np.tile(ed["closure_hazard"], d))
    phi_c = fit.common_persistence
    split = phi_c != phi and fit.common_shock is not None
    paths = enrollment_paths(
        base,
        drift.ravel(),
        vol,
        phi,
        load,
        z_common,
        z_own,
        closed=closed,
        common_persistence=phi_c if split else None,
    )
    paths = paths[1:].reshape(horizon, d, n)
    if conditional:
        paths *= np.exp(_carry(fit, ed, drift, origin, horizon, split))
    paths *= ramp_factor(
        fit.ramp,
        float(fit.options.get("ramp_persistence", 0.0)),
        ed["age"].to_numpy(),
        ed["ramp_deviation"].to_numpy() if "ramp_deviation" in ed else np.zeros(n),
        horizon,
        d,
        rng,
    )
    return xr.DataArray(
        np.moveaxis(paths, 0, 1),
        dims=("draw", "horizon", "entity"),
        coords={"horizon": np.arange(1, horizon + 1), "entity": ed.index.to_numpy()},
        attrs={"units": "students", "long_name": "simulated enrollment", "origin": origin},
    )


def _draw_volatility(vol, load, log_sd, rng):
    """Volatility and loading with the own variance drawn from its posterior, per path.

    The own variance ``vol**2 (1 - load**2)`` is the posterior mean; a path's is that times
    ``exp(s z - s**2 / 2)`` (lognormal with the posterior sd ``s`` of the log variance, the
    mean kept), so the forecast integrates over the volatility as it does over the drift.
    """
    common = vol * load
    own = (vol * vol - common * common) * np.exp(
        log_sd * rng.standard_normal(vol.size) - log_sd * log_sd / 2
    )
    vol = np.sqrt(common * common + own)
    with np.errstate(invalid="ignore", divide="ignore"):
        return vol, np.where(vol > 0, common / vol, 0.0)


def _carry(fit: EnrollmentFit, ed: pd.DataFrame, drift, origin: int, horizon: int, split):
    """Cumulative log growth from the deviation expected in the origin year, (horizon, d, n).

    The deviation of the last observed growth from the drift decays as ``persistence**k``;
    with a separate ``common_persistence``, its common part (the year's common shock)
    decays with that, the rest with ``persistence``.
    """
    phi, hz = fit.persistence, np.arange(1, horizon + 1)
    last_g = (ed["last_deviation"] + ed["drift"]).to_numpy()
    gap = origin - ed["last_growth_year"].to_numpy()
    dev = last_g - drift  # (d, n)
    out = np.zeros((horizon,) + np.shape(dev))
    if split and fit.common_shock is not None:
        shock = fit.common_shock
        c_last = shock.reindex(ed["last_growth_year"].to_numpy()).fillna(0.0).to_numpy()
        dev = dev - c_last
        phi_c, c_year = fit.common_persistence, int(shock.index[-1])
        c0 = phi_c ** (origin - c_year) * float(shock.iloc[-1])
        out += (np.cumsum(phi_c**hz) * c0)[:, None, None]
    if phi != 0.0:
        out += np.cumsum(phi**hz)[:, None, None] * (phi**gap * dev)[None]
    return out


def _unit_t(rng: np.random.Generator, shape: tuple[int, ...], df: float) -> np.ndarray:
    """Unit-variance Student-t shocks (standard normal for infinite ``df``)."""
    if not np.isfinite(df):
        return rng.standard_normal(shape)
    return rng.standard_t(df, shape) * np.sqrt((df - 2.0) / df)


def backtest_enrollment(
    data: pd.DataFrame | str | os.PathLike,
    *,
    entity: str = "entity",
    year: str = "year",
    value: str = "value",
    filters: Mapping[str, Any] | None = None,
    origins: Sequence[int] | None = None,
    horizon: int = 5,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    draws: int = 1000,
    min_years: int = 5,
    rng: np.random.Generator | int = 0,
    drift: str = "entity",
    volatility: str = "entity",
    max_abs_growth: float | None = None,
    parameter_uncertainty: bool = True,
    conditional: bool = True,
    closures: bool = True,
) -> xr.Dataset:
    """Rolling-origin back-test of enrollment forecasts, against an empirical baseline.

    Scored: ``log(max(enrollment, 1))`` of every entity observed in the origin year, in
    every later data year; an entity never observed again after some year is closed
    (scored as 0, enrollment 0), not dropped; a gap is not scored. The baseline (pooled
    ``h``-year log changes up to the origin, :mod:`sustainsim.calibration.baseline`) is
    scored on exactly the same cells.

    Parameters
    ----------
    data, entity, year, value, filters
        As for :func:`sustainsim.calibration.fit_enrollment`.
    origins : sequence of int, optional
        Origin years (default: every year with at least ``min_years`` years of data up to
        it and at least one later year).
    horizon : int
        Forecast horizons ``1..horizon``. [yr]
    levels : sequence of float
        Central prediction-interval levels.
    draws : int
        Simulated paths per entity and origin.
    rng : numpy.random.Generator or int
        One child stream is spawned per origin.
    drift, volatility, max_abs_growth
        Passed to :func:`~sustainsim.calibration.fit_enrollment`.
    parameter_uncertainty, conditional, closures
        Passed to :func:`forecast_enrollment`.

    Returns
    -------
    xarray.Dataset
        ``coverage`` and ``coverage_se`` (horizon, level): share of outcomes inside the
        interval and its standard error clustered by origin (origins share common shocks);
        ``crps`` (horizon, log enrollment), ``crps_count`` (horizon, students),
        ``bias`` (horizon, mean log error of the median forecast), ``n_forecasts`` (horizon),
        and the same by ``origin``; the fitted parameters by origin; and ``pit`` (origin,
        horizon, entity), the probability integral transform of each outcome (uniform for
        a calibrated forecast; NaN where nothing was forecast or observed);
        ``baseline_coverage`` (horizon, level), ``baseline_crps`` (horizon) and
        ``baseline_pit``: the same scores of the baseline.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> level = 500 * np.exp(np.cumsum(rng.normal(-0.01, 0.03, (20, 10)), axis=1))
    >>> df = pd.DataFrame({"entity": np.repeat(np.arange(20), 10),
    ...                    "year": np.tile(np.arange(2010, 2020), 20), "value": level.ravel()})
    >>> res = backtest_enrollment(df, horizon=2, draws=200, rng=1)
    >>> res["coverage"].dims, res["origin"].values.tolist()
    (('horizon', 'level'), [2014, 2015, 2016, 2017, 2018])
    """
    lv = np.asarray(levels, dtype=float)
    if lv.ndim != 1 or lv.size == 0 or np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"levels must be probabilities strictly between 0 and 1 (got {levels})")
    for name, v, low in (("horizon", horizon, 1), ("draws", draws, 2), ("min_years", min_years, 2)):
        if not (isinstance(v, int | np.integer) and v >= low):
            raise ValueError(f"{name} must be a whole number >= {low} (got {v!r})")
    table = read_panel(data, entity=entity, year=year, value=value, filters=filters)
    panel = Panel.from_table(table)
    years = panel.years
    observed_years = np.flatnonzero((~np.isnan(panel.level)).any(axis=0))
    if origins is None:
        origins = [
            int(y) for y in years[observed_years] if y - years[0] + 1 >= min_years and y < years[-1]
        ]
    origins = [int(o) for o in origins]
    if not origins:
        raise ValueError(
            f"no origin year: need at least {min_years} years of data before an origin "
            f"(data cover {years[0]}-{years[-1]}); lower min_years or pass origins"
        )
    hz = np.arange(1, horizon + 1)
    shape_o = (len(origins), horizon)
    hits, b_hits = np.zeros(shape_o + (lv.size,)), np.zeros(shape_o + (lv.size,))
    count, crps, crps_n, err, b_crps = (np.zeros(shape_o) for _ in range(5))
    pit = np.full(shape_o + (panel.entities.size,), np.nan)
    b_pit = np.full_like(pit, np.nan)
    names = ("drift", "drift_se", "volatility", "persistence", "loading", "innovation_df")
    pars = {k: np.full(len(origins), np.nan) for k in names}
    y_full, gen = scored_log(panel.level), np.random.default_rng(rng)
    for k, (o, sub_rng) in enumerate(zip(origins, gen.spawn(len(origins)), strict=True)):
        if o not in years or o >= years[-1]:
            raise ValueError(
                f"origin {o} must be a data year before the last ({years[0]}-{years[-1]})"
            )
        past = panel.until(o)
        fit = fit_enrollment(
            past,
            drift=drift,
            volatility=volatility,
            max_abs_growth=max_abs_growth,
            se=False,
        )
        for p in pars:
            pars[p][k] = getattr(fit, p)
        sim = forecast_enrollment(
            fit,
            horizon=horizon,
            draws=draws,
            rng=sub_rng,
            origin=o,
            parameter_uncertainty=parameter_uncertainty,
            conditional=conditional,
            closures=closures,
        )
        rows = pd.Index(panel.entities).get_indexer(sim["entity"].to_numpy())
        cols = np.searchsorted(years, o + hz)
        inside = cols < years.size
        yobs = np.full((horizon, rows.size), np.nan)
        yobs[inside] = y_full[np.ix_(rows, cols[inside])].T
        obs = np.where(yobs > 0, np.exp(yobs), np.where(yobs == 0, 0.0, np.nan))
        ok = ~np.isnan(yobs)
        ysim = np.log(np.maximum(sim.to_numpy(), 1.0))
        hits[k] = interval_coverage(ysim, yobs, lv).sum(axis=-1).T
        count[k] = ok.sum(axis=1)
        crps[k] = np.nansum(crps_sample(ysim, yobs), axis=-1)
        crps_n[k] = np.nansum(crps_sample(sim.to_numpy(), obs), axis=-1)
        err[k] = np.nansum(yobs - np.median(ysim, axis=0), axis=-1)
        mid = np.mean(ysim < yobs, axis=0) + 0.5 * np.mean(ysim == yobs, axis=0)
        pit[k][:, rows] = np.where(ok, mid, np.nan)
        y0 = y_full[rows, np.searchsorted(years, o)]
        for j, h in enumerate(hz):
            bh, bc, bp = baseline_scores(pooled_changes(past.level, int(h)), y0, yobs[j], lv)
            b_hits[k, j] = bh.sum(axis=-1)
            b_crps[k, j] = np.nansum(bc)
            b_pit[k, j, rows] = bp
    ds = _assemble(
        origins,
        hz,
        lv,
        hits,
        count,
        crps,
        crps_n,
        err,
        pars,
        baseline=(b_hits, b_crps),
        attrs={
            "model": "aggregate",
            "draws": int(draws),
            "drift": drift,
            "volatility": volatility,
            "parameter_uncertainty": int(parameter_uncertainty),
            "conditional": int(conditional),
            "max_abs_growth": str(max_abs_growth),
            "method": "rolling origin; REML fit on years <= origin; enrollment_paths simulation",
        },
    )
    ds = ds.assign_coords(entity=panel.entities)
    ds["pit"] = (("origin", "horizon", "entity"), pit)
    ds["pit"].attrs = {"long_name": "share of simulated outcomes <= the observed one", "units": "1"}
    ds["baseline_pit"] = (("origin", "horizon", "entity"), b_pit)
    ds["baseline_pit"].attrs = {"long_name": "PIT of the empirical-quantile baseline", "units": "1"}
    return ds


_UNITS = {"coverage": "1", "crps": "1", "crps_count": "students", "bias": "1"}
_LONG = {
    "coverage": "share of outcomes inside the central prediction interval",
    "coverage_se": "standard error of coverage, clustered by origin",
    "crps": "mean CRPS of log enrollment (closed: log 1 = 0)",
    "baseline_coverage": "coverage of the empirical-quantile baseline",
    "baseline_crps": "mean CRPS of log enrollment of the empirical-quantile baseline",
    "crps_count": "mean CRPS of enrollment",
    "bias": "mean log(observed / median forecast)",
    "n_forecasts": "number of forecasts scored",
}


def _assemble(origins, hz, lv, hits, count, crps, crps_n, err, pars, baseline, attrs):
    """Pool the per-origin sums into the back-test Dataset."""
    b_hits, b_crps = baseline
    tot = count.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = hits.sum(axis=0) / tot[:, None]
        g = (count > 0).sum(axis=0)[:, None]  # origins contributing (clusters)
        dev = hits - cov[None] * count[..., None]
        cov_se = np.sqrt(g / np.maximum(g - 1, 1) * np.sum(dev**2, axis=0)) / tot[:, None]
        hl, oh, ohl = ("horizon", "level"), ("origin", "horizon"), ("origin", "horizon", "level")
        data = {
            "coverage": (hl, cov),
            "coverage_se": (hl, cov_se),
            "crps": ("horizon", crps.sum(0) / tot),
            "baseline_coverage": (hl, b_hits.sum(axis=0) / tot[:, None]),
            "baseline_crps": ("horizon", b_crps.sum(0) / tot),
            "crps_count": ("horizon", crps_n.sum(0) / tot),
            "bias": ("horizon", err.sum(0) / tot),
            "n_forecasts": ("horizon", tot.astype(int)),
            "coverage_by_origin": (ohl, hits / count[..., None]),
            "crps_by_origin": (oh, crps / count),
            "bias_by_origin": (oh, err / count),
            "n_by_origin": (oh, count.astype(int)),
        }
    ds = xr.Dataset(
        {**data, **{f"fitted_{p}": ("origin", v) for p, v in pars.items()}},
        coords={"horizon": hz, "level": lv, "origin": np.asarray(origins)},
        attrs=attrs,
    )
    for k in ds.data_vars:
        base = str(k).removesuffix("_by_origin")
        ds[k].attrs = {"long_name": _LONG.get(base, ""), "units": _UNITS.get(base, "1")}
    for p in pars:
        ds[f"fitted_{p}"].attrs["long_name"] = f"{p} fitted on years <= origin"
    ds["horizon"].attrs["units"] = "yr"
    return ds


def coverage_table(result: xr.Dataset) -> pd.DataFrame:
    """Coverage by level, CRPS, bias and count by horizon, one row per horizon."""
    cov = result["coverage"].transpose("horizon", "level")
    df = pd.DataFrame(
        cov.to_numpy(),
        index=pd.Index(result["horizon"].to_numpy(), name="horizon"),
        columns=[f"coverage_{round(100 * float(v))}" for v in result["level"].to_numpy()],
    )
    for k in ("crps", "crps_count", "bias", "n_forecasts"):
        df[k] = result[k].sel(horizon=df.index).to_numpy()
    return df
