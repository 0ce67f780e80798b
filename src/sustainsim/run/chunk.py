"""The unit of work of every runner: sample and run one chunk of draws, wrap the results.

:func:`run_chunk` runs draws ``[start, stop)``; its numbers depend only on the spec, the
uniform source (sampler and seed) and the draw indices, never on how a run is split,
so serial, chunked, multi-process and distributed runs agree exactly.
:func:`chunk_bounds` and :func:`chunk_blocks` are how a run is split; :func:`assemble`
wraps a full run's arrays into the results Dataset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from pydantic import BaseModel

from sustainsim.config.flows import flow_lines, flows_configured
from sustainsim.config.funding import uses_funding
from sustainsim.config.lines import line_category, line_recurring
from sustainsim.config.macro import DEFLATOR
from sustainsim.config.spec import Spec
from sustainsim.model import engine
from sustainsim.model.cliff import CLIFF_OUTPUTS
from sustainsim.model.flows import BACKSTOP_LINE, CENTRAL_OUTPUTS, FLOW_OUTPUTS
from sustainsim.model.inputs import sample_inputs
from sustainsim.model.walk import school_lines
from sustainsim.results import build_dataset, provenance
from sustainsim.run.heap import keep_chunks_on_heap
from sustainsim.sampling.distributions import Distribution
from sustainsim.sampling.streams import ChunkDraws, UniformSource

__all__ = [
    "BLOCK_CHUNKS",
    "ChunkResult",
    "NonFiniteError",
    "allocate_outputs",
    "assemble",
    "buffer_bytes",
    "chunk_blocks",
    "chunk_bounds",
    "even_bounds",
    "thread_buffers",
    "check_finite_means",
    "check_finite_outputs",
    "first_non_finite",
    "has_district_totals",
    "output_bytes",
    "output_names",
    "output_shapes",
    "run_attrs",
    "run_chunk",
]

#: chunks per block, the unit of reduction of a summary run (its moments' order of sums)
BLOCK_CHUNKS = 8


def _school_lines(spec: Spec, part: str):
    """Every config line the schools run, in order (:func:`sustainsim.model.walk.school_lines`)."""
    cfg = spec.config
    for s in cfg.schools:
        for placed in school_lines(cfg, s, part):
            yield placed.line


def _line_rows(spec: Spec, part: str):
    """Name, category and kind of the breakdown's lines: the schools', then the flows'."""
    for line in (*_school_lines(spec, part), *flow_lines(spec.config.district, part)):
        yield line.name, line_category(part, line), line.kind
    if part == "revenue" and spec.config.district.backstop is not None:
        yield BACKSTOP_LINE, "transfer", "backstop"


def _line_names(spec: Spec, part: str) -> list[str]:
    """The schools' line names, each once, in the order first run."""
    return list(dict.fromkeys(name for name, _, _ in _line_rows(spec, part)))


def _line_meta(spec: Spec, part: str) -> tuple[list[str], list[str]]:
    """Category and kind of each line name (as first defined)."""
    meta: dict[str, tuple[str, str]] = {}
    for name, category, kind in _line_rows(spec, part):
        meta.setdefault(name, (category, kind))
    return [c for c, _ in meta.values()], [k for _, k in meta.values()]


def output_names(spec: Spec) -> list[str]:
    """The engine outputs this spec produces: the core five plus what its lines need."""
    cfg = spec.config
    kinds = {(p, ln.kind) for p in ("revenue", "cost") for ln in _school_lines(spec, p)}
    temporary = {
        p for p in ("revenue", "cost") for ln in _school_lines(spec, p) if not line_recurring(p, ln)
    }
    names = list(engine.OUTPUTS)
    flows = flows_configured(cfg.district)
    allocated_grant = any(
        ln.allocate and not line_recurring("revenue", ln) for ln in cfg.district.revenue
    )
    if "revenue" in temporary or allocated_grant:
        names.append("temporary_revenue")
    if "cost" in temporary:
        names.append("one_time_cost")
    if ("revenue", "levy") in kinds:
        names.append("levy_in_force")
    if cfg.district.response is not None or any(sc.response for sc in cfg.schools):
        names.extend(("trimmed", "required_cut", "unmet_gap", "cut"))
    if uses_funding(cfg):
        names.extend(engine.FUNDING_OUTPUTS)
    return names + list(FLOW_OUTPUTS if flows else ())


