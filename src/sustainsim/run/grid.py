"""Parameter sweeps under common random numbers.

:func:`sweep` runs every point of a grid of config overrides (the cartesian product
of the values given for each dotted config path) with the **same seed**, so all
points share their draws: a difference between two points is the effect of the
parameter, not Monte Carlo noise, and monotone effects are monotone draw by draw
(e.g. raising the cut probability can only turn solvent draws insolvent, since the
cut-event uniforms are shared). The result is one summary Dataset with one
dimension per swept path.

Examples
--------
>>> import sustainsim
>>> from sustainsim.run.grid import parse_grid, sweep
>>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
>>> grid = parse_grid(["district.cuts.probability=0.1,0.3"])
>>> res = sweep(spec, grid, draws=2_000, seed=1, progress=False)
>>> res.probability.isel(year=-1).sel(school="ref").round(3).values
array([0.037, 0.004])
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Unpack

import numpy as np
import xarray as xr
from tqdm import tqdm

from sustainsim._version import __version__
from sustainsim.config import ConfigError
from sustainsim.config.inputs import input_for
from sustainsim.config.spec import Spec
from sustainsim.metrics.solvency import balance_quantiles, entity_balance, p_solvent
from sustainsim.run.core import estimate_memory, simulate
from sustainsim.run.plan import MemoryBudgetError, RunOptions, RunPlan, memory_budget, plan_run

__all__ = [
    "check_sweep",
    "estimate_sweep_memory",
    "parse_grid",
    "parse_value",
    "plan_sweep",
    "sweep",
    "swept_paths",
]

#: paths a sweep may not vary: they change the draws (seed) or the shape of the results
FORBIDDEN_PATHS = {
    "simulation.seed": "a sweep runs every point with the same seed (use --seed / seed=)",
    "simulation.draws": "every point runs the same draws (use --draws / draws=)",
    "simulation.years": "the horizon must be the same for every point",
    "simulation.first_year": "the fiscal years must be the same for every point",
    "simulation.sampler": "every point shares the base config's draws (run separately)",
}
#: path prefixes a sweep may not vary (every point uses the base config's uniform source)
FORBIDDEN_PREFIXES = {
    "correlations": "every point shares the base config's correlated draws (run separately)",
    "scenarios": "sweep the base config's values; scenarios are compared with `compare`",
}
_PROB_VARS = ("probability", "se", "lower", "upper")


# --- grids ---------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """A grid value from text: int, float, ``true``/``false``, else the string itself.

    Examples
    --------
    >>> [parse_value(x) for x in ["3", "0.25", "1e5", "1_000", "true", "school"]]
    [3, 0.25, 100000.0, 1000, True, 'school']
    """
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        x = float(t)
    except ValueError:
        pass
    else:
        if math.isfinite(x):
            return x
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    return t


def parse_grid(items: Sequence[str]) -> dict[str, list]:
    """Parse ``PATH=V1,V2,...`` items (the CLI's ``--grid``) into a grid dict.

    Raises
    ------
    ConfigError
        Naming the bad item: no ``=``, an empty path or value, a path given twice,
        a repeated value.

    Examples
    --------
    >>> parse_grid(["district.cuts.probability=0.1,0.2", "schools.ref.enrollment.drift=-0.02,0"])
    {'district.cuts.probability': [0.1, 0.2], 'schools.ref.enrollment.drift': [-0.02, 0]}
    """
    if isinstance(items, str):
        items = [items]
    grid: dict[str, list] = {}
    errors = []
    for item in items:
        path, sep, rest = str(item).partition("=")
        path = path.strip()
        if not sep:
            errors.append(f"--grid {item!r}: expected PATH=V1,V2,... (no '=' found)")
            continue
        if not path or any(not p for p in path.split(".")):
            errors.append(f"--grid {item!r}: empty or malformed config path {path!r}")
            continue
        raw = rest.split(",")
        if any(not r.strip() for r in raw):
            errors.append(f"--grid {item!r}: empty value in the list {rest!r}")
            continue
        if path in grid:
            errors.append(f"--grid {item!r}: path {path!r} is given twice; list all values once")
            continue
        grid[path] = [parse_value(r) for r in raw]
    if errors:
        raise ConfigError(errors)
    _check_grid(grid)
    return grid


def _check_grid(grid: Mapping[str, Sequence]) -> None:
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigError(["sweep grid: give at least one PATH=V1,V2,... (got none)"])
    errors = []
    for path, values in grid.items():
        if not isinstance(path, str) or not path:
            errors.append(f"sweep grid: config paths must be non-empty strings (got {path!r})")
            continue
        why = FORBIDDEN_PATHS.get(path) or FORBIDDEN_PREFIXES.get(path.split(".")[0])
        if why:
            errors.append(f"sweep grid: {path} cannot be swept: {why}")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            errors.append(f"sweep grid: {path}: expected a list of values (got {values!r})")
            continue
        if len(values) == 0:
            errors.append(f"sweep grid: {path}: no values")
            continue
        keys = [json.dumps(v, sort_keys=True, default=str) for v in values]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            errors.append(f"sweep grid: {path}: repeated value(s) {', '.join(dup)}")
    if errors:
        raise ConfigError(errors)


def swept_paths(spec: Spec, grid: Mapping[str, Sequence]) -> tuple[dict[str, Any], dict]:
    """The grid by config path, and each path's dim: its name and attrs.

    A grid key is a config path or the canonical name of an uncertain input
    (``spec.inputs()``), which sweeps the input's ``path``. The dim of a path that sets
    an uncertain input is named by the input's canonical name (``district.cuts.event``
    for ``district.cuts.probability``), with attrs ``path``, ``input`` and ``label``;
    another path names its dim itself.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> paths, dims = swept_paths(spec, {"district.cuts.event": [0.1, 0.3]})
    >>> paths, dims["district.cuts.probability"][0]
    ({'district.cuts.probability': [0.1, 0.3]}, 'district.cuts.event')
    """
    paths: dict[str, Any] = {}
    dims: dict[str, tuple[str, dict[str, str]]] = {}
    errors = []
    for key, values in grid.items():
        row = input_for(spec.config, key) if isinstance(key, str) else None
        path = row.path if row is not None else key
        if path in paths:
            errors.append(f"sweep grid: {key} and another key both set {path}; give it once")
            continue
        paths[path] = values
        if row is None:
            dims[path] = (path, {"long_name": f"swept config value {path}", "path": path})
        else:
            what = path.rsplit(".", 1)[-1]
            label = row.label if path == row.name else f"{row.label} ({what.replace('_', ' ')})"
            attrs = {"long_name": f"swept config value {path}", "path": path, "input": row.name}
            dims[path] = (row.name, {**attrs, "label": label})
    if errors:
        raise ConfigError(errors)
    return paths, dims


def _points(grid: Mapping[str, Sequence]) -> Iterator[dict[str, Any]]:
    """The grid's points, cartesian product, last path fastest."""
    paths = list(grid)
    for values in itertools.product(*(list(grid[p]) for p in paths)):
        yield dict(zip(paths, values, strict=True))


