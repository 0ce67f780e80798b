"""The speed table of issue 16 as a pytest-benchmark suite: one group per row.

    pip install -e '.[bench]'
    python -m pytest benchmarks/test_speed.py --benchmark-json benchmarks/results/speed.json
    python benchmarks/speed_table.py        # speed.md and the README's Speed table

Not collected by the unit tests (``testpaths`` is ``tests`` and ``src``); nothing here
asserts a timing. Every case is timed best-of-rounds after a warm-up (imports, page
faults, worker start-up); the machine is shared, so the minimum is the figure kept.
``SPEED_QUICK=1`` shrinks the heavy rows (100 schools x 20 years, 1e8 draws) for a smoke
run. The rows (``group``):

* ``ref10``: ``simulate`` ref10, 1e6 draws, full per-draw Dataset, against
  ``ref10_numpy.py`` (hand-written vectorized numpy) on the same draws count; ``simulate``
  as it runs by default (its chunks on the usable cores' threads, ``run/threads.py``) and
  on one thread (``threads=1``);
* ``per_school``: summary mode, 1 school x 1e6 draws against 100 copies of it x 1e4
  draws (the same school-draws), both on one thread: the engine's cost per school-draw
  (100 x 1e4 is a single chunk, which no second thread can share);
* ``s100_y20``: 100 schools x 20 years x 1e5 draws, summary mode;
* ``s600_y10``: 600 schools x 10 years x 1e4 draws, summary mode;
* ``cli``: ``sustainsim run ref10 --draws 1000000 --no-report``, a new process (imports
  and exit counted, through the installed command's ``console``) and in this process
  (``main()`` called), against ``simulate`` alone;
* ``workers``: summary mode, 4e6 draws, one process on one thread against two worker
  processes (and, beside them, one process on its default threads);
* ``stream1e8``: 1e8 draws streaming (summary mode) in a child process, its peak RSS kept:
  by default (threads), on one thread, and on two worker processes.

Results from a commit without ``threads=`` (before it) run on one thread throughout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ab_command import ENTRY  # noqa: E402
from bench_scale import _variant  # noqa: E402

CONFIG = HERE.parent / "configs" / "reference" / "ref10.toml"
QUICK = os.environ.get("SPEED_QUICK") == "1"


def _spec(schools: int = 1, years: int = 10):
    return _variant(schools, years)


def _one_thread() -> dict:
    """``threads=1`` where the package has the option (a commit before it: one thread anyway)."""
    from sustainsim.run.plan import PlanOptions

    return {"threads": 1} if "threads" in PlanOptions.__annotations__ else {}


def _pedantic(benchmark, fn, rounds: int = 3, warmup=None, **info):
    """Best of ``rounds`` after one warm-up (``warmup()`` if given, else a call of ``fn``)."""
    benchmark.extra_info.update(info)
    (warmup or fn)()
    return benchmark.pedantic(fn, rounds=rounds, iterations=1)


# --- ref10: simulate against hand-written numpy --------------------------------------------


@pytest.mark.benchmark(group="ref10")
def test_ref10_numpy(benchmark):
    from ref10_numpy import ref10_numpy

    _pedantic(benchmark, lambda: ref10_numpy(1_000_000, seed=1), rounds=5, draws=1_000_000)


@pytest.mark.benchmark(group="ref10")
@pytest.mark.parametrize("threads", ["default", "one"])
def test_ref10_simulate(benchmark, threads):
    import sustainsim

    spec = sustainsim.load_config(CONFIG)
    kw = _one_thread() if threads == "one" else {}
    _pedantic(
        benchmark,
        lambda: sustainsim.simulate(spec, draws=1_000_000, seed=1, progress=False, **kw),
        rounds=5,
        draws=1_000_000,
        threads=threads,
    )


# --- cost per school-draw -------------------------------------------------------------------


@pytest.mark.benchmark(group="per_school")
@pytest.mark.parametrize("schools", [1, 100])
def test_per_school(benchmark, schools):
    from sustainsim.run.summary import simulate_summary

    spec = _spec(schools)
    draws = 1_000_000 // schools
    kw = _one_thread()
    _pedantic(
        benchmark,
        lambda: simulate_summary(spec, draws=draws, seed=1, progress=False, **kw),
        schools=schools,
        draws=draws,
        school_draws=schools * draws,
    )


# --- district scale, summary mode -----------------------------------------------------------


@pytest.mark.benchmark(group="s100_y20")
def test_100_schools_20_years(benchmark):
    from sustainsim.run.summary import simulate_summary

    spec = _spec(100, 20)
    draws = 10_000 if QUICK else 100_000
    _pedantic(
        benchmark,
        lambda: simulate_summary(spec, draws=draws, seed=1, progress=False),
        rounds=1,
        warmup=lambda: simulate_summary(spec, draws=2_000, seed=1, progress=False),
        schools=100,
        years=20,
        draws=draws,
    )


@pytest.mark.benchmark(group="s600_y10")
def test_600_schools_10_years(benchmark):
    from sustainsim.run.summary import simulate_summary

    spec = _spec(600, 10)
    _pedantic(
        benchmark,
        lambda: simulate_summary(spec, draws=10_000, seed=1, progress=False),
        rounds=2,
        warmup=lambda: simulate_summary(spec, draws=1_000, seed=1, progress=False),
        schools=600,
        years=10,
        draws=10_000,
    )


# --- end to end -----------------------------------------------------------------------------


#: rounds of the cli rows: one round's 544 MB write into fresh memory varies 2x here
CLI_ROUNDS = 6


def _cli_args(out: str) -> list[str]:
    return ["run", str(CONFIG), "--draws", "1000000", "--no-report", "--out", out, "-q"]


@pytest.mark.benchmark(group="cli")
def test_cli_process(benchmark, tmp_path):
    out = str(tmp_path / "out")

    def go():
        subprocess.run([sys.executable, "-c", ENTRY, *_cli_args(out)], check=True)

    _pedantic(benchmark, go, rounds=CLI_ROUNDS, draws=1_000_000, imports="counted")


@pytest.mark.benchmark(group="cli")
def test_cli_in_process(benchmark, tmp_path):
    from sustainsim.cli import main

    out = str(tmp_path / "out")

    def run():
        main(_cli_args(out))

    _pedantic(benchmark, run, rounds=CLI_ROUNDS, draws=1_000_000, imports="not counted")


@pytest.mark.benchmark(group="cli")
def test_cli_simulate_alone(benchmark):
    import sustainsim

    spec = sustainsim.load_config(CONFIG)
    _pedantic(
        benchmark,
        lambda: sustainsim.simulate(spec, draws=1_000_000, seed=spec.config.simulation.seed),
        rounds=CLI_ROUNDS,
        draws=1_000_000,
    )


# --- workers --------------------------------------------------------------------------------


@pytest.mark.benchmark(group="workers")
@pytest.mark.parametrize("workers", [1, 2, "threads"])
def test_workers(benchmark, workers):
    from sustainsim.run.parallel import simulate_parallel
    from sustainsim.run.summary import simulate_summary

    spec = _spec()
    n = 4_000_000
    if workers == 1:  # one process, one thread

        def go():
            return simulate_summary(spec, draws=n, seed=1, progress=False, **_one_thread())
    elif workers == "threads":  # one process, its default threads

        def go():
            return simulate_summary(spec, draws=n, seed=1, progress=False)
    else:

        def go():
            return simulate_parallel(
                spec,
                draws=n,
                seed=1,
                scheduler="processes",
                workers=workers,
                mode="summary",
                progress=False,
            )

    _pedantic(benchmark, go, workers=workers, draws=n)


# --- 1e8 draws streaming --------------------------------------------------------------------

_STREAM = textwrap.dedent(
    """
    import json, sys, time
    import sustainsim
    from sustainsim.run.summary import simulate_summary
    from sustainsim.run.plan import PlanOptions
    spec = sustainsim.load_config(sys.argv[1])
    has = "threads" in PlanOptions.__annotations__  # a commit before it: one thread
    kw = {"threads": int(sys.argv[3])} if sys.argv[3:] and has else {}
    simulate_summary(spec, draws=100_000, seed=1, progress=False, **kw)
    t0 = time.perf_counter()
    simulate_summary(spec, draws=int(sys.argv[2]), seed=1, progress=False, **kw)
    wall = time.perf_counter() - t0
    # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's over the exec)
    with open("/proc/self/status") as f:
        hwm = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:"))
    print(json.dumps({"seconds": wall, "peak_rss_mib": hwm / 1024}))
    """
)


def _stream_in_child(benchmark, script: str, *extra: str) -> dict:
    """Run ``script`` (1e8 draws, 1e7 with ``SPEED_QUICK``) in a child; record its figures."""
    draws = 10_000_000 if QUICK else 100_000_000
    seen: list[dict] = []

    def go():
        out = subprocess.run(
            [sys.executable, "-c", script, str(CONFIG), str(draws), *extra],
            check=True,
            capture_output=True,
            text=True,
        )
        seen.append(json.loads(out.stdout.strip().splitlines()[-1]))

    benchmark.extra_info["draws"] = draws
    benchmark.pedantic(go, rounds=1, iterations=1)
    benchmark.extra_info["seconds_in_child"] = min(r["seconds"] for r in seen)
    benchmark.extra_info["peak_rss_mib"] = max(r["peak_rss_mib"] for r in seen)
    return seen[0]


@pytest.mark.benchmark(group="stream1e8")
def test_stream_1e8(benchmark):
    _stream_in_child(benchmark, _STREAM)


@pytest.mark.benchmark(group="stream1e8")
def test_stream_1e8_one_thread(benchmark):
    _stream_in_child(benchmark, _STREAM, "1")


_STREAM_WORKERS = textwrap.dedent(
    """
    import json, os, sys, time
    import sustainsim
    from sustainsim.run.parallel import shutdown_pools, simulate_parallel
    spec = sustainsim.load_config(sys.argv[1])
    kw = dict(seed=1, scheduler="processes", workers=2, mode="summary", progress=False)
    simulate_parallel(spec, draws=1_000_000, **kw)  # worker start-up
    t0 = time.perf_counter()
    simulate_parallel(spec, draws=int(sys.argv[2]), **kw)
    wall = time.perf_counter() - t0

    def hwm(pid):
        with open(f"/proc/{pid}/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:"))

    kids = [int(p) for p in os.listdir("/proc") if p.isdigit() and p != str(os.getpid())]
    mine = []
    for p in kids:
        try:
            with open(f"/proc/{p}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                    mine.append(p)
        except OSError:
            pass
    total = hwm(os.getpid()) + sum(hwm(p) for p in mine)
    shutdown_pools()
    print(json.dumps({"seconds": wall, "peak_rss_mib": total / 1024, "processes": 1 + len(mine)}))
    """
)


@pytest.mark.benchmark(group="stream1e8")
def test_stream_1e8_two_workers(benchmark):
    """The same 1e8 draws on two worker processes; peak RSS summed over every process."""
    benchmark.extra_info["processes"] = _stream_in_child(benchmark, _STREAM_WORKERS)["processes"]


def test_machine_recorded(benchmark):
    """Record the load average beside the machine pytest-benchmark records."""
    benchmark.extra_info["loadavg"] = os.getloadavg()
    benchmark.extra_info["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    benchmark.extra_info["tmp"] = tempfile.gettempdir()
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
