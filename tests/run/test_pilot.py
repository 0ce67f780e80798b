"""The kept pilot of a serial summary run gives the numbers of the pilot run twice, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sustainsim.run import core
from sustainsim.run.plan import plan_run


def _fields(acc):
    out = {
        "n": np.asarray(acc.n),
        "bal_counts": acc.balance.counts,
        "bal_min": acc.balance.vmin,
        "bal_max": acc.balance.vmax,
        "worst_counts": acc.worst.counts,
        "worst_min": acc.worst.vmin,
        "worst_max": acc.worst.vmax,
    }
    for k in ("solvent", "no_deficit", "no_spending"):
        out[k] = getattr(acc, k)
    out.update({f"mean.{k}": v for k, v in acc.mean.items()})
    out.update({f"m2.{k}": v for k, v in acc.m2.items()})
    return out


def _twice(plan, unit, template, buffers=None):
    """``block_task`` under another name: ``reduce`` then runs the pilot twice (the old path)."""
    return core.block_task(plan, unit, template, buffers)


@pytest.mark.parametrize(
    ("draws", "chunk", "kept_chunks"),
    [
        (3_000, 1_000, 2),  # the whole run is the pilot, every chunk kept
        (40_000, 5_000, 2),  # the pilot is not a whole number of chunks: its last is run again
        (3_000, 500, 0.6),  # the cap keeps only the first two chunks of six
        (20_000, 4_096, 0),  # nothing kept
    ],
)
def test_kept_pilot_equals_pilot_run_twice(make_spec, monkeypatch, draws, chunk, kept_chunks):
    spec = make_spec("two_schools")
    monkeypatch.setattr(core, "PILOT_KEPT_CHUNKS", kept_chunks)
    plan = plan_run(spec, draws=draws, seed=3, chunk_size=chunk, mode="summary", progress=False)
    with core.progress_bar(plan, "x") as bar:
        kept = core.reduce(plan, bar)
        twice = core.reduce(plan, bar, task=_twice)
    a, b = _fields(kept), _fields(twice)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert int(kept.n) == draws
