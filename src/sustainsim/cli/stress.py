"""``sustainsim stress CONFIG``: the largest permanent cut each school absorbs at a target P."""

from __future__ import annotations

import argparse

from sustainsim.analysis.stress import stress_capacity
from sustainsim.cli.errors import ArgumentsError
from sustainsim.cli.numbers import count, estimate, pct
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.cli.table import wrap_table
from sustainsim.config import load_config

__all__ = ["EXAMPLES", "add_arguments", "run"]

EXAMPLES = """\
examples:
  sustainsim stress configs/reference/ref10.toml
  sustainsim stress configs/leap_chicago.toml --target 0.95 --draws 5e4

A school whose P(solvent) is below the target even with no cut gets no capacity:
it is reported as "target not met even with no cut", with its P at no cut.
"""


def _probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") from None
    if not 0 < v < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return v


def add_arguments(st: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim stress CONFIG``."""
    st.add_argument("config", help="TOML config file")
    st.add_argument(
        "--target", type=_probability, default=0.9, help="required P(solvent through the horizon)"
    )
    st.add_argument(
        "--draws", type=positive_int, default=20_000, help="draws per evaluation, e.g. 2e4"
    )
    st.add_argument("--seed", type=nonneg_int, help="seed (default: the config's)")


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim stress``: print each school's stress capacity; the exit code."""
    spec = load_config(args.config)
    if not 0 < args.target < 1:  # a caller passing a Namespace of its own
        raise ArgumentsError([f"--target must be in (0, 1) (got {args.target})"])
    res = stress_capacity(spec, args.target, draws=args.draws, seed=args.seed)
    print(
        f"Largest permanent cut of exposed revenue keeping P(solvent through the horizon) "
        f">= {pct(args.target)} ({count(args.draws)} draws per evaluation, same draws "
        "throughout)"
    )
    dims = [d for d in ("scenario", "school") if d in res.dims]
    flat = res.stack(row=dims)  # one dim or two: each row keeps its labels
    rows = []
    for i in range(flat.sizes["row"]):
        r = flat.isel(row=i)
        label = " / ".join(str(r[d].values) for d in dims)
        p0 = float(r.p_no_cut)
        if p0 < args.target:
            cut = f"target not met even with no cut (P with no cut {pct(p0)})"
        else:
            cut = estimate(float(r.capacity), float(r.lower), float(r.upper))
            cut += f"  (P with no cut {pct(p0)})"
        rows.append([label, cut])
    print(wrap_table([" / ".join(dims), "largest cut [interval]"], rows, keys=2))
    return 0
