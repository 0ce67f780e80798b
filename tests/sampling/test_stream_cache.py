"""Open streams kept between chunks give the numbers of a fresh stream, in any order of chunks."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sustainsim.sampling import stream_cache
from sustainsim.sampling.streams import MonteCarlo, stream_seed


def _fresh(seed: int, name: str, index: int, start: int, stop: int) -> np.ndarray:
    """Brute force: a new generator, every double up to ``stop``, the tail kept."""
    g = np.random.Generator(np.random.PCG64(stream_seed(seed, name, index)))
    return np.maximum(g.random(stop)[start:], 2.0**-54)


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 60)), min_size=1, max_size=12))
def test_any_order_of_chunks_gives_the_fresh_numbers(chunks):
    src = MonteCarlo(seed=11)
    for start, size in chunks:  # forward, backward, repeated and overlapping ranges
        got = src.uniforms("x.y", start, start + size, index=2)
        np.testing.assert_array_equal(got, _fresh(11, "x.y", 2, start, start + size))


def test_streams_of_other_seeds_and_indices_are_kept_apart():
    a, b = MonteCarlo(1), MonteCarlo(2)
    for start in (0, 10, 20):
        np.testing.assert_array_equal(
            a.uniforms("s", start, start + 10), _fresh(1, "s", 0, start, start + 10)
        )
        np.testing.assert_array_equal(
            b.uniforms("s", start, start + 10, index=1), _fresh(2, "s", 1, start, start + 10)
        )


def test_each_thread_has_its_own_generators():
    src = MonteCarlo(5)
    src.uniforms("t", 0, 50)  # this thread's stream now stands at draw 50
    seen = {}

    def worker():
        seen["other"] = src.uniforms("t", 50, 60)  # a new generator in this thread
        seen["again"] = src.uniforms("t", 0, 10)

    th = threading.Thread(target=worker)
    th.start()
    th.join()
    np.testing.assert_array_equal(seen["other"], _fresh(5, "t", 0, 50, 60))
    np.testing.assert_array_equal(seen["again"], _fresh(5, "t", 0, 0, 10))
    np.testing.assert_array_equal(src.uniforms("t", 50, 60), _fresh(5, "t", 0, 50, 60))


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(stream_cache, "MAX_STREAMS", 4)
    src = MonteCarlo(9)
    for i in range(10):
        src.uniforms(f"n{i}", 0, 3)
    assert len(stream_cache.open_streams.streams) <= 4
    np.testing.assert_array_equal(src.uniforms("n0", 3, 6), _fresh(9, "n0", 0, 3, 6))
