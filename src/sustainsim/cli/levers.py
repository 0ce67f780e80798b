"""``sustainsim levers CONFIG``: every lever's candidates on the same draws, ranked."""

from __future__ import annotations

import argparse

import xarray as xr

from sustainsim.analysis.levers import levers
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.config import load_config

__all__ = ["add_arguments", "format_levers", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim levers CONFIG``."""
    parser.add_argument("config", help="TOML config with [levers.NAME] tables")
    parser.add_argument("--lever", action="append", metavar="NAME", help="only these (repeatable)")
    parser.add_argument("--pairs", action="store_true", help="also every pair of two levers")
    parser.add_argument("--school", help="entity judged (default: the district, or the school)")
    parser.add_argument("--year", type=int, help="fiscal year judged (default: the horizon)")
    parser.add_argument("--draws", type=positive_int, help="draws (default: the config's)")
    parser.add_argument("--seed", type=nonneg_int, help="seed (default: the config's)")


def _pp(x: float) -> str:
    return f"{100 * x:+5.1f}"


def format_levers(out: xr.Dataset) -> str:
    """The ranking as a plain-text table: effects in percentage points and dollars, +- paired SE."""
    year = "the horizon" if out.attrs["year"] == -1 else f"FY{out.attrs['year']}"
    lines = [
        f"Levers for {out.attrs['school']} at {year}, ranked; {out.attrs['draws']:,} draws, "
        f"seed {out.attrs['seed']}, every option on the same draws (paired SE)",
        f"plan as written: P(solvent) {100 * out.attrs['base_p_solvent']:.1f}%, "
        f"P(no operating deficit) {100 * out.attrs['base_p_no_operating_deficit']:.1f}%, "
        f"median ending balance {out.attrs['base_median_final_balance']:,.0f} USD",
        "",
        f"{'rank':>4}  {'option':<40} {'P(solvent) pp':>17} {'P(no deficit) pp':>17} "
        f"{'median balance USD':>24} {'cost/yr':>10}",
    ]
    for i in range(out.sizes["option"]):
        r = out.isel(option=i)
        lines.append(
            f"{int(r['rank']):>4}  {str(r.option.values):<40} "
            f"{_pp(float(r.p_solvent_effect))} +- {100 * float(r.p_solvent_se):4.1f} "
            f"{_pp(float(r.p_no_operating_deficit_effect))} +- "
            f"{100 * float(r.p_no_operating_deficit_se):4.1f} "
            f"{float(r.median_final_balance_effect):>+13,.0f} +- "
            f"{float(r.median_final_balance_se):>8,.0f} {float(r.cost):>10,.0f}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim levers``: print the ranking; the exit code."""
    spec = load_config(args.config)
    out = levers(
        spec,
        args.lever,
        pairs=args.pairs,
        school=args.school,
        year=args.year,
        draws=args.draws,
        seed=args.seed,
    )
    print(format_levers(out))
    return 0
