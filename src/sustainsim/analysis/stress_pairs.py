"""Stress capacity of two school models, paired on common random numbers.

"Personalized schools absorb severe budget cuts at least as well as traditional schools",
as a number: every school configured with model ``a`` or ``b`` is run under ``a`` and
under ``b`` (only its ``model`` is changed; the school keeps its name, so its enrollment,
district draws and every shared stream are the same draws), and its stress capacity
(:mod:`sustainsim.analysis.stress`) is found under each. The difference ``capacity_a -
capacity_b`` is a paired comparison: the same school, the same draws, two models.

Each draw's balances can only fall as the cut grows, so each draw ``i`` has a critical cut
``c_i`` and ``P(solvent | x) = mean(c_i >= x)``: the capacity is a quantile of the ``c_i``.
Its paired interval is a bootstrap over draws: one resample of draw indices per replicate,
applied to both models (so the pairing is kept), re-reads both capacities from the
per-draw solvency already computed at every evaluated cut: the bisection's points and a
grid of ``grid`` cuts across each capacity's Wilson interval (the resolution of the
replicates). The interval is the percentile interval of the replicates' differences, and
``difference_se`` their standard deviation. When the models move together draw by draw
the interval is much narrower than the two capacities' own intervals.
"""

from __future__ import annotations

import functools

import numpy as np
import xarray as xr

from sustainsim.analysis.stress import bisect_largest
from sustainsim.config.spec import Spec
from sustainsim.metrics.solvency import solvent, wilson_interval
from sustainsim.run.core import simulate
from sustainsim.sampling.streams import stream_seed

__all__ = ["compare_stress_capacity", "compared_schools"]


def compared_schools(spec: Spec, model_a: str, model_b: str) -> list[str]:
    """The schools configured with ``model_a`` or ``model_b``; checks the two names.

    Raises
    ------
    ValueError
        A name that is no ``[models.NAME]`` of the config, the same name twice, or no
        school configured with either model.
    """
    models = list(spec.config.models)
    for name in (model_a, model_b):
        if name not in models:
            raise ValueError(
                f"--compare: {name!r} is not a [models.NAME] of the config "
                f"(it defines: {', '.join(models) or 'none'})"
            )
    if model_a == model_b:
        raise ValueError(f"--compare needs two different models (got {model_a!r} twice)")
    schools = [s.name for s in spec.config.schools if s.model in (model_a, model_b)]
    if not schools:
        raise ValueError(f"--compare: no school is configured with {model_a!r} or {model_b!r}")
    return schools


class _Evaluator:
    """Per-draw solvency of the compared schools at each cut, cached (one run per cut)."""

    def __init__(self, spec: Spec, schools: list[str], draws: int, seed: int, year):
        self.spec, self.schools, self.draws, self.seed, self.year = spec, schools, draws, seed, year
        self.cache: dict[float, np.ndarray] = {}

    def flags(self, x: float) -> np.ndarray:
        """``(draws, schools)`` bool: solvent through the year under cut ``x``."""
        x = round(x, 12)
        if x not in self.cache:
            sub = self.spec.with_overrides({"district.stress_cut": x}) if x > 0 else self.spec
            ok = solvent(simulate(sub, draws=self.draws, seed=self.seed, progress=False))
            ok = ok.sel(year=self.year) if self.year is not None else ok.isel(year=-1)
            self.cache[x] = ok.sel(school=self.schools).transpose("draw", "school").values
        return self.cache[x]

    def p(self, x: float, j: int) -> float:
        return float(self.flags(x)[:, j].mean())


