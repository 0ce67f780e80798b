"""Sample a spec into arrays: every stochastic driver realized for a chunk of draws.

``sample_inputs(spec, draws)`` is the only place where the config meets random
numbers. Its result, :class:`Inputs`, holds plain floats and arrays (year-major,
``(years + 1, n)`` with row 0 the base year) that the engine turns into budgets.

Stream names are stable and derived from the config's names, e.g.
``district.enrollment.common``, ``district.cuts.event``,
``schools.ref.enrollment.innovation``, ``schools.ref.revenue.grant.end``; see
:mod:`sustainsim.sampling` for what that guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from .config import Config, Cuts, GrowthIndex, School
from .distributions import Distribution
from .drivers import cut_factors, enrollment_paths, grant_schedule, growth_factors
from .sampling import ChunkDraws

__all__ = ["Inputs", "LineInputs", "SchoolInputs", "sample_inputs"]

Value = float | np.ndarray


@dataclass
class LineInputs:
    """One revenue or cost line with its parameters realized for the chunk."""

    name: str
    kind: str
    values: dict[str, Any]


@dataclass
class SchoolInputs:
    """A school's realized drivers: enrollment path, cut factor, lines."""

    name: str
    enrollment: np.ndarray  # (T + 1, n)
    fund_balance: Value
    cut: np.ndarray | None  # (T + 1, n) or None
    revenue: list[LineInputs]
    cost: list[LineInputs]


@dataclass
class Inputs:
    """Everything the engine needs for one chunk of draws."""

    n: int
    years: int
    first_year: int
    schools: list[SchoolInputs]
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    scalar_attrs: dict[str, dict[str, str]] = field(default_factory=dict)


class _Sampler:
    """Realizes config values for a chunk and records the random scalar inputs."""

    def __init__(self, draws: ChunkDraws):
        self.draws = draws
        self.scalars: dict[str, np.ndarray] = {}
        self.attrs: dict[str, dict[str, str]] = {}

    def record(self, label: str, values: np.ndarray, long_name: str, units: str) -> None:
        self.scalars[label] = np.broadcast_to(np.asarray(values, dtype=float), (self.draws.n,))
        self.attrs[label] = {"long_name": long_name, "units": units, "role": "input"}

    def value(self, stream: str, v: float | Distribution, label: str, units: str = "1") -> Value:
        """A fixed number as is; a distribution sampled once per draw (and recorded)."""
        if isinstance(v, Distribution):
            x = self.draws.sample(stream, v)
            self.record(label, x, f"sampled {label} ~ {v}", units)
            return x
        return float(v)


def _growth(s: _Sampler, name: str, g: GrowthIndex, years: int) -> np.ndarray:
    n = s.draws.n
    stream = f"district.growth.{name}"
    if isinstance(g.rate, Distribution):
        if g.per == "year":
            rates = s.draws.sample_years(stream, g.rate, years)
            s.record(f"growth.{name}", rates.mean(axis=0), f"mean annual {name} growth", "1/yr")
            return growth_factors(rates, years, n)
        rate = s.draws.sample(stream, g.rate)
        s.record(f"growth.{name}", rate, f"annual {name} growth ~ {g.rate}", "1/yr")
        return growth_factors(rate, years, n)
    return growth_factors(float(g.rate), years, 1)


def _cuts(s: _Sampler, cuts: Cuts, years: int, prefix: str, label: str) -> np.ndarray:
    d = s.draws
    p = s.value(f"{prefix}.probability", cuts.probability, f"{label}cuts.probability")
    u = d.uniform_years(f"{prefix}.event", years)
    hits = u < p
    if isinstance(cuts.magnitude, Distribution):
        mag = d.sample_years(f"{prefix}.magnitude", cuts.magnitude, years)
    else:
        mag = np.full((years, 1), float(cuts.magnitude))
    c = cut_factors(hits, mag, cuts.recovery, mid_year=cuts.timing == "mid_year")
    s.record(f"{label}cuts.count", hits.sum(axis=0), "number of budget-cut events", "1")
    s.record(f"{label}cuts.cumulative", 1.0 - c[-1], "share of exposed revenue cut by the end", "1")
    return c


def _growth_of(line: Any, growth: dict[str, np.ndarray], years: int) -> np.ndarray:
    g = line.growth
    if isinstance(g, str):
        return growth[g]
    return growth_factors(float(g), years, 1)