def _n_points(grid: Mapping[str, Sequence]) -> int:
    return math.prod(len(v) for v in grid.values())


def _validate_points(spec: Spec, grid: Mapping[str, Sequence], keep: bool) -> list:
    """Every point validated (``(point, spec)`` kept only with ``keep``); ConfigError lists all."""
    plan = []
    errors: dict[str, str] = {}  # problem -> the first point showing it
    for point in _points(grid):
        try:
            pspec = spec.with_overrides(point)
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            for e in exc.errors:
                errors.setdefault(e, shown)
            if len(errors) >= 20:
                break
            continue
        if keep:
            plan.append((point, pspec))
    if errors:
        raise ConfigError(
            [f"{e} (sweep point {shown})" for e, shown in errors.items()], source=spec.source
        )
    return plan


def plan_sweep(spec: Spec, grid: Mapping[str, Sequence]) -> list[tuple[dict[str, Any], Spec]]:
    """Every grid point (cartesian product, last path fastest) with its validated spec.

    Every spec is kept (about 10 kB each): for a large grid, :func:`check_sweep` validates
    the points one at a time in constant memory.

    Raises
    ------
    ConfigError
        For a bad path or value, naming the point and the field; nothing has run.
    """
    _check_grid(grid)
    return _validate_points(spec, swept_paths(spec, grid)[0], keep=True)


#: bytes a sweep keeps per point besides its numbers (the arrays' headers, the dict)
POINT_OVERHEAD = 4096


def estimate_sweep_memory(plan: RunPlan, grid: Mapping[str, Sequence], keep_draws: bool) -> int:
    """The bytes a sweep of ``grid`` with ``plan`` will need at its peak, about.

    One point's run (:func:`~sustainsim.run.core.estimate_memory`) plus every point's
    results, twice (the list of points, then the stacked Dataset): P(solvent) with its
    interval by year and entity, the final-balance quantiles and mean, and with
    ``keep_draws`` every draw's fund balance. Validating the points takes constant memory.
    """
    spec = plan.spec
    years, schools = spec.years, len(spec.config.schools)
    entities = schools + 1
    per_point = 8 * (len(_PROB_VARS) * years * entities + 2 * len(plan.quantiles) * entities)
    per_point += 8 * entities + 64 + POINT_OVERHEAD
    if keep_draws:
        per_point += 8 * plan.draws * years * schools
    return estimate_memory(plan) + 2 * _n_points(grid) * per_point


