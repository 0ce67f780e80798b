"""The levy driver against a draw-by-draw walk through the elections on the same uniforms."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sustainsim.model.drivers.levy import election_calendar, levy_schedule


def _walk(years, cal, u, p, in_force, expires, decay, max_attempts, lag):
    """One draw, election by election: the years collected and the attempt that passed."""
    collected = [in_force] + [
        in_force and (expires is None or t <= expires) for t in range(1, years + 1)
    ]
    if in_force and expires is None:
        return collected, 0
    for i, year in enumerate(cal):
        if max_attempts is not None and i >= max_attempts:
            break
        if u[i] < p * decay**i:
            renewal = in_force and year <= expires
            start = expires + 1 if renewal else year + lag
            for t in range(start, years + 1):
                collected[t] = True
            return collected, i + 1
    return collected, 0


@given(
    years=st.integers(1, 8),
    seed=st.integers(0, 2**31),
    in_force=st.booleans(),
    expires=st.none() | st.integers(0, 9),
    per_year=st.integers(1, 2),
    decay=st.floats(0.3, 1.0),
    max_attempts=st.none() | st.integers(1, 5),
    lag=st.integers(0, 2),
)
def test_the_driver_matches_the_draw_by_draw_walk(
    years, seed, in_force, expires, per_year, decay, max_attempts, lag
):
    if not in_force:
        expires = None
    rng = np.random.default_rng(seed)
    n = 40
    first = 1 if not in_force or expires is None else max(expires, 1)
    cal = election_calendar(years, None, per_year, first=first)
    u = rng.random((cal.size, n))
    p = rng.random(n)
    collected, attempt = levy_schedule(
        years, cal, u, p, in_force=in_force, expires=expires, pass_decay=decay,
        max_attempts=max_attempts, collection_lag=lag,
    )  # fmt: skip
    assert collected.shape == (years + 1, n) and attempt.shape == (n,)
    for d in range(n):
        want, att = _walk(years, cal, u[:, d], p[d], in_force, expires, decay, max_attempts, lag)
        np.testing.assert_array_equal(collected[:, d], want)
        assert attempt[d] == att


def test_attempt_probabilities_replace_the_decayed_rate():
    u = np.array([[0.1], [0.1], [0.1]])
    # 0, then 0, then 0.5 (the last value repeats): the third attempt passes
    _, attempt = levy_schedule(
        4, [1, 2, 3], u, None, in_force=False, attempt_probabilities=[0, 0, 0.5]
    )
    assert attempt.tolist() == [3.0]
    _, attempt = levy_schedule(
        4, [1, 2, 3], u, None, in_force=False, attempt_probabilities=[0, 0.5]
    )
    assert attempt.tolist() == [2.0]


def test_the_calendar_keeps_the_horizon_and_repeats_years():
    assert election_calendar(5, [0, 2, 6], 2).tolist() == [2, 2]
    assert election_calendar(3, None, 1, first=4).tolist() == []
