"""``sustainsim validate CONFIG...``: check configs and describe them."""

from __future__ import annotations

import argparse
import sys

from sustainsim.config import ConfigError, load_config
from sustainsim.run.source import check_correlations

__all__ = ["add_arguments", "run"]


def add_arguments(v: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim validate``."""
    v.add_argument("config", nargs="+", help="TOML config file(s)")


def _describe(spec) -> str:
    cfg = spec.config
    sim = cfg.simulation
    lines = [
        f"{spec.source}: valid",
        f"  {sim.years} projected years FY{sim.first_year}-FY{sim.first_year + sim.years - 1}, "
        f"{sim.draws:,} draws, seed {sim.seed}",
    ]
    if cfg.district.growth:
        lines.append("  growth indices: " + ", ".join(cfg.district.growth))
    if cfg.district.cuts is not None:
        c = cfg.district.cuts
        lines.append(f"  budget cuts: p={c.probability}, magnitude {c.magnitude}, scope {c.scope}")
    for s in cfg.schools:
        lines.append(
            f"  school {s.name}: enrollment base {s.enrollment.base}, "
            f"{len(s.revenue)} revenue lines ({', '.join(x.name for x in s.revenue)}), "
            f"{len(s.cost)} cost lines ({', '.join(x.name for x in s.cost)})"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim validate``: describe each valid config; 2 if any is invalid."""
    bad = 0
    for path in args.config:
        try:
            spec = load_config(path)
            check_correlations(spec)  # names of the model's random inputs: known once it is built
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
            continue
        print(_describe(spec))
    return 2 if bad else 0