def _school(
    s: _Sampler,
    school: School,
    cfg: Config,
    growth: dict[str, np.ndarray],
    z_common: np.ndarray | None,
    district_cut: np.ndarray | None,
) -> SchoolInputs:
    d = s.draws
    T = cfg.simulation.years
    first = cfg.simulation.first_year
    pre = f"schools.{school.name}"
    lab = f"{school.name}."
    en = school.enrollment
    par = {
        k: s.value(f"{pre}.enrollment.{k}", getattr(en, k), f"{lab}enrollment.{k}")
        for k in ("base", "drift", "volatility", "persistence", "common_loading")
    }
    random_params = any(np.ndim(v) for v in par.values())
    stochastic = not (isinstance(en.volatility, float) and en.volatility == 0.0)
    if stochastic:
        z_own = special.ndtri(d.uniform_years(f"{pre}.enrollment.innovation", T))
        zc = z_common if z_common is not None else np.zeros((T, 1))
        zc = np.broadcast_to(zc, z_own.shape)
    else:
        z_own = np.zeros((T, d.n if random_params else 1))
        zc = z_own
    enrollment = enrollment_paths(
        par["base"],
        par["drift"],
        par["volatility"],
        par["persistence"],
        par["common_loading"],
        zc,
        z_own,
        capacity=en.capacity if en.capacity is not None else np.inf,
    )
    s.record(
        f"{lab}enrollment.change",
        enrollment[-1] / enrollment[0] - 1.0,
        f"relative enrollment change at {first + T - 1}",
        "1",
    )

    cut = district_cut
    cuts_cfg = cfg.district.cuts
    if cuts_cfg is not None and cuts_cfg.scope == "school":
        cut = _cuts(s, cuts_cfg, T, f"{pre}.cuts", lab)
    stress = cfg.district.stress_cut
    if stress:
        base_cut = cut if cut is not None else np.ones((T + 1, 1))
        cut = base_cut.copy()
        cut[1:] *= 1.0 - stress

    revenue = []
    for line in school.revenue:
        lp = f"{pre}.revenue.{line.name}"
        ll = f"{lab}{line.name}."
        if line.kind == "per_pupil":
            vals = {
                "rate": s.value(f"{lp}.rate", line.rate, f"{ll}rate", "USD/student"),
                "growth": _growth_of(line, growth, T),
            }
        elif line.kind == "fixed":
            vals = {
                "amount": s.value(f"{lp}.amount", line.amount, f"{ll}amount", "USD"),
                "growth": _growth_of(line, growth, T),
            }
        elif line.kind == "grant":
            amount = s.value(f"{lp}.amount", line.amount, f"{ll}amount", "USD")
            start = s.value(f"{lp}.start", line.start, f"{ll}start")
            end = s.value(f"{lp}.end", line.end, f"{ll}end")
            ren_u = d.uniform(f"{lp}.renewal") if line.renewal_probability > 0 else None
            term = None
            if line.termination_probability > 0:
                term = d.uniform_years(f"{lp}.termination", T) < line.termination_probability
            paying, last = grant_schedule(start, end, T, ren_u, line.renewal_probability, term)
            vals = {"amount": amount, "paying": paying}
            s.record(
                f"{lab}{line.name}.last_year",
                np.where(last > 0, first - 1 + last, first - 1),
                f"last fiscal year {line.name} pays (base year if never)",
                "fiscal year",
            )
        else:  # pragma: no cover - the config schema admits no other kind
            raise ValueError(f"unknown revenue kind {line.kind!r}")
        vals["exposed"] = bool(line.exposed_to_cuts)
        revenue.append(LineInputs(line.name, line.kind, vals))

    cost = []
    for line in school.cost:
        lp = f"{pre}.cost.{line.name}"
        ll = f"{lab}{line.name}."
        vals: dict[str, Any] = {"growth": _growth_of(line, growth, T)}
        if line.kind == "fixed":
            vals["amount"] = s.value(f"{lp}.amount", line.amount, f"{ll}amount", "USD")
        elif line.kind == "per_pupil":
            vals["rate"] = s.value(f"{lp}.rate", line.rate, f"{ll}rate", "USD/student")
        elif line.kind == "staff":
            vals["salary"] = s.value(f"{lp}.salary", line.salary, f"{ll}salary", "USD")
            vals["benefits_rate"] = s.value(
                f"{lp}.benefits_rate", line.benefits_rate, f"{ll}benefits_rate"
            )
            if line.students_per_position is not None:
                vals["students_per_position"] = s.value(
                    f"{lp}.students_per_position",
                    line.students_per_position,
                    f"{ll}students_per_position",
                    "students",
                )
            else:
                vals["positions"] = float(line.positions)
            vals["minimum_positions"] = float(line.minimum_positions)
        else:  # pragma: no cover
            raise ValueError(f"unknown cost kind {line.kind!r}")
        cost.append(LineInputs(line.name, line.kind, vals))

    fb = s.value(f"{pre}.fund_balance", school.fund_balance, f"{lab}fund_balance", "USD")
    return SchoolInputs(school.name, enrollment, fb, cut, revenue, cost)


def sample_inputs(config: Config, draws: ChunkDraws) -> Inputs:
    """Realize every driver of ``config`` for the draws of one chunk.

    Parameters
    ----------
    config : Config
        The validated config (``spec.config``).
    draws : ChunkDraws
        The chunk's uniform source and draw range.

    Returns
    -------
    Inputs
    """
    T = config.simulation.years
    s = _Sampler(draws)
    growth = {name: _growth(s, name, g, T) for name, g in config.district.growth.items()}
    needs_common = any(
        not (isinstance(sc.enrollment.common_loading, float) and sc.enrollment.common_loading == 0)
        for sc in config.schools
    )
    z_common = (
        special.ndtri(draws.uniform_years("district.enrollment.common", T)) if needs_common else None
    )
    cuts = config.district.cuts
    district_cut = None
    if cuts is not None and cuts.scope == "district":
        district_cut = _cuts(s, cuts, T, "district.cuts", "")
    schools = [_school(s, sc, config, growth, z_common, district_cut) for sc in config.schools]
    return Inputs(
        n=draws.n,
        years=T,
        first_year=config.simulation.first_year,
        schools=schools,
        scalars=s.scalars,
        scalar_attrs=s.attrs,
    )
