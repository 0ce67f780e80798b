"""Time a 10-school config with salary schedules and the management response against the
same config without them (issue 12: within 1.5x).

    python benchmarks/bench_econ.py              # 50,000 draws
    python benchmarks/bench_econ.py --draws 10000

Both variants have ten K-8 schools staffed by class sections, the same revenue, growth,
cuts and enrollment; the "economics" variant gives every teacher line a steps x lanes
schedule with turnover, the benefits split (pension, health per FTE on its own index,
payroll tax), a stipend line, and a response with all four levers; the "plain" variant
has one salary with steps, one benefits rate and no response. Each variant runs in its
own subprocess, best of ``--repeat`` after one warm-up, the pair ``--rounds`` times
interleaved (best of each kind: the machine may be shared). Results go to
benchmarks/results/econ.json and are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEAD = """
[simulation]
years = 10
first_year = 2027
draws = 1000
seed = 12

[district.growth]
funding = { rate = { dist = "normal", mean = 0.025, sd = 0.015 }, per = "year" }
salary = { dist = "triangular", low = 0.01, mode = 0.02, high = 0.035 }
health = { rate = { dist = "triangular", low = 0.03, mode = 0.05, high = 0.08 }, per = "year" }

[district.cuts]
probability = 0.12
magnitude = { dist = "triangular", low = 0.02, mode = 0.069, high = 0.10 }
timing = "mid_year"

[district.reserve]
months = 1
"""

RESPONSE = """
[district.response]
trigger = "deficit"
cap = 0.5
lag = 1
levers = ["trim", "freeze", "rif", "reserves"]
restore = "above_reserve"
reserve_floor = 0.5
"""

SCHOOL = """
[[schools]]
name = "s{i}"
fund_balance = 300000
[schools.enrollment]
base = {base}
drift = -0.01
volatility = 0.06
common_loading = 0.6
grades = ["K", "1", "2", "3", "4", "5", "6", "7", "8"]
grade_shares = [0.12, 0.11, 0.11, 0.11, 0.11, 0.11, 0.11, 0.11, 0.11]
[[schools.revenue]]
name = "sbb"
kind = "per_pupil"
rate = 5600
growth = "funding"
[[schools.cost]]
name = "teachers"
kind = "staff"
growth = "salary"
sections = {{ bands = [ {{ grades = ["K", "1", "2", "3"], max_class_size = 28{combine} }},
                        {{ grades = ["4", "5", "6", "7", "8"], max_class_size = 31{combine} }} ] }}
{pay}
[[schools.cost]]
name = "operations"
kind = "fixed"
amount = 400000
flexible = true
"""

PLAIN_PAY = "salary = 78000\nstep_rate = 0.01\nbenefits_rate = 0.32\nbenefits_growth = 'health'"
ECON_PAY = """turnover = 0.1
pension_rate = 0.14
health_per_fte = 12800
health_growth = "health"
payroll_tax_rate = 0.0145
stipend = 1000
[schools.cost.schedule]
base = 54000
steps = 14
lanes = 4
step_increment = 0.03
lane_increment = 0.06
entry_step = 1
placement = {placement}
"""


def config(econ: bool) -> str:
    placement = "[" + ", ".join(["[0.0179, 0.0179, 0.0179, 0.0179]"] * 14) + "]"
    pay = ECON_PAY.format(placement=placement) if econ else PLAIN_PAY
    combine = ", combine_adjacent = true" if econ else ""
    body = "".join(
        SCHOOL.format(i=i, base=400 + 40 * i, pay=pay, combine=combine) for i in range(10)
    )
    return HEAD + (RESPONSE if econ else "") + body


def _case(kind: str, draws: int, repeat: int) -> dict:
    import sustainsim

    spec = sustainsim.loads_config(config(kind == "economics"))

    def go():
        sustainsim.simulate(spec, draws=draws, seed=1, progress=False)

    go()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        go()
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {"kind": kind, "draws": draws, "seconds": best, "draws_per_second": draws / best}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="subprocess pairs; best of each kind")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "econ.json")
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(_case(args.case, args.draws, args.repeat)))
        return 0
    rows: list[dict] = []
    for _ in range(args.rounds):  # interleaved, so a busy spell hits both variants
        for i, kind in enumerate(("plain", "economics")):
            cmd = [sys.executable, __file__, "--case", kind, "--draws", str(args.draws)]
            cmd += ["--repeat", str(args.repeat)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if len(rows) < 2:
                rows.append(r)
            elif r["seconds"] < rows[i]["seconds"]:
                rows[i] = r
    ratio = rows[1]["seconds"] / rows[0]["seconds"]
    for r in rows:
        print(f"{r['kind']:>10} {r['draws']:>9,} draws {r['seconds']:8.3f} s")
    print(f"economics / plain: {ratio:.2f}x (issue 12 asks <= 1.5x)")
    meta = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows, "ratio": ratio}, indent=2) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