def has_district_totals(spec: Spec) -> bool:
    """District totals are kept when there are several schools or district money."""
    d = spec.config.district
    own = d.revenue or d.cost or not (isinstance(d.fund_balance, float) and d.fund_balance == 0)
    return len(spec.config.schools) > 1 or bool(own) or flows_configured(d)


def output_shapes(spec: Spec, n: int, lines: bool) -> dict[str, tuple[int, ...]]:
    """The shape of every result buffer of ``n`` draws (draw axis last): what the run keeps."""
    T, S = spec.years, len(spec.config.schools)
    names = output_names(spec)
    out: dict[str, tuple[int, ...]] = {k: (T, S, n) for k in names if k not in engine.LEVER_OUTPUTS}
    for k in set(names) & set(engine.LEVER_OUTPUTS):
        out[k] = (T, S, len(engine.LEVERS), n)
    for k in set(names) & set(CLIFF_OUTPUTS):
        out[k] = (S, n)
    if has_district_totals(spec):
        d = spec.config.district
        for k in engine.DISTRICT_OUTPUTS + (CENTRAL_OUTPUTS if flows_configured(d) else ()):
            out[k] = (T, n)
        kinds = {(p, ln.kind) for p in ("revenue", "cost") for ln in getattr(d, p)}
        own = {p for p in ("revenue", "cost") for ln in getattr(d, p) if not line_recurring(p, ln)}
        if "temporary_revenue" in out or "revenue" in own:
            out["district_temporary_revenue"] = (T, n)
        if "one_time_cost" in out or "cost" in own:
            out["district_one_time_cost"] = (T, n)
        if "levy_in_force" in out or ("revenue", "levy") in kinds:
            out["district_levy_in_force"] = (T, n)
    if lines:
        out["revenue_lines"] = (T, S, len(_line_names(spec, "revenue")), n)
        out["cost_lines"] = (T, S, len(_line_names(spec, "cost")), n)
        out["positions"] = (T, S, len(_line_names(spec, "cost")), n)
        out["compensation"] = (T, S, len(engine.COMPONENTS), n)
    out["initial_fund_balance"] = (S, n)
    if DEFLATOR in spec.config.district.growth:
        out["deflator"] = (T, n)
    return out


#: buffers the engine adds into (zero-filled), besides the ``*_lines`` breakdowns
_ACCUMULATED = frozenset({"positions", "compensation"})


def allocate_outputs(spec: Spec, n: int, lines: bool) -> dict[str, np.ndarray]:
    """The run's result buffers for ``n`` draws: every engine output the spec needs."""
    return {
        k: (np.zeros if k.endswith("_lines") or k in _ACCUMULATED else np.empty)(shape)
        for k, shape in output_shapes(spec, n, lines).items()
    }


def thread_buffers(spec: Spec, n: int) -> dict[str, dict[str, np.ndarray]]:
    """A thread's own summary buffers of ``n`` draws, as a task's ``buffers=`` argument.

    What an executor's ``local()`` gives each thread that runs chunks
    (:class:`~sustainsim.run.threads.ThreadExecutor`): one buffer per thread, kept from
    chunk to chunk of a run.
    """
    return {"buffers": allocate_outputs(spec, n, False)}


