"""Forecasts of a district's fund balance from its history, back-tested against a baseline.

:func:`forecast_finance` simulates revenue, expenditure and the balance of every fitted
district from an origin year (:mod:`sustainsim.calibration.finance`'s model, the balance
stepped as in the engine: ``B[t] = B[t-1] + R[t] - X[t]``), integrating over the
uncertainty of the parameters: the common mean and covariance get their posterior
predictive under a flat prior (a common shock scale ``(n - 1) / chi2(n - 1)`` per draw
from ``n`` year effects, the mean ``N(m, s Sc / n)``), each drift its posterior sd.

:func:`backtest_finance` fits on the years up to each origin, forecasts ``1..horizon``
years ahead, and scores the ending balance of every district observed in the origin
against what happened:

* coverage of central intervals of the balance;
* the CRPS of the balance in units of the origin year's expenditure (``crps``: 0.1 is
  an error of about 5 weeks of spending);
* the Brier score of the event "balance below ``threshold_months`` (2) months of that
  year's expenditure" (``brier``; lower is better, a forecast of the observed frequency
  scores ``f (1 - f)``).

The baseline is persistence of the balance plus the entity's mean net flow (revenue less
expenditure) over its history up to the origin, with the pooled empirical distribution
of the ``h``-year errors of that rule (in units of expenditure) in that history as its
spread; its event probability compares with two months of the origin's expenditure grown
at the median growth of expenditure. Districts not observed after the origin are not
scored (a finance panel's districts merge, they do not close).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim.calibration.baseline import baseline_scores
from sustainsim.calibration.finance import FinanceFit, FinancePanel, fit_finance, read_finance
from sustainsim.calibration.panel import TableLike
from sustainsim.calibration.scores import crps_sample, interval_coverage
from sustainsim.calibration.tails import MIN_DF

__all__ = ["backtest_finance", "finance_summary", "forecast_finance"]


def _unit_t(rng: np.random.Generator, shape: tuple[int, ...], df: float) -> np.ndarray:
    """Multiplier of a normal that makes it unit-variance Student-t (ones for ``df = inf``)."""
    if not math.isfinite(df):
        return np.ones(shape)
    return np.sqrt((df - 2.0) / rng.chisquare(df, shape))


def _chol(c: np.ndarray) -> np.ndarray:
    c = (c + c.T) / 2
    w, v = np.linalg.eigh(c)
    return v * np.sqrt(np.clip(w, 0.0, None))


def forecast_finance(
    fit: FinanceFit,
    *,
    origin: int | None = None,
    horizon: int = 3,
    draws: int = 1000,
    rng: np.random.Generator | int = 0,
    parameter_uncertainty: bool = True,
) -> xr.Dataset:
    """Simulate revenue, expenditure and the ending balance from ``origin``.

    Parameters
    ----------
    fit : FinanceFit
    origin : int, optional
        Base year (default: the fit's last year); only entities with all their money
        observed in it are simulated.
    horizon, draws : int
        Years ahead [yr] and simulated paths.
    rng : numpy.random.Generator or int
    parameter_uncertainty : bool
        Draw the common mean, the common shock scale and each drift from their estimation
        distributions (else: plug-in estimates).

    Returns
    -------
    xarray.Dataset
        ``revenue``, ``expenditure``, ``balance`` (draw, horizon, entity) [USD], with the
        origin year's values as ``*_origin`` (entity).
    """
    for name, v, low in (("horizon", horizon, 1), ("draws", draws, 2)):
        if not (isinstance(v, int | np.integer) and v >= low):
            raise ValueError(f"{name} must be a whole number >= {low} (got {v!r})")
    rng = np.random.default_rng(rng)
    origin = fit.last_year if origin is None else int(origin)
    ent = fit.entity[fit.entity["last_year"] == origin]
    if ent.empty:
        raise ValueError(f"no fitted entity has all its money observed in origin year {origin}")
    n, d, k_dim, hz = len(ent), int(draws), len(fit.components), int(horizon)
    names = fit.components
    drift = ent[[f"drift_{c}" for c in names]].to_numpy() - fit.mean  # (n, K) own drift
    d_sd = ent[[f"drift_sd_{c}" for c in names]].to_numpy()
    own_l = _chol(fit.own_cov)
    corr_l = _chol(_as_corr(fit.own_cov))
    s = np.ones((d, 1))
    mean = np.broadcast_to(fit.mean, (d, k_dim))
    if parameter_uncertainty:
        dof = fit.n_years - 1
        s = dof / rng.chisquare(dof, (d, 1))
        m_l = _chol(fit.common_cov / fit.n_years)
        mean = mean + np.sqrt(s) * (rng.standard_normal((d, k_dim)) @ m_l.T)
    c_l = _chol(fit.common_cov)
    common = np.sqrt(s)[None] * (rng.standard_normal((hz, d, k_dim)) @ c_l.T)  # (h, d, K)
    own_drift = drift[None] + (
        d_sd[None] * (rng.standard_normal((d, n, k_dim)) @ corr_l.T)
        if parameter_uncertainty
        else 0.0
    )
    scale = np.sqrt(ent["scale"].to_numpy())[None, None, :, None]
    phi = np.zeros(k_dim) if fit.persistence is None else np.asarray(fit.persistence)
    # the own surprises are AR(1) with ``phi``: their innovations keep the fitted variance
    # of the surprise, ``1 - phi**2`` of it new each year
    shock = rng.standard_normal((hz, d, n, k_dim)) @ (own_l * np.sqrt(1 - phi**2)[:, None]).T
    # tails no heavier than MIN_DF's (the surprise's variance is the moment estimate)
    shock *= scale * _unit_t(rng, (hz, d, n, 1), max(fit.df, MIN_DF))
    last = [f"last_deviation_{c}" for c in names]
    x = ent[last].to_numpy() if set(last) <= set(ent.columns) else np.zeros((n, k_dim))
    x = np.broadcast_to(x, (d, n, k_dim))
    for t in range(hz):
        x = phi * x + shock[t]
        shock[t] = x
    g = mean[None, :, None, :] + common[:, :, None, :] + own_drift[None] + shock
    cum = np.cumsum(g, axis=0)
    rev = ent["revenue"].to_numpy() * np.exp(cum[..., 0])
    exp_ = ent["expenditure"].to_numpy() * np.exp(cum[..., 1])
    bal = ent["balance"].to_numpy() + np.cumsum(rev - exp_, axis=0)
    coords = {"horizon": np.arange(1, hz + 1), "entity": ent.index.to_numpy()}
    dims = ("draw", "horizon", "entity")
    ds = xr.Dataset(
        {
            "revenue": (dims, np.moveaxis(rev, 0, 1), {"units": "USD"}),
            "expenditure": (dims, np.moveaxis(exp_, 0, 1), {"units": "USD"}),
            "balance": (dims, np.moveaxis(bal, 0, 1), {"units": "USD"}),
        },
        coords=coords,
        attrs={"origin": origin},
    )
    for c in ("revenue", "expenditure", "balance"):
        ds[f"{c}_origin"] = ("entity", ent[c].to_numpy(), {"units": "USD"})
    return ds


def _as_corr(c: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(c))
    if not np.all(sd > 0):
        return np.eye(c.shape[0])
    return c / np.outer(sd, sd)


# ------------------------------------------------------------------------------ baseline


def _baseline_changes(past: FinancePanel, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean net flow by entity [USD/yr] and the pooled ``h``-year errors of persistence.

    Errors are ``(B[t+h] - B[t] - h * net_i) / X[t]`` over the history; where it is shorter
    than ``h`` years, the longest ``k``-year errors are stretched (mean times ``h / k``,
    spread about it times ``sqrt(h / k)``), as the enrollment baseline does.
    """
    flow = past.revenue - past.expenditure
    seen = np.isfinite(flow)
    net = np.where(seen, flow, 0.0).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
    b, x = past.balance, past.expenditure
    for k in range(min(h, b.shape[1] - 1), 0, -1):
        with np.errstate(invalid="ignore", divide="ignore"):
            err = (b[:, k:] - b[:, :-k] - k * net[:, None]) / x[:, :-k]
        err = err[np.isfinite(err)]
        if err.size >= 2:
            if k == h:
                return net, err
            m = err.mean()
            return net, m * h / k + (err - m) * np.sqrt(h / k)
    return net, np.zeros(2)


# ------------------------------------------------------------------------------ back-test


def backtest_finance(
    data: TableLike | FinancePanel,
    *,
    entity: str | None = "entity",
    year: str = "year",
    balance: str = "balance",
    revenue: str = "revenue",
    expenditure: str = "expenditure",
    enrollment: str | None = None,
    filters: Mapping[str, Any] | None = None,
    origins: Sequence[int] | None = None,
    horizon: int = 3,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    draws: int = 500,
    min_years: int = 3,
    threshold_months: float = 2.0,
    rng: np.random.Generator | int = 0,
    parameter_uncertainty: bool = True,
) -> xr.Dataset:
    """Rolling-origin back-test of the fund balance forecast, against the persistence baseline.

    Parameters
    ----------
    data, entity, year, balance, revenue, expenditure, enrollment, filters
        As for :func:`~sustainsim.calibration.finance.fit_finance`.
    origins : sequence of int, optional
        Origin years (default: every year with at least ``min_years`` years of data up to
        it and a later year).
    horizon, levels, draws
        Horizons ``1..horizon`` [yr], central interval levels, paths per origin.
    min_years : int
        Fewest data years up to an origin (>= 3: two years of growth).
    threshold_months : float
        The event scored by the Brier score: balance below this many months of the
        year's expenditure.
    rng, parameter_uncertainty
        Random source (one child stream per origin); see :func:`forecast_finance`.

    Returns
    -------
    xarray.Dataset
        ``coverage`` (horizon, level) with ``coverage_se`` (clustered by origin), ``crps``
        (horizon; units of the origin's expenditure), ``brier`` and ``event_rate``
        (horizon), ``bias`` (mean error of the median, units of expenditure),
        ``n_forecasts``; ``baseline_coverage``, ``baseline_crps``, ``baseline_brier``;
        the same by ``origin``; ``pit`` (origin, horizon, entity); the fitted parameters
        by origin; ``attrs["model"] = "finance"``.

    Raises
    ------
    ValueError
        Bad data or options, or no origin with ``min_years`` years of data.
    """
    lv = np.asarray(levels, dtype=float)
    if lv.ndim != 1 or lv.size == 0 or np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"levels must be probabilities strictly between 0 and 1 (got {levels})")
    for name, v, low in (("horizon", horizon, 1), ("draws", draws, 2), ("min_years", min_years, 3)):
        if not (isinstance(v, int | np.integer) and v >= low):
            raise ValueError(f"{name} must be a whole number >= {low} (got {v!r})")
    if not (isinstance(threshold_months, int | float) and 0 <= threshold_months <= 24):
        raise ValueError(f"threshold_months must be between 0 and 24 (got {threshold_months!r})")
    panel = data
    if not isinstance(panel, FinancePanel):
        cols = dict(balance=balance, revenue=revenue, expenditure=expenditure)
        table = read_finance(
            data, entity=entity, year=year, enrollment=enrollment, filters=filters, **cols
        )
        panel = FinancePanel.from_table(table)
    years = panel.years
    if not np.isfinite(panel.balance).any():
        raise ValueError("the balance column holds no numbers: the back-test scores the balance")
    if origins is None:
        seen = np.isfinite(panel.money).all(axis=0).any(axis=0)
        origins = [int(y) for y in years[seen] if y - years[0] + 1 >= min_years and y < years[-1]]
    origins = [int(o) for o in origins]
    if not origins:
        raise ValueError(
            f"too few years: no origin year with at least {min_years} years of data before "
            f"it and a later year to score (data cover {years[0]}-{years[-1]})"
        )
    scores = _Scores(len(origins), horizon, lv, panel.entities.size)
    gen = np.random.default_rng(rng)
    for k, (o, sub) in enumerate(zip(origins, gen.spawn(len(origins)), strict=True)):
        if o not in years or o >= years[-1]:
            raise ValueError(
                f"origin {o} must be a data year before the last ({years[0]}-{years[-1]})"
            )
        past = panel.until(o)
        fit = fit_finance(past)
        scores.fitted(k, fit)
        sim = forecast_finance(
            fit, origin=o, horizon=horizon, draws=draws, rng=sub,
            parameter_uncertainty=parameter_uncertainty,
        )  # fmt: skip
        scores.score(k, o, panel, past, sim, threshold_months / 12.0)
    return scores.dataset(
        origins,
        attrs={
            "model": "finance",
            "draws": int(draws),
            "threshold_months": float(threshold_months),
            "components": ",".join(panel.components),
            "parameter_uncertainty": int(parameter_uncertainty),
            "method": "rolling origin; moment fit on years <= origin; balance stepped",
        },
    )


