"""Cohort survival from by-grade history: progression ratios, their spread, a back-test.

For a school ``i``, grade ``g`` (after its entering grade) and year ``t`` the log
progression ratio ``y = log(n[g, t] / n[g-1, t-1])`` is modelled as::

    y[i, g, t] = mu_g + a[i, g] + e[i, g, t],   a ~ N(0, tau_g**2),  e ~ N(0, sigma_g**2)

``exp(mu_g)`` is the pooled (median) ratio into grade ``g``, ``tau_g`` the spread of
schools' own ratios about it (random effects) and ``sigma_g`` the grade-specific noise
of one year's progression. Each grade is fitted by REML on the log ratios with
deviations beyond 4 robust sds pulled in (grade reconfigurations are not progression);
each school's ratio is its posterior (``mu_g + E[a | data]``, shrunk towards the pooled
one the more the fewer its years) with a posterior sd. Ratios are only taken where both
grades are enrolled (a grade with 0 pupils is not offered).

The entering grade (the school's lowest enrolled grade) follows the aggregate log-growth
process, fitted by :func:`~sustainsim.calibration.fit.fit_enrollment` to the entering
grade's counts (Student-t tails, own volatility, openings and closures as there).

Examples
--------
>>> rows = [(s, y, g, 100 * 0.9 ** k) for s in "abc" for y in range(2000, 2006)
...         for k, g in enumerate(["K", "1", "2"])]
>>> df = pd.DataFrame(rows, columns=["entity", "year", "grade", "value"])
>>> fit = fit_cohort(df, entity="entity", year="year", grade="grade", value="value")
>>> fit.ratios.round(3).tolist()
[0.9, 0.9]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize

from sustainsim.calibration.baseline import baseline_scores, pooled_changes, scored_log
from sustainsim.calibration.fit import EnrollmentFit, fit_enrollment
from sustainsim.calibration.panel import Panel, TableLike
from sustainsim.calibration.scores import crps_sample, interval_coverage
from sustainsim.calibration.tails import MIN_DF, fit_student_t, student_t_sd
from sustainsim.model.drivers.cohort import cohort_paths

__all__ = ["CohortFit", "backtest_cohort", "fit_cohort", "grade_order"]

#: Log-ratio deviations beyond this many robust sds are pulled in (reconfigurations).
CLIP_SD = 4.0
#: Fewest degrees of freedom of the yearly noise: a Student-t of kurtosis MAX_KURTOSIS.
MIN_NOISE_DF = MIN_DF


def grade_order(labels: Sequence[Any]) -> list[str]:
    """Grade labels in school order: pre-K and K first, then numbers, then the rest.

    Examples
    --------
    >>> grade_order(["3", "K", "10", "1", "PK"])
    ['PK', 'K', '1', '3', '10']
    """

    def key(g: str):
        u = g.strip().upper()
        if u in ("PK", "PREK", "PRE-K"):
            return (0, -2.0, u)
        if u in ("K", "KG", "0K"):
            return (0, -1.0, u)
        try:
            return (0, float(u), u)
        except ValueError:
            return (1, 0.0, u)

    return sorted({str(x) for x in labels}, key=key)


def _cube(table: pd.DataFrame, grades: list[str]):
    """Counts (entity, year, grade) with NaN where a school-year is absent."""
    years = np.arange(int(table["year"].min()), int(table["year"].max()) + 1)
    ents = np.array(sorted(table["entity"].unique()))
    cube = np.full((ents.size, years.size, len(grades)), np.nan)
    i = np.searchsorted(ents, table["entity"].to_numpy())
    t = table["year"].to_numpy(dtype=int) - years[0]
    g = pd.Index(grades).get_indexer(table["grade"].astype(str).to_numpy())
    v = np.nan_to_num(table["value"].to_numpy(dtype=float), nan=0.0)
    cube[i, t, g] = np.maximum(v, 0.0)
    present = np.nansum(cube, axis=2) > 0
    cube[~present] = np.nan
    return ents, years, np.where(np.isnan(cube) & present[..., None], 0.0, cube)


def _one_way_reml(y: np.ndarray, ok: np.ndarray) -> tuple[float, float, float, float]:
    """REML of ``y[i, t] = mu + a_i + e`` (a ~ N(0, tau**2), e ~ N(0, sigma**2)).

    Returns ``mu``, its standard error, ``tau`` and ``sigma``.
    """
    n = ok.sum(axis=1)
    keep = n > 0
    y, ok, n = y[keep], ok[keep], n[keep]
    ybar = np.where(ok, y, 0.0).sum(axis=1) / n
    within = float(np.sum(np.where(ok, (y - ybar[:, None]) ** 2, 0.0)))
    dof_w = float(np.sum(n - 1))
    s2 = max(within / max(dof_w, 1.0), 1e-10)

    def solve(th):
        t2, e2 = math.exp(th[0]), math.exp(th[1])
        v = t2 + e2 / n
        w = 1.0 / v
        mu = float(np.sum(w * ybar) / np.sum(w))
        nll = 0.5 * (
            np.sum(np.log(v))
            + np.sum(w * (ybar - mu) ** 2)
            + math.log(np.sum(w))
            + dof_w * math.log(e2)
            + within / e2
        )
        return float(nll), mu, 1.0 / float(np.sum(w))

    x0 = np.array([math.log(max(np.var(ybar) - s2 / n.mean(), s2 * 0.1)), math.log(s2)])
    lo = math.log(s2) - 12
    th = optimize.minimize(lambda z: solve(z)[0], x0, bounds=[(lo, 5.0), (lo, 5.0)]).x
    _, mu, var_mu = solve(th)
    tau = math.exp(th[0] / 2) if th[0] > lo + 1 else 0.0
    return mu, math.sqrt(var_mu), tau, math.exp(th[1] / 2)


@dataclass(frozen=True)
class CohortFit:
    """Estimates of the cohort-survival model (see the module docstring).

    ``grades`` in order; per grade after the first (``grades[1:]``): ``ratios``
    (pooled median ratio ``exp(mu_g)``), ``ratio_se`` (se of ``mu_g``, log scale),
    ``between_sd`` (``tau_g``), ``noise_sd`` (``sigma_g``), ``n_obs``. ``entity_log_ratio``
    and ``entity_log_ratio_sd`` are (entity, grade) tables of the schools' posterior log
    ratios (NaN where a school has no ratio into that grade: the pooled one applies),
    ``by_grade`` the counts in the last year each school was observed, ``entering`` the
    aggregate fit of the entering grade, ``top_grade`` the usual last grade of the
    schools with each entering grade; ``noise_df`` the degrees of freedom of each grade's
    yearly noise (unit-variance Student-t; inf or None: normal).
    """

    grades: list[str]
    ratios: np.ndarray
    ratio_se: np.ndarray
    between_sd: np.ndarray
    noise_sd: np.ndarray
    n_obs: np.ndarray
    entity_log_ratio: pd.DataFrame = field(repr=False)
    entity_log_ratio_sd: pd.DataFrame = field(repr=False)
    by_grade: pd.DataFrame = field(repr=False)
    entering: EnrollmentFit = field(repr=False)
    top_grade: dict[str, str] = field(repr=False)
    noise_df: np.ndarray | None = None

    def summary(self) -> pd.DataFrame:
        """Log progression ratio into each grade and its se, the spread and the noise."""
        rows = {}
        for k, g in enumerate(self.grades[1:]):
            rows[f"log ratio into {g}"] = (math.log(self.ratios[k]), self.ratio_se[k])
            rows[f"between sd {g}"] = (self.between_sd[k], math.nan)
            rows[f"noise sd {g}"] = (self.noise_sd[k], math.nan)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "se"])

    def to_dataset(self) -> xr.Dataset:
        """The estimates as a Dataset over ``grade`` (and ``entity`` x ``grade``)."""
        g = self.grades[1:]
        ds = xr.Dataset(
            {
                "ratio": ("grade", self.ratios, {"long_name": "pooled progression ratio"}),
                "ratio_se": ("grade", self.ratio_se, {"long_name": "se of the log ratio"}),
                "between_sd": (
                    "grade",
                    self.between_sd,
                    {"long_name": "sd of schools' log ratios"},
                ),
                "noise_sd": ("grade", self.noise_sd, {"long_name": "sd of one year's log ratio"}),
                "n_obs": ("grade", self.n_obs),
                "entity_log_ratio": (("entity", "grade"), self.entity_log_ratio[g].to_numpy()),
                "entity_log_ratio_sd": (
                    ("entity", "grade"),
                    self.entity_log_ratio_sd[g].to_numpy(),
                ),
            },
            coords={"grade": g, "entity": self.entity_log_ratio.index.to_numpy()},
            attrs={"method": "one-way REML per grade on clipped log ratios"},
        )
        ent = self.entering.to_dataset()
        for k in ("drift", "volatility", "persistence", "loading", "innovation_df"):
            ds[f"entering_{k}"] = ent[k]
        return ds

    def entity_ratios(self, entity: Any) -> tuple[np.ndarray, np.ndarray]:
        """A school's posterior log ratios and sds (pooled where it has none)."""
        e = str(entity)
        if e not in self.entity_log_ratio.index:
            raise ValueError(f"entity {e!r} is not in the fitted data")
        g = self.grades[1:]
        m, s = self.entity_log_ratio.loc[e, g].to_numpy(), self.entity_log_ratio_sd.loc[e, g]
        pooled = np.hypot(self.between_sd, self.ratio_se)
        return np.where(np.isnan(m), np.log(self.ratios), m), np.where(np.isnan(m), pooled, s)

    def to_toml(self, entity: Any) -> str:
        """The ``[schools.enrollment]`` cohort fragment of ``entity``.

        Its grades and counts in its last year, its posterior ratios (``progression``)
        with their sds (``progression_uncertainty``), per-grade noise and the
        entering-grade process.
        """
        e = str(entity)
        counts = self.by_grade.loc[e]
        on = [g for g in self.grades if counts[g] > 0]
        lo, hi = self.grades.index(on[0]), self.grades.index(on[-1])
        grades = self.grades[lo : hi + 1]
        m, s = self.entity_ratios(e)
        m, s, noise = m[lo:hi], s[lo:hi], self.noise_sd[lo:hi]

        def nums(x):
            return "[" + ", ".join(repr(float(f"{v:.4g}")) for v in x) + "]"

        row = self.entering.entity_drift.loc[e] if e in self.entering.entity_drift.index else None
        drift = self.entering.drift if row is None else row["drift"]
        vol = self.entering.volatility if row is None else row["volatility"]
        load = self.entering.loading if row is None else row["loading"]
        lines = [
            f"# sustainsim calibrate: cohort survival of {e}, grades {grades[0]}-{grades[-1]}",
            "[schools.enrollment]",
            'model = "cohort"',
            "grades = [" + ", ".join(f'"{g}"' for g in grades) + "]",
            "by_grade = [" + ", ".join(str(round(float(counts[g]))) for g in grades) + "]",
            f"progression = {nums(np.exp(m))}",
            f"progression_sd = {nums(np.minimum(noise, 1.0))}",
            f"progression_uncertainty = {nums(np.minimum(s, 1.0))}",
            f"drift = {float(f'{drift:.4g}')!r}",
            f"volatility = {float(f'{vol:.4g}')!r}",
            f"persistence = {float(f'{self.entering.persistence:.4g}')!r}",
            f"common_loading = {float(f'{load:.4g}')!r}",
        ]
        if math.isfinite(self.entering.innovation_df):
            lines.append(f"innovation_df = {max(self.entering.innovation_df, 2.05):.4g}")
        return "\n".join(lines) + "\n"