def _count_random(obj: object) -> int:
    """Distributions and grants in a config: an upper estimate of its sampled scalar inputs."""
    if isinstance(obj, Distribution):
        return 1
    if isinstance(obj, BaseModel):
        own = {"grant": 3, "levy": 1}.get(getattr(obj, "kind", None) or "", 0)
        return own + sum(_count_random(v) for v in obj.__dict__.values())
    if isinstance(obj, dict):
        return sum(_count_random(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(_count_random(v) for v in obj)
    return 0


def output_bytes(spec: Spec, n: int, lines: bool) -> int:
    """Bytes of the result buffers and sampled scalar inputs of ``n`` draws (float64).

    The size of the arrays a full run of ``n`` draws keeps (the results Dataset holds
    views of them); the scalar inputs are estimated from the config (each distribution
    and grant), not sampled.
    """
    return buffer_bytes(spec, n, lines) + 8 * (_count_random(spec.config) + 2) * n


def buffer_bytes(spec: Spec, n: int, lines: bool = False) -> int:
    """Bytes of the result buffers of ``n`` draws (:func:`allocate_outputs`), float64."""
    return 8 * sum(math.prod(shape) for shape in output_shapes(spec, n, lines).values())


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
    checked: frozenset[str] = frozenset(),
) -> ChunkResult:
    """Sample and run draws ``[start, stop)``; the unit of work of every runner.

    A chunk's numbers depend only on the spec, the source (seed) and the draw
    indices, never on how the run is split, so serial, chunked, multi-process and
    distributed runs agree exactly.

    Parameters
    ----------
    out : dict, optional
        Arrays (views into the run's result buffers) to write into; allocated if not given.
    checked : frozenset of str, optional
        Outputs the caller checks for non-finite values itself (a summary run, through
        the means it takes of them: :func:`check_finite_means`); every other output is
        checked here (:func:`check_finite_outputs`).
    """
    keep_chunks_on_heap()  # once per process: temporaries stay mapped between chunks
    if out is None:
        out = allocate_outputs(spec, stop - start, lines)
    rev_index = cost_index = None
    if lines:
        rev_index = {k: i for i, k in enumerate(_line_names(spec, "revenue"))}
        cost_index = {k: i for i, k in enumerate(_line_names(spec, "cost"))}
    inp = sample_inputs(spec.config, ChunkDraws(source, start, stop))
    engine.run(inp, out, revenue_lines=rev_index, cost_lines=cost_index)
    if "deflator" in out and inp.deflator is not None:
        out["deflator"][...] = inp.deflator[1:]
    for j, sch in enumerate(inp.schools):
        out["initial_fund_balance"][j] = sch.fund_balance
    unchecked = out if not checked else {k: v for k, v in out.items() if k not in checked}
    check_finite_outputs(spec, unchecked, inp.scalars, start)
    return ChunkResult(start, stop, out, inp.scalars, inp.scalar_attrs)


class NonFiniteError(ValueError):
    """A run produced an infinite or NaN value: the config's numbers overflow."""


def check_finite_outputs(
    spec: Spec, arrays: dict[str, np.ndarray], scalars: dict[str, np.ndarray], start: int
) -> None:
    """Raise :class:`NonFiniteError` if a chunk's output holds inf or NaN.

    One sum per array (a finite sum holds no inf or NaN), the exact check only when it
    is not; on failure the message names the variable, the school, the fiscal year and
    the first draw (the run's draw index, chunk offset ``start`` added) where it happens.
    """
    for name, arr in {**arrays, **scalars}.items():
        at = first_non_finite(name, arr)
        if at is not None:
            raise NonFiniteError(_non_finite_message(spec, name, arr, at, start))


def first_non_finite(name: str, arr: np.ndarray) -> tuple[int, ...] | None:
    """Where output ``name`` first holds inf or NaN (its first draw, draw axis last), or None.

    One sum (a finite sum has no inf or NaN in it: one pass, no temporary), the exact
    check only when it is not. NaN is no fault in the cliff outputs (no cliff in that draw).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(arr, axis=None)
    if np.isfinite(total):
        return None
    ok = np.isfinite(arr)
    if name in CLIFF_OUTPUTS:
        ok |= np.isnan(arr)
    if ok.all():
        return None
    bad = np.argwhere(~ok)
    return tuple(int(i) for i in bad[np.argmin(bad[:, -1])])


def check_finite_means(
    spec: Spec, arrays: dict[str, np.ndarray], means: dict[str, np.ndarray], start: int
) -> None:
    """Raise :class:`NonFiniteError` where a mean over draws is not finite.

    A finite mean has no inf or NaN among its values, so the means a summary run takes
    anyway check those outputs in place of :func:`check_finite_outputs`' pass over
    them; a non-finite one (``means[k]``, the schools' and the district's) has the
    output and its district total checked exactly, for the message (a mean that
    overflows with every value finite passes, as there).
    """
    for k, mean in means.items():
        if not np.isfinite(mean).all():
            names = (k, f"district_{k}")
            check_finite_outputs(spec, {v: arrays[v] for v in names if v in arrays}, {}, start)


def _non_finite_message(spec: Spec, name: str, arr: np.ndarray, at: tuple, start: int) -> str:
    names = spec.school_names
    first_year = spec.config.simulation.first_year
    where = [f"draw {start + int(at[-1])}"]
    if arr.ndim >= 3 or (arr.ndim == 2 and name.startswith(("district", "central"))):
        where.insert(0, f"year {first_year + int(at[0])}")
    if arr.ndim >= 3:
        where.insert(0, f"school {names[int(at[1])]!r}")
    elif name.startswith(("district", "central")):
        where.insert(0, "the district")
    elif arr.ndim == 2:
        where.insert(0, f"school {names[int(at[0])]!r}")
    if arr.ndim == 4:
        part = "revenue" if name.startswith("revenue") else "cost"
        where.insert(1, f"line {_line_names(spec, part)[int(at[2])]!r}")
    value = arr[at]
    return (
        f"the run produced a non-finite value ({value}) in {name!r} at {', '.join(where)}: "
        "numbers of the config overflow float64; check its amounts, rates and growth "
        "(nothing was written)"
    )


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
    total = reserve is not None and reserve.include_one_time
    attrs["reserve_base"] = "total" if total else "recurring"
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


def chunk_bounds(stop: int, chunk: int, start: int = 0) -> list[tuple[int, int]]:
    """``[a, b)`` of the chunks of draws ``[start, stop)``, ``chunk`` draws each."""
    return [(a, min(a + chunk, stop)) for a in range(start, stop, chunk)]


def even_bounds(stop: int, chunk: int, start: int = 0, parts: int = 1) -> list[tuple[int, int]]:
    """``[a, b)`` of draws ``[start, stop)`` in chunks of at most ``chunk`` draws, evenly.

    The fewest chunks that is a multiple of ``parts`` (the threads that run them), their
    sizes differing by one at most: no thread waits on a short last chunk. For a full
    run only, whose numbers do not depend on its chunks (a summary run's moments do).

    Examples
    --------
    >>> even_bounds(100_000, 32_768, parts=2)
    [(0, 25000), (25000, 50000), (50000, 75000), (75000, 100000)]
    """
    n = stop - start
    if n <= 0:
        return []
    k = -(-n // chunk)
    k = min(n, -(-k // parts) * parts)
    q, r = divmod(n, k)
    cuts = [start + i * q + min(i, r) for i in range(k + 1)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def chunk_blocks(n: int, chunk: int) -> list[list[tuple[int, int]]]:
    """The chunks of ``n`` draws grouped in blocks of :data:`BLOCK_CHUNKS`: the unit of reduction.

    Each block is reduced from empty, chunk by chunk, and the blocks are merged in
    order, by the serial and the parallel executors alike (a parallel task may run part
    of a block or several: :mod:`sustainsim.run.spans` puts them back together), so
    their moments agree to the last bit.
    """
    b = chunk_bounds(n, chunk)
    return [b[i : i + BLOCK_CHUNKS] for i in range(0, len(b), BLOCK_CHUNKS)]