class _Scores:
    """Sums of the scores by origin and horizon, and their pooling into a Dataset."""

    def __init__(self, n_o: int, horizon: int, lv: np.ndarray, n_ent: int):
        self.lv, self.hz = lv, np.arange(1, horizon + 1)
        sh = (n_o, horizon)
        self.hits, self.b_hits = np.zeros(sh + (lv.size,)), np.zeros(sh + (lv.size,))
        self.count, self.crps, self.b_crps, self.brier, self.b_brier, self.events, self.err = (
            np.zeros(sh) for _ in range(7)
        )
        self.pit = np.full(sh + (n_ent,), np.nan)
        self.pars: dict[str, np.ndarray] = {}
        self.n_o = n_o

    def fitted(self, k: int, fit: FinanceFit) -> None:
        est = fit.summary()["estimate"]
        for p in ("revenue_growth", "expenditure_growth", "correlation", "innovation_df"):
            self.pars.setdefault(p, np.full(self.n_o, np.nan))[k] = est[p]

    def score(self, k, o, panel: FinancePanel, past: FinancePanel, sim: xr.Dataset, frac):
        """Score the forecasts of origin ``o`` (index ``k``) against the panel."""
        years, hz = panel.years, self.hz
        rows = pd.Index(panel.entities.astype(str)).get_indexer(sim["entity"].to_numpy())
        x0 = sim["expenditure_origin"].to_numpy()
        b0 = sim["balance_origin"].to_numpy()
        cols = np.searchsorted(years, o + hz)
        inside = cols < years.size
        b_obs = np.full((hz.size, rows.size), np.nan)
        x_obs = np.full_like(b_obs, np.nan)
        b_obs[inside] = panel.balance[np.ix_(rows, cols[inside])].T
        x_obs[inside] = panel.expenditure[np.ix_(rows, cols[inside])].T
        ok = np.isfinite(b_obs) & np.isfinite(x_obs)
        y = np.where(ok, b_obs / x0, np.nan)
        event = np.where(ok, b_obs < frac * x_obs, False)
        ysim = sim["balance"].to_numpy() / x0  # (draw, h, n)
        p_ev = np.mean(sim["balance"].to_numpy() < frac * sim["expenditure"].to_numpy(), axis=0)
        self.count[k] = ok.sum(axis=1)
        self.hits[k] = interval_coverage(ysim, y, self.lv).sum(axis=-1).T
        self.crps[k] = np.nansum(crps_sample(ysim, y), axis=-1)
        self.err[k] = np.nansum(y - np.median(ysim, axis=0), axis=-1)
        self.brier[k] = np.sum(np.where(ok, (p_ev - event) ** 2, 0.0), axis=-1)
        self.events[k] = np.sum(event & ok, axis=-1)
        pit = np.mean(ysim < y, axis=0) + 0.5 * np.mean(ysim == y, axis=0)
        self.pit[k][:, rows] = np.where(ok, pit, np.nan)
        with np.errstate(invalid="ignore"):
            g_x = float(np.nanmedian(np.diff(np.log(past.expenditure), axis=1)))
        g_x = g_x if math.isfinite(g_x) else 0.0
        for j, h in enumerate(hz):
            net, ch = _baseline_changes(past, int(h))
            y0 = b0 / x0 + h * net[rows] / x0
            yj = np.where(ok[j], y[j], np.nan)
            bh, bc, _ = baseline_scores(ch, y0, yj, self.lv)
            self.b_hits[k, j] = bh.sum(axis=-1)
            self.b_crps[k, j] = np.nansum(bc)
            thr = frac * math.exp(h * g_x) - y0
            p_b = np.searchsorted(np.sort(ch), thr, side="left") / ch.size
            self.b_brier[k, j] = np.sum(np.where(ok[j], (p_b - event[j]) ** 2, 0.0))

    def dataset(self, origins, attrs) -> xr.Dataset:
        """Pool the sums over origins."""
        tot = self.count.sum(axis=0)
        hl, oh = ("horizon", "level"), ("origin", "horizon")
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = self.hits.sum(axis=0) / tot[:, None]
            g = (self.count > 0).sum(axis=0)[:, None]
            dev = self.hits - cov[None] * self.count[..., None]
            cov_se = np.sqrt(g / np.maximum(g - 1, 1) * np.sum(dev**2, axis=0)) / tot[:, None]
            data = {
                "coverage": (hl, cov, "share of outcomes inside the central interval"),
                "coverage_se": (hl, cov_se, "standard error of coverage, clustered by origin"),
                "crps": ("horizon", self.crps.sum(0) / tot, "CRPS of the ending balance"),
                "brier": ("horizon", self.brier.sum(0) / tot, "Brier score of the event"),
                "event_rate": ("horizon", self.events.sum(0) / tot, "observed event frequency"),
                "bias": ("horizon", self.err.sum(0) / tot, "mean error of the median"),
                "n_forecasts": ("horizon", tot.astype(int), "number of forecasts scored"),
                "baseline_coverage": (hl, self.b_hits.sum(0) / tot[:, None], "baseline coverage"),
                "baseline_crps": ("horizon", self.b_crps.sum(0) / tot, "baseline CRPS"),
                "baseline_brier": ("horizon", self.b_brier.sum(0) / tot, "baseline Brier score"),
                "coverage_by_origin": (oh + ("level",), self.hits / self.count[..., None], ""),
                "crps_by_origin": (oh, self.crps / self.count, ""),
                "brier_by_origin": (oh, self.brier / self.count, ""),
                "baseline_crps_by_origin": (oh, self.b_crps / self.count, ""),
                "n_by_origin": (oh, self.count.astype(int), ""),
            }
        units = {"crps": "expenditure", "bias": "expenditure", "baseline_crps": "expenditure"}
        ds = xr.Dataset(
            {k: (dims, v, {"long_name": ln, "units": units.get(k, "1")}) for k, (dims, v, ln) in
             data.items()},
            coords={"horizon": self.hz, "level": self.lv, "origin": np.asarray(origins)},
            attrs=attrs,
        )  # fmt: skip
        for p, v in self.pars.items():
            ds[f"fitted_{p}"] = ("origin", v, {"long_name": f"{p} fitted on years <= origin"})
        ds["pit"] = (("origin", "horizon", "entity"), self.pit, {"units": "1"})
        ds["horizon"].attrs["units"] = "yr"
        return ds


