"""Run a spec: sample inputs and step the engine chunk by chunk, return a Dataset.

``simulate(spec)`` is the one entry point that takes a seed. Draws are processed in
chunks (bounded memory for the engine's temporaries); the numbers of a draw do not
depend on the chunk it falls in (see :mod:`sustainsim.sampling`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from . import engine
from .inputs import sample_inputs
from .results import build_dataset, provenance
from .sampling import ChunkDraws, Median, MonteCarlo, UniformSource
from .spec import Spec

__all__ = ["DEFAULT_CHUNK_SIZE", "central_case", "simulate"]

#: draws per chunk: keeps the engine's temporaries in cache-friendly sizes
DEFAULT_CHUNK_SIZE = 32_768


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer (got {value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum} (got {value})")
    return int(value)


def _line_names(spec: Spec, part: str) -> list[str]:
    names: list[str] = []
    for s in spec.config.schools:
        for line in getattr(s, part):
            if line.name not in names:
                names.append(line.name)
    return names


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
        Where uniforms come from; default plain Monte Carlo streams from ``seed``.

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
    sim = spec.config.simulation
    n = _check_int("draws", sim.draws if draws is None else draws, 1)
    seed = _check_int("seed", sim.seed if seed is None else seed, 0)
    chunk = _check_int(
        "chunk_size", chunk_size or sim.chunk_size or DEFAULT_CHUNK_SIZE, 1
    )
    src = source if source is not None else MonteCarlo(seed)
    T = sim.years
    schools = spec.school_names
    S = len(schools)
    arrays = {k: np.empty((T, S, n)) for k in engine.OUTPUTS}
    rev_index = cost_index = None
    if lines:
        rnames, cnames = _line_names(spec, "revenue"), _line_names(spec, "cost")
        rev_index = {k: i for i, k in enumerate(rnames)}
        cost_index = {k: i for i, k in enumerate(cnames)}
        arrays["revenue_lines"] = np.zeros((T, S, len(rnames), n))
        arrays["cost_lines"] = np.zeros((T, S, len(cnames), n))
    initial = np.empty((S, n))
    scalars: dict[str, np.ndarray] = {}
    scalar_attrs: dict[str, dict[str, str]] = {}

    starts = range(0, n, chunk)
    # tqdm's disable=None: shown only when stderr is a terminal
    disable = (None if len(starts) >= 2 else True) if progress is None else not progress
    bar = tqdm(total=n, unit="draw", unit_scale=True, desc="simulate", disable=disable)
    with bar:
        for start in starts:
            stop = min(start + chunk, n)
            inp = sample_inputs(spec.config, ChunkDraws(src, start, stop))
            views = {k: v[..., start:stop] for k, v in arrays.items()}
            engine.run(inp, views, revenue_lines=rev_index, cost_lines=cost_index)
            for j, sch in enumerate(inp.schools):
                initial[j, start:stop] = sch.fund_balance
            for k, v in inp.scalars.items():
                if k not in scalars:
                    scalars[k] = np.empty(n)
                    scalar_attrs[k] = inp.scalar_attrs[k]
                scalars[k][start:stop] = v
            bar.update(stop - start)

    arrays["initial_fund_balance"] = initial
    attrs = provenance(
        text=spec.text,
        sha256=spec.sha256,
        source=spec.source,
        overrides=spec.overrides,
        seed=seed,
        draws=n,
        sampler=getattr(src, "name", type(src).__name__),
        first_year=sim.first_year,
        years=T,
    )
    years = np.arange(sim.first_year, sim.first_year + T)
    return build_dataset(
        arrays,
        scalars,
        scalar_attrs,
        years=years,
        schools=schools,
        revenue_lines=list(rev_index) if lines else None,
        cost_lines=list(cost_index) if lines else None,
        attrs=attrs,
    )


def central_case(spec: Spec, *, kind: Literal["median"] = "median") -> xr.Dataset:
    """The deterministic central case: every input at its median, no rare event.

    One draw with every uniform at 0.5, per-line breakdowns kept; what a budget
    office would call the base-case projection.
    """
    return simulate(spec, draws=1, seed=0, lines=True, progress=False, source=Median())
