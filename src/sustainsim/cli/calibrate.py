"""``sustainsim calibrate DATA.csv ...``: fit a driver to history, print a config fragment.

``--kind finance`` fits a district's revenue and expenditure growth and their correlation
(:func:`sustainsim.calibration.finance.fit_finance`) and prints only the TOML fragment on
stdout (so ``> district.toml`` gives a valid file); the table of estimates goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from sustainsim.calibration.fit import fit_fragment
from sustainsim.cli.errors import OutputPathError
from sustainsim.cli.numbers import num
from sustainsim.cli.options import add_data_columns, positive_float
from sustainsim.cli.table import wrap_table
from sustainsim.io import write_text

__all__ = ["EXAMPLES", "add_arguments", "run"]

EXAMPLES = """\
examples:
  sustainsim calibrate panel.csv --entity irn --year fiscal_year --value enrollment > frag.toml
  sustainsim calibrate panel.csv --entity irn --year fiscal_year --value revenue \\
      --per-pupil enrollment --kind growth --name funding --out growth.toml
  sustainsim calibrate by_grade.csv --entity entity_id --year year --value enrollment \\
      --grade grade --kind cohort --for-entity 01M015

stdout carries only the config fragment (valid TOML: redirect it into a file); the
estimates and their standard errors go to stderr.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``sustainsim calibrate DATA.csv`` to ``parser``."""
    add = parser.add_argument
    add("data", help="CSV file, one row per entity and year")
    add("--entity", default=None, help="entity column (omit for a single series)")
    add("--year", default="year", help="year column (default: year)")
    add("--value", default="value", help="value column (default: value)")
    add(
        "--kind",
        choices=("enrollment", "growth", "cohort", "finance"),
        default="enrollment",
        help="what to fit (cohort: grade progression, needs --grade and --for-entity; "
        "finance: revenue and expenditure growth, needs --revenue and --expenditure)",
    )
    add_data_columns(parser)
    add("--grade", default=None, metavar="COL", help="cohort: the grade column")
    add("--per-pupil", default=None, metavar="COL", help="growth: divide the value by COL")
    add(
        "--drift",
        choices=("entity", "pooled"),
        default="entity",
        help="partially pooled drift per entity (default) or one pooled drift",
    )
    add(
        "--volatility",
        choices=("entity", "pooled"),
        default="entity",
        help="entity volatility (empirical Bayes, default) or one pooled volatility",
    )
    add(
        "--max-abs-growth",
        type=positive_float,
        default=None,
        metavar="X",
        help="drop annual log growth beyond +-X (data errors, mergers)",
    )
    add("--for-entity", default=None, metavar="ID", help="write the fragment for entity ID")
    add("--name", default="funding", help="growth: key in [district.growth] (default: funding)")
    add("--out", default=None, metavar="FILE", help="also write the fragment to FILE")
    add("--force", action="store_true", help="with --out: replace FILE if it exists")


def _check_out_file(out: Path, force: bool) -> None:
    """``--out FILE``: not a folder, not an existing file without ``--force``, writable."""
    if out.is_dir():
        raise OutputPathError("--out", out, "it is a directory; give a file name")
    if out.exists() and not force:
        raise OutputPathError("--out", out, "it exists; add --force to replace it")
    if not out.parent.is_dir():
        raise OutputPathError("--out", out, f"folder {str(out.parent)!r} does not exist")
    try:  # a probe that leaves nothing behind (permissions, read-only file systems)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as exc:
        raise OutputPathError(
            "--out", out, f"no file can be made in {str(out.parent)!r} ({exc.strerror or exc})"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim calibrate``: the fragment on stdout, the estimates and SEs on stderr.

    Bad input raises ValueError (the CLI maps it to exit code 2); with ``--out`` the
    fragment is also written atomically (an existing FILE only with ``--force``).
    """
    if args.out:
        _check_out_file(Path(args.out), args.force)  # before any fitting
    if args.kind == "finance":
        return _run_finance(args)
    money = ("balance", "revenue", "expenditure", "enrollment")
    given = [f"--{k}" for k in money if getattr(args, k) is not None]
    if given:
        raise ValueError(
            f"{', '.join(given)} apply to --kind finance only (got --kind {args.kind})"
        )
    text, fit = fit_fragment(
        args.data,
        entity=args.entity,
        year=args.year,
        value=args.value,
        kind=args.kind,
        per_pupil=args.per_pupil,
        filters=dict(args.filter),
        for_entity=args.for_entity,
        name=args.name,
        **(
            {"grade": args.grade}
            if args.kind == "cohort"
            else {
                "drift": args.drift,
                "volatility": args.volatility,
                "max_abs_growth": args.max_abs_growth,
                **({"grade": args.grade} if args.grade else {}),
            }
        ),
    )
    if args.out:
        write_text(text, args.out)
    print(text)  # stdout: only the TOML fragment
    rows = [[str(k), num(est), num(err)] for k, (est, err) in fit.summary().iterrows()]
    print(wrap_table(["parameter", "estimate", "se"], rows), file=sys.stderr)
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _run_finance(args: argparse.Namespace) -> int:
    """``--kind finance``: the fragment on stdout, the estimates on stderr."""
    from sustainsim.calibration.finance import fit_finance

    missing = [f"--{k}" for k in ("revenue", "expenditure") if getattr(args, k) is None]
    if missing:
        raise ValueError(f"--kind finance needs {' and '.join(missing)} (the column names)")
    if args.per_pupil or args.grade:
        raise ValueError(
            "--per-pupil and --grade do not apply to --kind finance (use --enrollment)"
        )
    if args.for_entity is not None and args.balance is None:
        raise ValueError("--for-entity with --kind finance needs --balance (its fund balance)")
    fit = fit_finance(
        args.data,
        entity=args.entity,
        year=args.year,
        balance=args.balance,
        revenue=args.revenue,
        expenditure=args.expenditure,
        enrollment=args.enrollment,
        filters=dict(args.filter),
    )
    text = fit.to_toml(entity=args.for_entity)
    print(text, end="")
    print(f"{'parameter':36s} {'estimate':>9s}      {'se':>6s}", file=sys.stderr)
    for k, (est, err) in fit.summary().iterrows():
        print(f"{k:36s} {est:+9.4f} +- {err:8.4f}", file=sys.stderr)
    if args.out:
        write_text(text, args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
