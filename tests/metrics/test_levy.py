"""P(a levy fails and is not replaced within k tries) against its closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.metrics import levy_attempts, p_levy_lapse
from tests.handcalc import HEAD

DRAWS = 20_000


def _run(pass_probability: str, years: int = 6, extra: str = "", draws: int = DRAWS):
    spec = sustainsim.loads_config(
        HEAD.format(years=years)
        + f"""
[[schools]]
name = "s"
[schools.enrollment]
base = 100

[[schools.revenue]]
name = "oplevy"
kind = "levy"
amount = 480000
expires = 1
elections_per_year = 2       # tries in years 1, 1, 2, 2, ...
pass_probability = {pass_probability}
{extra}
"""
    )
    return sustainsim.simulate(spec, draws=draws, seed=11, progress=False)


def _within_4se(ds, closed: dict[int, float]) -> None:
    p = p_levy_lapse(ds, list(closed)).probability.sel(levy="schools.s.revenue.oplevy")
    for k, expected in closed.items():
        se = np.sqrt(expected * (1 - expected) / DRAWS)
        got = float(p.sel(tries=k))
        assert abs(got - expected) <= 4 * se, (k, got, expected, se)


def test_a_constant_pass_rate_gives_a_geometric_lapse():
    # P(still unreplaced after k elections) = (1 - p)^k
    _within_4se(_run("0.3"), {k: 0.7**k for k in range(1, 9)})


def test_a_falling_pass_rate_gives_the_product():
    # p_i = 0.5 * 0.8^i: P(k) = prod_{i<k} (1 - 0.5 * 0.8^i)
    closed = {k: float(np.prod([1 - 0.5 * 0.8**i for i in range(k)])) for k in range(1, 9)}
    _within_4se(_run("0.5", extra="pass_decay = 0.8"), closed)


def test_an_uncertain_pass_rate_mixes_the_geometric():
    # p ~ uniform(0.2, 0.6) once per draw: P(k) = E[(1 - p)^k]
    #   = ((1 - 0.2)^(k+1) - (1 - 0.6)^(k+1)) / ((k + 1) * 0.4)
    closed = {k: (0.8 ** (k + 1) - 0.4 ** (k + 1)) / ((k + 1) * 0.4) for k in range(1, 9)}
    _within_4se(_run('{ dist = "uniform", low = 0.2, high = 0.6 }'), closed)


def test_tries_beyond_the_horizon_are_unknown_unless_none_are_allowed():
    # two years, two elections a year: four tries within the horizon
    ds = _run("0.3", years=2, draws=200)
    assert int(levy_attempts(ds).elections.item()) == 4
    p = p_levy_lapse(ds, [4, 5]).probability.sel(levy="schools.s.revenue.oplevy")
    assert np.isfinite(float(p.sel(tries=4))) and np.isnan(float(p.sel(tries=5)))
    # with max_attempts = 3 there is no fifth try: the levy stays lapsed
    ds = _run("0.3", years=2, extra="max_attempts = 3", draws=200)
    p = p_levy_lapse(ds, [3, 5]).probability.sel(levy="schools.s.revenue.oplevy")
    assert float(p.sel(tries=5)) == float(p.sel(tries=3))


def test_k_must_be_a_whole_number_of_tries():
    ds = _run("0.3", years=2, draws=10)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="whole number >= 1"):
            p_levy_lapse(ds, bad)
