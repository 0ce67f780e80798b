"""Regime-switching cuts: the Markov chain against its closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from sustainsim.model.drivers.regime import (
    mean_run_length,
    regime_cut_hits,
    regime_magnitudes,
    regime_states,
    stationary_share,
)
from sustainsim.sampling.distributions import Distribution
from sustainsim.sampling.streams import ChunkDraws, MonteCarlo

PARAMS = [(0.1, 0.4), (0.25, 0.25), (0.05, 0.6), (0.3, 0.15)]


def chain(p_enter, p_exit, n, years, initial="stationary", seed=1, start=0):
    d = ChunkDraws(MonteCarlo(seed), start, start + n)
    return regime_states(
        d.uniform("district.cuts.regime.initial"),
        d.uniform_years("district.cuts.regime.step", years),
        p_enter,
        p_exit,
        initial=initial,
    )


@pytest.mark.parametrize(("p_enter", "p_exit"), PARAMS)
def test_long_run_share_of_recession_years(p_enter, p_exit):
    s = chain(p_enter, p_exit, 20_000, 40)
    per_draw = s.mean(axis=0)  # draws are independent: their spread gives the SE
    se = per_draw.std(ddof=1) / np.sqrt(per_draw.size)
    pi = p_enter / (p_enter + p_exit)
    assert stationary_share(p_enter, p_exit) == pytest.approx(pi)
    assert abs(per_draw.mean() - pi) < 4 * se
    # stationary start: already year 1 is a recession with probability pi
    assert abs(s[0].mean() - pi) < 4 * np.sqrt(pi * (1 - pi) / s.shape[1])


@pytest.mark.parametrize(("p_enter", "p_exit"), PARAMS)
def test_mean_recession_run_length(p_enter, p_exit):
    years = 120
    s = chain(p_enter, p_exit, 20_000, years, initial="normal", seed=2).astype(bool)
    # the first recession of each draw: its start (entered from a normal year) and length
    first = np.argmax(s, axis=0)
    entered = s.any(axis=0)
    after = ~s & (np.arange(years)[:, None] > first)
    ended = after.any(axis=0)
    length = np.argmax(after, axis=0) - first
    # draws that never enter a recession say nothing about run lengths; runs cut off
    # by the horizon (which would bias the mean down) are vanishingly rare
    assert (entered & ~ended).mean() < 1e-3
    ok = entered & ended
    runs = length[ok]
    assert mean_run_length(p_exit) == pytest.approx(1 / p_exit)
    assert abs(runs.mean() - 1 / p_exit) < 4 * runs.std(ddof=1) / np.sqrt(runs.size)
    # and the run length is geometric: P(length = 1) = p_exit
    assert abs((runs == 1).mean() - p_exit) < 4 * np.sqrt(p_exit * (1 - p_exit) / runs.size)


@pytest.mark.parametrize(("p_enter", "p_exit"), PARAMS)
def test_transition_frequencies_and_autocorrelation(p_enter, p_exit):
    s = chain(p_enter, p_exit, 10_000, 30, seed=3)
    prev, nxt = s[:-1].ravel(), s[1:].ravel()
    n1 = (prev == 1).sum()
    n0 = (prev == 0).sum()
    stay = ((prev == 1) & (nxt == 1)).sum() / n1
    enter = ((prev == 0) & (nxt == 1)).sum() / n0
    assert abs(stay - (1 - p_exit)) < 4 * np.sqrt(p_exit * (1 - p_exit) / n1)
    assert abs(enter - p_enter) < 4 * np.sqrt(p_enter * (1 - p_enter) / n0)
    rho = np.corrcoef(prev, nxt)[0, 1]
    assert rho == pytest.approx(1 - p_enter - p_exit, abs=4 / np.sqrt(prev.size) * 1.5)


def test_initial_states_and_degenerate_chains():
    u0, steps = np.full(5, 0.5), np.random.default_rng(0).uniform(size=(6, 5))
    assert not regime_states(u0, steps, 0.0, 0.3, initial="normal").any()
    assert regime_states(u0, steps, 0.3, 0.0, initial="recession").all()
    s = regime_states(u0, steps, 1.0, 1.0, initial="normal")  # alternates deterministically
    np.testing.assert_array_equal(s[:, 0], [1, 0, 1, 0, 1, 0])
    assert s.dtype == np.int8 and s.shape == (6, 5)
    # per-draw probabilities
    s = regime_states(u0, steps, np.array([0, 0, 0, 1, 1.0]), 0.0, initial="normal")
    assert not s[:, :3].any() and s[:, 3:].all()


def test_hits_by_regime():
    s = chain(0.2, 0.3, 20_000, 20, seed=4)
    u = ChunkDraws(MonteCarlo(4), 0, 20_000).uniform_years("district.cuts.event", 20)
    hits = regime_cut_hits(s, u, p_normal=0.05, p_recession=0.4)
    for state, p in ((0, 0.05), (1, 0.4)):
        m = s == state
        assert abs(hits[m].mean() - p) < 4 * np.sqrt(p * (1 - p) / m.sum())
    # the share of years with a cut mixes the two: pi p_r + (1 - pi) p_n
    pi = stationary_share(0.2, 0.3)
    assert hits.mean() == pytest.approx(pi * 0.4 + (1 - pi) * 0.05, abs=0.01)


def test_magnitudes_by_regime():
    s = np.array([[0, 1, 0], [1, 1, 0]])
    u = np.array([[0.5, 0.5, 0.0], [0.25, 1.0, 1.0]])
    mild = Distribution.from_spec({"dist": "uniform", "low": 0.02, "high": 0.04})
    np.testing.assert_allclose(
        regime_magnitudes(s, u, mild, 0.1), [[0.03, 0.1, 0.02], [0.1, 0.1, 0.04]]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p_enter": 1.2}, r"p_enter must be a probability in \[0, 1\] \(got 1.2\)"),
        ({"p_exit": -0.1}, "p_exit must be a probability"),
        ({"initial": "boom"}, "initial must be one of stationary, normal, recession"),
        ({"p_enter": 0.0, "p_exit": 0.0}, "needs p_enter \\+ p_exit > 0"),
    ],
)
def test_errors(kwargs, message):
    args = {"p_enter": 0.1, "p_exit": 0.3, "initial": "stationary", **kwargs}
    with pytest.raises(ValueError, match=message):
        regime_states(np.zeros(2), np.zeros((3, 2)), **args)


def test_chunk_independent_through_named_streams():
    whole = chain(0.2, 0.3, 1000, 8, seed=5)
    parts = np.concatenate(
        [chain(0.2, 0.3, 400, 8, seed=5), chain(0.2, 0.3, 600, 8, seed=5, start=400)], axis=1
    )
    np.testing.assert_array_equal(whole, parts)
