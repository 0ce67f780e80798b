"""Named counter-based streams: chunk-independent, name-keyed, prefix-stable, uniform."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sustainsim.sampling.distributions import U_MAX, U_MIN
from sustainsim.sampling.streams import ChunkDraws, Median, MonteCarlo, stream_key


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    n=st.integers(1, 300),
    cuts=st.lists(st.integers(0, 300), max_size=6),
    index=st.integers(0, 30),
)
def test_any_split_gives_the_same_numbers(seed, n, cuts, index):
    src = MonteCarlo(seed)
    whole = src.uniforms("x.y", 0, n, index)
    edges = sorted({0, n, *[c for c in cuts if c < n]})
    parts = [src.uniforms("x.y", a, b, index) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_streams_are_keyed_by_name_index_and_seed():
    src = MonteCarlo(1)
    a = src.uniforms("district.cuts.event", 0, 1000)
    assert not np.array_equal(a, src.uniforms("district.cuts.magnitude", 0, 1000))
    assert not np.array_equal(a, src.uniforms("district.cuts.event", 0, 1000, index=1))
    assert not np.array_equal(a, MonteCarlo(2).uniforms("district.cuts.event", 0, 1000))
    # the key does not depend on anything but (seed, name, index): stable across processes
    np.testing.assert_array_equal(stream_key(1, "a", 0), stream_key(1, "a", 0))
    # streams are independent enough: negligible correlation between names
    b = src.uniforms("schools.ref.enrollment.innovation", 0, 100_000, 3)
    c = src.uniforms("schools.ref.enrollment.innovation", 0, 100_000, 4)
    assert abs(np.corrcoef(b, c)[0, 1]) < 4 / np.sqrt(100_000)


def test_more_draws_keep_the_first():
    src = MonteCarlo(5)
    np.testing.assert_array_equal(src.uniforms("s", 0, 100), src.uniforms("s", 0, 1000)[:100])


def test_uniform_marginal_and_range():
    u = MonteCarlo(11).uniforms("s", 0, 200_000)
    assert u.min() >= U_MIN and u.max() <= U_MAX < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert u.mean() == pytest.approx(0.5, abs=4 * np.sqrt(1 / 12 / u.size))


def test_chunk_draws_years_and_median():
    d = ChunkDraws(MonteCarlo(3), 10, 20)
    yrs = d.uniform_years("s", 4)
    assert yrs.shape == (4, 10)
    np.testing.assert_array_equal(yrs[2], MonteCarlo(3).uniforms("s", 10, 20, 3))
    np.testing.assert_array_equal(Median().uniforms("s", 0, 3), 0.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        MonteCarlo(-1)


def test_a_zero_double_is_clamped_to_u_min(monkeypatch):
    """The generator's 0.0 (one double in 2**53) becomes U_MIN; every other value stays."""
    import sustainsim.sampling.streams as streams

    class Zeros:
        def doubles(self, seed_seq, key, start, stop, out=None):
            out = np.empty(stop - start) if out is None else out
            out[...] = np.linspace(0.0, U_MAX, stop - start)
            return out

    monkeypatch.setattr(streams, "open_streams", Zeros())
    u = MonteCarlo(1).uniforms("s", 0, 5)
    assert u[0] == U_MIN
    np.testing.assert_array_equal(u[1:], np.linspace(0.0, U_MAX, 5)[1:])
    monkeypatch.setattr(streams, "open_streams", Zeros())
    np.testing.assert_array_equal(MonteCarlo(1).uniforms("s", 3, 3), np.empty(0))
