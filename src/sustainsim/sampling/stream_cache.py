"""Open streams kept between chunks: a chunk that starts where the last one stopped goes on.

:class:`~sustainsim.sampling.streams.MonteCarlo` positions a stream at a chunk's first
draw by seeding a PCG64 generator from the stream's name (a BLAKE2b hash and a
:class:`~numpy.random.SeedSequence`) and jumping ahead. For a run of many schools in
small chunks that set-up costs more than the draws themselves (tens of microseconds a
stream, tens of thousands of streams a chunk). This cache keeps each stream's generator
and the draw it stands at, per thread, so the next chunk:

* starting where the stream stands continues it (no seeding, no jump);
* starting further on jumps ahead by the difference (:meth:`numpy.random.PCG64.advance`
  is relative);
* starting before it gets a new generator, seeded and jumped as without the cache.

Draw ``d`` of a stream is the ``d``-th double of its generator whichever way it is
reached, so the numbers are those without the cache, bit for bit. The cache is per
thread (two threads never share a generator) and bounded by :data:`MAX_STREAMS`.

Examples
--------
>>> import numpy as np
>>> from sustainsim.sampling.streams import stream_seed
>>> streams = OpenStreams()
>>> a = streams.doubles(lambda: stream_seed(7, "x"), ("x", 7, 0), 0, 5)
>>> b = streams.doubles(lambda: stream_seed(7, "x"), ("x", 7, 0), 5, 8)
>>> fresh = np.random.Generator(np.random.PCG64(stream_seed(7, "x"))).random(8)
>>> bool(np.array_equal(np.concatenate([a, b]), fresh))
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

import numpy as np

__all__ = ["MAX_STREAMS", "OpenStreams", "open_streams"]

#: open streams kept per thread; the cache starts afresh past it (a few MB of generators)
MAX_STREAMS = 1 << 15


class OpenStreams(threading.local):
    """Generators by stream key with the draw each stands at, one set per thread."""

    def __init__(self) -> None:
        self.streams: dict[Hashable, list] = {}

    def doubles(
        self,
        seed_seq: Callable[[], np.random.SeedSequence],
        key: Hashable,
        start: int,
        stop: int,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Doubles ``start..stop-1`` of the stream ``key`` (seeded by ``seed_seq()`` when new)."""
        entry = self.streams.get(key)
        if entry is None or entry[1] > start:
            if len(self.streams) >= MAX_STREAMS:
                self.streams.clear()
            gen = np.random.Generator(np.random.PCG64(seed_seq()))
            entry = [gen, 0]
            self.streams[key] = entry
        gen = entry[0]
        if start > entry[1]:
            gen.bit_generator.advance(start - entry[1])  # one 64-bit output per double
        if out is None:
            out = np.empty(stop - start)
        gen.random(out=out)
        entry[1] = stop
        return out


#: the process's open streams (each thread sees its own)
open_streams = OpenStreams()
