"""The exact quantiles' cost a series: P10/P50/P90 of 1e6 draws, as the forecast workbook asks.

Times :func:`sustainsim.metrics.exact_quantiles.quantiles_1d` on series of 1e6 draws
(normal values around 3e7, as a budget line, and a constant line, a lump), against
``np.nanquantile`` and, with ``--before FILE``, another version of the module (for
instance ``git show 6e27ae2:src/sustainsim/metrics/exact_quantiles.py > /tmp/eq.py``),
the versions interleaved round by round. Every result is checked equal to numpy's.

    python benchmarks/bench_quantiles.py
    python benchmarks/bench_quantiles.py --before /tmp/eq.py --rounds 6

Measured on the 2-core machine (2026-12-02 14:50, a slow hour of the shared host, 3
rounds of 90 series): best 4.8 ms a series against 6.5 ms for 6e27ae2's module (medians
5.7 and 7.8 ms); ``np.nanquantile`` 20 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable

import numpy as np

from sustainsim.metrics import exact_quantiles

QS = np.array([0.1, 0.5, 0.9])


def _load(path: str):
    spec = importlib.util.spec_from_file_location("quantiles_before", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    """Print the best and median milliseconds a series of each version."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="another exact_quantiles.py to time beside this one")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--series", type=int, default=90, help="series a round (90: ref10's)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    series = [rng.normal(size=1_000_000) * 1e6 + 3e7 for _ in range(args.series - 1)]
    series.append(np.full(1_000_000, 125_000.0))  # a constant line: its brackets are lumps
    versions: dict[str, Callable] = {"this": exact_quantiles.quantiles_1d}
    if args.before:
        versions["before"] = _load(args.before).quantiles_1d
    versions["numpy"] = lambda x, q: np.nanquantile(x, q)
    for f in versions.values():
        for x in series[:2] + series[-1:]:
            assert np.array_equal(f(x, QS), np.nanquantile(x, QS))
    times: dict[str, list[float]] = {k: [] for k in versions}
    for _ in range(args.rounds):
        for name, f in versions.items():
            t0 = time.perf_counter()
            for x in series:
                f(x, QS)
            times[name].append((time.perf_counter() - t0) / len(series) * 1e3)
    for name, ts in times.items():
        ts.sort()
        print(f"{name:7s} best {ts[0]:.2f} ms a series, median {ts[len(ts) // 2]:.2f} ms")


if __name__ == "__main__":
    main()
