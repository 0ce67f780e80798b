"""``sustainsim backtest``'s Python side: one entry point for both enrollment models.

:func:`backtest` reads a long table (one row per entity and year, or per entity, year
and grade), runs the rolling-origin back-test of the aggregate model
(:func:`~sustainsim.calibration.backtest.backtest_enrollment`) with the empirical-quantile
baseline scored on the same cells, and returns the Dataset; :func:`backtest_summary`
is the JSON object the command prints.

Cells that are not positive numbers (blank, 0, suppression codes) are missing, not errors:
real panels have them.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> lev = 500 * np.exp(np.cumsum(rng.normal(-0.01, 0.03, (30, 8)), axis=1))
>>> df = pd.DataFrame({"e": np.repeat(np.arange(30), 8), "y": np.tile(np.arange(2010, 2018), 30),
...                    "v": lev.ravel()})
>>> out = backtest_summary(backtest(df, entity="e", year="y", value="v", horizon=2, draws=50))
>>> out["horizons"], sorted(out["coverage"])
([1, 2], ['0.5', '0.8', '0.95'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim.calibration.backtest import backtest_enrollment
from sustainsim.calibration.panel import DataError, TableLike, read_table

__all__ = ["backtest", "backtest_summary", "read_long"]


def read_long(
    data: TableLike,
    *,
    entity: str,
    year: str,
    value: str,
    grade: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The rows of a CSV file or table that the back-test uses, columns renamed.

    Returns columns ``entity``, ``year``, ``value`` (and ``grade``); values that are not
    positive numbers become NaN; rows are filtered by ``filters`` (column -> value).

    Raises
    ------
    ValueError
        Missing file or column, a filter on a numeric column with a non-number.
    """
    df, where = read_table(data, [entity, year, value] + ([grade] if grade else []), filters)
    out = pd.DataFrame(
        {
            "entity": df[entity].astype(str).to_numpy(),
            "year": pd.to_numeric(df[year], errors="coerce").to_numpy(),
            "value": pd.to_numeric(df[value], errors="coerce").to_numpy(),
        }
    )
    if grade:
        out["grade"] = df[grade].astype(str).to_numpy()
    out.loc[~(out["value"] > 0), "value"] = np.nan
    if out.empty:
        raise DataError(f"no rows in {where} (filters: {dict(filters or {})})")
    return out


def backtest(
    data: TableLike,
    *,
    entity: str,
    year: str,
    value: str | None = None,
    grade: str | None = None,
    model: str = "aggregate",
    filters: Mapping[str, Any] | None = None,
    horizon: int = 5,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    draws: int = 500,
    min_years: int | None = None,
    rng: np.random.Generator | int = 0,
    balance: str | None = None,
    revenue: str | None = None,
    expenditure: str | None = None,
    enrollment: str | None = None,
) -> xr.Dataset:
    """Rolling-origin back-test of an enrollment model against the empirical baseline.

    With ``balance``, ``revenue`` and ``expenditure`` (and optionally ``enrollment``)
    instead of ``value``, the district finance back-test
    (:func:`~sustainsim.calibration.finance_backtest.backtest_finance`, its
    ``min_years`` 3 by default) scores the ending balance against the persistence baseline.

    Parameters
    ----------
    data : DataFrame or CSV path
        One row per entity and year (or per entity, year and grade with ``grade``).
    entity, year, value, grade : str
        Column names; with ``grade`` and ``model="aggregate"`` the grades are summed.
    model : {"aggregate", "cohort"}
        Aggregate log growth or grade-level cohort survival (needs ``grade``).
    filters : mapping, optional
        Keep rows where each column equals the given value.
    horizon, levels, draws, min_years, rng
        Horizons ``1..horizon`` [yr], interval levels, simulated paths per entity and
        origin, the fewest data years before an origin, the random source.

    Returns
    -------
    xarray.Dataset
        As :func:`~sustainsim.calibration.backtest.backtest_enrollment` (``coverage``,
        ``crps``, ``pit``, ``baseline_coverage``, ``baseline_crps``, ``baseline_pit``,
        ``n_forecasts``, ...), ``attrs["model"]`` the model.

    Raises
    ------
    ValueError
        Bad model, missing ``grade`` for the cohort model, or bad data (see
        :func:`read_long`).
    """
    money = {"balance": balance, "revenue": revenue, "expenditure": expenditure}
    if any(v is not None for v in money.values()) or enrollment is not None:
        return _backtest_finance(
            data, entity, year, value, grade, model, money, enrollment,
            dict(filters=filters, horizon=horizon, levels=levels, draws=draws,
                 min_years=3 if min_years is None else min_years, rng=rng),
        )  # fmt: skip
    if value is None:
        raise ValueError("give the value column (enrollment), or balance, revenue and expenditure")
    if model not in ("aggregate", "cohort"):
        raise ValueError(f"model must be 'aggregate' or 'cohort' (got {model!r})")
    if model == "cohort" and not grade:
        raise ValueError("the cohort model needs by-grade data: give the grade column")
    table = read_long(data, entity=entity, year=year, value=value, grade=grade, filters=filters)
    min_years = 4 if min_years is None else min_years
    opts = dict(horizon=horizon, levels=levels, draws=draws, min_years=min_years, rng=rng)
    if model == "cohort":
        from sustainsim.calibration.cohort import backtest_cohort

        return backtest_cohort(table, **opts)  # type: ignore[arg-type]
    if grade:
        table = table.groupby(["entity", "year"], as_index=False)["value"].sum(min_count=1)
        table.loc[~(table["value"] > 0), "value"] = np.nan
    table = table.dropna(subset=["value"])
    return backtest_enrollment(table, **opts)  # type: ignore[arg-type]