def check_sweep(
    spec: Spec | RunPlan,
    grid: Mapping[str, Sequence],
    *,
    keep_draws: bool = False,
    **options: Unpack[RunOptions],
) -> int:
    """Check a sweep before it runs: the grid, its memory budget, then every point.

    The memory check comes first (:func:`estimate_sweep_memory` against the plan's
    ``max_memory``, default half of the available memory), then each point is validated
    and dropped, so a huge grid is refused before anything is built. Returns the number
    of points.

    Raises
    ------
    ConfigError
        For a bad path or value, naming the point and the field.
    MemoryBudgetError
        When the sweep would pass the memory budget.
    """
    base = spec.spec if isinstance(spec, RunPlan) else spec
    _check_grid(grid)
    grid = swept_paths(base, grid)[0]
    _check_grid(grid)
    plan = plan_run(spec, **options)
    if keep_draws and plan.mode == "summary":
        raise ValueError(
            "keep_draws needs per-draw results; it cannot be combined with mode='summary'"
        )
    need = estimate_sweep_memory(plan, grid, keep_draws)
    budget = memory_budget(plan.max_memory)
    if need > budget[0]:
        advice = "sweep fewer points" + (
            "" if plan.mode == "summary" else " or use summary mode (--summary / mode='summary')"
        )
        if keep_draws:
            advice += ", drop keep_draws (--keep-draws)"
        what = f"a sweep of {_n_points(grid):,} points x {plan.draws:,} draws"
        raise MemoryBudgetError(what, need, budget, advice)
    _validate_points(base, grid, keep=False)
    return _n_points(grid)


def _coord(values: Sequence) -> np.ndarray:
    if all(isinstance(v, bool | int | float | np.number | str) for v in values):
        kinds = {isinstance(v, str) for v in values}
        if len(kinds) == 1:
            return np.asarray(values)
    return np.asarray([json.dumps(v, sort_keys=True, default=str) for v in values])


# --- running -------------------------------------------------------------------------------


def _point_summary(plan: RunPlan, keep_draws: bool) -> xr.Dataset:
    """P(solvent), final-balance quantiles and mean of one point's run."""
    if plan.mode == "summary":
        s = simulate(plan)
        out = s[list(_PROB_VARS)]
        last = {"year": -1}
        out["final_balance_quantile"] = s["fund_balance_quantile"].isel(last, drop=True)
        out["final_balance_quantile_bound"] = s["fund_balance_quantile_bound"].isel(last, drop=True)
        out["final_balance_mean"] = s["fund_balance_mean"].isel(last, drop=True)
        return out
    ds = simulate(plan)
    out = p_solvent(ds, plan.confidence)[list(_PROB_VARS)]
    fq = balance_quantiles(ds, list(plan.quantiles)).isel(year=-1, drop=True)
    out["final_balance_quantile"] = fq.transpose("quantile", "school")
    out["final_balance_mean"] = entity_balance(ds).isel(year=-1, drop=True).mean("draw")
    if keep_draws:
        out["fund_balance"] = ds["fund_balance"]
    return out


