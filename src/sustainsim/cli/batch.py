"""``sustainsim batch CONFIG... --out DIR [--resume]``: many configs into one folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from sustainsim.cli.numbers import estimate, usd
from sustainsim.cli.run import add_run_options, run_options
from sustainsim.cli.table import wrap_table
from sustainsim.run.batch import MANIFEST, run_batch

__all__ = ["EXAMPLES", "add_arguments", "run"]

EXAMPLES = """\
examples:
  sustainsim batch configs/*.toml --out out/batch --draws 2e4
  sustainsim batch configs/*.toml --out out/batch --resume

Each config runs into its own folder under --out, recorded in DIR/manifest.jsonl;
--resume skips the runs recorded as finished (after a crash, Ctrl-C or SIGKILL).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim batch CONFIG... --out DIR [...]``."""
    parser.add_argument("config", nargs="+", help="TOML config files")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--resume", action="store_true", help="skip runs recorded as finished in DIR/manifest.jsonl"
    )
    add_run_options(parser)


def run(args: argparse.Namespace) -> int:
    """``sustainsim batch``: run, print the combined table, return 0."""
    table = run_batch(args.config, args.out, resume=args.resume, **run_options(args))
    qcols = [c for c in table.columns if c.startswith("final_balance_q0.5")]
    rows = [
        [str(r["config"]), str(r["school"]), str(r["year"])]
        + [estimate(r["p_solvent"], r["lower"], r["upper"])]
        + [usd(r[c]) for c in qcols]
        for _, r in table.iterrows()
    ]
    head = ["config", "school", "year", "P(solvent)"] + [c.replace("_", " ") for c in qcols]
    print(wrap_table(head, rows, keys=3))
    print(
        f"\nwrote {Path(args.out) / 'summary.csv'}, {Path(args.out) / 'summary.nc'} "
        f"and {Path(args.out) / MANIFEST}"
    )
    return 0
