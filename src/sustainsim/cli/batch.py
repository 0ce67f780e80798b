"""``sustainsim batch CONFIG... --out DIR [--resume]``: many configs into one folder."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sustainsim.cli.run import add_run_options, run_options
from sustainsim.run.batch import MANIFEST, run_batch

__all__ = ["add_arguments", "run"]


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
    cols = ["config", "school", "year", "p_solvent", "lower", "upper"]
    qcols = [c for c in table.columns if c.startswith("final_balance_q0.5")]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[cols + qcols].to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
    print(
        f"\nwrote {Path(args.out) / 'summary.csv'}, {Path(args.out) / 'summary.nc'} "
        f"and {Path(args.out) / MANIFEST}"
    )
    return 0
