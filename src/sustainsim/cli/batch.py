"""``sustainsim batch CONFIG... --out DIR [--resume]``: many configs into one folder."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.run.batch import MANIFEST, run_batch

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim batch CONFIG... --out DIR [...]``."""
    parser.add_argument("config", nargs="+", help="TOML config files")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--resume", action="store_true", help="skip runs recorded as finished in DIR/manifest.jsonl"
    )
    parser.add_argument("--draws", type=positive_int, help="draws per run (default: each config's)")
    parser.add_argument(
        "--seed", type=nonneg_int, help="seed of every run (default: each config's)"
    )
    parser.add_argument("--chunk-size", type=positive_int, help="draws per chunk (memory only)")
    parser.add_argument(
        "--streaming",
        action="store_true",
        help="summary-only runs in bounded memory (no per-draw results.nc)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="SCHEDULER",
        help="run chunks on dask: processes, threads, synchronous or tcp://HOST:PORT",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """``sustainsim batch``: run, print the combined table, return 0."""
    table = run_batch(
        args.config,
        args.out,
        resume=args.resume,
        draws=args.draws,
        seed=args.seed,
        chunk_size=args.chunk_size,
        streaming=args.streaming,
        scheduler=getattr(args, "scheduler", None),
        progress=False if getattr(args, "no_progress", False) else None,
    )
    cols = ["config", "school", "year", "p_solvent", "lower", "upper"]
    qcols = [c for c in table.columns if c.startswith("final_balance_q0.5")]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[cols + qcols].to_string(index=False, float_format=lambda x: f"{x:,.4g}"))
    print(
        f"\nwrote {Path(args.out) / 'summary.csv'}, {Path(args.out) / 'summary.nc'} "
        f"and {Path(args.out) / MANIFEST}"
    )
    return 0
