"""``sustainsim validate CONFIG...``: check configs and describe them.

The description lists the horizon, the schools (enrollment, model, lines), the school
models, the scenarios, the budget cuts and every uncertain input (``spec.inputs()``: its
canonical name, per draw or per year, label and distribution in plain words); numbers in
the shared format, and never ``None``: a field that does not apply is left out (regime
cuts show their per-state probabilities, cohort enrollment its grades and base-year
total).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sustainsim.cli.numbers import count, num, pct
from sustainsim.config import ConfigError, load_config
from sustainsim.config.inputs import InputInfo
from sustainsim.config.inputs import describe as describe_input
from sustainsim.run.source import check_correlations

__all__ = ["EXAMPLES", "add_arguments", "describe", "run"]

EXAMPLES = """\
examples:
  sustainsim validate configs/flagship.toml
  sustainsim validate configs/*.toml configs/reference/ref10.toml

Exit code 2 if any config is invalid (each error names the field, the value and what
is allowed); the valid ones are still described.
"""


def add_arguments(v: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim validate``."""
    v.add_argument("config", nargs="+", help="TOML config file(s)")


def _value(v: Any, fmt=num) -> str:
    """A number, or a distribution as ``triangular(low 0.05, mode 0.1, high 0.15)``."""
    if hasattr(v, "model_dump"):
        d = {k: x for k, x in v.model_dump().items() if x is not None}
        kind = d.pop("dist", type(v).__name__)
        return f"{kind}(" + ", ".join(f"{k} {_value(x, fmt)}" for k, x in d.items()) + ")"
    if isinstance(v, dict):
        d = dict(v)
        kind = d.pop("dist", "")
        return f"{kind}(" + ", ".join(f"{k} {_value(x, fmt)}" for k, x in d.items()) + ")"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x, fmt) for x in v) + "]"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    return fmt(v)


def _cuts(c) -> str:
    if c.regime is not None:
        r = c.regime
        states = "; ".join(
            f"{name}: p {_value(s.probability, pct)}, magnitude {_value(s.magnitude, pct)}"
            for name, s in (("normal", r.normal), ("recession", r.recession))
        )
        chain = f"p_enter {_value(r.p_enter, pct)}, p_exit {_value(r.p_exit, pct)}"
        return f"  budget cuts (regime chain, {chain}): {states}; scope {c.scope}"
    return (
        f"  budget cuts: p {_value(c.probability, pct)} a year, magnitude "
        f"{_value(c.magnitude, pct)}, scope {c.scope}"
    )


def _enrollment(e) -> str:
    if e.model == "cohort":
        grades = e.grades or [str(i) for i in range(len(e.by_grade or []))]
        total = sum(e.by_grade or [])
        span = f"grades {grades[0]}-{grades[-1]}" if grades else "no grades"
        return f"cohort enrollment ({span}, {count(round(total))} students by grade)"
    return f"enrollment base {_value(e.base)}"


def _lines(items) -> str:
    return f"{len(items)} ({', '.join(x.name for x in items)})" if items else "0"


def _inputs(spec) -> list[str]:
    """The uncertain inputs of ``spec.inputs()``: name, per, label, distribution in words."""
    rows = [InputInfo(str(name), **row) for name, row in spec.inputs().iterrows()]
    if not rows:
        return ["  uncertain inputs: none (every input fixed)"]
    table = [("name", "per", "label", "distribution")]
    table += [(r.name, r.per, r.label, describe_input(r)) for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(3)]
    out = [f"  uncertain inputs ({len(rows)}; set each by its path, see spec.inputs()):"]
    for t in table:
        out.append(
            "    " + "  ".join(x.ljust(w) for x, w in zip(t[:3], widths, strict=True)) + "  " + t[3]
        )
    return out


def describe(spec) -> str:
    """A config's description, as ``validate`` prints it."""
    cfg = spec.config
    sim = cfg.simulation
    last = sim.first_year + sim.years - 1
    lines = [
        f"{spec.source}: valid",
        f"  {sim.years} projected years FY{sim.first_year}-FY{last}, "
        f"{count(sim.draws)} draws, seed {sim.seed}",
    ]
    if cfg.district.growth:
        lines.append("  growth indices: " + ", ".join(cfg.district.growth))
    if cfg.district.cuts is not None:
        lines.append(_cuts(cfg.district.cuts))
    for name, m in cfg.models.items():
        what = f": {m.description}" if m.description else ""
        lines.append(
            f"  model {name}{what}; revenue lines {_lines(m.revenue)}, cost lines {_lines(m.cost)}"
        )
    for s in cfg.schools:
        model = f", model {s.model}" if s.model else ""
        if s.previous_model:
            model += f" (from {s.previous_model} in year {s.conversion_year})"
        lines.append(
            f"  school {s.name}: {_enrollment(s.enrollment)}{model}, "
            f"revenue lines {_lines(s.revenue)}, cost lines {_lines(s.cost)}"
        )
    if spec.scenario_names:
        lines.append("  scenarios (run beside 'base', the config as written):")
        for name in spec.scenario_names:
            ov = cfg.scenarios[name]
            what = ", ".join(f"{k} = {_value(v)}" for k, v in ov.items()) or "the config as written"
            lines.append(f"    {name}: {what}")
    else:
        lines.append("  scenarios: none")
    lines += _inputs(spec)
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
        print(describe(spec))
    return 2 if bad else 0
