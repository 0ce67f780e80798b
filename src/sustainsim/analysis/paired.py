"""Paired comparisons of scenarios run on the same draws.

With common random numbers the difference of two estimates is the mean of the
per-draw differences, so its standard error is ``sd(x_b - x_a) / sqrt(n)``, far
smaller than the unpaired ``sqrt(var_a / n + var_b / n)`` when the scenarios move
together draw by draw (the point of running them on the same draws).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import xarray as xr
from scipy import special

from sustainsim.metrics.solvency import solvent

__all__ = ["PAIRING_ATTRS", "compare", "compare_runs", "paired_difference", "pairing"]

#: attrs two runs must share for their draws to be the same draws (common random numbers)
PAIRING_ATTRS = ("seed", "draws", "sampler")


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


def pairing(runs: Mapping[str, xr.Dataset]) -> tuple[bool, list[str]]:
    """Whether runs share their draws (same seed, draws and sampler), and what differs.

    Examples
    --------
    >>> a = xr.Dataset(attrs={"seed": 1, "draws": 10, "sampler": "monte_carlo"})
    >>> pairing({"a": a, "b": a.assign_attrs(seed=2)})
    (False, ['seed: a=1, b=2'])
    """
    names = list(runs)
    problems = []
    for key in PAIRING_ATTRS:
        values = [runs[n].attrs.get(key) for n in names]
        if any(v is None for v in values) or len({str(v) for v in values}) > 1:
            problems.append(
                f"{key}: " + ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
            )
    sizes = {runs[n].sizes.get("draw") for n in names}
    if len(sizes) > 1:
        problems.append(
            "draw count: " + ", ".join(f"{n}={runs[n].sizes.get('draw')}" for n in names)
        )
    return not problems, problems


def compare_runs(
    runs: Mapping[str, xr.Dataset],
    baseline: str | None = None,
    *,
    metric: str = "p_solvent",
    confidence: float = 0.95,
) -> xr.Dataset:
    """Differences of separate runs against a baseline, paired only if they share their draws.

    Runs made with the same seed, draws and sampler (e.g. ``simulate(spec, seed=1)`` and
    ``simulate(spec.with_overrides(...), seed=1)``) share their draws: their difference is
    paired and its standard error ``se_paired`` is the one to quote. Runs that do not are
    compared unpaired: ``se_paired`` is set to the unpaired error, the attr ``paired`` is
    False, ``pairing_problems`` says why, and a warning is issued.

    Parameters
    ----------
    runs : mapping of str to xarray.Dataset
        Two or more results Datasets of the same schools and years, by label.
    baseline : str, optional
        The reference run; default the first.
    metric, confidence
        As :func:`compare`.

    Returns
    -------
    xarray.Dataset
        As :func:`compare`, over ``scenario`` (the other runs' labels).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> base = sustainsim.simulate(spec, draws=2_000, seed=1)
    >>> more = sustainsim.simulate(spec.with_overrides({"district.cuts.probability": 0.3}),
    ...                            draws=2_000, seed=1)
    >>> out = compare_runs({"as planned": base, "cuts likelier": more})
    >>> out.attrs["paired"], bool((out.se_paired <= out.se_unpaired).all())
    (True, True)
    """
    if len(runs) < 2:
        raise ValueError(f"compare_runs needs at least two runs (got {len(runs)})")
    for name, ds in runs.items():
        if "scenario" in ds.dims:
            raise ValueError(
                f"run {name!r} has a scenario dim: compare its scenarios with compare()"
            )
    paired, problems = pairing(runs)
    if not paired:
        warnings.warn(
            "runs do not share their draws (" + "; ".join(problems) + "): differences are "
            "unpaired, with unpaired standard errors",
            stacklevel=2,
        )
    stacked = (
        xr.concat(
            [ds.expand_dims(scenario=[name]) for name, ds in runs.items()],
            dim="scenario",
            join="exact",
            combine_attrs="drop",
            data_vars="all",
        )
        if paired
        else _stack_unpaired(runs)
    )
    out = compare(stacked, baseline, metric=metric, confidence=confidence)
    if not paired:
        z = special.ndtri(0.5 + confidence / 2)
        out["se_paired"] = out["se_unpaired"]
        out["lower"] = out["difference"] - z * out["se_unpaired"]
        out["upper"] = out["difference"] + z * out["se_unpaired"]
    out.attrs.update({"paired": paired, "pairing_problems": "; ".join(problems)})
    return out


def _stack_unpaired(runs: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """Runs of different draw counts on one scenario dim, draws padded (NaN-free metrics)."""
    n = max(ds.sizes["draw"] for ds in runs.values())
    if all(ds.sizes["draw"] == n for ds in runs.values()):
        return xr.concat(
            [
                ds.drop_vars("draw", errors="ignore").expand_dims(scenario=[k])
                for k, ds in runs.items()
            ],
            dim="scenario",
            join="outer",
            combine_attrs="drop_conflicts",
            data_vars="all",
        )
    raise ValueError(
        "runs with different draw counts cannot be compared draw by draw; "
        "run them with the same draws (and seed, for paired differences)"
    )
