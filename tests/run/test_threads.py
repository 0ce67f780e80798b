"""Chunks on threads of this process give the numbers of one thread, bit for bit."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sustainsim
from sustainsim.run import chunk as chunk_mod
from sustainsim.run import core, threads
from sustainsim.run.chunk import chunk_blocks, chunk_bounds, even_bounds
from sustainsim.run.plan import plan_run
from sustainsim.run.schoolwise import schoolwise
from sustainsim.run.summary import simulate_summary
from sustainsim.sampling.copula import CorrelatedSource
from sustainsim.sampling.streams import MonteCarlo
from tests import digests
from tests.conftest import SMALL_TOML
from tests.run.test_source import CORR

#: more threads than this machine's cores, so chunks also finish out of order
MANY = 3


def _both(run, **kw):
    """Digests of ``run(..., threads=1)`` and of the same run on :data:`MANY` threads."""
    one = digests.dataset_digests(run(threads=1, **kw))
    many = digests.dataset_digests(run(threads=MANY, **kw))
    return one, many


@pytest.mark.parametrize("path", digests.CONFIGS)
def test_every_shipped_config_gives_the_same_numbers_on_threads(path):
    """Full and summary runs of many chunks (the summary's blocks cut into chunk tasks)."""
    spec = sustainsim.load_config(digests.ROOT / path)
    kw = dict(draws=2_500, seed=7, chunk_size=300, progress=False)
    one, many = _both(lambda **k: sustainsim.simulate(spec, **k), **kw)
    assert one == many
    one, many = _both(lambda **k: simulate_summary(spec, **k), **kw)
    assert one == many


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_other_samplers_and_correlated_inputs_give_the_same_numbers_on_threads(sampler):
    """Latin hypercube and Sobol sources, and a Gaussian copula (which caches per chunk)."""
    spec = sustainsim.loads_config(CORR.replace("{rho}", "0.6"))
    kw = dict(draws=2_048, seed=11, chunk_size=256, progress=False)
    for run in (
        lambda **k: sustainsim.simulate(spec, **k),
        lambda **k: simulate_summary(spec, **k),
    ):
        one, many = _both(run, **kw)
        assert one == many
        one, many = _both(run, sampler=sampler, **kw)
        assert one == many


def test_a_summary_with_flows_and_kept_pilot_chunks_on_threads(ref10_spec):
    """Chunks of all schools at once (each thread its own buffers), some kept by the pilot.

    20,000 draws in chunks of 2,000: the pilot (16,384 draws) keeps some chunks and not
    others; blocks of eight chunks, so two blocks, the second cut short.
    """
    flows = next(
        sustainsim.load_config(digests.ROOT / p)
        for p in digests.CONFIGS
        if not schoolwise(sustainsim.load_config(digests.ROOT / p))
    )
    for spec in (flows, ref10_spec):
        kw = dict(draws=20_000, seed=2, chunk_size=2_000, progress=False)
        one, many = _both(lambda s=spec, **k: simulate_summary(s, **k), **kw)
        assert one == many


def test_folding_chunks_straight_into_the_run_would_be_caught(ref10_spec):
    """Negative control: the identity tests see a change in the order of the moments' sums.

    Merging chunk accumulators straight into the run's (not first into their block, as
    the serial run does) moves some means or variances in their last bits.
    """
    plan = plan_run(ref10_spec, draws=40_000, seed=3, chunk_size=1_000, mode="summary")
    serial = core.reduce(plan, core.progress_bar(plan, "x"), core.SerialExecutor())
    acc = core.pilot_accumulator(ref10_spec, plan.source, plan.draws, plan.bins, plan.margin, 1000)
    template = acc.empty_like()
    for start, stop in chunk_bounds(plan.draws, 1_000):
        acc.merge(core.block_task(plan, [(start, stop)], template))
    changed = [k for k in serial.m2 if not np.array_equal(serial.m2[k], acc.m2[k])]
    changed += [k for k in serial.mean if not np.array_equal(serial.mean[k], acc.mean[k])]
    assert changed  # the order matters, so folding by block is what keeps the numbers
    threaded = core.reduce(plan, core.progress_bar(plan, "x"), threads.ThreadExecutor(MANY))
    for k in serial.m2:
        np.testing.assert_array_equal(threaded.m2[k], serial.m2[k])
        np.testing.assert_array_equal(threaded.mean[k], serial.mean[k])
    np.testing.assert_array_equal(threaded.balance.counts, serial.balance.counts)


def test_units_are_folded_into_their_blocks_in_order():
    """``_InOrder``: chunk accumulators folded per block, then blocks merged, in draw order."""
    blocks = chunk_blocks(20, 2)  # ten chunks: blocks of 8 and 2
    sizes = [len(b) for b in blocks]
    merged: list[tuple[str, int]] = []

    class Acc:
        def __init__(self, tag="acc"):
            self.tag, self.n = tag, 0

        def empty_like(self):
            return Acc("block")

        def merge(self, other):
            merged.append((self.tag, other.n))
            self.n += other.n

    fold = core._InOrder(Acc(), sizes, Acc("template"))  # type: ignore[arg-type]
    parts = []
    for i in range(10):
        a = Acc("chunk")
        a.n = i + 1
        parts.append(a)
    for i in (3, 1, 0, 2, 9, 4, 5, 6, 7, 8):  # out of order
        fold(i, parts[i])
    want = [("block", i + 1) for i in range(8)] + [("acc", sum(range(1, 9)))]
    want += [("block", 9), ("block", 10), ("acc", 19)]
    assert merged == want


def test_the_first_failing_chunk_in_draw_order_raises(small_spec, monkeypatch):
    """As a serial run: the error of the earliest failing chunk, whichever finished first."""
    real = chunk_mod.run_chunk

    def failing(spec, source, start, stop, **kw):
        if start >= 600:
            raise ValueError(f"chunk {start}")
        if start == 400:
            time.sleep(0.05)  # finishes after later chunks have failed
            raise ValueError(f"chunk {start}")
        return real(spec, source, start, stop, **kw)

    monkeypatch.setattr(core, "run_chunk", failing)
    for t in (1, MANY):  # 21 chunks of 100: the same bounds on one thread and on three
        with pytest.raises(ValueError, match="^chunk 400$"):
            sustainsim.simulate(small_spec, draws=2_100, chunk_size=100, threads=t)


def test_after_an_error_no_chunk_is_still_running(small_spec, monkeypatch):
    """Units not started are cancelled and the running ones finished before the error leaves."""
    real = chunk_mod.run_chunk
    running = []
    lock = threading.Lock()

    def slow(spec, source, start, stop, **kw):
        with lock:
            running.append(start)
        try:
            if start == 0:
                raise ValueError("first chunk")
            time.sleep(0.02)
            return real(spec, source, start, stop, **kw)
        finally:
            with lock:
                running.remove(start)

    monkeypatch.setattr(core, "run_chunk", slow)
    with pytest.raises(ValueError, match="first chunk"):
        sustainsim.simulate(small_spec, draws=5_000, chunk_size=100, threads=MANY)
    assert running == []


def test_threads_are_checked_and_resolved(small_spec):
    with pytest.raises(ValueError, match=r"threads must be >= 1 \(got 0\)"):
        plan_run(small_spec, threads=0)
    with pytest.raises(TypeError, match="threads must be an integer"):
        plan_run(small_spec, threads="2")
    with pytest.raises(ValueError, match="threads=2 runs chunks in this process.*'processes'"):
        plan_run(small_spec, threads=2, scheduler="processes")
    plan = plan_run(small_spec, threads=1, scheduler="threads", workers=2)  # 1: no conflict
    assert core.run_threads(plan) == 1  # a scheduler's workers run the chunks
    assert core.run_threads(plan_run(small_spec, threads=5), units=3) == 3
    assert core.run_threads(plan_run(small_spec, threads=5)) == 5
    auto = core.run_threads(plan_run(small_spec))
    assert auto == threads.default_threads()
    assert 1 <= auto <= min(threads.MAX_THREADS, threads.usable_cores())
    assert isinstance(core.executor_for(plan_run(small_spec, threads=2), 1), core.SerialExecutor)
    assert isinstance(core.executor_for(plan_run(small_spec, threads=2), 2), threads.ThreadExecutor)


def test_the_memory_estimate_counts_a_chunk_per_thread(ref10_spec):
    one = plan_run(ref10_spec, draws=1_000_000, threads=1)
    two = plan_run(ref10_spec, draws=1_000_000, threads=2)
    chunk = chunk_mod.output_bytes(ref10_spec, one.chunk_size, False)
    extra = core.estimate_memory(two) - core.estimate_memory(one)
    assert extra == core.CHUNK_OVERHEAD * chunk
    s1, s2 = (p.replace(mode="summary") for p in (one, two))
    chunk = chunk_mod.output_bytes(ref10_spec, s1.chunk_size, False)
    assert core.estimate_memory(s2) - core.estimate_memory(s1) == chunk


def test_a_correlated_source_keeps_each_threads_chunk_apart():
    """Two threads at different chunks of one copula source get their own blocks.

    Thread A is held inside its block's base uniforms while thread B computes and caches
    the block of another chunk; A then finishes, and B asks for a second member of its
    chunk. A cache shared by the threads would hand B the block A stored for A's chunk.
    """
    names = ["g1", "g2"]
    rho = [[1.0, 0.5], [0.5, 1.0]]
    held, go, a_done = threading.Event(), threading.Event(), threading.Event()

    class Base:
        name = "base"

        def __init__(self):
            self.mc = MonteCarlo(4)

        def uniforms(self, name, start, stop, index=0, out=None):
            if threading.current_thread().name == "A" and name == "g1":
                held.set()
                go.wait(5)
            return self.mc.uniforms(name, start, stop, index, out=out)

    src = CorrelatedSource(Base(), names, rho)
    got: dict[str, np.ndarray] = {}

    def a():
        got["A"] = src.uniforms("g2", 0, 500)
        a_done.set()

    def b():
        held.wait(5)
        src.uniforms("g1", 500, 1_000)
        go.set()
        a_done.wait(5)
        got["B"] = src.uniforms("g2", 500, 1_000)

    ta, tb = threading.Thread(target=a, name="A"), threading.Thread(target=b, name="B")
    ta.start(), tb.start()
    ta.join(10), tb.join(10)
    alone = CorrelatedSource(MonteCarlo(4), names, rho)
    np.testing.assert_array_equal(got["A"], alone.uniforms("g2", 0, 500))
    np.testing.assert_array_equal(got["B"], alone.uniforms("g2", 500, 1_000))


def test_a_correlated_source_pickles_without_its_cache():
    import pickle

    src = CorrelatedSource(MonteCarlo(1), ["a", "b"], [[1.0, 0.3], [0.3, 1.0]])
    first = src.uniforms("b", 0, 100)
    back = pickle.loads(pickle.dumps(src))
    np.testing.assert_array_equal(back.uniforms("b", 0, 100), first)


def test_small_runs_stay_in_the_calling_thread(small_spec, monkeypatch):
    """One chunk: no thread pool (a notebook's many small runs pay nothing for it)."""
    monkeypatch.setattr(threads, "_pool", None)  # would fail if called
    ds = sustainsim.simulate(small_spec, draws=1_000, threads=MANY)
    assert ds.sizes["draw"] == 1_000
    summary = simulate_summary(sustainsim.loads_config(SMALL_TOML), draws=1_000, threads=MANY)
    assert int(summary.attrs["draws"]) == 1_000


@given(
    start=st.integers(0, 10**6),
    n=st.integers(0, 200_000),
    chunk=st.integers(1, 40_000),
    parts=st.integers(1, 6),
)
def test_even_bounds_cover_the_draws_in_the_fewest_even_chunks(start, n, chunk, parts):
    """Contiguous, at most ``chunk`` draws, sizes within one, a multiple of ``parts`` chunks
    (unless there are fewer draws), and no more chunks than that needs."""
    got = even_bounds(start + n, chunk, start, parts)
    if n == 0:
        assert got == []
        return
    assert got[0][0] == start and got[-1][1] == start + n
    assert all(b == c for (_, b), (c, _) in zip(got[:-1], got[1:], strict=True))
    sizes = [b - a for a, b in got]
    assert min(sizes) >= 1 and max(sizes) <= chunk and max(sizes) - min(sizes) <= 1
    fewest = -(-n // chunk)
    want = min(n, -(-fewest // parts) * parts)
    assert len(got) == want


def test_a_full_run_on_threads_cuts_its_draws_evenly(small_spec, monkeypatch):
    """100,000 draws in chunks of at most 32,768 on two threads: four of 25,000."""
    seen = []
    real = core.run_chunk

    def spy(spec, source, start, stop, **kw):
        seen.append((start, stop))
        return real(spec, source, start, stop, **kw)

    monkeypatch.setattr(core, "run_chunk", spy)
    sustainsim.simulate(small_spec, draws=100_000, chunk_size=32_768, threads=2)
    assert sorted(seen) == [(0, 25_000), (25_000, 50_000), (50_000, 75_000), (75_000, 100_000)]
    seen.clear()
    sustainsim.simulate(small_spec, draws=100_000, chunk_size=32_768, threads=1)
    assert sorted(seen) == chunk_bounds(100_000, 32_768)


def test_a_run_started_on_a_chunk_thread_stays_on_it(small_spec):
    """A run inside a chunk task runs serially, with the numbers of any other run.

    On threads it would wait on tasks of its own pool.
    """
    got = {}

    def task(plan, unit):
        got["threads"] = core.run_threads(plan_run(small_spec, threads=MANY))
        got["ds"] = sustainsim.simulate(small_spec, draws=3_000, chunk_size=500, threads=MANY)
        return 0

    plan = plan_run(small_spec, threads=MANY)
    threads.ThreadExecutor(MANY).map(
        plan, [[(0, 1)]], task, lambda i, r: None, core.progress_bar(plan, "x")
    )
    assert got["threads"] == 1
    want = sustainsim.simulate(small_spec, draws=3_000, chunk_size=500, threads=1)
    assert digests.dataset_digests(got["ds"]) == digests.dataset_digests(want)
