"""Back-test the enrollment forecasts on the real panels, against the empirical baseline.

    python benchmarks/bench_backtest.py            # Ohio districts, NYC schools (both models)
    python benchmarks/bench_backtest.py --draws 200

Runs ``sustainsim.calibration.evaluate.backtest`` with its default settings (no per-data-set
tuning) on the panels in ../shared/data (or $SUSTAINSIM_DATA) and writes
benchmarks/results/backtest.json and backtest.md (the tables of the README's
"Calibration from history").
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SUSTAINSIM_DATA") or HERE.parent.parent / "shared" / "data")

CASES = {
    "Ohio districts (F-33, FY2009-2022), aggregate": dict(
        data="ohio_f33_panel.csv",
        entity="irn",
        year="fiscal_year",
        value="enrollment",
        filters={"comparable": 1},
    ),
    "NYC schools (2005-2011), aggregate": dict(
        data="nyc_doe_by_grade.csv",
        entity="entity_id",
        year="year",
        value="enrollment",
        grade="grade",
    ),
    "NYC schools (2005-2011), cohort": dict(
        data="nyc_doe_by_grade.csv",
        entity="entity_id",
        year="year",
        value="enrollment",
        grade="grade",
        model="cohort",
    ),
}


def _table(name: str, out: dict) -> str:
    keys = list(out["coverage"])
    head = "| h | cells | " + " | ".join(f"{k} cover" for k in keys) + " | CRPS (log) |"
    rows = [
        f"**{name}** (model, baseline in parentheses)",
        "",
        head,
        "|" + "---|" * (len(keys) + 3),
    ]
    for j, h in enumerate(out["horizons"]):
        if not out["cells"][j]:
            continue
        cov = " | ".join(
            f"{out['coverage'][k][j]:.3f} ({out['baseline']['coverage'][k][j]:.3f})" for k in keys
        )
        crps = f"{out['crps_log'][j]:.4f} ({out['baseline']['crps_log'][j]:.4f})"
        rows.append(f"| {h} | {out['cells'][j]} | {cov} | {crps} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    from sustainsim.calibration.evaluate import backtest, backtest_summary

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=500)
    args = p.parse_args()
    results, md = {}, []
    for name, case in CASES.items():
        kw = dict(case)
        path = DATA / kw.pop("data")
        if not path.is_file():
            print(f"skip {name}: {path} not found")
            continue
        t = time.perf_counter()
        out = backtest_summary(backtest(path, draws=args.draws, **kw))
        out["seconds"] = round(time.perf_counter() - t, 1)
        results[name] = out
        md.append(_table(name, out))
        print(md[-1], f"({out['seconds']} s)\n")
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    (res / "backtest.json").write_text(json.dumps(results, indent=1))
    (res / "backtest.md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