def _floats(a: Any) -> list[float | None]:
    return [None if not math.isfinite(float(x)) else round(float(x), 6) for x in np.ravel(a)]


def finance_summary(result: xr.Dataset) -> dict[str, Any]:
    """The JSON object of ``sustainsim backtest --balance ... --json``.

    Keys: ``model`` ("finance"), ``horizons``, ``levels``, ``cells`` (scored balances per
    horizon), ``coverage`` (``{"0.8": [per horizon], ...}``), ``crps`` (per horizon, units
    of the origin year's expenditure), ``brier`` (per horizon), ``event_rate`` (observed
    frequency of the event) and ``baseline`` (``coverage``, ``crps``, ``brier``). Missing
    numbers (a horizon with nothing to score) are null.
    """
    lv = result["level"].to_numpy()
    keys = [f"{float(v):g}" for v in lv]

    def cov(name: str) -> dict[str, list[float | None]]:
        return {k: _floats(result[name].sel(level=v)) for k, v in zip(keys, lv, strict=True)}

    return {
        "model": "finance",
        "horizons": [int(h) for h in result["horizon"].to_numpy()],
        "levels": [float(v) for v in lv],
        "cells": [int(n) for n in result["n_forecasts"].to_numpy()],
        "coverage": cov("coverage"),
        "crps": _floats(result["crps"]),
        "brier": _floats(result["brier"]),
        "event_rate": _floats(result["event_rate"]),
        "baseline": {
            "coverage": cov("baseline_coverage"),
            "crps": _floats(result["baseline_crps"]),
            "brier": _floats(result["baseline_brier"]),
        },
    }