def _one_model(ev: _Evaluator, target: float, confidence: float, tol: float, grid: int):
    """Capacity and Wilson interval per school, with the grid of cuts for the bootstrap."""
    n = ev.draws
    rows: dict[str, list[float]] = {k: [] for k in ("capacity", "lower", "upper", "p_no_cut")}
    for j in range(len(ev.schools)):

        def ok(x: float, side: int, j: int = j) -> bool:
            k = ev.flags(x)[:, j].sum()
            p = k / n if side == 1 else wilson_interval(k, n, confidence)[side // 2]
            return float(p) >= target

        est, lo, hi = (bisect_largest(functools.partial(ok, side=s), tol) for s in (1, 0, 2))
        lo, hi = min(lo, est), max(hi, est)
        for x in np.linspace(max(lo - 2 * tol, 0.0), min(hi + 2 * tol, 0.999), grid):
            ev.flags(float(x))
        rows["lower"].append(lo)
        rows["upper"].append(hi)
        rows["p_no_cut"].append(ev.p(0.0, j))
    return rows


def _capacities(cuts: np.ndarray, flags: np.ndarray, w: np.ndarray, target: float) -> np.ndarray:
    """Largest evaluated cut with weighted P(solvent) >= target, per replicate and school.

    ``cuts`` (K,) sorted, ``flags`` (K, n, S), ``w`` (B, n) weights summing to 1 per row;
    0 where even no cut misses the target.
    """
    K, n, S = flags.shape
    p = (w @ flags.transpose(1, 0, 2).reshape(n, K * S)).reshape(-1, K, S)  # (B, K, S)
    ok = p >= target - 1e-9  # P is non-increasing in the cut, draw by draw
    k_last = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)  # last cut that passes
    return np.where(ok.any(axis=1), cuts[k_last], 0.0)


def _stack(ev: _Evaluator) -> tuple[np.ndarray, np.ndarray]:
    cuts = np.array(sorted(ev.cache))
    return cuts, np.stack([ev.cache[x] for x in cuts]).astype(float)


def _compare_one(
    spec: Spec, a: str, b: str, target, draws, seed, year, confidence, tol, grid, boot
) -> xr.Dataset:
    schools = compared_schools(spec, a, b)
    evs, rows = [], []
    for model in (a, b):
        sub = spec.with_overrides({f"schools.{s}.model": model for s in schools})
        ev = _Evaluator(sub, schools, draws, seed, year)
        rows.append(_one_model(ev, target, confidence, tol, grid))
        evs.append(ev)
    (ca, fa), (cb, fb) = _stack(evs[0]), _stack(evs[1])
    full = np.full((1, draws), 1.0 / draws)
    cap_a, cap_b = _capacities(ca, fa, full, target)[0], _capacities(cb, fb, full, target)[0]
    rng = np.random.default_rng(stream_seed(seed, "analysis.stress.compare.bootstrap"))
    diffs = np.empty((boot, len(schools)))
    for i in range(0, boot, 50):  # replicates in batches: (50, draws) weights at a time
        m = min(50, boot - i)
        w = np.stack(
            [np.bincount(rng.integers(0, draws, draws), minlength=draws) for _ in range(m)]
        )
        w = w / draws
        diffs[i : i + m] = _capacities(ca, fa, w, target) - _capacities(cb, fb, w, target)
    alpha = 1 - confidence
    out = xr.Dataset(
        {
            "capacity": (("model", "school"), np.stack([cap_a, cap_b])),
            "lower": (("model", "school"), np.array([rows[0]["lower"], rows[1]["lower"]])),
            "upper": (("model", "school"), np.array([rows[0]["upper"], rows[1]["upper"]])),
            "p_no_cut": (("model", "school"), np.array([rows[0]["p_no_cut"], rows[1]["p_no_cut"]])),
            "difference": ("school", cap_a - cap_b),
            "difference_lower": ("school", np.quantile(diffs, alpha / 2, axis=0)),
            "difference_upper": ("school", np.quantile(diffs, 1 - alpha / 2, axis=0)),
            "difference_se": ("school", diffs.std(axis=0, ddof=1)),
        },
        coords={"model": [a, b], "school": schools},
    )
    out["lower"] = np.minimum(out["lower"], out["capacity"])
    out["upper"] = np.maximum(out["upper"], out["capacity"])
    out.attrs["evaluations"] = len(evs[0].cache) + len(evs[1].cache)
    return out


