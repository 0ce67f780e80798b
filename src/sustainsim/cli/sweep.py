"""``sustainsim sweep CONFIG --grid PATH=V1,V2,...``: a grid of overrides on the same draws."""

from __future__ import annotations

import argparse
from pathlib import Path

import xarray as xr

from sustainsim import io
from sustainsim.cli.errors import ArgumentsError
from sustainsim.cli.numbers import count, estimate, usd
from sustainsim.cli.run import add_run_options, out_folder, run_options
from sustainsim.cli.table import wrap_table
from sustainsim.config import load_config
from sustainsim.run.grid import check_sweep, parse_grid, probabilities_frame, sweep

__all__ = ["EXAMPLES", "add_arguments", "format_sweep", "run"]

EXAMPLES = """\
examples:
  sustainsim sweep configs/reference/ref10.toml --grid district.cuts.probability=0.1,0.2,0.3
  sustainsim sweep configs/flagship.toml --grid district.cuts.probability=0.1,0.3 \\
      --grid schools.pl_k8.fund_balance=0,500000 --draws 2e4 --summary

Every point runs on the same draws (common random numbers); the grid is the cartesian
product of the --grid options. Writes sweep.nc and sweep.csv into --out.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim sweep CONFIG --grid PATH=V1,V2,... [...]``."""
    parser.add_argument("config", help="TOML config file (the base of every point)")
    parser.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="PATH=V1,V2,...",
        help="a config path and its values, e.g. district.cuts.probability=0.1,0.2 "
        "(repeat for more dimensions; the sweep runs the cartesian product)",
    )
    add_run_options(parser, what="point")
    parser.add_argument(
        "--out", type=Path, help="output directory (default: out/CONFIG_STEM-sweep)"
    )
    parser.add_argument("--keep-draws", action="store_true", help="keep per-draw fund balances")


def format_sweep(ds: xr.Dataset) -> str:
    """P(solvent through the last year) and the median final balance per point and school."""
    paths = [d for d in ds["config_sha256"].dims]
    year = int(ds["year"].values[-1])
    last = ds.isel(year=-1)
    lines = [
        f"P(solvent through FY{year}) [{ds.attrs.get('confidence', 0.95):.0%} interval], "
        f"median final balance; {count(ds.attrs['draws'])} draws, seed {ds.attrs['seed']} (CRN)"
    ]
    stacked = last.stack(point=paths) if paths else last
    rows = []
    for i in range(stacked.sizes["point"]):
        pt = stacked.isel(point=i)
        label = ", ".join(f"{p}={pt[p].values.item()!r}" for p in paths)
        for school in ds["school"].values:
            e = pt.sel(school=school)
            med = (
                e["final_balance_quantile"].sel(quantile=0.5).item()
                if 0.5 in ds["quantile"]
                else float("nan")
            )
            cells = [e["probability"].item(), e["lower"].item(), e["upper"].item()]
            rows.append([label, str(school), estimate(*cells), usd(med)])
    head = ["point", "school", "P(solvent)", "median final balance"]
    lines.append(wrap_table(head, rows, keys=2))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """``sustainsim sweep``: validate everything, run, write ``sweep.nc`` and ``sweep.csv``."""
    spec = load_config(args.config)  # ConfigError -> exit 2, before anything is written
    grid = parse_grid(args.grid)
    if args.keep_draws and args.summary:
        raise ArgumentsError(["--keep-draws cannot be combined with --summary"])
    # the memory budget, then every point validated (one at a time), before anything runs
    check_sweep(spec, grid, keep_draws=args.keep_draws, **run_options(args))
    out_dir, owner = out_folder(args, "-sweep")
    with io.output_folder(out_dir, command="sweep", **owner) as stage:  # one transaction
        ds = sweep(spec, grid, keep_draws=args.keep_draws, **run_options(args))
        io.write_netcdf(ds, stage / "sweep.nc")
        io.write_text(probabilities_frame(ds).to_csv(index=False), stage / "sweep.csv")
    print(format_sweep(ds))
    print(f"\nwrote {out_dir / 'sweep.nc'} and {out_dir / 'sweep.csv'}")
    return 0
