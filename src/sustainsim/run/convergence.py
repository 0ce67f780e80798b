"""Convergence control: add draws until the key probabilities are precise enough.

:func:`simulate_until` runs draws ``[0, n1)``, then ``[n1, n2)``, ... with one source
(so the first draws never change and the result equals ``simulate(spec, draws=n)``
with the same source), and after each step computes the key probabilities with
their standard errors. It stops when every standard error is at most ``target_se``
(and/or at most ``target_rel`` times ``min(p, 1 - p)``), or at ``max_draws``.

The standard error of an estimated probability from ``n`` independent draws is
``sqrt(p (1 - p) / n)``, so the draws needed for a target are predictable: about
``p (1 - p) / target_se**2`` (largest where ``p`` is nearest 0.5), or generally
``n (se / target)**2`` from the current ``se``. Each step jumps to that prediction
(times a safety factor, at most ``max_growth`` times the current draws) instead of
crawling, so a run typically takes 2-4 steps.

Samplers: plain Monte Carlo (the default) is what the standard error describes.
Sobol sequences are extensible, so they work too; their true error is usually
smaller than the binomial standard error used here, which makes the stop
conservative (but, without independent replicates, not guaranteed). Latin
hypercube designs span a fixed number of draws and cannot be extended: rejected.

Examples
--------
>>> import sustainsim
>>> from sustainsim.run.convergence import simulate_until
>>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
>>> ds, info = simulate_until(spec, target_se=0.01, seed=1, progress=False)
>>> info.converged, info.draws, round(info.max_se, 4)
(True, 2660, 0.0096)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Unpack

import numpy as np
import xarray as xr

from sustainsim.config.spec import Spec
from sustainsim.metrics.solvency import p_solvent
from sustainsim.run.chunk import assemble
from sustainsim.run.core import gather, progress_bar
from sustainsim.run.plan import RunOptions, RunPlan, plan_run

__all__ = [
    "DEFAULT_MAX_DRAWS",
    "ConvergenceInfo",
    "draws_for_se",
    "simulate_until",
]

#: default cap on draws: ~400 MB of results for a one-school, ten-year model
DEFAULT_MAX_DRAWS = 1_000_000

KeyFn = Callable[[xr.Dataset], xr.Dataset]


def draws_for_se(p, se: float) -> int:
    """Draws for a binomial standard error ``se`` at probability ``p``: ``p (1 - p) / se**2``.

    With several probabilities, the largest need (``p`` nearest 0.5) counts.

    Examples
    --------
    >>> draws_for_se(0.5, 0.002)
    62500
    """
    if not se > 0:
        raise ValueError(f"se must be > 0 (got {se})")
    p = np.asarray(p, dtype=float)
    return int(math.ceil(float(np.max(p * (1.0 - p))) / se**2 - 1e-9))


@dataclass
class ConvergenceInfo:
    """How :func:`simulate_until` stopped.

    Attributes
    ----------
    converged : bool
        Whether every target was met (False: stopped at ``max_draws``).
    stopped_by : {"target", "max_draws"}
    draws : int
        Draws used.
    max_se : float
        The largest standard error of the key probabilities at the end.
    max_rel : float
        The largest ``se / min(p, 1 - p)`` over entries with ``0 < p < 1`` (NaN if none).
    target_se, target_rel : float or None
    max_draws : int
    worst : dict
        Coordinates of the binding entry (largest standard error relative to its target).
    trajectory : xarray.Dataset
        ``probability`` and ``se`` over ``checkpoint`` (coordinate ``draws``) and the
        key's own dims.
    sampler : str
    seed : int
    """

    converged: bool
    stopped_by: str
    draws: int
    max_se: float
    max_rel: float
    target_se: float | None
    target_rel: float | None
    max_draws: int
    worst: dict[str, Any]
    trajectory: xr.Dataset
    sampler: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """Plain Python data (JSON-able), with the trajectory of the binding entry."""
        w = self.trajectory.sel(self.worst) if self.worst else self.trajectory
        return {
            "converged": self.converged,
            "stopped_by": self.stopped_by,
            "draws": self.draws,
            "max_se": self.max_se,
            "max_rel": None if math.isnan(self.max_rel) else self.max_rel,
            "target_se": self.target_se,
            "target_rel": self.target_rel,
            "max_draws": self.max_draws,
            "worst": self.worst,
            "sampler": self.sampler,
            "seed": self.seed,
            "trajectory": {
                "draws": [int(x) for x in self.trajectory["draws"].values],
                "probability": [float(x) for x in np.ravel(w["probability"].values)],
                "se": [float(x) for x in np.ravel(w["se"].values)],
            },
        }


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _check_target(name: str, v: float | None) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a positive number (got {v!r})")
    return float(v)


def _assess(
    res: xr.Dataset, n: int, target_se: float | None, target_rel: float | None
) -> tuple[bool, int, float, float, dict[str, Any]]:
    """Whether targets are met, the draws predicted to meet them, max SE, max rel, binding entry."""
    p = np.asarray(res["probability"].values, dtype=float)
    se = np.asarray(res["se"].values, dtype=float)
    m = np.minimum(p, 1.0 - p)
    ratio = np.zeros(se.shape)
    if target_se is not None:
        ratio = np.maximum(ratio, se / target_se)
    if target_rel is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_ratio = np.where(m > 0, se / (target_rel * np.where(m > 0, m, 1.0)), 0.0)
        ratio = np.maximum(ratio, rel_ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(m > 0, se / np.where(m > 0, m, 1.0), np.nan)
    max_rel = float(np.nanmax(rel)) if np.any(m > 0) else math.nan
    worst_i = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.size else ()
    worst = {
        str(d): _plain(res[d].values[i])
        for d, i in zip(res["probability"].dims, worst_i, strict=True)
        if d in res.coords
    }
    met = bool(np.all(ratio <= 1.0))
    need = int(math.ceil(n * float(np.max(ratio, initial=0.0)) ** 2))
    return met, need, float(np.max(se, initial=0.0)), max_rel, worst


def _next_draws(n: int, need: int, plan: RunPlan, safety: float, max_growth: float) -> int:
    nxt = max(int(math.ceil(need * safety)), n + max(1, n // 10))
    nxt = min(nxt, int(n * max_growth), plan.draws)
    if plan.source_name.startswith("sobol"):
        nxt = min(1 << (nxt - 1).bit_length(), plan.draws)
    return max(nxt, n + 1)


def simulate_until(
    spec: Spec | RunPlan,
    *,
    target_se: float | None = None,
    target_rel: float | None = None,
    max_draws: int = DEFAULT_MAX_DRAWS,
    min_draws: int = 1_000,
    key: KeyFn = p_solvent,
    safety: float = 1.1,
    max_growth: float = 8.0,
    **options: Unpack[RunOptions],
) -> tuple[xr.Dataset, ConvergenceInfo]:
    """Simulate with as many draws as the key probabilities need for the target precision.

    Parameters
    ----------
    spec : Spec or RunPlan
        From :func:`sustainsim.load_config`; a plan's draws are the cap ``max_draws``.
    target_se : float, optional
        Largest allowed standard error of every key probability (e.g. 0.002).
    target_rel : float, optional
        Largest allowed ``se / min(p, 1 - p)`` of every key probability with
        ``0 < p < 1`` (precision of the rarer outcome). Give at least one target.
    max_draws : int
        Stop here even if a target is not met.
    min_draws : int
        Draws of the first step (capped at ``max_draws``).
    key : callable
        ``Dataset -> Dataset`` with ``probability`` and ``se``; default
        :func:`sustainsim.metrics.p_solvent` (solvent through every year, every school
        and the district).
    safety : float
        Factor on the predicted draws (>= 1).
    max_growth : float
        Largest factor by which one step multiplies the draws (> 1).
    **options
        As :func:`~sustainsim.run.plan.plan_run` (``seed``, ``chunk_size``, ``lines``,
        ``progress``, ``scheduler``, ...). ``sampler`` must be ``"monte_carlo"`` or
        ``"sobol"`` and a ``source`` extendable (not a Latin hypercube); the config's
        correlations are applied.

    Returns
    -------
    (xarray.Dataset, ConvergenceInfo)
        The results of all draws used (as :func:`sustainsim.simulate` would give them,
        plus ``convergence_*`` attrs) and how the run stopped.
    """
    if target_se is None and target_rel is None:
        raise ValueError("give target_se and/or target_rel")
    target_se = _check_target("target_se", target_se)
    target_rel = _check_target("target_rel", target_rel)
    if not safety >= 1.0:
        raise ValueError(f"safety must be >= 1 (got {safety})")
    if not max_growth > 1.0:
        raise ValueError(f"max_growth must be > 1 (got {max_growth})")
    if isinstance(spec, RunPlan):
        plan = spec if spec.open_ended and not options else spec.replace(open_ended=True, **options)
    else:
        options["draws"] = max_draws
        plan = plan_run(spec, open_ended=True, **options)
    if plan.mode != "full":
        raise ValueError("a precision target needs per-draw results; use mode='full'")
    if isinstance(min_draws, bool) or not isinstance(min_draws, int) or min_draws < 1:
        raise ValueError(f"min_draws must be a whole number >= 1 (got {min_draws!r})")
    max_draws, sampler_name = plan.draws, plan.source_name

    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, np.ndarray] = {}
    scalar_attrs: dict[str, dict[str, str]] = {}
    n, target_n = 0, min(min_draws, max_draws)
    if sampler_name.startswith("sobol"):
        target_n = min(1 << (target_n - 1).bit_length(), max_draws)
    checkpoints: list[xr.Dataset] = []
    with progress_bar(plan, "simulate", total=target_n) as bar:
        while True:
            new, new_scalars, new_attrs = gather(plan, bar, n, target_n)
            arrays = {
                k: np.concatenate([arrays[k], v], axis=-1) if n else v for k, v in new.items()
            }
            scalars = {
                k: np.concatenate([scalars[k], v]) if n else v for k, v in new_scalars.items()
            }
            scalar_attrs.update(new_attrs)
            n = target_n
            ds = assemble(
                plan.spec, arrays, scalars, scalar_attrs, seed=plan.seed, sampler=sampler_name
            )
            kres = key(ds)
            checkpoints.append(kres[["probability", "se"]].assign_coords(draws=n))
            met, need, max_se, max_rel, worst = _assess(kres, n, target_se, target_rel)
            if met or n >= max_draws:
                break
            target_n = _next_draws(n, need, plan, safety, max_growth)
            bar.total = target_n
            bar.refresh()

    traj = xr.concat(checkpoints, dim="checkpoint")
    info = ConvergenceInfo(
        converged=met,
        stopped_by="target" if met else "max_draws",
        draws=n,
        max_se=max_se,
        max_rel=max_rel,
        target_se=target_se,
        target_rel=target_rel,
        max_draws=max_draws,
        worst=worst,
        trajectory=traj,
        sampler=sampler_name,
        seed=plan.seed,
    )
    ds.attrs["convergence_converged"] = int(met)
    ds.attrs["convergence_max_se"] = max_se
    ds.attrs["convergence_max_draws"] = max_draws
    if target_se is not None:
        ds.attrs["convergence_target_se"] = target_se
    if target_rel is not None:
        ds.attrs["convergence_target_rel"] = target_rel
    return ds, info