def _backtest_finance(data, entity, year, value, grade, model, money, enrollment, opts):
    """The finance back-test, after checking that its options are whole and not mixed."""
    from sustainsim.calibration.finance_backtest import backtest_finance

    missing = [f"{k} column" for k, v in money.items() if v is None]
    if missing:
        raise ValueError(
            "the finance back-test needs the balance, revenue and expenditure columns; "
            f"missing: {', '.join(missing)}"
        )
    if value is not None or grade is not None or model != "aggregate":
        raise ValueError(
            "the finance back-test (balance, revenue, expenditure) takes no value, grade "
            "or model: those are the enrollment back-test's"
        )
    return backtest_finance(data, entity=entity, year=year, enrollment=enrollment, **money, **opts)


def _floats(a: Any) -> list[float | None]:
    return [None if not math.isfinite(float(x)) else round(float(x), 6) for x in np.ravel(a)]


def backtest_summary(result: xr.Dataset) -> dict[str, Any]:
    """The JSON object of ``sustainsim backtest --json``.

    Keys: ``model``, ``horizons``, ``levels``, ``cells`` (scored outcomes per horizon),
    ``coverage`` (``{"0.8": [per horizon], ...}``), ``crps_log`` (per horizon) and
    ``baseline`` (``coverage`` and ``crps_log`` of the empirical-quantile baseline on the
    same cells). Missing numbers (a horizon with no outcome) are null. A finance
    back-test's object is :func:`~sustainsim.calibration.finance_backtest.finance_summary`.
    """
    if result.attrs.get("model") == "finance":
        from sustainsim.calibration.finance_backtest import finance_summary

        return finance_summary(result)
    lv = result["level"].to_numpy()
    keys = [f"{float(v):g}" for v in lv]

    def cov(name: str) -> dict[str, list[float | None]]:
        return {k: _floats(result[name].sel(level=v)) for k, v in zip(keys, lv, strict=True)}

    return {
        "model": str(result.attrs.get("model", "aggregate")),
        "horizons": [int(h) for h in result["horizon"].to_numpy()],
        "levels": [float(v) for v in lv],
        "cells": [int(n) for n in result["n_forecasts"].to_numpy()],
        "coverage": cov("coverage"),
        "crps_log": _floats(result["crps"]),
        "baseline": {
            "coverage": cov("baseline_coverage"),
            "crps_log": _floats(result["baseline_crps"]),
        },
    }
