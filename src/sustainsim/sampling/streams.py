"""Uniform random numbers, one reproducible stream per named input.

Every stochastic input of a model has a stable name (``"district.cuts.event"``,
``"schools.ref.enrollment.innovation"``). The stream for a name is a PCG64 generator
seeded from the run's seed and the name through a :class:`numpy.random.SeedSequence`,
and positioned at any draw by jumping ahead; per-year inputs get one stream per year. Draw
``d`` of a stream is always the ``d``-th number of that stream, so:

* the same seed gives identical numbers whatever the chunk size, worker count or
  scheduler (a chunk of draws ``[start, stop)`` jumps straight to its position);
* adding, removing or reordering inputs never changes the draws of the others;
* increasing the number of draws keeps the first draws unchanged;
* two scenarios run with the same seed share their draws (common random numbers).

Examples
--------
>>> src = MonteCarlo(seed=42)
>>> a = src.uniforms("x", 0, 10)
>>> b = np.concatenate([src.uniforms("x", 0, 4), src.uniforms("x", 4, 10)])
>>> bool(np.array_equal(a, b))
True
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np

from sustainsim.sampling.distributions import U_MIN, Distribution
from sustainsim.sampling.stream_cache import open_streams

__all__ = [
    "ChunkDraws",
    "Median",
    "MonteCarlo",
    "UniformSource",
    "stream_key",
    "stream_seed",
]


def stream_seed(seed: int, name: str, index: int = 0) -> np.random.SeedSequence:
    """The :class:`~numpy.random.SeedSequence` of stream ``(name, index)`` for ``seed``.

    The name is hashed with BLAKE2b (stable across processes and Python versions,
    unlike :func:`hash`) and used, with the index, as the spawn key.
    """
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    h = int.from_bytes(digest, "little")
    return np.random.SeedSequence(seed, spawn_key=(h, index))


def stream_key(seed: int, name: str, index: int = 0) -> np.ndarray:
    """128 bits of key material of stream ``(name, index)`` (for counter-based generators)."""
    return stream_seed(seed, name, index).generate_state(2, np.uint64)


class UniformSource(Protocol):
    """Anything that yields uniforms in (0, 1) for a named stream and a range of draws."""

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Uniforms of draws ``start:stop`` of stream ``(name, index)``, into ``out`` if given."""
        ...


class MonteCarlo:
    """Plain Monte Carlo: independent uniforms from named, seekable PCG64 streams.

    Stream ``(name, index)`` is a PCG64 generator seeded from :func:`stream_seed`;
    draw ``d`` is its ``d``-th double, reached with :meth:`numpy.random.PCG64.advance`
    (a jump in O(log d), not a loop), so a chunk starting at draw ``start`` needs no
    other chunk's numbers. Open generators are kept between chunks
    (:mod:`sustainsim.sampling.stream_cache`): the next chunk goes on from the last.

    Parameters
    ----------
    seed : int
        The run's seed (>= 0).
    """

    name = "monte_carlo"

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f"seed must be >= 0 (got {seed})")
        self.seed = int(seed)

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Uniforms of draws ``start..stop-1`` of stream ``(name, index)`` in [U_MIN, U_MAX]."""
        out = open_streams.doubles(
            lambda: stream_seed(self.seed, name, index), (self.seed, name, index), start, stop, out
        )
        # [0, U_MAX] -> [U_MIN, U_MAX]: inverse CDFs stay finite. A double of the generator is
        # 0 or at least 2**-53, so only a 0 moves: find one with a read-only pass (a fifth of
        # the clamp's cost) and clamp only then
        if out.size and out.min() < U_MIN:
            np.maximum(out, U_MIN, out=out)
        return out


class Median:
    """Every uniform is 0.5: each input at its median, no rare event happens.

    Used for the deterministic central case of a budget.
    """

    name = "median"

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Draws ``start:stop`` of any stream: all 0.5 (written into ``out`` if given)."""
        if out is None:
            return np.full(stop - start, 0.5)
        out[...] = 0.5
        return out


class ChunkDraws:
    """The draws ``[start, stop)`` of a run: uniforms and distribution values by name.

    Parameters
    ----------
    source : UniformSource
        Where uniforms come from.
    start, stop : int
        The range of draw indices of this chunk.
    """

    def __init__(self, source: UniformSource, start: int, stop: int):
        self.source = source
        self.start = start
        self.stop = stop
        self.n = stop - start

    def uniform(self, name: str, index: int = 0) -> np.ndarray:
        """Uniforms for stream ``(name, index)``, shape ``(n,)``."""
        return self.source.uniforms(name, self.start, self.stop, index)

    def uniform_years(self, name: str, years: int) -> np.ndarray:
        """Uniforms for a per-year input, shape ``(years, n)``: one stream per year 1..years."""
        out = np.empty((years, self.n))
        for t in range(years):
            self.source.uniforms(name, self.start, self.stop, t + 1, out=out[t])
        return out

    def sample(self, name: str, dist: Distribution) -> np.ndarray:
        """One value per draw of ``dist``, shape ``(n,)``."""
        return dist.ppf(self.uniform(name))

    def sample_years(self, name: str, dist: Distribution, years: int) -> np.ndarray:
        """Independent values of ``dist`` for each year and draw, shape ``(years, n)``."""
        u = self.uniform_years(name, years)
        return dist.ppf(u)
