"""Time one ``sustainsim`` command on two source trees, in new processes, interleaved.

A loaded host drifts by tens of percent within minutes, so the two sides run in turn
(before, after, before, ...) and each side's best and median are printed. Each process
runs the installed command's entry point (``sustainsim.cli.console``, ``main`` on a tree
without it), imports and exit counted; each side writes to its own output folder.

    git worktree add /tmp/before 1cf70a7
    python benchmarks/ab_command.py --before /tmp/before/src --rounds 5 -- \\
        run configs/flagship.toml -q

``--idle 2`` waits two seconds before each run, as a user's runs come.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: ``python -c`` code that runs the installed command's entry point on ``sys.argv[1:]``
#: (``console``; ``main`` on a commit before it); test_speed's new-process row runs it too
ENTRY = (
    "import sys; from sustainsim import cli; sys.argv[0] = 'sustainsim'; "
    "sys.exit(getattr(cli, 'console', cli.main)())"
)


def _once(src: str, argv: list[str], out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": src}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", ENTRY, *argv, "--out", str(out)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    """Parse the arguments, run both sides in turn, print each side's times."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="the src folder of the earlier commit")
    p.add_argument("--after", default=str(HERE.parent / "src"), help="default: this tree")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument(
        "--idle",
        type=float,
        default=0.0,
        help="seconds to wait before each run (memory left free goes back to a VM's host)",
    )
    p.add_argument("argv", nargs=argparse.REMAINDER, help="-- then the command's arguments")
    args = p.parse_args()
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    sides = {"before": args.before, "after": args.after}
    seen: dict[str, list[float]] = {k: [] for k in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, src in sides.items():
                time.sleep(args.idle)
                seen[name].append(_once(src, argv, Path(tmp) / name))
    for name, times in seen.items():
        print(
            f"{name}: best {min(times):.2f} s, median {statistics.median(times):.2f} s "
            f"({', '.join(f'{t:.2f}' for t in sorted(times))})"
        )


if __name__ == "__main__":
    main()
