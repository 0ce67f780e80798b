"""``sustainsim levers CONFIG``: every lever's candidates on the same draws, ranked."""

from __future__ import annotations

import argparse

import xarray as xr

from sustainsim.analysis.levers import levers
from sustainsim.cli.numbers import count, interval, pct, pp, usd
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.cli.table import wrap_table
from sustainsim.config import load_config

__all__ = ["EXAMPLES", "add_arguments", "format_levers", "run"]

EXAMPLES = """\
examples:
  sustainsim levers configs/leap_chicago.toml
  sustainsim levers configs/leap_chicago.toml --pairs --school pl_k8 --year 2031 --draws 2e4

Effects are against the plan as written, every option on the same draws, with 95%
paired intervals in brackets; probabilities in percentage points (pp).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim levers CONFIG``."""
    parser.add_argument("config", help="TOML config with [levers.NAME] tables")
    parser.add_argument("--lever", action="append", metavar="NAME", help="only these (repeatable)")
    parser.add_argument("--pairs", action="store_true", help="also every pair of two levers")
    parser.add_argument("--school", help="entity judged (default: the district, or the school)")
    parser.add_argument("--year", type=int, help="fiscal year judged (default: the horizon)")
    parser.add_argument(
        "--draws", type=positive_int, help="draws, e.g. 2e4 (default: the config's)"
    )
    parser.add_argument("--seed", type=nonneg_int, help="seed (default: the config's)")


def _effect(x: float, se: float, fmt) -> str:
    """``+2.1 pp [+0.4 pp, +3.8 pp]``: the effect and its 95% paired interval."""
    return f"{fmt(x)} {interval(x - 1.96 * se, x + 1.96 * se, fmt)}"


def _signed_usd(x: float | None) -> str:
    return usd(x, sign=True)


def format_levers(out: xr.Dataset) -> str:
    """The ranking as a plain-text table: effects with 95% paired intervals in brackets."""
    year = "the horizon" if out.attrs["year"] == -1 else f"FY{out.attrs['year']}"
    lines = [
        f"Levers for {out.attrs['school']} at {year}, ranked; {count(out.attrs['draws'])} draws, "
        f"seed {out.attrs['seed']}, every option on the same draws [95% paired interval]",
        f"plan as written: P(solvent) {pct(out.attrs['base_p_solvent'])}, "
        f"P(no operating deficit) {pct(out.attrs['base_p_no_operating_deficit'])}, "
        f"median ending balance {usd(out.attrs['base_median_final_balance'])}",
        "",
    ]
    rows = []
    for i in range(out.sizes["option"]):
        r = out.isel(option=i)
        rows.append(
            [
                str(int(r["rank"])),
                str(r.option.values),
                _effect(float(r.p_solvent_effect), float(r.p_solvent_se), pp),
                _effect(
                    float(r.p_no_operating_deficit_effect),
                    float(r.p_no_operating_deficit_se),
                    pp,
                ),
                _effect(
                    float(r.median_final_balance_effect),
                    float(r.median_final_balance_se),
                    _signed_usd,
                ),
                usd(float(r.cost)),
            ]
        )
    head = ["rank", "option", "P(solvent)", "P(no deficit)", "median balance", "cost/yr"]
    lines.append(wrap_table(head, rows, keys=2))
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