def sweep(
    spec: Spec | RunPlan,
    grid: Mapping[str, Sequence],
    *,
    keep_draws: bool = False,
    **options: Unpack[RunOptions],
) -> xr.Dataset:
    """Run every point of a grid of overrides with common random numbers.

    Parameters
    ----------
    spec : Spec or RunPlan
        The base config (or a plan of it).
    grid : mapping of str to list
        Dotted config path (or an input's canonical name, which sweeps its path) ->
        values (see :meth:`Spec.with_overrides`); the sweep runs
        the cartesian product, e.g. ``{"district.cuts.probability": [0.1, 0.2],
        "schools.ref.enrollment.drift": [-0.02, -0.01, 0.0]}``.
    keep_draws : bool
        Also keep the per-draw ``fund_balance`` of every point (memory: points x draws
        x years x schools x 8 bytes). Not with ``mode="summary"``.
    **options
        As :func:`~sustainsim.run.plan.plan_run`, the same for every point: ``draws``
        and ``seed`` (default the base config's), ``mode="summary"`` (bounded memory;
        probabilities exact, quantiles within ``final_balance_quantile_bound``),
        ``quantiles`` of the final balance, ``confidence``, ``progress`` (over points
        and draws), ``scheduler``, ... Every point draws from the base config's source.

    Returns
    -------
    xarray.Dataset
        One dim per swept path, coords the values: named by the canonical name of the
        uncertain input the path sets (attrs ``path``, ``input``, ``label``), else by the
        path (see :func:`swept_paths`); then
        ``probability``, ``se``, ``lower``, ``upper`` of P(solvent through year) over
        ``(year, school)``; ``final_balance_quantile`` over ``(quantile, school)``;
        ``final_balance_mean`` over ``school``; ``config_sha256`` per point;
        ``fund_balance`` over ``(draw, year, school)`` with ``keep_draws``.

    Raises
    ------
    ConfigError
        For a bad path or value, before anything runs.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> res = sweep(spec, {"district.cuts.probability": [0.1, 0.3]}, draws=2_000, seed=1)
    >>> res.probability.sel(school="ref").isel(year=-1).round(3).values
    array([0.037, 0.004])
    """
    base = spec.spec if isinstance(spec, RunPlan) else spec
    n_points = check_sweep(spec, grid, keep_draws=keep_draws, **options)
    grid, dims = swept_paths(base, grid)
    # one uniform source for every point, the base config's (as simulate_scenarios):
    # common random numbers also for Sobol designs and correlated inputs
    plan = plan_run(spec, **options)
    progress = plan.progress
    disable = (None if n_points >= 2 else True) if progress is None else not progress
    first: xr.Dataset | None = None
    results: list[dict[str, np.ndarray]] = []
    shas: list[str] = []
    for point in tqdm(_points(grid), total=n_points, desc="sweep", unit="point", disable=disable):
        pspec = base.with_overrides(point)
        res = _point_summary(plan.for_spec(pspec), keep_draws)
        if first is None:
            first = res
        else:
            _check_same_coords(first, res, point)
        results.append({str(k): v.values for k, v in res.data_vars.items()})
        shas.append(pspec.sha256)
    if first is None:  # pragma: no cover - a checked grid has at least one point
        raise ConfigError(["sweep grid: no points"])
    return (
        _stack(first, results, shas, grid, plan)
        .rename({p: name for p, (name, _) in dims.items() if name != p})
        .pipe(_dim_attrs, dims)
    )


def _dim_attrs(out: xr.Dataset, dims: Mapping[str, tuple[str, dict[str, str]]]) -> xr.Dataset:
    for name, attrs in dims.values():
        out[name].attrs.update(attrs)
    return out


def _check_same_coords(first: xr.Dataset, res: xr.Dataset, point: dict[str, Any]) -> None:
    for dim in first.dims:
        if not np.array_equal(first[dim].values, res[dim].values):
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise ConfigError(
                [
                    f"sweep point {shown} changes the {dim!r} coordinate; "
                    "a sweep must keep the schools and years fixed"
                ]
            )


def _stack(
    first: xr.Dataset,
    results: list[dict[str, np.ndarray]],
    shas: list[str],
    grid: Mapping[str, Sequence],
    plan: RunPlan,
):
    """The points' results stacked along one dim per swept path, with provenance."""
    spec = plan.spec
    paths = list(grid)
    shape = tuple(len(grid[p]) for p in paths)
    coords = {p: _coord(list(grid[p])) for p in paths}
    data_vars = {}
    for name, da in first.data_vars.items():
        stacked = np.stack([r.pop(str(name)) for r in results]).reshape(*shape, *da.shape)
        data_vars[name] = xr.DataArray(stacked, dims=(*paths, *da.dims), attrs=da.attrs)
    data_vars["config_sha256"] = xr.DataArray(
        np.asarray(shas).reshape(shape),
        dims=paths,
        attrs={"long_name": "sha256 of each point's effective config"},
    )
    out = xr.Dataset(data_vars, coords={**coords, **{k: v for k, v in first.coords.items()}})
    if "final_balance_quantile" in out:
        out["final_balance_quantile"].attrs.update(
            {"units": "USD", "long_name": "quantiles of the fund balance in the last year"}
        )
    out["final_balance_mean"].attrs.update(
        {"units": "USD", "long_name": "mean fund balance in the last year"}
    )
    sim = spec.config.simulation
    out.attrs.update(
        {
            "title": "sustainsim sweep",
            "sustainsim_version": __version__,
            "seed": int(plan.seed),
            "draws": int(plan.draws),
            "sampler": plan.source_name,
            "common_random_numbers": "every point ran with the same seed and draws",
            "summary_mode": "streaming" if plan.mode == "summary" else "full",
            "confidence": plan.confidence,
            "first_year": int(sim.first_year),
            "years": int(sim.years),
            "grid": json.dumps({p: list(grid[p]) for p in paths}, default=str),
            "config_source": spec.source or "",
            "config_sha256": spec.sha256,
            "config_overrides": json.dumps(dict(spec.overrides), sort_keys=True, default=str),
            "config_text": spec.text,
        }
    )
    return out


def probabilities_frame(ds: xr.Dataset):
    """The sweep's P(solvent) as a flat table: one row per point, year and school."""
    return ds[list(_PROB_VARS)].to_dataframe().reset_index()


__all__ += ["probabilities_frame"]


# --- CLI -------------------------------------------------------------------------------------
