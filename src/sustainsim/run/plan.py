"""The plan of a run: every option of every runner, resolved and checked in one place.

:func:`plan_run` turns a spec and the caller's options (``None`` meaning the config's
value, else a default) into a frozen :class:`RunPlan`: the draws, the seed, the chunk
size, the uniform source, the mode (``"full"``: every draw kept; ``"summary"``: chunks
reduced on the fly), the backend (in-process, or a dask scheduler with its workers),
the progress bar and the summary options. Every runner (:func:`sustainsim.simulate`,
scenarios, convergence, dask, sweeps, batches) consumes a plan and hands it to the
chunk executor of :mod:`sustainsim.run.core`; none re-reads or re-checks its options.

Examples
--------
>>> import sustainsim
>>> from sustainsim.run.plan import plan_run
>>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
>>> plan = plan_run(spec, draws=2_000, seed=1, mode="summary")
>>> s = sustainsim.simulate(plan)
>>> float(s.probability.isel(year=-1, school=0))
0.019
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np

from sustainsim.config.spec import Spec
from sustainsim.metrics.solvency import DEFAULT_QUANTILES
from sustainsim.run.chunk import buffer_bytes
from sustainsim.run.sketch import DEFAULT_MARGIN
from sustainsim.run.source import source_for
from sustainsim.sampling.samplers import SAMPLERS, LatinHypercube
from sustainsim.sampling.streams import UniformSource

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_CHUNK_SIZE",
    "MAX_SEED",
    "MEMORY_SHARE",
    "MODES",
    "MemoryBudgetError",
    "Mode",
    "PlanOptions",
    "RunOptions",
    "RunPlan",
    "memory_budget",
    "parse_bytes",
    "plan_run",
    "summary_chunk_size",
]

Mode = Literal["full", "summary"]
#: the run modes: every draw kept, or every chunk reduced on the fly
MODES: tuple[str, ...] = ("full", "summary")

#: draws per chunk of a full run: keeps the engine's temporaries in cache-friendly sizes
DEFAULT_CHUNK_SIZE = 32_768
#: in-range bins per (year, school) histogram of a summary run
DEFAULT_BINS = 4096
#: default draws x years per chunk of a summary run: one (year, draw) array of the
#: engine is 1.25 MiB and stays in a 2 MiB L2 cache (16384 draws for 10 years)
STREAMING_CHUNK_SIZE = 16_384
CHUNK_DRAW_YEARS = 10 * STREAMING_CHUNK_SIZE
#: target size of one chunk's engine outputs when the chunk size is automatic [bytes]
CHUNK_BYTES = 512 * 2**20

#: the largest seed: the results store it as a 64-bit integer (NetCDF attrs)
MAX_SEED = 2**63 - 1
#: share of the available memory a run may plan to use when ``max_memory`` is not given
MEMORY_SHARE = 0.5
#: the budget when the available memory cannot be read [bytes]
FALLBACK_BUDGET = 4 * 2**30

#: old keyword -> (its name now, how its value maps)
_RENAMED = {
    "num_workers": ("workers", lambda v: v),
    "summary_only": ("mode", lambda v: "summary" if v else "full"),
    "streaming": ("mode", lambda v: "summary" if v else "full"),
}


class PlanOptions(TypedDict, total=False):
    """The options of a run besides its draws and seed (see :func:`plan_run`)."""

    chunk_size: int | None
    mode: Mode
    lines: bool
    progress: bool | None
    source: UniformSource | None
    sampler: str | None
    scheduler: Any
    workers: int | None
    threads: int | None
    bins: int
    quantiles: Sequence[float]
    confidence: float
    margin: float
    max_memory: int | str | None


class RunOptions(PlanOptions, total=False):
    """The options every runner accepts (see :func:`plan_run`)."""

    draws: int | None
    seed: int | None


@dataclass(frozen=True)
class RunPlan:
    """A resolved, checked run: build it with :func:`plan_run`, not by hand.

    ``chunk_size`` is resolved for ``spec`` and ``mode``; ``chunk_request`` is what
    the caller asked for (``None``: the config's, else automatic), kept so that
    :meth:`for_spec` resolves it again for another spec. ``sampler`` is the sampler
    asked for (``None``: the config's); ``source_given`` says whether ``source`` came
    from the caller rather than from the spec's sampler. ``open_ended``: the run may be
    extended past ``draws`` (convergence), so its source is extendable.
    """

    spec: Spec
    draws: int
    seed: int
    chunk_size: int
    source: UniformSource
    mode: Mode = "full"
    lines: bool = False
    progress: bool | None = None
    scheduler: Any = None
    workers: int | None = None
    threads: int | None = None
    bins: int = DEFAULT_BINS
    quantiles: tuple[float, ...] = tuple(DEFAULT_QUANTILES)
    confidence: float = 0.95
    margin: float = DEFAULT_MARGIN
    chunk_request: int | None = None
    sampler: str | None = None
    source_given: bool = False
    open_ended: bool = False
    max_memory: int | None = None

    def __post_init__(self) -> None:
        _check_int("draws", self.draws, 1)
        _check_seed(self.seed)
        _check_int("chunk_size", self.chunk_size, 1)

    @property
    def source_name(self) -> str:
        """The source's name (``"monte_carlo"``, ``"lhs"``, ``"sobol"``, ...) for provenance."""
        return getattr(self.source, "name", type(self.source).__name__)

    def for_spec(self, spec: Spec, source: UniformSource | None = None) -> RunPlan:
        """The same run of another spec (a scenario, a sweep point).

        Same draws, seed and source unless ``source`` is given (common random numbers);
        the chunk size is resolved again for ``spec``.
        """
        chunk = _chunk_size(spec, self.mode, self.chunk_request)
        return dataclasses.replace(
            self, spec=spec, source=self.source if source is None else source, chunk_size=chunk
        )

    def replace(self, **options: Any) -> RunPlan:
        """A new plan with some options changed, checked again (as :func:`plan_run`)."""
        if "draws" in options or "seed" in options:
            raise ValueError(
                "a plan's draws and seed fix its uniform source; build a new plan with "
                "plan_run(spec, draws=..., seed=...)"
            )
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["chunk_size"] = fields.pop("chunk_request")
        given = fields.pop("source_given")
        if "sampler" in options or (options.get("open_ended") and not given):
            fields["source"] = None  # another sampler, or an extendable source: a new one
        elif "source" in options or given:
            fields["sampler"] = None
        else:  # keep the source built from the sampler asked for
            sampler = fields.pop("sampler")
            fields.update(options)
            return dataclasses.replace(plan_run(**fields), sampler=sampler, source_given=False)
        fields.update(options)
        return plan_run(**fields)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer (got {value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum} (got {value})")
    return int(value)


def _check_seed(value: Any) -> int:
    seed = _check_int("seed", value, 0)
    if seed > MAX_SEED:
        raise ValueError(f"seed must be <= 2**63 - 1 = {MAX_SEED} (got {seed})")
    return seed


_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_bytes(value: int | str) -> int:
    """A memory size in bytes from a whole number of bytes or text such as ``4GB``, ``512MiB``.

    Units: B, kB/MB/GB/TB (powers of 1000; K, M, G, T alike), KiB/MiB/GiB/TiB (powers of
    1024), any case; a decimal number is allowed before a unit (``1.5GiB``).

    Raises
    ------
    ValueError
        For anything else, or a size below one byte.

    Examples
    --------
    >>> parse_bytes("4GB"), parse_bytes("512MiB"), parse_bytes(1000)
    (4000000000, 536870912, 1000)
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer | str):
        raise TypeError(f"max_memory must be a number of bytes or text like '4GB' (got {value!r})")
    if isinstance(value, str):
        text = value.strip().replace("_", "").lower()
        number = text.rstrip("kmgtib")
        unit = text[len(number) :].strip()
        try:
            x = float(number) * _UNITS[unit]
        except (KeyError, ValueError):
            raise ValueError(
                f"max_memory: expected a size such as 4GB, 512MiB or 1000000 (bytes), got {value!r}"
            ) from None
    else:
        x = float(value)
    if not (math.isfinite(x) and x >= 1):
        raise ValueError(f"max_memory must be at least 1 byte (got {value!r})")
    return int(x)


def _available_memory() -> int | None:
    """Memory available to a new allocation: ``MemAvailable`` of /proc/meminfo, else sysconf."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_budget(max_memory: int | str | None = None) -> tuple[int, str]:
    """The memory budget of a run [bytes] and how it was set (for messages).

    ``max_memory`` if given (see :func:`parse_bytes`), else :data:`MEMORY_SHARE` of the
    memory available now (Linux: ``MemAvailable`` in /proc/meminfo; elsewhere the
    available physical pages), else :data:`FALLBACK_BUDGET` (4 GiB).
    """
    if max_memory is not None:
        return parse_bytes(max_memory), "max_memory"
    avail = _available_memory()
    if avail is None:
        return FALLBACK_BUDGET, "the default (available memory unknown)"
    return int(MEMORY_SHARE * avail), f"half of the available memory ({_gib(avail)})"


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


class MemoryBudgetError(ValueError):
    """A run (or a sweep) would need more memory than its budget; nothing has run."""

    def __init__(self, what: str, need: int, budget: tuple[int, str], advice: str):
        limit, how = budget
        super().__init__(
            f"{what} needs about {_gib(need)}, more than the memory budget of {_gib(limit)} "
            f"({how}); {advice}, or raise the budget with --max-memory / max_memory= "
            "(e.g. 16GB)"
        )
        self.need, self.budget = need, limit


def _check_fraction(name: str, value: Any, *, closed: bool) -> float:
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    inside = ok and (0 <= value <= 1 if closed else 0 < value < 1)
    if not inside:
        allowed = "in [0, 1]" if closed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be a number {allowed} (got {value!r})")
    return float(value)


def summary_chunk_size(spec: Spec) -> int:
    """The automatic chunk size of a summary run of ``spec``.

    :data:`CHUNK_DRAW_YEARS` / years (a school's arrays cache-sized; 16384 draws for 10
    years), at most 32768, and fewer when the chunk's engine outputs, all schools'
    (:func:`~sustainsim.run.chunk.buffer_bytes`), would pass :data:`CHUNK_BYTES`, at
    least 1024. The engine works school by school, so its temporaries stay cache-sized
    whatever the number of schools; a chunk as large as memory allows spreads the cost
    each school pays per chunk over more draws.
    """
    per_draw = buffer_bytes(spec, 1)
    by_cache = min(2 * STREAMING_CHUNK_SIZE, CHUNK_DRAW_YEARS // spec.years)
    return int(max(1024, min(by_cache, CHUNK_BYTES // per_draw)))


def _chunk_size(spec: Spec, mode: str, requested: int | None) -> int:
    """The request, else the config's ``[simulation] chunk_size``, else the mode's default."""
    chunk = requested if requested is not None else spec.config.simulation.chunk_size
    if chunk is None:
        chunk = summary_chunk_size(spec) if mode == "summary" else DEFAULT_CHUNK_SIZE
    return _check_int("chunk_size", chunk, 1)


def _renamed(options: dict[str, Any]) -> dict[str, Any]:
    for old, (new, convert) in _RENAMED.items():
        if old in options:
            warnings.warn(
                f"{old}= is deprecated; use {new}= (e.g. mode='summary', workers=4)",
                DeprecationWarning,
                stacklevel=4,
            )
            value = convert(options.pop(old))
            if options.get(new, value) != value:
                raise ValueError(f"{old}= and {new}= disagree; give only {new}=")
            options[new] = value
    unknown = sorted(set(options) - set(RunOptions.__annotations__))
    if unknown:
        raise TypeError(
            f"unknown run option(s) {', '.join(unknown)}; "
            f"allowed: draws, seed, {', '.join(PlanOptions.__annotations__)}"
        )
    return options


def plan_run(
    spec: Spec | RunPlan,
    *,
    draws: int | None = None,
    seed: int | None = None,
    open_ended: bool = False,
    **options: Any,
) -> RunPlan:
    """Resolve and check the options of a run; the one place they are read.

    Parameters
    ----------
    spec : Spec or RunPlan
        From :func:`sustainsim.load_config`; a plan is returned as it is, or with the
        given options changed (:meth:`RunPlan.replace`).
    draws : int, optional
        Number of draws (>= 1); default ``[simulation] draws`` of the config.
    seed : int, optional
        Seed (0 to 2**63 - 1); default ``[simulation] seed``.
    chunk_size : int, optional
        Draws per chunk (memory/speed only: results do not depend on it; a summary
        run's moments are merged chunk by chunk, so they agree to about 1e-15).
        Default the config's ``[simulation] chunk_size``, else 32768 for a full run
        and :func:`summary_chunk_size` (16384 for 10 years) for a summary run.
    mode : {"full", "summary"}
        ``"full"``: the per-draw results Dataset. ``"summary"``: every chunk reduced
        on the fly into P(solvent) counts, moments and quantile histograms, bounded
        memory (:mod:`sustainsim.run.accumulate`).
    lines : bool
        Also keep per-line breakdowns ``revenue_lines`` and ``cost_lines`` per draw
        (full mode only).
    progress : bool, optional
        Progress bar over draws; default: only for several chunks on a terminal.
    source : UniformSource, optional
        Where uniforms come from; default the config's sampler with its
        ``[[correlations]]`` from ``seed`` (:func:`sustainsim.run.source.source_for`).
    sampler : {"monte_carlo", "lhs", "sobol"}, optional
        The default source's sampler instead of ``[simulation] sampler`` (not with
        ``source``).
    scheduler : str or distributed.Client, optional
        ``None`` (default): chunks run in this process, on ``threads``. Else they run
        as dask tasks (:mod:`sustainsim.run.parallel`): ``"processes"``, ``"threads"``,
        ``"synchronous"``, ``"distributed"``, ``"tcp://host:port"`` or a Client. Same
        numbers.
    workers : int, optional
        Pool size of a local dask scheduler (default: CPU count).
    threads : int, optional
        Without a scheduler: threads of this process that run the chunks
        (:mod:`sustainsim.run.threads`). Default: the cores this process may use, at
        most :data:`~sustainsim.run.threads.MAX_THREADS`; ``1`` runs the chunks one
        after another in the calling thread. Same numbers, bit for bit. Not with a
        scheduler (give its ``workers``).
    bins : int
        Summary mode: in-range bins of each quantile histogram (error bound: one bin).
    quantiles : sequence of float
        Summary mode: quantile levels reported.
    confidence : float
        Summary mode: level of the Wilson intervals.
    margin : float
        Summary mode: widening of the pilot range on each side, as a share of its span.
    max_memory : int or str, optional
        The memory budget of the run: bytes, or text such as ``"4GB"``, ``"512MiB"``
        (:func:`parse_bytes`). Before it starts, a run estimates the memory it needs
        (a full run: its results Dataset) and refuses with :class:`MemoryBudgetError`
        above the budget. Default: half of the available memory (:func:`memory_budget`).
    open_ended : bool
        The run may be extended past ``draws`` step by step
        (:func:`sustainsim.run.convergence.simulate_until`): the default source is built
        for no fixed draw count, and Latin hypercube designs are refused.

    Returns
    -------
    RunPlan

    Raises
    ------
    ValueError, TypeError
        Naming the option, its value and what is allowed.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> plan = plan_run(spec, draws=1_000, mode="summary", bins=512)
    >>> plan.chunk_size, plan.seed == spec.config.simulation.seed
    (16384, True)
    >>> plan_run(spec, draws=0)
    Traceback (most recent call last):
    ...
    ValueError: draws must be >= 1 (got 0)
    """
    options = _renamed(dict(options))
    if isinstance(spec, RunPlan):
        if draws is not None:
            options["draws"] = draws
        if seed is not None:
            options["seed"] = seed
        return spec.replace(**options) if options else spec
    if not isinstance(spec, Spec):
        raise TypeError(f"spec must be a Spec or a RunPlan (got {type(spec).__name__})")
    sim = spec.config.simulation
    n = _check_int("draws", sim.draws if draws is None else draws, 1)
    s = _check_seed(sim.seed if seed is None else seed)
    mode = options.get("mode", "full")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))} (got {mode!r})")
    requested = options.get("chunk_size")
    if requested is not None:
        _check_int("chunk_size", requested, 1)
    lines = options.get("lines", False)
    if lines and mode == "summary":
        raise ValueError(
            "lines=True needs per-draw output; it cannot be combined with mode='summary'"
        )
    workers = options.get("workers")
    if workers is not None:
        _check_int("workers", workers, 1)
    threads = options.get("threads")
    if threads is not None:
        _check_int("threads", threads, 1)
        if options.get("scheduler") is not None and threads > 1:
            raise ValueError(
                f"threads={threads} runs chunks in this process; it cannot be combined with "
                f"scheduler={options['scheduler']!r} (give the scheduler's workers= instead)"
            )
    progress = options.get("progress")
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None (got {progress!r})")
    max_memory = options.get("max_memory")
    if max_memory is not None:
        max_memory = parse_bytes(max_memory)
    sampler = options.get("sampler")
    source = _source(spec, n, s, options.get("source"), sampler, open_ended)
    summary = _summary_options(options)
    return RunPlan(
        spec=spec,
        draws=n,
        seed=s,
        chunk_size=_chunk_size(spec, mode, requested),
        source=source,
        mode=mode,
        lines=bool(lines),
        progress=progress,
        scheduler=options.get("scheduler"),
        workers=workers,
        threads=threads,
        **summary,
        chunk_request=requested,
        sampler=sampler,
        source_given=options.get("source") is not None,
        open_ended=bool(open_ended),
        max_memory=max_memory,
    )


def _source(
    spec: Spec, n: int, seed: int, source: Any, sampler: Any, open_ended: bool
) -> UniformSource:
    """The source given, else the spec's sampler (or ``sampler``) with its correlations."""
    if sampler is not None and sampler not in SAMPLERS:
        raise ValueError(
            f"unknown sampler {sampler!r}; sampler must be one of {', '.join(SAMPLERS)}"
        )
    if source is not None and sampler is not None:
        raise ValueError(f"give sampler= or source=, not both (got sampler={sampler!r})")
    if open_ended:
        _check_extendable(spec, source, sampler)
    if source is not None:
        return source
    return source_for(spec, None if open_ended else n, seed, sampler)


def _summary_options(options: dict[str, Any]) -> dict[str, Any]:
    """``bins``, ``quantiles``, ``confidence`` and ``margin``, checked."""
    quantiles = tuple(options.get("quantiles", DEFAULT_QUANTILES))
    for q in quantiles:
        _check_fraction("quantiles", q, closed=True)
    margin = options.get("margin", DEFAULT_MARGIN)
    if not (isinstance(margin, int | float) and margin >= 0 and math.isfinite(margin)):
        raise ValueError(f"margin must be a finite number >= 0 (got {margin!r})")
    return {
        "bins": _check_int("bins", options.get("bins", DEFAULT_BINS), 1),
        "quantiles": tuple(float(q) for q in quantiles),
        "confidence": _check_fraction("confidence", options.get("confidence", 0.95), closed=False),
        "margin": float(margin),
    }


def _uses_lhs(source: Any) -> bool:
    while source is not None:
        if isinstance(source, LatinHypercube):
            return True
        source = getattr(source, "base", None)
    return False


def _check_extendable(spec: Spec, source: UniformSource | None, sampler: str | None) -> None:
    """A Latin hypercube spans a fixed number of draws: refused for an open-ended run."""
    if source is not None:
        if _uses_lhs(source):
            raise ValueError(
                "a Latin hypercube source cannot be extended draw by draw; use a monte_carlo "
                "or sobol source"
            )
        return
    if (sampler or spec.config.simulation.sampler) == "lhs":
        raise ValueError(
            "lhs cannot be used with a precision target: a Latin hypercube spans a fixed "
            "number of draws and cannot be extended; use sampler monte_carlo or sobol"
        )
