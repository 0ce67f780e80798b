"""Run a spec: sample inputs and step the engine chunk by chunk, return a Dataset.

``simulate(spec)`` is the one entry point that takes a seed. Draws are processed in
chunks (bounded memory for the engine's temporaries); the numbers of a draw do not
depend on the chunk it falls in (see :mod:`sustainsim.sampling`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr
from tqdm import tqdm

from sustainsim.config.lines import line_category
from sustainsim.config.spec import Spec
from sustainsim.model import engine
from sustainsim.model.inputs import sample_inputs
from sustainsim.model.walk import school_lines
from sustainsim.results import build_dataset, provenance
from sustainsim.sampling.streams import ChunkDraws, Median, UniformSource

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "allocate_outputs",
    "ChunkResult",
    "assemble",
    "central_case",
    "has_district_totals",
    "output_names",
    "resolve_run_args",
    "run_attrs",
    "run_chunk",
    "simulate",
]

#: draws per chunk: keeps the engine's temporaries in cache-friendly sizes
DEFAULT_CHUNK_SIZE = 32_768


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer (got {value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum} (got {value})")
    return int(value)


def _school_lines(spec: Spec, part: str):
    """Every config line the schools run, in order (:func:`sustainsim.model.walk.school_lines`)."""
    cfg = spec.config
    for s in cfg.schools:
        for placed in school_lines(cfg, s, part):
            yield placed.line


def _line_names(spec: Spec, part: str) -> list[str]:
    """The schools' line names, each once, in the order first run."""
    return list(dict.fromkeys(line.name for line in _school_lines(spec, part)))


def _line_meta(spec: Spec, part: str) -> tuple[list[str], list[str]]:
    """Category and kind of each line name (as first defined)."""
    meta: dict[str, tuple[str, str]] = {}
    for line in _school_lines(spec, part):
        meta.setdefault(line.name, (line_category(part, line), line.kind))
    return [c for c, _ in meta.values()], [k for _, k in meta.values()]


def output_names(spec: Spec) -> list[str]:
    """The engine outputs this spec produces: the core five plus what its lines need."""
    cfg = spec.config
    kinds = {(p, ln.kind) for p in ("revenue", "cost") for ln in _school_lines(spec, p)}
    names = list(engine.OUTPUTS)
    if ("revenue", "grant") in kinds:
        names.append("temporary_revenue")
    if ("cost", "one_time") in kinds:
        names.append("one_time_cost")
    if cfg.district.response is not None or any(sc.response for sc in cfg.schools):
        names.append("trimmed")
    return names


def has_district_totals(spec: Spec) -> bool:
    """District totals are kept when there are several schools or district money."""
    d = spec.config.district
    own = d.revenue or d.cost or not (isinstance(d.fund_balance, float) and d.fund_balance == 0)
    return len(spec.config.schools) > 1 or bool(own)


def allocate_outputs(spec: Spec, n: int, lines: bool) -> dict[str, np.ndarray]:
    """The run's result buffers for ``n`` draws: every engine output the spec needs."""
    T, S = spec.years, len(spec.config.schools)
    out = {k: np.empty((T, S, n)) for k in output_names(spec)}
    if has_district_totals(spec):
        for k in engine.DISTRICT_OUTPUTS:
            out[k] = np.empty((T, n))
        d = spec.config.district
        own = {(p, ln.kind) for p in ("revenue", "cost") for ln in getattr(d, p)}
        if "temporary_revenue" in out or ("revenue", "grant") in own:
            out["district_temporary_revenue"] = np.empty((T, n))
        if "one_time_cost" in out or ("cost", "one_time") in own:
            out["district_one_time_cost"] = np.empty((T, n))
    if lines:
        out["revenue_lines"] = np.zeros((T, S, len(_line_names(spec, "revenue")), n))
        out["cost_lines"] = np.zeros((T, S, len(_line_names(spec, "cost")), n))
    out["initial_fund_balance"] = np.empty((S, n))
    return out


@dataclass
class ChunkResult:
    """The engine's output for draws ``[start, stop)``: year-major arrays and scalar inputs.

    ``arrays`` maps variable names to ``(year, school, n)`` arrays (``(year, school,
    line, n)`` for line breakdowns, ``(school, n)`` for ``initial_fund_balance``).
    """

    start: int
    stop: int
    arrays: dict[str, np.ndarray]
    scalars: dict[str, np.ndarray]
    scalar_attrs: dict[str, dict[str, str]]


def run_chunk(
    spec: Spec,
    source: UniformSource,
    start: int,
    stop: int,
    *,
    lines: bool = False,
    out: dict[str, np.ndarray] | None = None,
) -> ChunkResult:
    """Sample and run draws ``[start, stop)``; the unit of work of every runner.

    A chunk's numbers depend only on the spec, the source (seed) and the draw
    indices, never on how the run is split, so serial, chunked, multi-process and
    distributed runs agree exactly.

    Parameters
    ----------
    out : dict, optional
        Arrays (views into the run's result buffers) to write into; allocated if not given.
    """
    if out is None:
        out = allocate_outputs(spec, stop - start, lines)
    rev_index = cost_index = None
    if lines:
        rev_index = {k: i for i, k in enumerate(_line_names(spec, "revenue"))}
        cost_index = {k: i for i, k in enumerate(_line_names(spec, "cost"))}
    inp = sample_inputs(spec.config, ChunkDraws(source, start, stop))
    engine.run(inp, out, revenue_lines=rev_index, cost_lines=cost_index)
    for j, sch in enumerate(inp.schools):
        out["initial_fund_balance"][j] = sch.fund_balance
    return ChunkResult(start, stop, out, inp.scalars, inp.scalar_attrs)


