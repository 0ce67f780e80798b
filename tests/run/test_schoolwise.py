"""A summary chunk run a school at a time gives the numbers of the usual chunk, bit for bit."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sustainsim
from sustainsim.model import engine
from sustainsim.run import schoolwise as schoolwise_mod
from sustainsim.run.chunk import allocate_outputs, run_chunk
from sustainsim.run.chunk_stats import CHECKED, _entity_parts, chunk_stats_checked
from sustainsim.run.schoolwise import run_by_school, schoolwise
from sustainsim.run.summary import simulate_summary
from sustainsim.sampling.streams import MonteCarlo
from tests import digests


def _usual_way(monkeypatch) -> None:
    """Every module that asks ``schoolwise`` is told no: chunks of all schools at once."""
    for name, mod in list(sys.modules.items()):
        if name.startswith("sustainsim.run") and getattr(mod, "schoolwise", None) is schoolwise:
            monkeypatch.setattr(mod, "schoolwise", lambda spec: False)


@pytest.mark.parametrize("path", digests.CONFIGS)
def test_every_shipped_config_summarizes_the_same_either_way(path, monkeypatch):
    """Several chunks (the pilot's kept and not, and chunks after it) against the usual path."""
    spec = sustainsim.load_config(digests.ROOT / path)
    kw = dict(draws=2_500, seed=7, chunk_size=600, progress=False)
    by_school = digests.dataset_digests(simulate_summary(spec, **kw))
    with monkeypatch.context() as m:
        _usual_way(m)
        usual = digests.dataset_digests(simulate_summary(spec, **kw))
    assert by_school == usual
    if schoolwise(spec):  # and the school-at-a-time path did run: engine.run is not called
        with monkeypatch.context() as m:
            m.setattr(engine, "run", None)
            assert digests.dataset_digests(simulate_summary(spec, **kw)) == usual


def test_a_deflator_tied_costs_and_a_response_summarize_the_same_either_way(monkeypatch):
    """What no shipped config without flows has: a deflator, a cost tied to a grant (the
    cliff outputs) and the management response, with district money and two schools."""
    from tests.conftest import TWO_SCHOOLS_TOML

    text = TWO_SCHOOLS_TOML.replace(
        'salary = { dist = "uniform", low = 0.02, high = 0.04 }',
        'salary = { dist = "uniform", low = 0.02, high = 0.04 }\ndeflator = 0.025',
    ).replace(
        "amount = 2150000\ngrowth = 0.025",
        'amount = 2050000\ngrowth = 0.025\n\n[[schools.cost]]\nname = "coach"\nkind = "fixed"\n'
        'amount = 100000\nfunded_by = "grant"\non_expiry = "absorb"',
    )
    text += '\n[district.response]\ntrigger = "deficit"\nlag = 1\nlevers = ["trim", "reserves"]\n'
    spec = sustainsim.loads_config(text)
    assert schoolwise(spec)
    names = set(allocate_outputs(spec, 1, False))
    assert {"deflator", "cliff_year", "grant_funded_cost", "required_cut"} <= names
    kw = dict(draws=2_500, seed=3, chunk_size=700, progress=False)
    by_school = digests.dataset_digests(simulate_summary(spec, **kw))
    with monkeypatch.context() as m:
        _usual_way(m)
        assert digests.dataset_digests(simulate_summary(spec, **kw)) == by_school


def test_a_chunk_by_school_equals_its_usual_stats_ranges_and_balances(make_spec):
    """The pieces themselves: counts, moments, pilot ranges and kept balances."""
    spec = make_spec("two_schools")
    src = MonteCarlo(3)
    got = run_by_school(spec, src, 400, 1_100, keep=True, ranges=True)
    assert run_by_school(spec, src, 400, 1_100).ranges is None
    res = run_chunk(spec, src, 400, 1_100, out=allocate_outputs(spec, 700, False), checked=CHECKED)
    want = chunk_stats_checked(spec, res)
    assert got.stats.n == want.n == 700
    for k in want.counts:
        np.testing.assert_array_equal(got.stats.counts[k], want.counts[k])
    for k in want.mean:
        assert got.stats.mean[k].tobytes() == want.mean[k].tobytes()
        assert got.stats.m2[k].tobytes() == want.m2[k].tobytes()
    parts = _entity_parts(res.arrays, "fund_balance")
    assert got.balances is not None and len(got.balances) == len(parts) == 2
    for a, b in zip(got.balances, parts, strict=True):
        assert a.shape == b.shape and a.tobytes() == np.ascontiguousarray(b).tobytes()
    bal = np.concatenate(parts, axis=1)
    assert got.ranges is not None
    lo, hi, wlo, whi = got.ranges
    np.testing.assert_array_equal(lo, bal.min(axis=-1))
    np.testing.assert_array_equal(hi, bal.max(axis=-1))
    np.testing.assert_array_equal(wlo, bal.min(axis=0).min(axis=-1))
    np.testing.assert_array_equal(whi, bal.min(axis=0).max(axis=-1))


def test_district_sums_are_taken_in_school_order_as_numpy_sums_over_schools():
    """The district's totals: x0 + x1 + ... + x{S-1}, which is what ``sum(axis=1)`` gives."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 9, 300)) * 10.0 ** rng.integers(-6, 9, (4, 9, 1))
    acc = x[:, 0].copy()
    for j in range(1, 9):
        acc += x[:, j]
    assert acc.tobytes() == x.sum(axis=1).tobytes()


def test_flows_between_the_books_take_the_usual_path(make_spec):
    """A config whose money moves between the books is refused by run_by_school."""
    spec = sustainsim.load_config(digests.ROOT / "configs" / "ngsi_grant_cliff.toml")
    if schoolwise(spec):
        pytest.skip("this config has no flows")
    with pytest.raises(ValueError, match="flows"):
        run_by_school(spec, MonteCarlo(1), 0, 10)
    assert schoolwise_mod.schoolwise(make_spec("two_schools"))