def _clip_rows(y: np.ndarray, ok: np.ndarray) -> np.ndarray:
    v = y[ok]
    if v.size < 5:
        return y
    med = float(np.median(v))
    rsd = 1.4826 * float(np.median(np.abs(v - med))) or 1e-6
    return np.clip(y, med - CLIP_SD * rsd, med + CLIP_SD * rsd)


def _entering(cube: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each school-year's lowest enrolled grade, and its count (NaN if none)."""
    pos = np.nan_to_num(cube) > 0
    idx = np.argmax(pos, axis=2)
    val = np.take_along_axis(np.nan_to_num(cube), idx[..., None], axis=2)[..., 0]
    return idx, np.where(pos.any(axis=2), val, np.nan)


def _fit_cube(ents, years, cube, grades) -> CohortFit:
    G = len(grades)
    prev, cur = cube[:, :-1, :-1], cube[:, 1:, 1:]
    ok = (np.nan_to_num(prev) > 0) & (np.nan_to_num(cur) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.where(ok, cur / prev, 1.0))
    shape = (G - 1,)
    mu, se, tau, sig, nobs = (np.zeros(shape) for _ in range(5))
    post_m = np.full((ents.size, G - 1), np.nan)
    post_s = np.full((ents.size, G - 1), np.nan)
    z_raw, z_clip = [], []
    for g in range(G - 1):
        yg, okg = _clip_rows(y[:, :, g], ok[:, :, g]), ok[:, :, g]
        nobs[g] = okg.sum()
        if nobs[g] < 5 or (okg.sum(axis=1) > 0).sum() < 3:
            mu[g], se[g], tau[g], sig[g] = 0.0, 1.0, 0.0, 0.5
            continue
        mu[g], se[g], tau[g], sig[g] = _one_way_reml(yg, okg)
        n = okg.sum(axis=1)
        has = n > 0
        ybar = np.where(okg, yg, 0.0).sum(axis=1) / np.maximum(n, 1)
        shrink = tau[g] ** 2 / (tau[g] ** 2 + sig[g] ** 2 / np.maximum(n, 1))
        post_m[has, g] = mu[g] + shrink[has] * (ybar[has] - mu[g])
        pv = tau[g] ** 2 * (1 - shrink) + (1 - shrink) ** 2 * se[g] ** 2
        post_s[has, g] = np.sqrt(pv[has])
        centre = np.where(has, post_m[:, g], mu[g])[:, None]
        z_raw.append(((y[:, :, g] - centre) / sig[g])[okg])
        z_clip.append(((yg - centre) / sig[g])[okg])
    sig, noise_df = _noise_tails(sig, z_raw, z_clip)
    idx, ent_count = _entering(cube)
    entering = fit_enrollment(Panel(ents, years, ent_count))
    obs_years = ~np.isnan(cube).all(axis=2)
    last = years.size - 1 - np.argmax(obs_years[:, ::-1], axis=1)
    lastc = np.nan_to_num(cube[np.arange(ents.size), last])
    tops = _top_grades(cube, grades)
    names = pd.Index(ents.astype(str), name="entity")
    return CohortFit(
        grades=list(grades),
        ratios=np.exp(mu),
        ratio_se=se,
        between_sd=tau,
        noise_sd=sig,
        noise_df=noise_df,
        n_obs=nobs.astype(int),
        entity_log_ratio=pd.DataFrame(post_m, index=names, columns=grades[1:]),
        entity_log_ratio_sd=pd.DataFrame(post_s, index=names, columns=grades[1:]),
        by_grade=pd.DataFrame(lastc, index=names, columns=grades),
        entering=entering,
        top_grade=tops,
    )


def _noise_tails(sig: np.ndarray, z_raw: list, z_clip: list) -> tuple[np.ndarray, np.ndarray]:
    """Student-t tails of each grade's yearly noise, and the noise sds rescaled.

    The REML noise sds come from clipped log ratios; each grade's noise is unit-variance
    Student-t with the maximum-likelihood df of its raw residuals (standardized by its
    sd), and its sd is scaled by the t fit's sd over the clipped residuals' root mean
    square (1 for normal data), as the aggregate fit does. The df is at least
    :data:`MIN_NOISE_DF` (:data:`~sustainsim.calibration.tails.MIN_DF`, the tails of
    the largest kurtosis the fits report; reconfigured grades are not Student-t noise);
    grades with fewer than 20 residuals keep their sd with normal noise.
    """
    sig, dfs = sig.copy(), np.full(sig.size, math.inf)
    for g, (raw, clip) in enumerate(zip(z_raw, z_clip, strict=True)):
        if raw.size < 20:
            continue
        dfs[g], _, sd = fit_student_t(raw)
        if dfs[g] < MIN_NOISE_DF:  # tails beyond the largest kurtosis: refit the sd at the cap
            dfs[g], sd = MIN_NOISE_DF, student_t_sd(raw, MIN_NOISE_DF)
        ms = float(np.mean(clip * clip))
        sig[g] *= sd / math.sqrt(ms) if ms > 0 else 1.0
    return sig, dfs


def _top_grades(cube: np.ndarray, grades: list[str]) -> dict[str, str]:
    """The most common last grade of the school-years with each entering grade."""
    pos = np.nan_to_num(cube) > 0
    any_ = pos.any(axis=2)
    lo = np.argmax(pos, axis=2)[any_]
    hi = (cube.shape[2] - 1 - np.argmax(pos[..., ::-1], axis=2))[any_]
    out = {}
    for g in np.unique(lo):
        vals, counts = np.unique(hi[lo == g], return_counts=True)
        out[grades[int(g)]] = grades[int(vals[np.argmax(counts)])]
    return out


def _read(data, entity, year, grade, value, filters):
    from sustainsim.calibration.evaluate import read_long

    t = read_long(data, entity=entity, year=year, value=value, grade=grade, filters=filters)
    return t.rename(columns={"grade": "grade"})


def fit_cohort(
    panel: TableLike,
    *,
    entity: str = "entity",
    year: str = "year",
    grade: str = "grade",
    value: str = "value",
    filters: Mapping[str, Any] | None = None,
    grades: Sequence[str] | None = None,
) -> CohortFit:
    """Fit grade progression ratios, their spread and noise, and the entering grade.

    Parameters
    ----------
    panel : DataFrame or CSV path
        One row per school, year and grade. [students]
    entity, year, grade, value : str
        Column names.
    filters : mapping, optional
        Row filters, column -> required value.
    grades : sequence of str, optional
        Grade labels in order (default: :func:`grade_order` of the labels present).

    Returns
    -------
    CohortFit

    Raises
    ------
    ValueError
        Missing file or column, fewer than 2 grades.
    """
    table = _read(panel, entity, year, grade, value, filters)
    order = list(grades) if grades is not None else grade_order(table["grade"].unique())
    if len(order) < 2:
        raise ValueError(f"the cohort model needs 2 or more grades (got {order})")
    table = table[table["grade"].isin(order)]
    ents, years, cube = _cube(table, order)
    return _fit_cube(ents, years, cube, order)


def _align(fit: CohortFit, counts: np.ndarray, draws_m, draws_s, rng, d: int):
    """Per school: grades from its entering grade on, ratios per draw, phase-in extension."""
    n, G = counts.shape
    pos = counts > 0
    lo = np.argmax(pos, axis=1)
    hi = G - 1 - np.argmax(pos[:, ::-1], axis=1)
    top = np.array(
        [
            fit.grades.index(fit.top_grade.get(fit.grades[k], fit.grades[h]))
            for k, h in zip(lo, hi, strict=True)
        ]
    )
    top = np.maximum(top, hi)
    shift = np.arange(G)[None, :] + lo[:, None]  # position p -> grade lo + p
    valid = shift <= top[:, None]
    src = np.minimum(shift, G - 1)
    by = np.where(valid, np.take_along_axis(counts, src, axis=1), 0.0)  # (n, G)
    # ratio into position p (p >= 1) is the ratio into grade lo + p
    gi = np.minimum(shift[:, 1:] - 1, G - 2)
    m = np.take_along_axis(draws_m, gi, axis=1)
    s = np.take_along_axis(draws_s, gi, axis=1)
    noise = np.take_along_axis(np.broadcast_to(fit.noise_sd, (n, G - 1)), gi, axis=1)
    dfs = np.full(G - 1, math.inf) if fit.noise_df is None else fit.noise_df
    noise_df = np.take_along_axis(np.broadcast_to(dfs, (n, G - 1)), gi, axis=1)
    z = rng.standard_normal((d, n, G - 1))
    ratios = np.exp(m[None] + s[None] * z) * valid[None, :, 1:]  # (d, n, G-1)
    return by, ratios, noise, noise_df


def _noise_shocks(rng, shape: tuple[int, ...], df: np.ndarray) -> np.ndarray:
    """Unit-variance shocks (G-1, horizon, d, n), Student-t with ``df`` (n, G-1) where finite."""
    z = rng.standard_normal(shape)
    fin = np.isfinite(df.T)[:, None, None, :]
    if fin.any():
        dfb = np.broadcast_to(np.where(fin, df.T[:, None, None, :], 3.0), shape)
        z = np.where(fin, z * np.sqrt((dfb - 2.0) / rng.chisquare(dfb)), z)
    return z


def forecast_cohort(
    fit: CohortFit, counts: pd.DataFrame, *, origin: int, horizon: int, draws: int, rng
) -> np.ndarray:
    """Simulated total enrollment (draw, horizon, school) of the schools in ``counts``.

    ``counts`` (school x grade, the origin year) must be schools of the fit. The entering
    grade follows the entering-grade fit (forecast from its origin value; schools without
    one keep their entering count with the pooled process), ratios are drawn once per
    draw from each school's posterior, per-grade noise each year.
    """
    from sustainsim.calibration.backtest import forecast_enrollment

    rng = np.random.default_rng(rng)
    names = counts.index.astype(str)
    c = counts[fit.grades].to_numpy(dtype=float)
    n, G = c.shape
    d = int(draws)
    ent = forecast_enrollment(fit.entering, horizon=horizon, draws=d, rng=rng, origin=origin)
    e_idx = pd.Index(ent["entity"].to_numpy()).get_indexer(names)
    lo = np.argmax(c > 0, axis=1)
    base_e = c[np.arange(n), lo]
    entering = np.empty((horizon + 1, d, n))
    entering[0] = base_e
    have = e_idx >= 0
    entering[1:, :, have] = np.moveaxis(ent.to_numpy()[:, :, e_idx[have]], 1, 0)
    entering[1:, :, ~have] = base_e[~have]
    ms = [fit.entity_ratios(e) for e in names]
    m = np.stack([x[0] for x in ms])
    s = np.stack([x[1] for x in ms])
    by, ratios, noise, noise_df = _align(fit, c, m, s, rng, d)
    eps = noise.T[:, None, None, :] * _noise_shocks(rng, (G - 1, horizon, d, n), noise_df)
    paths = cohort_paths(
        np.tile(by.T, (1, d)),
        np.moveaxis(ratios, 2, 0).reshape(G - 1, d * n),
        entering.reshape(horizon + 1, d * n),
        eps.reshape(G - 1, horizon, d * n),
    )
    total = paths.sum(axis=0)[1:].reshape(horizon, d, n)
    return np.moveaxis(total, 0, 1)


def backtest_cohort(
    table: pd.DataFrame,
    *,
    horizon: int = 5,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    draws: int = 500,
    min_years: int = 4,
    rng: np.random.Generator | int = 0,
) -> xr.Dataset:
    """Rolling-origin back-test of the cohort model on a by-grade table.

    ``table`` has columns ``entity``, ``year``, ``grade``, ``value`` (as from
    :func:`~sustainsim.calibration.evaluate.read_long`). Scored, as for the aggregate
    model, is the school's total enrollment (closures as 0), against the same
    empirical-quantile baseline of total enrollment on the same cells.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`~sustainsim.calibration.backtest.backtest_enrollment`
        (without the fitted aggregate parameters), ``attrs["model"] = "cohort"``.
    """
    from sustainsim.calibration.backtest import _assemble
    from sustainsim.calibration.tails import fit_closure_hazard
    from sustainsim.model.drivers.enrollment import closure_years

    lv = np.asarray(levels, dtype=float)
    order = grade_order(table["grade"].unique())
    ents, years, cube = _cube(table, order)
    total = np.where(np.isnan(cube).all(axis=2), np.nan, np.nansum(cube, axis=2))
    y_full = scored_log(total)
    origins = [int(y) for y in years if y - years[0] + 1 >= min_years and y < years[-1]]
    if not origins:
        raise ValueError(
            f"no origin year: need at least {min_years} years of data before an origin "
            f"(data cover {years[0]}-{years[-1]})"
        )
    hz = np.arange(1, horizon + 1)
    shape_o = (len(origins), horizon)
    hits, b_hits = np.zeros(shape_o + (lv.size,)), np.zeros(shape_o + (lv.size,))
    count, crps, crps_n, err, b_crps = (np.zeros(shape_o) for _ in range(5))
    pit = np.full(shape_o + (ents.size,), np.nan)
    b_pit = np.full_like(pit, np.nan)
    gen = np.random.default_rng(rng)
    for k, (o, sub) in enumerate(zip(origins, gen.spawn(len(origins)), strict=True)):
        t0 = int(o - years[0])
        fit = _fit_cube(ents, years[: t0 + 1], cube[:, : t0 + 1], order)
        rows = np.flatnonzero(~np.isnan(cube[:, t0]).all(axis=1))
        counts = pd.DataFrame(
            np.nan_to_num(cube[rows, t0]), index=ents[rows].astype(str), columns=order
        )
        sim = forecast_cohort(fit, counts, origin=o, horizon=horizon, draws=draws, rng=sub)
        hazard = fit_closure_hazard(total[:, : t0 + 1])[2][rows]
        if np.any(hazard > 0):
            closed = closure_years(sub.random((horizon, draws * rows.size)), np.tile(hazard, draws))
            sim = np.where(np.moveaxis(closed.reshape(horizon, draws, rows.size), 0, 1), 0.0, sim)
        cols = t0 + hz
        inside = cols < years.size
        yobs = np.full((horizon, rows.size), np.nan)
        yobs[inside] = y_full[np.ix_(rows, cols[inside])].T
        obs = np.where(yobs > 0, np.exp(yobs), np.where(yobs == 0, 0.0, np.nan))
        ok = ~np.isnan(yobs)
        ysim = np.log(np.maximum(sim, 1.0))
        hits[k] = interval_coverage(ysim, yobs, lv).sum(axis=-1).T
        count[k] = ok.sum(axis=1)
        crps[k] = np.nansum(crps_sample(ysim, yobs), axis=-1)
        crps_n[k] = np.nansum(crps_sample(sim, obs), axis=-1)
        err[k] = np.nansum(yobs - np.median(ysim, axis=0), axis=-1)
        mid = np.mean(ysim < yobs, axis=0) + 0.5 * np.mean(ysim == yobs, axis=0)
        pit[k][:, rows] = np.where(ok, mid, np.nan)
        y0 = y_full[rows, t0]
        for j, h in enumerate(hz):
            bh, bc, bp = baseline_scores(
                pooled_changes(total[:, : t0 + 1], int(h)), y0, yobs[j], lv
            )
            b_hits[k, j], b_crps[k, j] = bh.sum(axis=-1), np.nansum(bc)
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
        {},
        baseline=(b_hits, b_crps),
        attrs={
            "model": "cohort",
            "draws": int(draws),
            "method": "rolling origin; cohort survival fitted on years <= origin",
        },
    )
    ds = ds.assign_coords(entity=ents.astype(str))
    ds["pit"] = (("origin", "horizon", "entity"), pit)
    ds["baseline_pit"] = (("origin", "horizon", "entity"), b_pit)
    return ds