def run_attrs(spec: Spec, *, seed: int, draws: int, sampler: str) -> dict[str, object]:
    """Dataset attrs of a run of ``spec``: provenance plus the model facts metrics need."""
    sim = spec.config.simulation
    attrs = provenance(
        text=spec.text,
        sha256=spec.sha256,
        source=spec.source,
        overrides=spec.overrides,
        seed=seed,
        draws=draws,
        sampler=sampler,
        first_year=sim.first_year,
        years=sim.years,
    )
    reserve = spec.config.district.reserve
    attrs["reserve_months"] = float(reserve.months) if reserve is not None else 0.0
    return attrs


def assemble(
    spec: Spec,
    arrays: dict[str, np.ndarray],
    scalars: dict[str, np.ndarray],
    scalar_attrs: dict[str, dict[str, str]],
    *,
    seed: int,
    sampler: str,
) -> xr.Dataset:
    """Wrap full-run arrays (draw axis last) into the results Dataset with provenance."""
    sim = spec.config.simulation
    attrs = run_attrs(spec, seed=seed, draws=arrays["fund_balance"].shape[-1], sampler=sampler)
    lines = "revenue_lines" in arrays
    return build_dataset(
        arrays,
        scalars,
        scalar_attrs,
        years=np.arange(sim.first_year, sim.first_year + sim.years),
        schools=spec.school_names,
        revenue_lines=_line_names(spec, "revenue") if lines else None,
        cost_lines=_line_names(spec, "cost") if lines else None,
        line_meta=(_line_meta(spec, "revenue"), _line_meta(spec, "cost")) if lines else None,
        attrs=attrs,
    )


def resolve_run_args(
    spec: Spec, draws: int | None, seed: int | None, chunk_size: int | None
) -> tuple[int, int, int]:
    """Draws, seed and chunk size: the arguments, else the config's, else defaults."""
    sim = spec.config.simulation
    n = _check_int("draws", sim.draws if draws is None else draws, 1)
    seed = _check_int("seed", sim.seed if seed is None else seed, 0)
    chunk = _check_int("chunk_size", chunk_size or sim.chunk_size or DEFAULT_CHUNK_SIZE, 1)
    return n, seed, chunk


def simulate(
    spec: Spec,
    *,
    draws: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    lines: bool = False,
    progress: bool | None = None,
    source: UniformSource | None = None,
) -> xr.Dataset:
    """Simulate revenue, cost and fund-balance paths for every draw.

    Parameters
    ----------
    spec : Spec
        From :func:`sustainsim.load_config`.
    draws : int, optional
        Number of draws; default ``[simulation] draws`` of the config.
    seed : int, optional
        Seed (>= 0); default ``[simulation] seed``.
    chunk_size : int, optional
        Draws per chunk (memory/speed only: results do not depend on it).
    lines : bool
        Also keep per-line breakdowns ``revenue_lines`` and ``cost_lines`` per draw.
    progress : bool, optional
        Show a progress bar over chunks; default: only when there are several chunks
        and stderr is a terminal.
    source : UniformSource, optional
        Where uniforms come from; default the config's sampler (``[simulation] sampler``:
        plain Monte Carlo, Latin hypercube or Sobol) from ``seed``, with its
        ``[[correlations]]`` applied (:func:`sustainsim.run.source.source_for`).

    Returns
    -------
    xarray.Dataset
        Dims ``draw``, ``year``, ``school``; variables ``enrollment``, ``revenue``,
        ``cost``, ``surplus``, ``fund_balance``, ``initial_fund_balance`` and the
        sampled scalar inputs; provenance in attrs.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config("configs/reference/ref10.toml")  # doctest: +SKIP
    >>> ds = sustainsim.simulate(spec, draws=10_000, seed=1)  # doctest: +SKIP
    >>> float(sustainsim.p_solvent(ds).probability.isel(year=-1))  # doctest: +SKIP
    """
    n, seed, chunk = resolve_run_args(spec, draws, seed, chunk_size)
    if source is None:
        from sustainsim.run.source import source_for

        source = source_for(spec, n, seed)
    src = source
    arrays = allocate_outputs(spec, n, lines)
    scalars: dict[str, np.ndarray] = {}
    scalar_attrs: dict[str, dict[str, str]] = {}

    starts = range(0, n, chunk)
    # tqdm's disable=None: shown only when stderr is a terminal
    disable = (None if len(starts) >= 2 else True) if progress is None else not progress
    with tqdm(total=n, unit="draw", unit_scale=True, desc="simulate", disable=disable) as bar:
        for start in starts:
            stop = min(start + chunk, n)
            views = {k: v[..., start:stop] for k, v in arrays.items()}
            res = run_chunk(spec, src, start, stop, lines=lines, out=views)
            for k, v in res.scalars.items():
                if k not in scalars:
                    scalars[k] = np.empty(n)
                    scalar_attrs[k] = res.scalar_attrs[k]
                scalars[k][start:stop] = v
            bar.update(stop - start)
    sampler = getattr(src, "name", type(src).__name__)
    return assemble(spec, arrays, scalars, scalar_attrs, seed=seed, sampler=sampler)


def central_case(spec: Spec, *, kind: Literal["median"] = "median") -> xr.Dataset:
    """The deterministic central case: every input at its median, no rare event.

    One draw with every uniform at 0.5, per-line breakdowns kept; what a budget
    office would call the base-case projection.
    """
    return simulate(spec, draws=1, seed=0, lines=True, progress=False, source=Median())
