"""Stress capacity: the largest permanent cut a school absorbs at a target P(solvent).

A stress cut ``x`` lowers every revenue line exposed to cuts by ``x`` from the first
projected year on (``district.stress_cut``). Run on the same draws for every ``x``
(common random numbers), each draw's balances can only fall as ``x`` grows, so
P(solvent through the horizon) is non-increasing in ``x`` and the capacity

    x* = max { x : P(solvent | x) >= target }

is found by bisection. Its interval comes from the same search on the lower and upper
Wilson bounds of P: with ``lower`` the largest cut whose P is confidently above the
target and ``upper`` the largest cut that cannot be ruled out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from sustainsim.config.spec import Spec
from sustainsim.metrics.solvency import p_solvent
from sustainsim.run.core import simulate

__all__ = ["bisect_largest", "stress_capacity"]

_MAX_CUT = 0.999


def bisect_largest(ok: Callable[[float], bool], tol: float) -> float:
    """Largest x in [0, _MAX_CUT] with ok(x), for ok true up to some point then false."""
    if not ok(0.0):
        return 0.0
    if ok(_MAX_CUT):
        return _MAX_CUT
    lo, hi = 0.0, _MAX_CUT
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _capacity_one(
    spec: Spec, target: float, draws: int, seed: int, year, confidence: float, tol: float
) -> xr.Dataset:
    cache: dict[float, xr.Dataset] = {}

    def p_at(x: float) -> xr.Dataset:
        x = round(x, 12)
        if x not in cache:
            sub = spec.with_overrides({"district.stress_cut": x}) if x > 0 else spec
            ds = simulate(sub, draws=draws, seed=seed, progress=False)
            p = p_solvent(ds, confidence)
            cache[x] = p.sel(year=year) if year is not None else p.isel(year=-1)
        return cache[x]

    schools = [str(s) for s in p_at(0.0)["school"].values]
    rows: dict[str, list[float]] = {
        k: [] for k in ("capacity", "lower", "upper", "p_at_capacity", "p_no_cut")
    }
    for school in schools:

        def ok(x, field, school=school):
            return float(p_at(x)[field].sel(school=school)) >= target

        est = bisect_largest(lambda x: ok(x, "probability"), tol)
        lo = bisect_largest(lambda x: ok(x, "lower"), tol)
        hi = bisect_largest(lambda x: ok(x, "upper"), tol)
        rows["capacity"].append(est)
        rows["lower"].append(min(lo, est))
        rows["upper"].append(max(hi, est))
        rows["p_at_capacity"].append(float(p_at(est).probability.sel(school=school)))
        rows["p_no_cut"].append(float(p_at(0.0).probability.sel(school=school)))
    out = xr.Dataset(
        {k: ("school", np.array(v)) for k, v in rows.items()}, coords={"school": schools}
    )
    out["capacity"].attrs = {
        "units": "1",
        "long_name": f"largest permanent cut of exposed revenue keeping P(solvent) >= {target:g}",
    }
    out["lower"].attrs = {"units": "1", "long_name": f"lower end, {confidence:.0%} interval"}
    out["upper"].attrs = {"units": "1", "long_name": f"upper end, {confidence:.0%} interval"}
    out["p_at_capacity"].attrs = {"units": "1", "long_name": "P(solvent) at the capacity"}
    out["p_no_cut"].attrs = {"units": "1", "long_name": "P(solvent) with no stress cut"}
    out.attrs["evaluations"] = len(cache)
    return out


def stress_capacity(
    spec: Spec,
    target: float = 0.9,
    *,
    draws: int = 20_000,
    seed: int | None = None,
    year: int | None = None,
    scenarios: bool | list[str] = True,
    confidence: float = 0.95,
    tol: float = 1e-3,
) -> xr.Dataset:
    """Largest permanent cut of exposed revenue each school absorbs at a target P(solvent).

    Parameters
    ----------
    spec : Spec
        The model; its ``[scenarios]`` are each evaluated when ``scenarios`` is true.
    target : float
        Required P(solvent through ``year``), in (0, 1).
    draws, seed : int
        Draws per evaluation and the common seed (default: the config's seed).
    year : int, optional
        Fiscal year of the solvency test; default the horizon.
    scenarios : bool or list of str
        Evaluate every scenario (True), some, or only the base (False).
    tol : float
        Bisection tolerance on the cut share.

    Returns
    -------
    xarray.Dataset
        ``capacity`` (share, e.g. 0.062 = a 6.2% cut), its ``lower``/``upper`` interval,
        ``p_at_capacity`` and ``p_no_cut``, over ``school`` (and ``scenario``). A
        capacity of 0 means the target is missed even without a cut.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> spec = spec.with_overrides({"schools.ref.fund_balance": 3_000_000})
    >>> out = stress_capacity(spec, target=0.9, draws=1_000, seed=1, year=2031)
    >>> round(float(out.capacity.sel(school="ref")), 3)  # a 4.7% cut: P(solvent) 0.9 to FY2031
    0.047
    >>> float(out.p_no_cut.sel(school="ref")), float(out.p_at_capacity.sel(school="ref"))
    (0.983, 0.901)
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1) (got {target})")
    if not 0 < tol < 0.5:
        raise ValueError(f"tol must be in (0, 0.5) (got {tol})")
    seed = spec.config.simulation.seed if seed is None else seed
    if scenarios and spec.scenario_names:
        names = spec.scenario_names if scenarios is True else list(scenarios)
        parts = [
            _capacity_one(spec.scenario(n), target, draws, seed, year, confidence, tol).expand_dims(
                scenario=[n]
            )
            for n in names
        ]
        out = xr.concat(parts, dim="scenario", combine_attrs="drop_conflicts")
    else:
        out = _capacity_one(spec, target, draws, seed, year, confidence, tol)
    out.attrs.update({"target": target, "draws": draws, "seed": seed, "tol": tol})
    return out
