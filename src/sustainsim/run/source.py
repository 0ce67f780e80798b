"""The uniform source of a run: the spec's sampler, its streams and its correlations.

:func:`source_for` builds what a run draws from (plain Monte Carlo, Latin hypercube or
Sobol, wrapped in a Gaussian copula for ``[[correlations]]``); :func:`discover_streams`
lists the streams a spec requests, in order, by running the input builders once on
median uniforms. That is also where a correlation naming no random input of the model
is caught (:func:`check_correlations`), so config validation itself never samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sustainsim.config import ConfigError, Spec
from sustainsim.model.inputs import sample_inputs
from sustainsim.sampling.copula import correlate, correlation_problems, matrix_from_pairs
from sustainsim.sampling.samplers import Stream, make_source
from sustainsim.sampling.streams import ChunkDraws, UniformSource

__all__ = ["check_correlations", "discover_streams", "source_for"]


class _Recorder:
    """A source that records the streams asked for, in order, and returns medians."""

    name = "recorder"

    def __init__(self) -> None:
        self.streams: dict[Stream, None] = {}

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        self.streams.setdefault((name, int(index)), None)
        if out is None:
            return np.full(stop - start, 0.5)
        out[...] = 0.5
        return out


def discover_streams(spec: Spec) -> list[Stream]:
    """The streams ``(name, index)`` a spec draws from, in the order they are requested.

    Runs :func:`sustainsim.model.inputs.sample_inputs` on one draw of median uniforms. Use it
    to validate names (e.g. of correlated inputs) and to fix Sobol dimensions
    (``Sobol(seed, draws, streams=discover_streams(spec))``).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> discover_streams(spec)[:2]
    [('district.cuts.event', 1), ('district.cuts.event', 2)]
    """
    rec = _Recorder()
    sample_inputs(spec.config, ChunkDraws(rec, 0, 1))
    return list(rec.streams)


def source_for(
    spec: Spec,
    draws: int | None,
    seed: int,
    sampler: str | None = None,
    *,
    strict: bool | None = None,
) -> UniformSource:
    """The uniform source a spec asks for: its sampler, wrapped for its correlations.

    Reads ``spec.config.simulation.sampler`` (default ``"monte_carlo"``) unless
    ``sampler`` is given, and ``spec.config.correlations`` (default none): entries with
    ``inputs`` (stream names) and either ``matrix`` (rank correlations) or ``pairs``
    (``(a, b, rank_corr)`` triples or tables with keys ``a``, ``b``, ``rank_corr``), and
    optionally ``strict``. A Sobol source gets its dimensions fixed from
    :func:`discover_streams`, so every process of a run assigns the same ones.

    Parameters
    ----------
    draws : int or None
        Draws of the run (required for ``"lhs"``; ``None`` for runs extended step by
        step, see :func:`sustainsim.run.convergence.simulate_until`).
    strict : bool, optional
        Overrides each group's ``strict``.
    """
    check_correlations(spec)
    name = sampler or getattr(spec.config.simulation, "sampler", None) or "monte_carlo"
    options: dict[str, Any] = {}
    if name == "sobol":
        options["streams"] = discover_streams(spec)
    src = make_source(name, seed, draws, **options)
    groups = []
    for c in getattr(spec.config, "correlations", None) or ():
        inputs = list(c.inputs)
        matrix = getattr(c, "matrix", None)
        if matrix is None:
            pairs = [
                (p["a"], p["b"], p["rank_corr"]) if isinstance(p, dict) else tuple(p)
                for p in c.pairs
            ]
            matrix = matrix_from_pairs(inputs, pairs)
        group_strict = getattr(c, "strict", False) if strict is None else strict
        groups.append((inputs, np.asarray(matrix, dtype=float), bool(group_strict)))
    return correlate(src, groups) if groups else src


def check_correlations(spec: Spec) -> None:
    """Every correlated input must be a random input of the model, per draw or per year alike.

    Raises
    ------
    ConfigError
        Naming ``correlations[i]``, the input and the closest names of the model's inputs.
    """
    if not spec.config.correlations:
        return
    problems = correlation_problems(
        [c.inputs for c in spec.config.correlations], discover_streams(spec)
    )
    if problems:
        raise ConfigError(problems, spec.source)
