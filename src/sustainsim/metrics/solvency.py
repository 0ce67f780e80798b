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

__all__ = [
    "DEFAULT_QUANTILES",
    "balance_quantiles",
    "entity_balance",
    "first_deficit_distribution",
    "first_deficit_year",
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


def probability(flags: xr.DataArray, dim: str = "draw", confidence: float = 0.95) -> xr.Dataset:
    """Estimate P(flag) over ``dim`` with standard error and a Wilson interval.

    Returns
    -------
    xarray.Dataset
        ``probability``, ``se`` (sqrt(p (1 - p) / n)), ``lower``, ``upper``.
    """
    n = flags.sizes[dim]
    k = flags.sum(dim)
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
    ok = (bal >= 0).astype(np.int8).cumprod("year").astype(bool)
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
    """The first fiscal year with a negative fund balance, NaN if none. Dims (draw, school)."""
    bal = entity_balance(ds)
    neg = bal < 0
    any_neg = neg.any("year")
    first = neg.argmax("year")
    years = ds["year"].values
    out = xr.where(any_neg, years[first.values], np.nan)
    out.attrs = {
        "long_name": "first fiscal year with a negative fund balance",
        "units": "fiscal year",
    }
    return out


def first_deficit_distribution(ds: xr.Dataset, confidence: float = 0.95) -> xr.Dataset:
    """P(first deficit is in year y) by year and school, and P(no deficit) as ``never``."""
    first = first_deficit_year(ds)
    flags = first == ds["year"]
    out = probability(flags.transpose("draw", ...), confidence=confidence)
    never = probability(first.isnull(), confidence=confidence)
    out["never"] = never["probability"]
    out["never"].attrs = {"units": "1", "long_name": "probability of no deficit in the horizon"}
    return out


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
    out = da.quantile(list(q), dim="draw")
    out.attrs = {**da.attrs, "long_name": f"quantiles of {da.attrs.get('long_name', variable)}"}
    return out


def expected_shortfall(ds: xr.Dataset, alpha: float = 0.05) -> xr.DataArray:
    """Mean of the worst balance over its lowest ``alpha`` share of draws. [USD]"""
    wb = worst_balance(ds)
    cut = wb.quantile(alpha, dim="draw")
    out = wb.where(wb <= cut).mean("draw").drop_vars("quantile", errors="ignore")
    out.attrs = {"units": "USD", "long_name": f"expected shortfall ({alpha:.0%}) of worst balance"}
    return out


__all__ += ["expected_shortfall"]


def summary(ds: xr.Dataset, confidence: float = 0.95) -> dict:
    """The key figures as plain Python data (what ``summary.json`` holds).

    For each school (and the district total): P(solvent through each year) with SE
    and Wilson interval, quantiles of the final and worst balance, the probability
    of no deficit, the most likely first deficit year and the 5% expected shortfall.
    With a ``scenario`` dim, the per-school figures sit under ``scenarios.NAME``.
    """
    if "scenario" in ds.dims:
        per = {str(n): summary(ds.sel(scenario=n), confidence) for n in ds["scenario"].values}
        first = next(iter(per.values()))
        return {
            **{k: v for k, v in first.items() if k != "entities"},
            "scenarios": {n: {"entities": v["entities"]} for n, v in per.items()},
        }
    ps = p_solvent(ds, confidence)
    fq = balance_quantiles(ds).isel(year=-1)
    wb = worst_balance(ds)
    wq = wb.quantile(list(DEFAULT_QUANTILES), dim="draw")
    fd = first_deficit_distribution(ds, confidence)
    es = expected_shortfall(ds)
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
        p = ps.sel(school=school)
        fdp = fd["probability"].sel(school=school)
        vals = fdp.values
        modal = int(fdp["year"].values[int(np.argmax(vals))]) if vals.max() > 0 else None
        out["entities"][s] = {
            "p_solvent": {
                str(y): {
                    "probability": float(p.probability.sel(year=y)),
                    "se": float(p.se.sel(year=y)),
                    "lower": float(p.lower.sel(year=y)),
                    "upper": float(p.upper.sel(year=y)),
                }
                for y in years
            },
            "final_balance_quantiles": {
                f"{q:g}": float(fq.sel(school=school, quantile=q)) for q in DEFAULT_QUANTILES
            },
            "worst_balance_quantiles": {
                f"{q:g}": float(wq.sel(school=school, quantile=q)) for q in DEFAULT_QUANTILES
            },
            "p_no_deficit": float(fd["never"].sel(school=school)),
            "most_likely_first_deficit_year": modal,
            "expected_shortfall_5pct": float(es.sel(school=school)),
        }
    return out
