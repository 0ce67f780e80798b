"""The Chicago seed-study figures, computed from a run with per-line breakdowns.

The study of six personalized-learning schools reported: start-up investment at most
7% of total per-pupil funding ($233-$1,135 per pupil); technology about 40% and PD
about 21% of start-up; recurring IT about 2% of the total budget by year five. These
functions compute the same figures from a Dataset with ``cost_lines`` (run with
``lines=True``, or :func:`sustainsim.central_case`), so a config can be checked
against them.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["seed_study"]


def seed_study(ds: xr.Dataset, year: int | None = None, *, projected_year: int = 5) -> xr.Dataset:
    """Start-up and recurring-IT figures by school (mean over draws).

    Parameters
    ----------
    ds : xarray.Dataset
        Results with ``cost_lines`` and the ``cost_kind``/``cost_category`` coordinates.
    year : int, optional
        Fiscal year of the recurring-IT share (as everywhere else in sustainsim).
    projected_year : int
        Used when ``year`` is not given: which projected year (1 = the first) the
        recurring-IT share is taken in (five in the study; for a school that launches in
        projected year 2, its fifth year is projected year 6).

    Returns
    -------
    xarray.Dataset
        ``startup_total`` [USD] (all one-time costs), ``startup_per_pupil`` [USD/student]
        (over enrollment in the first start-up year), ``startup_share_of_funding``
        (start-up per pupil / total revenue per pupil that year), ``technology_share_of_startup``,
        ``pd_share_of_startup``, ``recurring_it_share`` (recurring technology cost / total
        cost in ``year``).
    """
    if "cost_lines" not in ds:
        raise ValueError(
            "seed_study needs per-line costs: simulate(..., lines=True) or central_case"
        )
    T = ds.sizes["year"]
    years = [int(y) for y in ds["year"].values]
    if year is not None:
        if year not in years:
            raise ValueError(
                f"year must be a fiscal year of the run, {years[0]}..{years[-1]} (got {year})"
            )
        idx = years.index(year)
    else:
        if not 1 <= projected_year <= T:
            raise ValueError(f"projected_year must be in 1..{T} (got {projected_year})")
        idx = projected_year - 1
    cl = ds.cost_lines
    kind, cat = ds["cost_kind"], ds["cost_category"]
    one = cl.where(kind == "one_time", 0.0)
    startup_by_year = one.sum("cost_line")
    total = startup_by_year.sum("year")
    has = startup_by_year > 0
    first = has.argmax("year")
    enr = ds.enrollment.isel(year=first).drop_vars("year")
    rev = ds.revenue.isel(year=first).drop_vars("year")
    per_pupil = total / enr
    share = xr.where(total > 0, total / rev, np.nan)
    tech = one.where(cat == "technology", 0.0).sum(("cost_line", "year"))
    pd = one.where(cat == "pd", 0.0).sum(("cost_line", "year"))
    it = cl.where((kind == "technology") | ((cat == "technology") & (kind != "one_time")), 0.0)
    it_share = (it.sum("cost_line") / ds.cost).isel(year=idx, drop=True)
    out = xr.Dataset(
        {
            "startup_total": total,
            "startup_per_pupil": xr.where(total > 0, per_pupil, np.nan),
            "startup_share_of_funding": share,
            "technology_share_of_startup": xr.where(total > 0, tech / total, np.nan),
            "pd_share_of_startup": xr.where(total > 0, pd / total, np.nan),
            "recurring_it_share": it_share,
        }
    ).mean("draw")
    out = out.drop_vars("year", errors="ignore")
    units = {"startup_total": "USD", "startup_per_pupil": "USD/student"}
    for k in map(str, out.data_vars):
        out[k].attrs = {"units": units.get(k, "1"), "long_name": k.replace("_", " ")}
    out.attrs["it_year"] = years[idx]
    return out
