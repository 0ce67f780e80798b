"""Break-evens and "what must be true": where a plan stops meeting its target.

A break-even is the value of one input (a config path: an enrollment, a growth rate, a
per-pupil rate, a grant amount, a permanent cut) at which P(solvent through a year)
crosses a target. Every value is run on the same draws (common random numbers), so
P is a monotone step function of the value whenever each draw's balances are (more
pupils or more money never hurt a draw), and bisection finds the crossing. Its
interval comes from the same search on the Wilson bounds of P, as for stress capacity:
``lower``/``upper`` bracket the values where the target is met with confidence and
where it cannot be ruled out.

:func:`what_must_be_true` does this for every uncertain input of a config: the input is
fixed at a value (the others stay random), the break-even found within its assumed
range, and set beside its distribution and the probability that it turns out worse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim.config import Spec
from sustainsim.metrics.solvency import DISTRICT, p_solvent
from sustainsim.run.core import simulate
from sustainsim.sampling.distributions import U_MAX, U_MIN, Distribution

__all__ = ["break_even", "distribution_inputs", "what_must_be_true"]

#: share of an input's distribution searched by :func:`what_must_be_true`, each side
TAIL = 0.001


def _entity(ds_p: xr.Dataset, school: str | None) -> str:
    names = [str(s) for s in ds_p["school"].values]
    if school is None:
        return DISTRICT if DISTRICT in names else names[0]
    if school not in names:
        raise ValueError(f"school {school!r} not in the results; have {', '.join(names)}")
    return school


class _Evaluator:
    """P(solvent) and its Wilson bounds at a value of one input, cached, on fixed draws."""

    def __init__(self, spec, path, *, school, year, draws, seed, confidence, options):
        self.spec, self.path, self.school, self.year = spec, path, school, year
        self.draws, self.seed, self.confidence, self.options = draws, seed, confidence, options
        self.cache: dict[float, tuple[float, float, float]] = {}

    def __call__(self, x: float) -> tuple[float, float, float]:
        key = float(x)
        if key not in self.cache:
            sub = self.spec.with_overrides({self.path: key})
            ds = simulate(sub, draws=self.draws, seed=self.seed, progress=False, **self.options)
            p = p_solvent(ds, self.confidence)
            p = p.sel(year=self.year) if self.year is not None else p.isel(year=-1)
            p = p.sel(school=_entity(p, self.school))
            self.cache[key] = (float(p.probability), float(p.lower), float(p.upper))
        return self.cache[key]


def _crossing(meets: Callable[[float], bool], lo: float, hi: float, tol: float) -> float:
    """The boundary between values that meet the target and values that do not.

    ``meets(lo) != meets(hi)``; returns the meeting end of the final bracket.
    """
    ok_lo = meets(lo)
    while abs(hi - lo) > tol:
        mid = 0.5 * (lo + hi)
        if meets(mid) == ok_lo:
            lo = mid
        else:
            hi = mid
    return lo if ok_lo else hi


def break_even(
    spec: Spec,
    path: str,
    target: float = 0.9,
    *,
    low: float,
    high: float,
    school: str | None = None,
    year: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    confidence: float = 0.95,
    tol: float | None = None,
    **options: Any,
) -> xr.Dataset:
    """The value of one input at which P(solvent) crosses ``target``, on common draws.

    Parameters
    ----------
    spec : Spec
        The plan.
    path : str
        The input, a dotted config path (``schools.a.enrollment.base``,
        ``district.growth.salary``, ``schools.a.revenue.pp.rate``, ``district.stress_cut``).
    target : float
        The required P(solvent through ``year``), in (0, 1).
    low, high : float
        The range searched. P must meet the target at one end and miss it at the other.
    school : str, optional
        Default the district total with several schools, else the only school.
    year : int, optional
        Fiscal year; default the horizon.
    draws, seed : int, optional
        Default the config's; every value runs on the same draws.
    confidence : float
        Level of the Wilson intervals that give the break-even's interval.
    tol : float, optional
        Precision of the value; default ``1e-4 * (high - low)``.
    **options
        Further run options (:func:`sustainsim.run.plan.plan_run`), e.g. ``sampler``.

    Returns
    -------
    xarray.Dataset
        Scalars ``value`` (the break-even: the value nearest the failing end that still
        meets the target), ``lower``/``upper`` (the range the break-even lies in at
        ``confidence``), ``p_low``/``p_high`` (P at ``low`` and ``high``), and the attrs
        ``path``, ``target``, ``direction`` (``"higher is better"`` or ``"lower is
        better"``), ``school``, ``year``, ``draws``, ``seed``, ``evaluations``.

    Raises
    ------
    ValueError
        When both ends meet the target, or neither does (nothing crosses it in range).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> be = break_even(spec, "schools.ref.revenue.per_pupil.rate", 0.5, low=9_000, high=12_000,
    ...                 draws=2_000, seed=1, tol=1.0)
    >>> be.attrs["direction"], bool(be.lower <= be.value <= be.upper)
    ('higher is better', True)
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1) (got {target})")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"need finite low < high (got low={low}, high={high})")
    sim = spec.config.simulation
    draws = sim.draws if draws is None else draws
    seed = sim.seed if seed is None else seed
    tol = 1e-4 * (high - low) if tol is None else tol
    if not tol > 0:
        raise ValueError(f"tol must be > 0 (got {tol})")
    p_at = _Evaluator(
        spec, path, school=school, year=year, draws=draws, seed=seed,
        confidence=confidence, options=options,
    )  # fmt: skip
    (p_lo, *_), (p_hi, *_) = p_at(low), p_at(high)
    if (p_lo >= target) == (p_hi >= target):
        where = "meets" if p_lo >= target else "misses"
        raise ValueError(
            f"P(solvent) {where} the target {target:g} at both ends of {path} in "
            f"[{low:g}, {high:g}] (P = {p_lo:.3f} and {p_hi:.3f}): widen the range"
        )
    up = p_hi >= target
    value = _threshold(lambda x: p_at(x)[0] >= target, low, high, tol, up)
    # where the target is met with confidence (the Wilson lower bound of P) and where it
    # cannot be ruled out (the upper bound): the break-even lies between the two
    sure = _threshold(lambda x: p_at(x)[1] >= target, low, high, tol, up)
    maybe = _threshold(lambda x: p_at(x)[2] >= target, low, high, tol, up)
    out = xr.Dataset(
        {
            "value": value,
            "lower": min(sure, maybe),
            "upper": max(sure, maybe),
            "p_low": p_lo,
            "p_high": p_hi,
        }
    )
    out.attrs.update(
        path=path,
        target=target,
        direction="higher is better" if up else "lower is better",
        school=school or "",
        year=-1 if year is None else int(year),
        draws=int(draws),
        seed=int(seed),
        confidence=confidence,
        evaluations=len(p_at.cache),
    )
    return out


