"""``sustainsim stress CONFIG``: the largest permanent cut each school absorbs at a target P.

``--compare MODEL_A,MODEL_B`` runs every school configured with either model under each of
the two (the same school, the same draws) and prints both capacities and their paired
difference with a bootstrap interval (:mod:`sustainsim.analysis.stress_pairs`).
"""

from __future__ import annotations

import argparse

from sustainsim.analysis.stress import stress_capacity
from sustainsim.analysis.stress_pairs import compare_stress_capacity, compared_schools
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.config import ConfigError, load_config

__all__ = ["add_arguments", "model_pair", "run"]


def add_arguments(st: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim stress CONFIG``."""
    st.add_argument("config", help="TOML config file")
    st.add_argument("--target", type=float, default=0.9, help="required P(solvent) (0.9)")
    st.add_argument("--draws", type=positive_int, default=20_000, help="draws per evaluation")
    st.add_argument("--seed", type=nonneg_int, help="seed")
    st.add_argument(
        "--compare",
        type=model_pair,
        metavar="MODEL_A,MODEL_B",
        help="the schools of either [models] entry run under each: capacities and their "
        "paired difference (A minus B) with a bootstrap interval",
    )


def model_pair(text: str) -> tuple[str, str]:
    """``MODEL_A,MODEL_B`` of ``--compare``: two names of ``[models]``."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"--compare takes MODEL_A,MODEL_B (got {text!r})")
    return parts[0], parts[1]


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim stress``: print each school's stress capacity; the exit code."""
    spec = load_config(args.config)
    if not 0 < args.target < 1:
        raise ConfigError([f"--target must be in (0, 1) (got {args.target})"])
    if args.compare is not None:
        return _compare(spec, args)
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


def _compare(spec, args: argparse.Namespace) -> int:
    a, b = args.compare
    compared_schools(spec, a, b)  # bad names fail before anything runs
    res = compare_stress_capacity(spec, a, b, args.target, draws=args.draws, seed=args.seed)
    print(
        f"Largest permanent cut of exposed revenue keeping P(solvent through the horizon) "
        f">= {args.target:g}: each school run as {a} and as {b} on the same draws "
        f"({args.draws:,} per evaluation); difference = {a} - {b}, paired bootstrap interval"
    )
    print(f"  {'':30} {a:>14} {b:>14}   difference")
    dims = [d for d in ("scenario", "school") if d in res.dims]
    flat = res.stack(row=dims)
    for i in range(flat.sizes["row"]):
        r = flat.isel(row=i)
        label = " / ".join(str(r[d].values) for d in dims)
        ca, cb = (100 * float(r.capacity.sel(model=m)) for m in (a, b))
        print(
            f"  {label:30} {ca:13.1f}% {cb:13.1f}%   {100 * float(r.difference):+.1f} pts "
            f"[{100 * float(r.difference_lower):+.1f}, {100 * float(r.difference_upper):+.1f}]"
        )
    return 0
