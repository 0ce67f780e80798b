"""Sustainability metrics: Dataset in, DataArray/Dataset out.

Probabilities are Monte Carlo estimates over ``draw`` with their standard error and
a Wilson score interval. Where a run has several schools, every metric also reports
the district total as an extra ``school`` entry named ``"district"`` (the sum of the
schools' balances, plus the district's own lines where the Dataset has them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy import special

from sustainsim.metrics.exact_quantiles import draw_quantiles
from sustainsim.metrics.years import every_year_so_far

__all__ = [
    "DEFAULT_QUANTILES",
    "count_true",
    "balance_quantiles",
    "entity_balance",
    "first_deficit_distribution",
    "first_deficit_year",
    "first_year_distribution",
    "probability",
    "p_solvent",
    "solvent",
    "summary",
    "wilson_interval",
    "worst_balance",
]

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DISTRICT = "district"


def wilson_interval(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n``.

    Examples
    --------
    >>> lo, hi = wilson_interval(0, 100)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.0, 0.037)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1) (got {confidence})")
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = special.ndtri(0.5 + confidence / 2)
    p = k / n
    z2n = z * z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = z * np.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)


#: from this many draws a cell, :func:`count_true` counts each cell on its own
_COUNT_CELLS_FROM = 4096


def count_true(flags: xr.DataArray, dim: str = "draw") -> xr.DataArray:
    """How many of ``flags`` are True along ``dim``: ``flags.sum(dim)``, the same integers.

    In memory with many draws a cell, each cell's draws are counted by
    :func:`numpy.count_nonzero` (a run's draws of one year and school are contiguous):
    a few microseconds against a millisecond for ``sum``'s integer conversion.

    Examples
    --------
    >>> f = xr.DataArray([[True, False], [True, True]], dims=("draw", "year"))
    >>> count_true(f).values.tolist()
    [2, 1]
    """
    data, n = flags.data, flags.sizes[dim]
    # no draws: sum's zeros (the cells below are labelled by draw 0)
    if not isinstance(data, np.ndarray) or data.dtype != bool or n == 0 or n < _COUNT_CELLS_FROM:
        return flags.sum(dim)
    moved = np.moveaxis(data, flags.get_axis_num(dim), -1)
    counts = np.empty(moved.shape[:-1], dtype=np.int64)
    for idx in np.ndindex(*counts.shape):
        counts[idx] = np.count_nonzero(moved[idx])
    return flags.isel({dim: 0}, drop=True).copy(data=counts)


def probability(flags: xr.DataArray, dim: str = "draw", confidence: float = 0.95) -> xr.Dataset:
    """Estimate P(flag) over ``dim`` with standard error and a Wilson interval.

    Returns
    -------
    xarray.Dataset
        ``probability``, ``se`` (sqrt(p (1 - p) / n)), ``lower``, ``upper``.
    """
    n = flags.sizes[dim]
    k = count_true(flags, dim)
    p = k / n
    lo, hi = wilson_interval(k.values, n, confidence)
    out = xr.Dataset(
        {
            "probability": p,
            "se": np.sqrt(p * (1 - p) / n),
            "lower": (k.dims, lo),
            "upper": (k.dims, hi),
        },
        coords=k.coords,
    )
    out["probability"].attrs = {"units": "1", "long_name": "estimated probability"}
    out["se"].attrs = {"units": "1", "long_name": "Monte Carlo standard error"}
    out["lower"].attrs = {
        "units": "1",
        "long_name": f"lower bound, {confidence:.0%} Wilson interval",
    }
    out["upper"].attrs = {
        "units": "1",
        "long_name": f"upper bound, {confidence:.0%} Wilson interval",
    }
    out.attrs.update({"draws": n, "confidence": confidence})
    return out


def entity_balance(ds: xr.Dataset, variable: str = "fund_balance") -> xr.DataArray:
    """``ds[variable]`` by school, with the district total appended when there are several."""
    da = ds[variable]
    if ds.sizes.get("school", 1) < 2 and f"district_{variable}" not in ds:
        return da
    total = ds[f"district_{variable}"] if f"district_{variable}" in ds else da.sum("school")
    total = total.expand_dims(school=[DISTRICT])
    out = xr.concat([da, total.transpose(*da.dims)], dim="school")
    out.attrs = da.attrs
    return out


def solvent(ds: xr.Dataset) -> xr.DataArray:
    """Whether the fund balance stayed >= 0 in every year up to and including each year.

    Returns
    -------
    xarray.DataArray of bool
        Dims ``(draw, year, school)`` (``school`` includes ``"district"`` when there
        are several schools).
    """
    bal = entity_balance(ds)
    ok = every_year_so_far(bal >= 0)
    ok.attrs = {"long_name": "solvent through year (fund balance >= 0 every year so far)"}
    return ok


def p_solvent(ds: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """P(solvent through year t) for every year and school, with interval and SE.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> p = p_solvent(sustainsim.simulate(spec, draws=2_000, seed=1))
    >>> last = p.sel(year=2036, school="ref")
    >>> float(last.probability), round(float(last.lower), 3), round(float(last.upper), 3)
    (0.019, 0.014, 0.026)
    """
    return probability(solvent(ds), confidence=confidence)


def first_deficit_year(ds: xr.Dataset) -> xr.DataArray:
    """The first fiscal year with a negative fund balance, NaN if none. Dims (draw, school).

    Kept under its old name: a negative *balance*, not an operating deficit; prefer
    :func:`sustainsim.metrics.first_negative_balance_year` (the same numbers).
    """
    from sustainsim.metrics.deficit import first_negative_balance_year

    return first_negative_balance_year(ds)


def first_year_distribution(
    first: xr.DataArray, ds: xr.Dataset, confidence: float = 0.95
) -> xr.Dataset:
    """P(the first event is in year y) from a first-year DataArray, and P(never) as ``never``."""
    flags = first == ds["year"]
    out = probability(flags.transpose("draw", ...), confidence=confidence)
    never = probability(first.isnull(), confidence=confidence)
    out["never"] = never["probability"]
    out["never"].attrs = {"units": "1", "long_name": "probability it never happens"}
    return out


def first_deficit_distribution(ds: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """P(first negative balance is in year y) by year and school, and P(never) as ``never``.

    Of the fund balance, under its old name (see :func:`first_deficit_year`).
    """
    return first_year_distribution(first_deficit_year(ds), ds, confidence)


def worst_balance(ds: xr.Dataset) -> xr.DataArray:
    """The lowest fund balance over the horizon, per draw and school. [USD]"""
    out = entity_balance(ds).min("year")
    out.attrs = {"units": "USD", "long_name": "lowest fund balance over the horizon"}
    return out


def balance_quantiles(
    ds: xr.Dataset, q: Sequence[float] = DEFAULT_QUANTILES, variable: str = "fund_balance"
) -> xr.DataArray:
    """Quantiles over draws of a path variable, by year and school. [USD]"""
    da = entity_balance(ds, variable)
    out = draw_quantiles(da, list(q))
    out.attrs = {**da.attrs, "long_name": f"quantiles of {da.attrs.get('long_name', variable)}"}
    return out


def expected_shortfall(ds: xr.Dataset, alpha: float = 0.05) -> xr.DataArray:
    """Mean of the worst balance over its lowest ``alpha`` share of draws. [USD]"""
    return _shortfall(worst_balance(ds), alpha)


def _shortfall(wb: xr.DataArray, alpha: float) -> xr.DataArray:
    """:func:`expected_shortfall` from the worst balance ``wb`` (draw, school)."""
    cut = draw_quantiles(wb, alpha)
    out = wb.where(wb <= cut).mean("draw").drop_vars("quantile", errors="ignore")
    out.attrs = {"units": "USD", "long_name": f"expected shortfall ({alpha:.0%}) of worst balance"}
    return out


__all__ += ["expected_shortfall"]


def _by_year(p: xr.Dataset, years: list[int]) -> dict[str, dict[str, float]]:
    return {
        str(y): {k: float(p[k].sel(year=y)) for k in ("probability", "se", "lower", "upper")}
        for y in years
    }


def summary(ds: xr.Dataset, confidence: float = 0.95) -> dict:
    """The key figures as plain Python data (what ``summary.json`` holds).

    For each school (and the district total), two families of figures under distinct
    names:

    * the fund balance (a stock): ``p_solvent`` (P(fund balance >= 0 in every year
      through t), by year, with SE and Wilson interval), ``p_balance_never_negative``
      (the same through the horizon) and ``first_negative_balance`` (the median first
      year of a negative balance among the draws where it happens, and their share);
    * operating deficits (a flow, surplus < 0): ``p_no_operating_deficit`` (P(no
      operating deficit in year t), by year), ``p_no_deficit_spending`` (no operating
      deficit in any year of the horizon) and ``first_deficit_spending`` (median first
      year of deficit spending among the draws where it happens, and their share);

    plus quantiles of the final and worst balance and the 5% expected shortfall. With a
    ``scenario`` dim, the per-school figures sit under ``scenarios.NAME``.
    """
    from sustainsim.metrics.deficit import first_year, first_year_summary, operating_deficit

    if "scenario" in ds.dims:
        per = {str(n): summary(ds.sel(scenario=n), confidence) for n in ds["scenario"].values}
        first = next(iter(per.values()))
        return {
            **{k: v for k, v in first.items() if k != "entities"},
            "scenarios": {n: {"entities": v["entities"]} for n, v in per.items()},
        }
    # what p_solvent, p_no_operating_deficit, p_no_deficit_spending, worst_balance,
    # expected_shortfall and the first years compute, each flag array once
    bal = entity_balance(ds)
    ps = probability(every_year_so_far(bal >= 0), confidence=confidence)
    deficit = operating_deficit(ds)
    pod = probability(~deficit, confidence=confidence)
    pds = probability(every_year_so_far(~deficit), confidence=confidence)
    pds = pds.probability.isel(year=-1)
    fq = draw_quantiles(bal.isel(year=-1), DEFAULT_QUANTILES)
    wb = bal.min("year")
    wq = draw_quantiles(wb, DEFAULT_QUANTILES)
    neg = first_year_summary(first_year(bal < 0, ds))
    spend = first_year_summary(first_year(deficit, ds))
    es = _shortfall(wb, 0.05)
    years = [int(y) for y in ds["year"].values]
    out: dict = {
        "draws": int(ds.sizes["draw"]),
        "seed": ds.attrs.get("seed"),
        "sampler": ds.attrs.get("sampler"),
        "confidence": confidence,
        "years": years,
        "config_sha256": ds.attrs.get("config_sha256"),
        "sustainsim_version": ds.attrs.get("sustainsim_version"),
        "entities": {},
    }
    for school in ps["school"].values:
        s = str(school)
        out["entities"][s] = {
            "p_solvent": _by_year(ps.sel(school=school), years),
            "p_balance_never_negative": float(ps.probability.sel(school=school).isel(year=-1)),
            "first_negative_balance": neg[s],
            "p_no_operating_deficit": _by_year(pod.sel(school=school), years),
            "p_no_deficit_spending": float(pds.sel(school=school)),
            "first_deficit_spending": spend[s],
            "final_balance_quantiles": {
                f"{q:g}": float(fq.sel(school=school, quantile=q)) for q in DEFAULT_QUANTILES
            },
            "worst_balance_quantiles": {
                f"{q:g}": float(wq.sel(school=school, quantile=q)) for q in DEFAULT_QUANTILES
            },
            "expected_shortfall_5pct": float(es.sel(school=school)),
        }
    return out
