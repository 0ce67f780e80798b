"""Time sustainsim.simulate on ref10 against a hand-written numpy version, same run.

    python benchmarks/bench_ref10.py            # 1e5 and 1e6 draws
    python benchmarks/bench_ref10.py --quick    # 1e5 only

Each case runs in its own subprocess (so peak RSS is that case's alone), best of
``--repeat`` timings after one warm-up. Results go to benchmarks/results/ref10.json
and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = ROOT / "configs" / "reference" / "ref10.toml"


def _case(kind: str, draws: int, repeat: int) -> dict:
    sys.path.insert(0, str(HERE))
    import numpy as np

    if kind == "sustainsim":
        import sustainsim

        spec = sustainsim.load_config(CONFIG)

        def go():
            ds = sustainsim.simulate(spec, draws=draws, seed=1, progress=False)
            return float((ds.fund_balance.values[:, -1, 0] >= 0).mean())
    else:
        from ref10_numpy import ref10_numpy

        def go():
            return float((ref10_numpy(draws, seed=1)[:, -1] >= 0).mean())

    go()  # warm-up: imports, page faults
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        go()
        times.append(time.perf_counter() - t0)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    best = min(times)
    return {
        "kind": kind,
        "draws": draws,
        "seconds": best,
        "draws_per_second": draws / best,
        "peak_rss_mib": peak_kib / 1024,
        "numpy": np.__version__,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case", nargs=2, metavar=("KIND", "DRAWS"), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "ref10.json")
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(_case(args.case[0], int(args.case[1]), args.repeat)))
        return 0
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    rows = []
    for n in sizes:
        for kind in ("numpy", "sustainsim"):
            out = subprocess.run(
                [sys.executable, __file__, "--case", kind, str(n), "--repeat", str(args.repeat)],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'draws':>10} {'kind':>11} {'seconds':>9} {'draws/s':>12} {'peak MiB':>9} {'ratio':>6}")
    for n in sizes:
        base = next(r for r in rows if r["draws"] == n and r["kind"] == "numpy")
        for r in (x for x in rows if x["draws"] == n):
            r["ratio_to_numpy"] = r["seconds"] / base["seconds"]
            print(
                f"{n:>10,} {r['kind']:>11} {r['seconds']:>9.3f} {r['draws_per_second']:>12,.0f} "
                f"{r['peak_rss_mib']:>9.0f} {r['ratio_to_numpy']:>6.2f}"
            )
    meta = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
