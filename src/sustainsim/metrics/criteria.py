"""Sustainability criteria beside solvency: reserves and structural balance.

* reserve-compliant through year t: the fund balance stayed at or above the policy
  reserve (``months / 12`` of the year's expenditure) in every year up to t; the
  expenditure is the reserve base, recurring cost (non-recurring spending left out)
  unless the config's ``[district.reserve] include_one_time`` puts it in
  (:func:`reserve_base`);
* structurally balanced: recurring revenue (all revenue but temporary money) covers
  recurring cost (all cost but non-recurring spending) in every year after temporary
  money has ended; where it has not ended within the horizon, the last year is judged.
  What is recurring follows each line's ``recurring`` flag: by default grants are
  temporary money and one-time costs non-recurring, every other line recurring (the
  engine adds the others into ``temporary_revenue`` and ``one_time_cost``);
* the structural gap after the grant cliff: recurring cost minus recurring revenue in
  the first year without temporary money, in dollars and per pupil.

All take the results Dataset and return DataArrays/Datasets over ``draw``/``school``
(with the district total as ``"district"`` where the Dataset has one). A run that ties
costs to grants also holds each school's cliff per draw (``cliff_year``, ``cliff_gap``:
the recurring cost newly uncovered, :mod:`sustainsim.model.cliff`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sustainsim.metrics.solvency import entity_balance, probability
from sustainsim.metrics.years import every_year_so_far

__all__ = [
    "p_reserve_compliant",
    "p_structurally_balanced",
    "recurring",
    "reserve_base",
    "reserve_compliant",
    "reserve_requirement",
    "structural_gap",
    "structurally_balanced",
]


def _months(ds: xr.Dataset, months: float | None) -> float:
    m = ds.attrs.get("reserve_months", 0.0) if months is None else months
    if m is None or m < 0:
        raise ValueError(f"reserve months must be >= 0 (got {m})")
    return float(m)


def reserve_base(ds: xr.Dataset, include_one_time: bool | None = None) -> xr.DataArray:
    """The expenditure a reserve is measured in: each year's cost, by default less one-time. [USD]

    Parameters
    ----------
    ds : xarray.Dataset
        Results of a run.
    include_one_time : bool, optional
        Count one-time (start-up) spending; default: the run's
        ``[district.reserve] include_one_time`` (Dataset attr ``reserve_base``,
        ``"recurring"`` or ``"total"``), else False.

    Returns
    -------
    xarray.DataArray
        Dims (draw, year, school), the district total appended where the Dataset has one.
    """
    if include_one_time is None:
        include_one_time = ds.attrs.get("reserve_base", "recurring") == "total"
    cost = entity_balance(ds, "cost")
    if not include_one_time and ("one_time_cost" in ds or "district_one_time_cost" in ds):
        cost = cost - _with_total(ds, "one_time_cost", cost)
    cost.attrs = {
        "units": "USD",
        "long_name": "reserve base: cost" + ("" if include_one_time else " less one-time spending"),
    }
    return cost


def reserve_requirement(ds: xr.Dataset, months: float | None = None) -> xr.DataArray:
    """The policy reserve each year: ``months / 12`` of that year's reserve base. [USD]

    ``months`` defaults to the config's ``[district.reserve] months`` (0 if none); the
    base is :func:`reserve_base` (cost less one-time spending by default).
    """
    out = reserve_base(ds) * (_months(ds, months) / 12.0)
    out.attrs = {"units": "USD", "long_name": "policy reserve requirement"}
    return out


def reserve_compliant(ds: xr.Dataset, months: float | None = None) -> xr.DataArray:
    """Whether the balance stayed >= the policy reserve every year through t (bool)."""
    out = every_year_so_far(entity_balance(ds) >= reserve_requirement(ds, months))
    out.attrs = {"long_name": "reserve-compliant through year"}
    return out


def p_reserve_compliant(ds: xr.Dataset, months: float | None = None, confidence: float = 0.95):
    """P(reserve-compliant through year t) with standard error and Wilson interval."""
    return probability(reserve_compliant(ds, months), confidence=confidence)


def recurring(ds: xr.Dataset) -> xr.Dataset:
    """Recurring revenue and cost: less the lines not ``recurring`` (grants, one-time). [USD]"""
    rev, cost = entity_balance(ds, "revenue"), entity_balance(ds, "cost")
    if "temporary_revenue" in ds or "district_temporary_revenue" in ds:
        rev = rev - _with_total(ds, "temporary_revenue", rev)
    if "one_time_cost" in ds or "district_one_time_cost" in ds:
        cost = cost - _with_total(ds, "one_time_cost", cost)
    out = xr.Dataset({"recurring_revenue": rev, "recurring_cost": cost})
    for k in map(str, out.data_vars):
        out[k].attrs = {"units": "USD", "long_name": k.replace("_", " ")}
    return out


def _with_total(ds: xr.Dataset, var: str, like: xr.DataArray) -> xr.DataArray:
    """``ds[var]`` by school, with the district total appended where ``like`` has one."""
    if var in ds:
        da = ds[var]
    else:  # only the district has such money
        da = xr.zeros_like(ds["revenue"])
    if "school" in like.dims and like.sizes["school"] > da.sizes["school"]:
        key = f"district_{var}"
        total = ds[key] if key in ds else da.sum("school")
        total = total.expand_dims(school=["district"])
        da = xr.concat([da, total.transpose(*da.dims)], dim="school")
    return da


def _temporary(ds: xr.Dataset, like: xr.DataArray) -> xr.DataArray:
    if "temporary_revenue" not in ds and "district_temporary_revenue" not in ds:
        return xr.zeros_like(like)
    return _with_total(ds, "temporary_revenue", like)


def _after_cliff(ds: xr.Dataset, like: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Mask of years after the last temporary payment, and whether any such year exists."""
    none = ~(_temporary(ds, like) > 0)
    # years from which no temporary money comes any more: none in every year from the end
    back = slice(None, None, -1)
    after = every_year_so_far(none.isel(year=back)).isel(year=back)
    return after, after.any("year")


