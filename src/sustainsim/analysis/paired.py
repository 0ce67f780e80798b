"""Paired comparisons of scenarios run on the same draws.

With common random numbers the difference of two estimates is the mean of the
per-draw differences, so its standard error is ``sd(x_b - x_a) / sqrt(n)``, far
smaller than the unpaired ``sqrt(var_a / n + var_b / n)`` when the scenarios move
together draw by draw (the point of running them on the same draws).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import special

from sustainsim.metrics.solvency import solvent

__all__ = ["compare", "paired_difference"]


def paired_difference(
    a: xr.DataArray, b: xr.DataArray, dim: str = "draw", confidence: float = 0.95
) -> xr.Dataset:
    """Mean of ``b - a`` over ``dim`` with paired and unpaired standard errors.

    Returns
    -------
    xarray.Dataset
        ``a``, ``b`` (means), ``difference``, ``se_paired``, ``se_unpaired``, ``lower``,
        ``upper`` (paired normal interval).
    """
    # compare like with like: drop scalar labels (e.g. two schools of one run)
    a = a.astype(float).reset_coords(drop=True)
    b = b.astype(float).reset_coords(drop=True)
    n = a.sizes[dim]
    d = b - a
    se_p = d.std(dim, ddof=1) / np.sqrt(n)
    se_u = np.sqrt(a.var(dim, ddof=1) / n + b.var(dim, ddof=1) / n)
    z = special.ndtri(0.5 + confidence / 2)
    diff = d.mean(dim)
    out = xr.Dataset(
        {
            "a": a.mean(dim),
            "b": b.mean(dim),
            "difference": diff,
            "se_paired": se_p,
            "se_unpaired": se_u,
            "lower": diff - z * se_p,
            "upper": diff + z * se_p,
        }
    )
    out.attrs.update({"draws": n, "confidence": confidence})
    return out


def compare(
    ds: xr.Dataset,
    baseline: str | None = None,
    *,
    metric: str = "p_solvent",
    confidence: float = 0.95,
) -> xr.Dataset:
    """Differences of every scenario against a baseline, with paired standard errors.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`sustainsim.simulate_scenarios` (a ``scenario`` dim).
    baseline : str, optional
        The reference scenario; default the first.
    metric : {"p_solvent", "final_balance", "worst_balance"}
        ``p_solvent``: P(solvent through each year) (units: probability);
        ``final_balance`` / ``worst_balance``: mean balance at the horizon / the lowest
        over the horizon [USD].

    Returns
    -------
    xarray.Dataset
        Over ``scenario`` (the others), ``year`` (for ``p_solvent``) and ``school``:
        ``a`` (baseline), ``b`` (scenario), ``difference`` = b - a, ``se_paired``,
        ``se_unpaired``, ``lower``/``upper``.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> out = compare(sustainsim.simulate_scenarios(spec, draws=1_000, seed=1), "expected")
    >>> last = out.sel(scenario="severe_cuts", year=2036)
    >>> last.difference.round(3).to_series().to_dict()
    {'pl_k8': -0.287, 'trad_k8': -0.204, 'district': -0.246}
    >>> bool((last.se_paired < last.se_unpaired).all())  # common random numbers pay off
    True
    """
    if "scenario" not in ds.dims:
        raise ValueError("compare needs a Dataset with a 'scenario' dim (simulate_scenarios)")
    names = [str(s) for s in ds["scenario"].values]
    base = names[0] if baseline is None else baseline
    if base not in names:
        raise ValueError(f"baseline {base!r} is not a scenario; have {', '.join(names)}")
    if metric == "p_solvent":
        x = solvent(ds)
    elif metric == "final_balance":
        from sustainsim.metrics.solvency import entity_balance

        x = entity_balance(ds).isel(year=-1, drop=True)
    elif metric == "worst_balance":
        from sustainsim.metrics.solvency import worst_balance

        x = worst_balance(ds)
    else:
        raise ValueError(
            f"metric must be 'p_solvent', 'final_balance' or 'worst_balance' (got {metric!r})"
        )
    a = x.sel(scenario=base, drop=True)
    others = [s for s in names if s != base]
    if not others:
        raise ValueError("need at least two scenarios to compare")
    out = xr.concat(
        [paired_difference(a, x.sel(scenario=s, drop=True), confidence=confidence) for s in others],
        dim=xr.DataArray(others, dims="scenario", name="scenario"),
    )
    out.attrs.update({"baseline": base, "metric": metric, "confidence": confidence})
    units = "1" if metric == "p_solvent" else "USD"
    for k in out.data_vars:
        out[k].attrs["units"] = units
    return out
