"""``sustainsim backtest DATA.csv ...``: rolling-origin forecasts scored against history.

Prints coverage per interval level and horizon and the CRPS of log enrollment, of the
model and of the empirical-quantile baseline on the same cells (``--json``: one object).
With ``--balance COL --revenue COL --expenditure COL`` instead of ``--value``, the district
finance back-test: coverage and CRPS of the ending balance (in units of the origin year's
expenditure) and the Brier score of "balance below two months of expenditure", against
the persistence baseline.
"""

from __future__ import annotations

import argparse
import json

from sustainsim.calibration.evaluate import backtest, backtest_summary
from sustainsim.cli.errors import ArgumentsError
from sustainsim.cli.numbers import NA, num, pct
from sustainsim.cli.options import add_data_columns, nonneg_int, positive_int
from sustainsim.cli.table import wrap_table

__all__ = ["EXAMPLES", "add_arguments", "run"]

EXAMPLES = """\
examples:
  sustainsim backtest panel.csv --entity irn --year fiscal_year --value enrollment
  sustainsim backtest by_grade.csv --entity entity_id --year year --value enrollment \\
      --grade grade --model cohort --json

Coverage is the share of held-out years inside each central interval (a good model
covers about its level); CRPS of log enrollment, lower is better; the baseline's
figure in parentheses.
"""


def _levels_arg(text: str) -> tuple[float, ...]:
    try:
        lv = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--levels takes comma-separated probabilities, e.g. 0.5,0.8,0.95 (got {text!r})"
        ) from None
    if not lv or any(not 0 < x < 1 for x in lv):
        raise argparse.ArgumentTypeError(
            f"--levels must be probabilities strictly between 0 and 1 (got {text!r})"
        )
    return lv


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``sustainsim backtest DATA.csv`` to ``parser``."""
    add = parser.add_argument
    add("data", help="CSV file, one row per entity and year (or entity, year and grade)")
    add("--entity", required=True, help="entity column (school or district id)")
    add("--year", required=True, help="year column")
    add("--value", default=None, help="enrollment column (enrollment back-test)")
    add_data_columns(parser)
    add("--grade", default=None, metavar="COL", help="grade column of by-grade data")
    add(
        "--model",
        choices=("aggregate", "cohort"),
        default="aggregate",
        help="aggregate log growth (default) or cohort survival (needs --grade)",
    )
    add(
        "--horizon",
        type=positive_int,
        default=None,
        metavar="H",
        help="years ahead (default 5; finance 3)",
    )
    add(
        "--levels",
        type=_levels_arg,
        default=(0.5, 0.8, 0.95),
        metavar="L1,L2,...",
        help="central interval levels (default 0.5,0.8,0.95)",
    )
    add("--draws", type=positive_int, default=500, metavar="N", help="paths per entity and origin")
    add("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    add("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim backtest``: bad input raises ValueError (exit code 2)."""
    if args.draws < 2:
        raise ArgumentsError([f"--draws must be at least 2 (got {args.draws})"])
    money = {k: getattr(args, k) for k in ("balance", "revenue", "expenditure", "enrollment")}
    finance = any(v is not None for v in money.values())
    if not finance and args.value is None:
        raise ArgumentsError(
            ["give --value (enrollment), or --balance, --revenue and --expenditure (finances)"]
        )
    result = backtest(
        args.data,
        entity=args.entity,
        year=args.year,
        value=args.value,
        grade=args.grade,
        model=args.model,
        filters=dict(args.filter),
        horizon=args.horizon or (3 if finance else 5),
        levels=args.levels,
        draws=args.draws,
        rng=args.seed,
        **money,
    )
    out = backtest_summary(result)
    if args.json:
        print(json.dumps(out))
        return 0
    if finance:
        _print_finance(out)
        return 0
    print(f"back-test of the {out['model']} model; baseline: empirical quantiles of pooled")
    print("h-year log changes; coverage of central intervals, CRPS of log enrollment")
    keys = list(out["coverage"])
    head = ["h", "cells"] + [f"cov {k}" for k in keys] + ["CRPS"]

    def both(fmt, model, base) -> str:
        return f"{NA if model is None else fmt(model)} ({NA if base is None else fmt(base)})"

    rows = []
    for j, h in enumerate(out["horizons"]):
        row = [str(h), f"{out['cells'][j]:,}"]
        row += [both(pct, out["coverage"][k][j], out["baseline"]["coverage"][k][j]) for k in keys]
        row.append(both(num, out["crps_log"][j], out["baseline"]["crps_log"][j]))
        rows.append(row)
    print(wrap_table(head, rows, keys=1))
    print("model (baseline)")
    return 0


def _fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:.3f}"


def _print_finance(out: dict) -> None:
    """The finance back-test as a table: model (baseline) in each cell."""
    print("back-test of the district finance model; baseline: persistence of the balance plus")
    print("the mean net flow; coverage of the balance, CRPS in units of the origin's expenditure,")
    print("Brier score of 'balance below two months of expenditure'")
    keys = list(out["coverage"])
    head = ["h", "cells"] + [f"cov {k}" for k in keys] + ["CRPS", "Brier", "events"]
    print("  ".join(f"{h:>13s}" if i > 1 else f"{h:>5s}" for i, h in enumerate(head)))
    base = out["baseline"]
    for j, h in enumerate(out["horizons"]):
        row = [f"{h:5d}", f"{out['cells'][j]:5d}"]
        for k in keys:
            row.append(f"{_fmt(out['coverage'][k][j])} ({_fmt(base['coverage'][k][j])})")
        row.append(f"{_fmt(out['crps'][j])} ({_fmt(base['crps'][j])})")
        row.append(f"{_fmt(out['brier'][j])} ({_fmt(base['brier'][j])})")
        row.append(_fmt(out["event_rate"][j]))
        print("  ".join(c.rjust(13) if i > 1 else c for i, c in enumerate(row)))
    print("model (baseline)")
