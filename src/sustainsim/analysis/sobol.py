"""Variance-based (Sobol') sensitivity indices through SALib.

Config parameters are varied over ranges with SALib's Saltelli/Sobol' design; every
design point is a variant spec simulated with common random numbers (the same seed),
and a scalar outcome per point (e.g. P(solvent through the horizon)) is analysed.
Needs the optional extra ``pip install "sustainsim[sensitivity]"`` (SALib).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from sustainsim.analysis.sensitivity import outcome_array

if TYPE_CHECKING:
    from sustainsim.config.spec import Spec

__all__ = ["default_sobol_inputs", "sobol_analyze", "sobol_indices"]


# --- Sobol' indices (SALib) -----------------------------------------------------------------


def _salib():
    try:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample
    except ImportError as exc:
        raise ImportError(
            'Sobol\' indices need SALib: pip install "sustainsim[sensitivity]"'
        ) from exc
    return sample, analyze


def _discrete(lo, hi) -> bool:
    return all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (lo, hi))


def sobol_analyze(
    func: Callable[[np.ndarray], np.ndarray],
    bounds: Mapping[str, tuple[float, float]],
    *,
    n: int = 256,
    seed: int = 0,
    calc_second_order: bool = False,
    confidence: float = 0.95,
    num_resamples: int = 200,
) -> xr.Dataset:
    """Sobol' first-order and total indices of a function of independent uniform inputs.

    The core of :func:`sobol_indices`, usable on any model: SALib's Saltelli design
    (scrambled Sobol' sequence) of ``n * (D + 2)`` points (``n * (2 D + 2)`` with
    second order), ``func`` evaluated on all of them, then SALib's estimators with
    bootstrap confidence intervals.

    Parameters
    ----------
    func : callable
        Maps a ``(points, D)`` array (columns in the order of ``bounds``) to ``(points,)``.
    bounds : mapping of str to (low, high)
        Each input's range, sampled uniformly; two ints make a discrete uniform input
        on ``low..high``.
    n : int
        Base sample size, a power of 2.
    seed : int
        Seeds the design's scrambling and the bootstrap.

    Returns
    -------
    xarray.Dataset
        Over ``input``: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (``*_conf``: half-width
        of the ``confidence`` interval), ``low``, ``high``; with second order ``S2`` and
        ``S2_conf`` over ``(input, input_b)``.

    Examples
    --------
    >>> def f(x):
    ...     return x[:, 0] + 0.1 * x[:, 1]
    >>> s = sobol_analyze(f, {"a": (0.0, 1.0), "b": (0.0, 1.0)}, n=256)
    >>> round(float(s.ST.sel(input="a")), 2)
    0.99
    """
    sample, analyze = _salib()
    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of 2 >= 2 for the Sobol' design (got {n})")
    if not bounds:
        raise ValueError("give at least one input to vary")
    names = list(bounds)
    lows, highs, disc = [], [], []
    for k, (lo, hi) in bounds.items():
        if not hi > lo:
            raise ValueError(f"{k}: need low < high (got {lo}, {hi})")
        d = _discrete(lo, hi)
        disc.append(d)
        lows.append(float(lo))
        highs.append(float(hi) + 1.0 if d else float(hi))
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": list(zip(lows, highs, strict=True)),
    }
    ss = np.random.SeedSequence(seed)
    s_seed, a_seed = (int(v) + 1 for v in ss.generate_state(2))  # SALib ignores seed 0
    P = sample.sample(problem, n, calc_second_order=calc_second_order, seed=s_seed)
    for j, d in enumerate(disc):
        if d:
            P[:, j] = np.minimum(np.floor(P[:, j]), highs[j] - 1.0)
    Yv = np.asarray(func(P), dtype=float).reshape(-1)
    if Yv.shape[0] != P.shape[0]:
        raise ValueError(f"func returned {Yv.shape[0]} values for {P.shape[0]} points")
    if not np.isfinite(Yv).all():
        raise ValueError("func returned non-finite values")
    D = len(names)
    if np.ptp(Yv) == 0:
        S = {k: np.full(D, np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        if calc_second_order:
            S.update(S2=np.full((D, D), np.nan), S2_conf=np.full((D, D), np.nan))
    else:
        S = analyze.analyze(
            problem,
            Yv,
            calc_second_order=calc_second_order,
            num_resamples=num_resamples,
            conf_level=confidence,
            print_to_console=False,
            seed=a_seed,
        )
    out = xr.Dataset(
        {k: ("input", np.asarray(S[k], float)) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        coords={"input": names},
    )
    out["low"] = ("input", [float(bounds[k][0]) for k in names])
    out["high"] = ("input", [float(bounds[k][1]) for k in names])
    if calc_second_order:
        out = out.assign_coords(input_b=names)
        out["S2"] = (("input", "input_b"), np.asarray(S["S2"], float))
        out["S2_conf"] = (("input", "input_b"), np.asarray(S["S2_conf"], float))
    out["S1"].attrs["long_name"] = "first-order Sobol' index"
    out["ST"].attrs["long_name"] = "total-order Sobol' index"
    out["S1_conf"].attrs["long_name"] = f"half-width of the {confidence:.0%} interval of S1"
    out["ST_conf"].attrs["long_name"] = f"half-width of the {confidence:.0%} interval of ST"
    out.attrs = {
        "n": n,
        "evaluations": int(P.shape[0]),
        "seed": seed,
        "confidence": confidence,
        "outcome_mean": float(Yv.mean()),
        "outcome_variance": float(Yv.var()),
    }
    return out


def default_sobol_inputs(spec: Spec) -> dict[str, tuple[float, float]]:
    """Ranges for the main fixed (non-random) levers of a spec, for :func:`sobol_indices`.

    Cut probability and magnitude x [0.5, 1.5] (within [0, 1]), growth rates and
    enrollment drift +/- 0.01 and +/- 0.02, enrollment volatility and starting fund
    balance x [0.5, 1.5]. Values given as distributions are left alone (they already
    vary by draw).
    """
    out: dict[str, tuple[float, float]] = {}

    def num(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    cuts = spec.data.get("district", {}).get("cuts")
    if cuts:
        for key in ("probability", "magnitude"):
            v = cuts.get(key)
            if num(v) and v > 0:
                out[f"district.cuts.{key}"] = (0.5 * v, min(1.0, 1.5 * v))
    for name, g in spec.data.get("district", {}).get("growth", {}).items():
        path, v = f"district.growth.{name}", g
        if isinstance(g, Mapping):
            path, v = f"{path}.rate", g.get("rate")
        if num(v):
            out[path] = (v - 0.01, v + 0.01)
    for s in spec.data.get("schools", []):
        pre = f"schools.{s['name']}"
        en = s.get("enrollment", {})
        if num(en.get("drift", 0.0)):
            d = float(en.get("drift", 0.0))
            out[f"{pre}.enrollment.drift"] = (d - 0.02, d + 0.02)
        if num(en.get("volatility")) and en["volatility"] > 0:
            out[f"{pre}.enrollment.volatility"] = (0.5 * en["volatility"], 1.5 * en["volatility"])
        fb = s.get("fund_balance")
        if num(fb) and fb > 0:
            out[f"{pre}.fund_balance"] = (0.5 * fb, 1.5 * fb)
    return out


def sobol_indices(
    spec: Spec,
    inputs: Mapping[str, tuple[float, float]] | None = None,
    outcome: str | Callable[[xr.Dataset], float] = "solvent",
    *,
    n: int = 64,
    draws: int = 500,
    seed: int | None = None,
    school: str | None = None,
    year: int | None = None,
    calc_second_order: bool = False,
    confidence: float = 0.95,
    num_resamples: int = 200,
    progress: bool | None = None,
) -> xr.Dataset:
    """Sobol' indices of a run-level outcome with respect to config parameters.

    Each point of SALib's design is a variant ``spec.with_overrides({path: value})``
    simulated with ``draws`` draws and the same ``seed`` (common random numbers, so the
    differences between points come from the parameters, not from sampling noise).

    Parameters
    ----------
    spec : Spec
        The base model.
    inputs : mapping of config path to (low, high), optional
        E.g. ``{"district.cuts.probability": (0.05, 0.3),
        "schools.ref.enrollment.drift": (-0.03, 0.01)}``; two ints make a discrete
        input. Default :func:`default_sobol_inputs`.
    outcome : str or callable
        The mean over draws of a named outcome of :func:`outcome_array` at ``year``
        (default the horizon): ``"solvent"`` gives P(solvent through the horizon),
        ``"final_balance"`` the mean final balance; or ``f(ds) -> float``.
    n : int
        Base sample size (power of 2); ``n * (D + 2)`` simulations.
    draws : int
        Draws per simulation.
    seed : int, optional
        Seed of every simulation and of the design; default the config's.

    Returns
    -------
    xarray.Dataset
        As :func:`sobol_analyze`, plus attrs ``outcome``, ``draws``.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ranges = {"district.cuts.probability": (0.05, 0.3),
    ...           "schools.ref.enrollment.drift": (-0.03, 0.01)}
    >>> s = sobol_indices(spec, ranges, "final_balance", n=16, draws=200, seed=1)
    >>> s.sizes["input"], s.attrs["evaluations"]  # n * (D + 2) simulations
    (2, 64)
    """
    from tqdm import tqdm

    from sustainsim.run.core import simulate

    _salib()
    bounds = dict(default_sobol_inputs(spec) if inputs is None else inputs)
    seed = spec.config.simulation.seed if seed is None else int(seed)
    if callable(outcome):
        measure, label = outcome, getattr(outcome, "__name__", "outcome")
    else:
        label = f"P({outcome})" if outcome in ("solvent", "insolvent") else f"mean {outcome}"

        def measure(ds: xr.Dataset) -> float:
            y = outcome_array(ds, outcome, school=school, year=year)
            if "year" in y.dims:
                raise ValueError(f"outcome {outcome!r} is a path: pass year=FISCAL_YEAR")
            return float(y.mean())

    names = list(bounds)
    disc = [_discrete(*bounds[k]) for k in names]
    # fail early: every path and both ends of every range must make a valid config
    for end in (0, 1):
        spec.with_overrides({k: v[end] for k, v in bounds.items()})
    measure(simulate(spec, draws=min(draws, 16), seed=seed, progress=False))

    def func(P: np.ndarray) -> np.ndarray:
        out = np.empty(P.shape[0])
        # tqdm's disable=None: shown only when stderr is a terminal
        disable = None if progress is None else not progress
        with tqdm(total=P.shape[0], desc="sobol", unit="run", disable=disable) as bar:
            for i, row in enumerate(P):
                ov = {
                    k: int(v) if d else float(v) for k, v, d in zip(names, row, disc, strict=True)
                }
                ds = simulate(spec.with_overrides(ov), draws=draws, seed=seed, progress=False)
                out[i] = measure(ds)
                bar.update()
        return out

    res = sobol_analyze(
        func,
        bounds,
        n=n,
        seed=seed,
        calc_second_order=calc_second_order,
        confidence=confidence,
        num_resamples=num_resamples,
    )
    res.attrs.update(
        {
            "outcome": label,
            "draws": draws,
            "school": school or "",
            "bounds": json.dumps({k: list(v) for k, v in bounds.items()}),
        }
    )
    return res
