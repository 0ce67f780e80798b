"""``sustainsim stress CONFIG``: the largest permanent cut each school absorbs at a target P.

``--compare MODEL_A,MODEL_B`` runs every school configured with either model under each of
the two (the same school, the same draws) and prints both capacities and their paired
difference with a bootstrap interval (:mod:`sustainsim.analysis.stress_pairs`).
"""

from __future__ import annotations

import argparse

from sustainsim.analysis.stress import stress_capacity
from sustainsim.analysis.stress_pairs import compare_stress_capacity, compared_schools
from sustainsim.cli.errors import ArgumentsError
from sustainsim.cli.numbers import count, estimate, pct, pp
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.cli.table import wrap_table
from sustainsim.config import load_config

__all__ = ["EXAMPLES", "add_arguments", "model_pair", "run"]

EXAMPLES = """\
examples:
  sustainsim stress configs/reference/ref10.toml
  sustainsim stress configs/leap_chicago.toml --target 0.95 --draws 5e4
  sustainsim stress configs/leap_chicago.toml --compare personalized,traditional

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
    if not 0 < args.target < 1:  # a caller passing a Namespace of its own
        raise ArgumentsError([f"--target must be in (0, 1) (got {args.target})"])
    if args.compare is not None:
        return _compare(spec, args)
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


def _compare(spec, args: argparse.Namespace) -> int:
    a, b = args.compare
    compared_schools(spec, a, b)  # bad names fail before anything runs
    res = compare_stress_capacity(spec, a, b, args.target, draws=args.draws, seed=args.seed)
    print(
        f"Largest permanent cut of exposed revenue keeping P(solvent through the horizon) "
        f">= {pct(args.target)}: each school run as {a} and as {b} on the same draws "
        f"({count(args.draws)} per evaluation); difference = {a} - {b}, paired bootstrap interval"
    )
    dims = [d for d in ("scenario", "school") if d in res.dims]
    flat = res.stack(row=dims)
    rows = []
    for i in range(flat.sizes["row"]):
        r = flat.isel(row=i)
        label = " / ".join(str(r[d].values) for d in dims)
        cells = [label]
        for m in (a, b):
            rm = r.sel(model=m)
            if float(rm.p_no_cut) < args.target:
                cells.append(f"not met with no cut (P {pct(float(rm.p_no_cut))})")
            else:
                cells.append(estimate(float(rm.capacity), float(rm.lower), float(rm.upper)))
        d = float(r.difference)
        lo, hi = float(r.difference_lower), float(r.difference_upper)
        cells.append(f"{pp(d)} [{pp(lo)}, {pp(hi)}]")
        rows.append(cells)
    print(wrap_table([" / ".join(dims), a, b, "difference"], rows, keys=1))
    return 0