def structurally_balanced(ds: xr.Dataset) -> xr.DataArray:
    """Whether recurring revenue covers recurring cost once temporary money has ended.

    Judged on every year after the last grant payment; where grants pay to the horizon,
    on the last year. Dims (draw, school).
    """
    r = recurring(ds)
    ok = r.recurring_revenue >= r.recurring_cost
    after, any_after = _after_cliff(ds, r.recurring_revenue)
    post = (ok | ~after).all("year")
    out = xr.where(any_after, post, ok.isel(year=-1, drop=True))
    out.attrs = {"long_name": "structurally balanced after temporary money ends"}
    return out


def p_structurally_balanced(ds: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """P(structurally balanced) with standard error and Wilson interval, by school."""
    return probability(structurally_balanced(ds), confidence=confidence)


def structural_gap(ds: xr.Dataset) -> xr.Dataset:
    """The gap in the first year without temporary money (the grant cliff).

    Returns
    -------
    xarray.Dataset
        ``cliff_year`` (first fiscal year after the last grant payment; NaN when grants
        pay to the horizon or never), ``gap`` = recurring cost - recurring revenue that
        year [USD] (positive: a hole to fill), ``gap_per_pupil`` [USD/student], over
        (draw, school).
    """
    r = recurring(ds)
    temp = _temporary(ds, r.recurring_revenue)
    had = (temp > 0).any("year")
    after, any_after = _after_cliff(ds, r.recurring_revenue)
    first = after.argmax("year")
    valid = had & any_after
    years = ds["year"].values
    cliff = xr.where(valid, years[first.values], np.nan)
    gap_all = r.recurring_cost - r.recurring_revenue
    gap = xr.where(valid, gap_all.isel(year=first).drop_vars("year"), np.nan)
    enr = entity_balance(ds, "enrollment").isel(year=first).drop_vars("year")
    per = xr.where(valid, gap / enr, np.nan)
    out = xr.Dataset({"cliff_year": cliff, "gap": gap, "gap_per_pupil": per})
    out = out.drop_vars("year", errors="ignore")
    out["cliff_year"].attrs = {"units": "fiscal year", "long_name": "first year without grants"}
    out["gap"].attrs = {"units": "USD", "long_name": "structural gap after the grant cliff"}
    out["gap_per_pupil"].attrs = {"units": "USD/student", "long_name": "structural gap per pupil"}
    return out