def _threshold(meets: Callable[[float], bool], lo: float, hi: float, tol: float, up: bool) -> float:
    """The value nearest the failing end that meets the target; the far end if none does.

    ``up``: values above the threshold meet it (higher is better); else values below.
    """
    good, bad = (hi, lo) if up else (lo, hi)
    if meets(bad):
        return bad  # the whole range meets
    if not meets(good):
        return good  # none of it does: the threshold lies beyond the range
    return _crossing(meets, lo, hi, tol)


def _walk(node: Any, prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        if "dist" in node:
            yield prefix, node
            return
        for k, v in node.items():
            if k in ("scenarios", "correlations", "levers"):
                continue
            yield from _walk(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                yield from _walk(item, f"{prefix}.{item['name']}")


def distribution_inputs(spec: Spec) -> dict[str, Distribution]:
    """Every config path whose value is a distribution, with it, in file order.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> list(distribution_inputs(spec))[:2]
    ['district.cuts.magnitude', 'schools.ref.revenue.grant.end']
    """
    return {path: Distribution.from_spec(d) for path, d in _walk(spec.data, "")}


def _cdf(dist: Distribution, x: float) -> float:
    """P(X <= x), by inverting the distribution's inverse CDF."""
    from scipy import optimize  # on first use: importing scipy.optimize takes a tenth of a second

    lo, hi = float(dist.ppf(np.array([U_MIN]))[0]), float(dist.ppf(np.array([U_MAX]))[0])
    if x <= lo:
        return 0.0
    if x >= hi:
        return 1.0
    return float(optimize.brentq(lambda u: float(dist.ppf(np.array([u]))[0]) - x, U_MIN, U_MAX))


def what_must_be_true(
    spec: Spec,
    target: float = 0.9,
    *,
    inputs: Sequence[str] | None = None,
    school: str | None = None,
    year: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    confidence: float = 0.95,
    **options: Any,
) -> pd.DataFrame:
    """For each uncertain input, the value at which the plan stops meeting its target.

    Each input in turn is fixed at a value while every other input stays random; its
    break-even is searched between its distribution's ``TAIL`` and ``1 - TAIL``
    quantiles. Beside it: the assumed distribution, its median, and the probability
    that the input turns out worse than the break-even (for an input drawn each year,
    in any one year).

    Parameters
    ----------
    spec, target, school, year, draws, seed, confidence, **options
        As :func:`break_even`.
    inputs : sequence of str, optional
        Config paths; default every path holding a distribution
        (:func:`distribution_inputs`).

    Returns
    -------
    pandas.DataFrame
        One row per input (index: its path): ``assumed`` (the distribution), ``median``,
        ``break_even``, ``lower``, ``upper``, ``direction``, ``p_worse``; rows where the
        target is met (or missed) across the whole range say so in ``note``. Sorted by
        ``p_worse``, the likeliest threat first.
    """
    dists = distribution_inputs(spec)
    paths = list(dists) if inputs is None else list(inputs)
    rows = []
    for path in paths:
        if path not in dists:
            raise ValueError(
                f"{path!r} is not a config path holding a distribution; have {', '.join(dists)}"
            )
        d = dists[path]
        lo, hi = (float(v) for v in d.ppf(np.array([TAIL, 1 - TAIL])))
        row: dict[str, Any] = {"input": path, "assumed": str(d), "median": d.median()}
        try:
            be = break_even(
                spec, path, target, low=lo, high=hi, school=school, year=year, draws=draws,
                seed=seed, confidence=confidence, **options,
            )  # fmt: skip
        except ValueError as exc:
            row.update(break_even=np.nan, lower=np.nan, upper=np.nan, direction="", p_worse=np.nan)
            row["note"] = str(exc).split(": widen")[0]
            rows.append(row)
            continue
        v = float(be["value"])
        up = be.attrs["direction"] == "higher is better"
        p_below = _cdf(d, v)
        row.update(
            break_even=v,
            lower=float(be["lower"]),
            upper=float(be["upper"]),
            direction=be.attrs["direction"],
            p_worse=p_below if up else 1.0 - p_below,
            note="",
        )
        rows.append(row)
    table = pd.DataFrame(rows).set_index("input")
    table = table.sort_values("p_worse", ascending=False, na_position="last")
    table.attrs.update(target=target, draws=draws, seed=seed)
    return table