def compare_stress_capacity(
    spec: Spec,
    model_a: str,
    model_b: str,
    target: float = 0.9,
    *,
    draws: int = 20_000,
    seed: int | None = None,
    year: int | None = None,
    scenarios: bool | list[str] = True,
    confidence: float = 0.95,
    tol: float = 1e-3,
    grid: int = 16,
    boot: int = 1000,
) -> xr.Dataset:
    """Stress capacity of the same schools under two models, and its paired difference.

    Parameters
    ----------
    spec : Spec
        The config; the schools configured with ``model_a`` or ``model_b`` are compared.
    model_a, model_b : str
        Two names of ``[models]``.
    target : float
        Required P(solvent through ``year``), in (0, 1).
    draws, seed : int
        Draws per evaluation and the common seed (default: the config's seed).
    year : int, optional
        Fiscal year of the solvency test; default the horizon.
    scenarios : bool or list of str
        Evaluate every scenario (True), some, or only the base (False).
    confidence : float
        Level of the intervals.
    tol : float
        Bisection tolerance on the cut share.
    grid : int
        Extra cuts per model and school across the capacity's interval (the bootstrap's
        resolution).
    boot : int
        Bootstrap replicates over draws.

    Returns
    -------
    xarray.Dataset
        ``capacity``, ``lower``, ``upper`` (Wilson-based, as :func:`stress_capacity`) and
        ``p_no_cut`` over ``model`` and ``school``; ``difference`` (``capacity`` under
        ``model_a`` minus under ``model_b``), ``difference_lower``/``difference_upper``
        (paired bootstrap percentile interval) and ``difference_se`` over ``school`` (and
        ``scenario``).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> out = compare_stress_capacity(
    ...     spec, "personalized", "traditional", 0.8, draws=300, seed=1, scenarios=False,
    ...     tol=0.01, grid=4, boot=200)
    >>> out.difference.dims, out.model.values.tolist()
    (('school',), ['personalized', 'traditional'])
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1) (got {target})")
    if not 0 < tol < 0.5:
        raise ValueError(f"tol must be in (0, 0.5) (got {tol})")
    if grid < 0 or boot < 2:
        raise ValueError(f"grid must be >= 0 and boot >= 2 (got {grid}, {boot})")
    compared_schools(spec, model_a, model_b)
    seed = spec.config.simulation.seed if seed is None else seed
    args = (model_a, model_b, target, draws, seed, year, confidence, tol, grid, boot)
    if scenarios and spec.scenario_names:
        names = spec.scenario_names if scenarios is True else list(scenarios)
        parts = [_compare_one(spec.scenario(n), *args).expand_dims(scenario=[n]) for n in names]
        out = xr.concat(parts, dim="scenario", combine_attrs="drop_conflicts")
    else:
        out = _compare_one(spec, *args)
    _label(out, model_a, model_b, target, confidence)
    out.attrs.update({"target": target, "draws": draws, "seed": seed, "tol": tol, "boot": boot})
    return out


def _label(out: xr.Dataset, a: str, b: str, target: float, confidence: float) -> None:
    c = f"{confidence:.0%}"
    out["capacity"].attrs = {
        "units": "1",
        "long_name": f"largest permanent cut of exposed revenue keeping P(solvent) >= {target:g}",
    }
    out["lower"].attrs = {"units": "1", "long_name": f"lower end, {c} interval"}
    out["upper"].attrs = {"units": "1", "long_name": f"upper end, {c} interval"}
    out["p_no_cut"].attrs = {"units": "1", "long_name": "P(solvent) with no stress cut"}
    out["difference"].attrs = {"units": "1", "long_name": f"capacity under {a} minus under {b}"}
    out["difference_lower"].attrs = {"units": "1", "long_name": f"lower end, {c} paired bootstrap"}
    out["difference_upper"].attrs = {"units": "1", "long_name": f"upper end, {c} paired bootstrap"}
    out["difference_se"].attrs = {"units": "1", "long_name": "paired bootstrap standard error"}
