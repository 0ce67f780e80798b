"""What writing a new file costs after the machine's memory has been idle: the page cache.

A run writes ``results.nc`` (544 MB for ref10's 1e6 draws) into fresh page cache. On a
virtual machine whose host takes back memory that stays free (free page reporting, a
balloon), that memory costs far more to touch again than the copy itself, so the cost
of the write depends on how long ago memory was last freed: in a benchmark loop it was
freed a moment ago (the last run's file, deleted), in real use minutes ago.

Each round writes ``--mb`` MB from a warmed numpy buffer into a new file (8 MB a
``write``), deletes it, sleeps, and then times the same write: the process CPU of the
timed write and its wall time, for every sleep asked for.

    python benchmarks/page_cache.py                      # sleeps 0, 0.5, 1, 2, 4 s
    python benchmarks/page_cache.py --sleep 0 3 --rounds 3 --dir /some/disk

Measured on the 2-core machine the Speed table was made on (2026-12-02, two runs):
0.11-0.16 s of CPU right after the deletion; after 0.5 s idle either that or 0.7-0.9 s;
0.64-1.07 s after 1-2 s; 0.88-1.47 s after 4 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

_STEP = 8 * 2**20


def _write(path: Path, data: memoryview) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        done = 0
        while done < len(data):
            done += os.write(fd, data[done : done + _STEP])
    finally:
        os.close(fd)


def timed_write(path: Path, data: memoryview, idle: float) -> tuple[float, float]:
    """Write ``data`` to ``path`` (untimed), delete it, sleep ``idle`` s, write it again.

    Returns the second write's (wall, process CPU) seconds; the file is deleted after.
    """
    _write(path, data)
    path.unlink()
    time.sleep(idle)
    t0, c0 = time.perf_counter(), time.process_time()
    _write(path, data)
    out = time.perf_counter() - t0, time.process_time() - c0
    path.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=544, help="size of each file (default 544)")
    ap.add_argument("--sleep", type=float, nargs="+", default=[0, 0.5, 1, 2, 4])
    ap.add_argument("--rounds", type=int, default=2, help="rounds per sleep (default 2)")
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: here)")
    args = ap.parse_args()
    data = np.random.default_rng(0).random(args.mb * 2**20 // 8)  # touched: warm
    view = memoryview(data).cast("B")
    folder = Path(tempfile.mkdtemp(prefix="page-cache-", dir=args.dir or Path.cwd()))
    try:
        for idle in args.sleep:
            for _ in range(args.rounds):
                wall, cpu = timed_write(folder / "f", view, idle)
                print(f"{args.mb} MB after {idle:g} s idle: {wall:.3f} s wall, {cpu:.3f} s CPU")
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
