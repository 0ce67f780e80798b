"""``run ref10 --draws 1e6 --no-report`` in process against ``simulate``, on two trees.

The Speed table's "in process" figure, for two source trees side by side: each side
runs in a new process (``PYTHONPATH`` its ``src``) that warms up with one run, then
alternates ``--rounds`` runs of ``sustainsim.cli.main`` (imports not counted) with
``simulate`` alone; the sides alternate ``--alternations`` times, as a drifting host
needs. Prints each side's best and median run, simulation, their ratio and the run's
process CPU.

    git worktree add /tmp/before 6e27ae2
    python benchmarks/ab_in_process.py --before /tmp/before/src --alternations 6
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "configs" / "reference" / "ref10.toml"

SCRIPT = """
import json, sys, tempfile, time
import sustainsim
from sustainsim.cli import main
config, rounds = sys.argv[1], int(sys.argv[2])
args = ["run", config, "--draws", "1000000", "--no-report", "-q", "--out",
        tempfile.mkdtemp() + "/out"]
spec = sustainsim.load_config(config)
main(args)
out = {"run": [], "simulate": [], "cpu": []}
for _ in range(rounds):
    t, c = time.perf_counter(), time.process_time()
    main(args)
    out["run"].append(time.perf_counter() - t)
    out["cpu"].append(time.process_time() - c)
    t = time.perf_counter()
    sustainsim.simulate(spec, draws=1_000_000, seed=spec.config.simulation.seed)
    out["simulate"].append(time.perf_counter() - t)
print(json.dumps(out))
"""


def _side(src: str, rounds: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(CONFIG), str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Parse the arguments, alternate the sides, print each side's figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="the src folder of the earlier commit")
    p.add_argument("--after", default=str(HERE.parent / "src"), help="default: this tree")
    p.add_argument("--alternations", type=int, default=4)
    p.add_argument("--rounds", type=int, default=4, help="runs in each process")
    args = p.parse_args()
    sides = {"before": args.before, "after": args.after}
    got: dict[str, dict[str, list[float]]] = {k: {} for k in sides}
    for _ in range(args.alternations):
        for name, src in sides.items():
            for key, values in _side(src, args.rounds).items():
                got[name].setdefault(key, []).extend(values)
    for name, figures in got.items():
        run, sim, cpu = (sorted(figures[k]) for k in ("run", "simulate", "cpu"))
        mid = len(run) // 2
        print(
            f"{name:6s} run best {run[0]:.3f} s, median {run[mid]:.3f} s; simulate best "
            f"{sim[0]:.3f} s, median {sim[mid]:.3f} s; ratio best {run[0] / sim[0]:.2f}x, "
            f"median {run[mid] / sim[mid]:.2f}x; run CPU median {cpu[mid]:.2f} s"
        )


if __name__ == "__main__":
    main()
