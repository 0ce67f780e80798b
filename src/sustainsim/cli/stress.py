"""``sustainsim stress CONFIG``: the largest permanent cut each school absorbs at a target P."""

from __future__ import annotations

import argparse

from sustainsim.analysis.stress import stress_capacity
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.config import ConfigError, load_config

__all__ = ["add_arguments", "run"]


def add_arguments(st: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim stress CONFIG``."""
    st.add_argument("config", help="TOML config file")
    st.add_argument("--target", type=float, default=0.9, help="required P(solvent) (0.9)")
    st.add_argument("--draws", type=positive_int, default=20_000, help="draws per evaluation")
    st.add_argument("--seed", type=nonneg_int, help="seed")


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim stress``: print each school's stress capacity; the exit code."""
    spec = load_config(args.config)
    if not 0 < args.target < 1:
        raise ConfigError([f"--target must be in (0, 1) (got {args.target})"])
    res = stress_capacity(spec, args.target, draws=args.draws, seed=args.seed)
    print(
        f"Largest permanent cut of exposed revenue keeping P(solvent through the horizon) "
        f">= {args.target:g} ({args.draws:,} draws per evaluation, same draws throughout)"
    )
    dims = [d for d in ("scenario", "school") if d in res.dims]
    flat = res.stack(row=dims)  # one dim or two: each row keeps its labels
    for i in range(flat.sizes["row"]):
        r = flat.isel(row=i)
        label = " / ".join(str(r[d].values) for d in dims)
        print(
            f"  {label:30} {100 * float(r.capacity):5.1f}%  "
            f"[{100 * float(r.lower):.1f}%, {100 * float(r.upper):.1f}%]  "
            f"(P with no cut {float(r.p_no_cut):.3f})"
        )
    return 0
