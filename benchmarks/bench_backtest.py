"""Back-test the enrollment forecasts on the real panels, against the empirical baseline.

    python benchmarks/bench_backtest.py            # Ohio districts, NYC schools (both models),
                                                   # Ohio district cash (finance)
    python benchmarks/bench_backtest.py --draws 200
    python benchmarks/bench_backtest.py --halves   # each panel's entities split in two
                                                   # halves by CRC32 of the id, each scored

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
    "Ohio district cash (FY2020-2025), finance": dict(
        data="ohio_district_cash.csv",
        entity="irn",
        year="fiscal_year",
        balance="ending_cash",
        revenue="total_revenue_and_sources",
        expenditure="total_expenditure",
        horizon=3,
    ),
}


def _halves(path: Path, entity: str):
    """The panel's rows split in two by CRC32 of the entity id (a split nobody chose)."""
    import zlib

    import pandas as pd

    df = pd.read_csv(path)
    key = df[entity].astype(str).map(lambda v: zlib.crc32(v.encode()) % 2)
    return [df[key == h] for h in (0, 1)]


def _table(name: str, out: dict) -> str:
    keys = list(out["coverage"])
    unit = "log" if "crps_log" in out else "expenditure"
    head = "| h | cells | " + " | ".join(f"{k} cover" for k in keys) + f" | CRPS ({unit}) |"
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
        key = "crps_log" if "crps_log" in out else "crps"
        crps = f"{out[key][j]:.4f} ({out['baseline'][key][j]:.4f})"
        rows.append(f"| {h} | {out['cells'][j]} | {cov} | {crps} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    from sustainsim.calibration.evaluate import backtest, backtest_summary

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=500)
    p.add_argument("--halves", action="store_true", help="score two halves of the entities")
    args = p.parse_args()
    results, md = {}, []
    for name, case in CASES.items():
        kw = dict(case)
        path = DATA / kw.pop("data")
        if not path.is_file():
            print(f"skip {name}: {path} not found")
            continue
        parts = _halves(path, kw["entity"]) if args.halves else [path]
        for h, data in enumerate(parts):
            label = f"{name}, half {h}" if args.halves else name
            t = time.perf_counter()
            out = backtest_summary(backtest(data, draws=args.draws, **kw))
            out["seconds"] = round(time.perf_counter() - t, 1)
            results[label] = out
            md.append(_table(label, out))
            print(md[-1], f"({out['seconds']} s)\n")
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    stem = "backtest_halves" if args.halves else "backtest"
    (res / f"{stem}.json").write_text(json.dumps(results, indent=1))
    (res / f"{stem}.md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
