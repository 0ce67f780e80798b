"""Views of the dollars of a run: real dollars, per pupil, reserve months and days of cash.

* :func:`real_dollars`: every dollar variable divided by the price level, the
  ``deflator`` growth index of ``[district.growth]`` (the Dataset variable ``deflator``
  over (draw, year), 1 in the base year), so amounts are in dollars of the base year;
* :func:`per_pupil`: every dollar variable divided by the entity's enrollment (the
  district's totals by the district's enrollment);
* :func:`reserve_months` and :func:`days_cash_on_hand`: the fund balance in months and
  days of the year's reserve base (expenditure less one-time spending by default,
  :func:`sustainsim.metrics.criteria.reserve_base`), ``balance / (base / 12)`` and
  ``balance / (base / 365)``. Ratios of dollars to dollars, the same nominal or real.

Dataset in, Dataset or DataArray out; nothing is simulated.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sustainsim.metrics.criteria import reserve_base
from sustainsim.metrics.solvency import entity_balance

__all__ = ["days_cash_on_hand", "dollar_variables", "per_pupil", "real_dollars", "reserve_months"]


def _is_dollars(da: xr.DataArray) -> bool:
    return str(da.attrs.get("units", "")).startswith("USD")


def dollar_variables(ds: xr.Dataset) -> list[str]:
    """The names of the variables in dollars (units ``USD`` or ``USD/...``) over ``year``."""
    return [str(k) for k, da in ds.data_vars.items() if _is_dollars(da) and "year" in da.dims]


def real_dollars(ds: xr.Dataset) -> xr.Dataset:
    """The results in real dollars of the base year: each dollar variable / the deflator.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of a run whose config has a ``deflator`` growth index in
        ``[district.growth]`` (the Dataset then holds ``deflator`` over (draw, year)).

    Returns
    -------
    xarray.Dataset
        A copy: every variable in dollars over ``year`` divided by ``deflator`` (values
        of the base year, such as the starting balance, are already in its dollars),
        attrs ``dollar_basis = "real"`` and ``dollar_year`` (the base fiscal year).

    Raises
    ------
    ValueError
        Without a ``deflator`` variable, or when ``ds`` is already in real dollars.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> spec = spec.with_overrides({"district.growth.deflator": 0.02})
    >>> ds = sustainsim.simulate(spec, draws=100, seed=1, progress=False)
    >>> real = real_dollars(ds)
    >>> yr = int(ds.year[1])
    >>> bool(abs(real.cost.sel(year=yr) * 1.02**2 - ds.cost.sel(year=yr)).max() < 1e-6)
    True
    """
    if "deflator" not in ds:
        raise ValueError(
            "real dollars need the price level: add a growth index named 'deflator' to "
            "[district.growth] (e.g. deflator = 0.025)"
        )
    if ds.attrs.get("dollar_basis") == "real":
        raise ValueError("the Dataset is already in real dollars")
    out = ds.copy()
    first = int(ds["year"].values[0])
    basis = {"dollar_basis": "real", "dollar_year": first - 1}
    d = ds["deflator"]
    for k, da in ds.data_vars.items():
        if not _is_dollars(da):
            continue
        if "year" in da.dims:
            out[k] = (da / d).transpose(*da.dims)
        out[k].attrs = {**da.attrs, **basis}
    out.attrs = {**ds.attrs, **basis}
    return out


def _per_pupil(da: xr.DataArray, pupils: xr.DataArray) -> xr.DataArray:
    safe = pupils.where(pupils > 0)
    out = (da / safe).transpose(*da.dims)
    units = str(da.attrs.get("units", "USD"))
    out.attrs = {**da.attrs, "units": f"{units}/student"}
    return out


def per_pupil(ds: xr.Dataset, *, real: bool = False) -> xr.Dataset:
    """Every dollar variable per pupil of its entity. [USD/student]

    School variables are divided by the school's enrollment that year, the district's
    totals (``district_*``) by the district's (the sum over schools); a year with no
    pupils gives NaN. Other variables are kept as they are.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of a run.
    real : bool
        First convert to real dollars of the base year (:func:`real_dollars`).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=100, seed=1, progress=False)
    >>> pp = per_pupil(ds)
    >>> pp.revenue.attrs["units"]
    'USD/student'
    >>> bool(np.allclose(pp.revenue * ds.enrollment, ds.revenue))
    True
    """
    src = real_dollars(ds) if real else ds
    if "enrollment" not in src:
        raise ValueError("per-pupil views need the enrollment variable")
    out = src.copy()
    total = src["enrollment"].sum("school")
    for k in dollar_variables(src):
        da = src[k]
        if "school" in da.dims:
            out[k] = _per_pupil(da, src["enrollment"])
        elif k.startswith("district_"):
            out[k] = _per_pupil(da, total)
    return out


def _in_base(ds: xr.Dataset, per_year: float, include_one_time: bool | None) -> xr.DataArray:
    base = reserve_base(ds, include_one_time)
    bal = entity_balance(ds)
    return xr.where(base > 0, bal / (base / per_year), np.nan)


def reserve_months(ds: xr.Dataset, include_one_time: bool | None = None) -> xr.DataArray:
    """The fund balance in months of the year's reserve base, ``balance / (base / 12)``.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of a run.
    include_one_time : bool, optional
        Count one-time spending in the base (default: the run's reserve policy, which
        leaves it out unless ``[district.reserve] include_one_time``).

    Returns
    -------
    xarray.DataArray
        Dims (draw, year, school) with the district total appended where there is one;
        NaN in a year with no expenditure. [months]

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=100, seed=1, progress=False)
    >>> m = reserve_months(ds)
    >>> bool(np.allclose(m * ds.cost / 12, ds.fund_balance))
    True
    """
    out = _in_base(ds, 12.0, include_one_time)
    out.attrs = {"units": "months", "long_name": "fund balance in months of expenditure"}
    return out


def days_cash_on_hand(ds: xr.Dataset, include_one_time: bool | None = None) -> xr.DataArray:
    """Days of cash on hand: the fund balance over a day's reserve base, ``balance / (base / 365)``.

    Same dims and base as :func:`reserve_months` (so ``days = months * 365 / 12``). [days]
    """
    out = _in_base(ds, 365.0, include_one_time)
    out.attrs = {"units": "days", "long_name": "days of cash on hand"}
    return out
