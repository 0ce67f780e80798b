"""Operating deficits: a year whose spending exceeds its revenue (surplus < 0).

A finance office's "deficit" is an operating shortfall, a flow: the year's revenue does
not cover the year's cost. It is not a negative fund balance (a stock), which is what
:func:`sustainsim.metrics.p_solvent` measures. The two have distinct names everywhere:

* **P(solvent through t)** (:func:`sustainsim.metrics.p_solvent`): the fund balance
  stayed >= 0 in every year through t; its first failure is the *first negative
  balance* (:func:`first_negative_balance_year`);
* **P(no operating deficit in year t)** (:func:`p_no_operating_deficit`): that year's
  surplus is >= 0; the first year with a surplus < 0 is the *first year of deficit
  spending* (:func:`first_deficit_spending_year`).

:func:`first_year_summary` gives, for either, the median first year among the draws where
it happens and the share of draws that is.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sustainsim.metrics.solvency import entity_balance, probability
from sustainsim.metrics.years import every_year_so_far, first_true

__all__ = [
    "first_deficit_spending_year",
    "first_negative_balance_year",
    "first_year",
    "first_year_summary",
    "median_first_year",
    "no_deficit_spending",
    "operating_deficit",
    "p_no_deficit_spending",
    "p_no_operating_deficit",
]


def operating_deficit(ds: xr.Dataset) -> xr.DataArray:
    """Whether year t ran an operating deficit (surplus < 0). Dims (draw, year, school)."""
    out = entity_balance(ds, "surplus") < 0
    out.attrs = {"long_name": "operating deficit in year (surplus < 0)"}
    return out


def p_no_operating_deficit(ds: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """P(no operating deficit in year t): the year's surplus >= 0, each year on its own.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> p = p_no_operating_deficit(sustainsim.simulate(spec, draws=2_000, seed=1))
    >>> p.probability.sel(school="ref", year=[2027, 2036]).round(3).values
    array([0.917, 0.   ])
    """
    out = probability(~operating_deficit(ds), confidence=confidence)
    out["probability"].attrs["long_name"] = "P(no operating deficit in year)"
    return out


def no_deficit_spending(ds: xr.Dataset) -> xr.DataArray:
    """Whether no year through t ran an operating deficit (bool, (draw, year, school))."""
    ok = every_year_so_far(~operating_deficit(ds))
    ok.attrs = {"long_name": "no operating deficit in any year through year"}
    return ok


def p_no_deficit_spending(ds: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """P(no operating deficit in any year through t), with interval and SE."""
    return probability(no_deficit_spending(ds), confidence=confidence)


def first_year(flags: xr.DataArray, ds: xr.Dataset, long_name: str = "") -> xr.DataArray:
    """The fiscal year of each cell's first True flag along ``year``, NaN if none."""
    first, seen = first_true(flags)
    cells = flags.isel(year=0, drop=True)
    out = xr.where(cells.copy(data=seen), ds["year"].values[first], np.nan)
    out.attrs = {"long_name": long_name, "units": "fiscal year"}
    return out


def first_negative_balance_year(ds: xr.Dataset) -> xr.DataArray:
    """The first fiscal year with a fund balance < 0, NaN if none. Dims (draw, school)."""
    return first_year(entity_balance(ds) < 0, ds, "first fiscal year with a negative fund balance")


def first_deficit_spending_year(ds: xr.Dataset) -> xr.DataArray:
    """The first fiscal year with an operating deficit (surplus < 0), NaN if none."""
    return first_year(operating_deficit(ds), ds, "first fiscal year of deficit spending")


def median_first_year(counts: np.ndarray, years: np.ndarray) -> tuple[int | None, int]:
    """Median first year from the number of draws whose first event falls in each year.

    The median is the lower median: the first year by which at least half of the draws
    where the event happens have had it. Returns ``(median year, number of draws where
    it happens)``, ``(None, 0)`` if it never does.

    Examples
    --------
    >>> median_first_year(np.array([1, 0, 2, 3]), np.array([2030, 2031, 2032, 2033]))
    (2032, 6)
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return None, 0
    k = int(np.searchsorted(np.cumsum(counts), (total + 1) // 2))
    return int(years[k]), total


def _year_counts(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The number of draws in each year of ``seen`` (fiscal years) and those years, in order.

    Whole years in a short span are counted by offset (years without a draw count 0);
    other values fall back to a sort.

    Examples
    --------
    >>> _year_counts(np.array([2031.0, 2029.0, 2031.0]))
    (array([1, 0, 2]), array([2029., 2030., 2031.]))
    """
    low = seen.min()
    offset = seen - low
    if offset.max() < 10_000 and np.array_equal(offset, np.floor(offset)):
        counts = np.bincount(offset.astype(np.intp))
        return counts, low + np.arange(counts.size)
    years, counts = np.unique(seen, return_counts=True)
    return counts, years


def first_year_summary(first: xr.DataArray) -> dict[str, dict[str, int | float | None]]:
    """``{entity: {"median_year", "share_of_draws"}}`` of a first-year DataArray (draw, school).

    ``median_year`` is the (lower) median first year among the draws where the event
    happens, ``share_of_draws`` the share of all draws where it does.
    """
    n = first.sizes["draw"]
    out: dict[str, dict[str, int | float | None]] = {}
    for school in first["school"].values:
        f = first.sel(school=school).values
        seen = f[~np.isnan(f)]
        med, total = median_first_year(*_year_counts(seen)) if seen.size else (None, 0)
        out[str(school)] = {"median_year": med, "share_of_draws": total / n}
    return out
