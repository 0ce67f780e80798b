"""Line builders: a config line and the chunk's random streams in, a typed line out.

One builder per line kind, looked up by the kind's name in :data:`REVENUE_BUILDERS` and
:data:`COST_BUILDERS` (as the engine looks up its amounts in ``REVENUE_KINDS`` and
``COST_KINDS``). A builder reads the pydantic line (:mod:`sustainsim.config.lines`),
realizes its numbers for the chunk through the :class:`Sampler` (a fixed number as is, a
distribution sampled once per draw and recorded as a scalar input) and returns the
frozen dataclass of :mod:`sustainsim.model.lines` for that kind.

Adding a line kind takes one schema class (``config/lines.py``), one typed line
(``model/lines.py``) with its builder here, and one engine function
(``model/engine.py``); ``tests/model/test_kinds.py`` checks that every kind of the
schema has all of them.

Every line then gets its own ``start``/``end`` window and ``recurring`` flag
(:func:`sustainsim.model.windows.place`).

Stream names are ``<entity>.<part>.<line>.<parameter>`` (``schools.ref.revenue.grant.end``),
and a sampled scalar input has its stream's name (:mod:`sustainsim.model.names`); each
builder asks for its streams in a fixed order, which fixes Sobol dimensions and so the
numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sustainsim.config import lines as schema
from sustainsim.config.lines import line_category
from sustainsim.model import lines, names
from sustainsim.model.drivers import (
    election_calendar,
    grant_schedule,
    growth_factors,
    levy_schedule,
)
from sustainsim.model.lines import Value
from sustainsim.model.settlements import cola_factor, cola_rates, random_cola
from sustainsim.model.windows import place
from sustainsim.sampling.distributions import Distribution
from sustainsim.sampling.streams import ChunkDraws

__all__ = ["COST_BUILDERS", "REVENUE_BUILDERS", "LineContext", "Sampler", "build_line"]


class Sampler:
    """Realizes config values for a chunk and records the random scalar inputs."""

    def __init__(self, draws: ChunkDraws):
        self.draws = draws
        self.scalars: dict[str, np.ndarray] = {}
        self.attrs: dict[str, dict[str, str]] = {}

    def record(
        self, name: str, values: np.ndarray, long_name: str, units: str, input: str | None = None
    ) -> None:
        """Keep ``values`` (broadcast to ``(n,)``) as the scalar input ``name``.

        Names follow :mod:`sustainsim.model.names`; ``input`` is the canonical input a
        summary named after its path belongs to (default: the one it is named after).
        """
        x = np.asarray(values, dtype=float)
        n = self.draws.n
        self.scalars[name] = x if x.shape == (n,) else np.broadcast_to(x, (n,))
        self.attrs[name] = {"long_name": long_name, "units": units, "role": "input"}
        if input is not None:
            self.attrs[name]["input"] = input

    def value(self, stream: str, v: float | Distribution, units: str = "1") -> Value:
        """A fixed number as is; a distribution sampled once per draw (recorded as ``stream``)."""
        if isinstance(v, Distribution):
            x = self.draws.sample(stream, v)
            self.record(stream, x, f"sampled {stream} ~ {v}", units)
            return x
        return float(v)


@dataclass(frozen=True)
class LineContext:
    """Where a line is built: its entity, the chunk, the growth indices and its years.

    ``stream`` prefixes the line's stream names, which are also its scalar inputs' names
    (``schools.ref``); ``offset`` shifts the line's own years and
    ``window`` limits it to projected years ``window[0] .. window[1]``
    (:class:`sustainsim.model.walk.PlacedLine`).
    """

    sampler: Sampler
    stream: str
    growth: Mapping[str, np.ndarray]
    years: int
    first_year: int
    offset: int = 0
    window: tuple[int, int] | None = None

    def factor(self, g: str | float) -> np.ndarray:
        """A growth factor ``(years + 1, ·)``: a named index, or a fixed annual rate."""
        if isinstance(g, str):
            return self.growth[g]
        return growth_factors(float(g), self.years, 1)

    def active(self) -> np.ndarray | None:
        """``(years + 1,)`` bool: the years of the window; None without one."""
        if self.window is None:
            return None
        t = np.arange(self.years + 1)
        return (t >= self.window[0]) & (t <= self.window[1])


class _Reader:
    """Realizes one line's parameters under its stream and scalar names."""

    def __init__(self, part: str, line: Any, ctx: LineContext):
        self.line, self.ctx = line, ctx
        self.stream = f"{ctx.stream}.{part}.{line.name}"
        self.common = {
            "name": line.name,
            "category": line_category(part, line),
            "flexible": bool(line.flexible),
        }

    def __call__(self, attr: str, units: str = "1") -> Value:
        s = self.ctx.sampler
        return s.value(f"{self.stream}.{attr}", getattr(self.line, attr), units)


# --- revenue -------------------------------------------------------------------------------------


def _per_pupil_revenue(line: schema.PerPupilRevenue, ctx: LineContext) -> lines.PerPupilRevenue:
    val = _Reader("revenue", line, ctx)
    return lines.PerPupilRevenue(
        **val.common,
        active=ctx.active(),
        exposed=bool(line.exposed_to_cuts),
        growth=ctx.factor(line.growth),
        rate=val("rate", "USD/student"),
        basis=line.enrollment_basis,
    )


def _categorical(line: schema.CategoricalRevenue, ctx: LineContext) -> lines.CategoricalRevenue:
    val = _Reader("revenue", line, ctx)
    return lines.CategoricalRevenue(
        **val.common,
        active=ctx.active(),
        exposed=bool(line.exposed_to_cuts),
        growth=ctx.factor(line.growth),
        rate=val("rate", "USD/student"),
        share=val("eligible_share"),
    )


def _fixed_revenue(line: schema.FixedRevenue, ctx: LineContext) -> lines.FixedRevenue:
    val = _Reader("revenue", line, ctx)
    return lines.FixedRevenue(
        **val.common,
        active=ctx.active(),
        exposed=bool(line.exposed_to_cuts),
        growth=ctx.factor(line.growth),
        amount=val("amount", "USD"),
    )


def _grant(line: schema.Grant, ctx: LineContext) -> lines.GrantRevenue:
    """The grant's paying years (start, end, renewal, termination); no window of its own."""
    val = _Reader("revenue", line, ctx)
    d, T = ctx.sampler.draws, ctx.years
    amount = val("amount", "USD")
    start = np.asarray(val("start"), float) + ctx.offset
    end = np.asarray(val("end"), float) + ctx.offset
    ren_u = d.uniform(f"{val.stream}.renewal") if line.renewal_probability > 0 else None
    term = None
    if line.termination_probability > 0:
        term = d.uniform_years(f"{val.stream}.termination", T) < line.termination_probability
    paying, last = grant_schedule(start, end, T, ren_u, line.renewal_probability, term)
    first = ctx.first_year
    ctx.sampler.record(
        names.summary(val.stream, "last_year"),
        np.where(last > 0, first - 1 + last, first - 1),
        f"last fiscal year {line.name} pays (base year if never)",
        "fiscal year",
        input=names.grant_input(val.stream, line),
    )
    return lines.GrantRevenue(
        **val.common, exposed=bool(line.exposed_to_cuts), amount=amount, paying=paying, start=start
    )


def _levy(line: schema.Levy, ctx: LineContext) -> lines.LevyRevenue:
    """A levy's base-year yield, its growth and the years it is collected (its elections)."""
    val = _Reader("revenue", line, ctx)
    if line.amount is not None:
        base = val("amount", "USD")
        growth = ctx.factor(line.growth if line.growth is not None else 0.0)
    else:
        base = np.multiply(val("millage", "mills"), val("valuation", "USD")) / 1000.0
        growth = ctx.factor(line.valuation_growth if line.valuation_growth is not None else 0.0)
    rate = val("collection_rate")
    return lines.LevyRevenue(
        **val.common,
        active=ctx.active(),
        exposed=bool(line.exposed_to_cuts),
        amount=base * rate,
        growth=growth,
        collected=_levy_votes(line, ctx, val),
    )


def _levy_votes(line: schema.Levy, ctx: LineContext, val: _Reader) -> np.ndarray:
    """``(years + 1, n)`` bool: the years collected, after the renewal elections.

    Attempt ``i`` of the calendar draws from stream ``<line>.election`` index ``i + 1``;
    the passing attempt (0: none) is kept as the scalar input
    ``<line>.election.passed_attempt``.
    """
    d, T, off = ctx.sampler.draws, ctx.years, ctx.offset
    if not line.needs_elections:
        return np.ones((T + 1, 1), dtype=bool)
    expires = None if line.expires is None else line.expires + off
    ys = None if line.election_years is None else [y + off for y in line.election_years]
    first = max(expires or 0, 1) if line.in_force else 1 + off
    cal = election_calendar(T, ys, line.elections_per_year, first=first)
    if line.max_attempts is not None:
        cal = cal[: line.max_attempts]
    listed = isinstance(line.pass_probability, list)
    p = None if listed else val("pass_probability")
    u = d.uniform_years(f"{val.stream}.election", cal.size)
    collected, attempt = levy_schedule(
        T,
        cal,
        u,
        p,
        in_force=line.in_force,
        expires=expires,
        pass_decay=line.pass_decay,
        collection_lag=line.collection_lag,
        attempt_probabilities=line.pass_probability if listed else None,
    )
    label = names.summary(f"{val.stream}.election", "passed_attempt")
    ctx.sampler.record(
        label, attempt, f"election attempt that passed levy {line.name} (0: none did)", "1"
    )
    more = line.max_attempts is None or line.max_attempts > cal.size
    ctx.sampler.attrs[label].update(
        levy_elections=str(cal.size), levy_more_after_horizon=str(int(more))
    )
    return collected


# --- cost ----------------------------------------------------------------------------------------


def _fixed_cost(line: schema.FixedCost, ctx: LineContext) -> lines.FixedCost:
    val = _Reader("cost", line, ctx)
    return lines.FixedCost(
        **val.common,
        active=ctx.active(),
        growth=ctx.factor(line.growth),
        amount=val("amount", "USD"),
    )


def _per_pupil_cost(line: schema.PerPupilCost, ctx: LineContext) -> lines.PerPupilCost:
    val = _Reader("cost", line, ctx)
    return lines.PerPupilCost(
        **val.common,
        active=ctx.active(),
        growth=ctx.factor(line.growth),
        rate=val("rate", "USD/student"),
    )


def _sections(sections: schema.Sections) -> lines.Sections:
    bands = tuple(
        lines.SectionBand(
            tuple(b.grades),
            int(b.max_class_size),
            int(b.min_class_size),
            bool(b.multi_age),
            bool(b.combine_adjacent),
            b.soft_max_class_size,
            float(b.overage_cost),
        )
        for b in sections.bands
    )
    return lines.Sections(bands, float(sections.positions_per_section))


def _schedule(sch: schema.SalarySchedule | None) -> lines.SalarySchedule | None:
    """The typed schedule: the table (given or generated), base-year shares, entry cell."""
    if sch is None:
        return None
    if sch.salaries is not None:
        table = np.asarray(sch.salaries, dtype=float)
    else:
        steps = (1.0 + sch.step_increment) ** np.arange(int(sch.steps or 1))
        lanes = (1.0 + sch.lane_increment) ** np.arange(sch.lanes)
        table = float(sch.base or 0.0) * steps[:, None] * lanes[None, :]
    entry = (sch.entry_step - 1, sch.entry_lane - 1)
    shares = np.zeros_like(table)
    if sch.placement is not None:
        shares = np.asarray(sch.placement, dtype=float)
    elif sch.roster is not None:
        for r in sch.roster:
            shares[r.step - 1, r.lane - 1] += r.fte
    if shares.sum() <= 0:
        shares[entry] = 1.0
    return lines.SalarySchedule(table, shares / shares.sum(), entry)


def _cola(line: schema.StaffRole, val: _Reader) -> np.ndarray | None:
    """The settlements' factor ``(years + 1, ·)``; random ones recorded by their mean."""
    if line.cola is None:
        return None
    s = val.ctx.sampler
    unit = line.bargaining_unit
    stream = f"settlements.{unit}.cola" if unit else f"{val.stream}.cola"
    rates = cola_rates(line.cola, s.draws, stream, val.ctx.years)
    if random_cola(line.cola):
        s.record(
            names.summary(stream, "mean"), rates.mean(axis=0), "mean annual settlement", "1/yr"
        )
    return cola_factor(rates)


def _benefits(line: schema.StaffRole, ctx: LineContext) -> lines.Benefits | None:
    if line.pension_rate is None and line.health_per_fte is None:
        return None
    return lines.Benefits(
        pension_rate=float(line.pension_rate or 0.0),
        health_per_fte=float(line.health_per_fte or 0.0),
        health_growth=ctx.factor(line.health_growth),
        payroll_tax_rate=float(line.payroll_tax_rate),
        stipend_pensionable=bool(line.stipend_pensionable),
    )


def _staff(line: schema.StaffRole, ctx: LineContext) -> lines.StaffCost:
    val = _Reader("cost", line, ctx)
    growth = ctx.factor(line.growth)
    salary = val("salary", "USD") if line.salary is not None else 0.0
    benefits_rate = val("benefits_rate")
    benefits_growth = None if line.benefits_growth is None else ctx.factor(line.benefits_growth)
    stipend = val("stipend", "USD")
    rule: dict[str, Any] = {}
    if line.students_per_position is not None:
        rule["students_per_position"] = val("students_per_position", "students")
    elif line.positions is not None:
        rule["positions"] = float(line.positions)
    elif line.sections is not None:
        rule["sections"] = _sections(line.sections)
    return lines.StaffCost(
        **val.common,
        active=ctx.active(),
        growth=growth,
        salary=salary,
        step_rate=float(line.step_rate),
        benefits_rate=benefits_rate,
        benefits_growth=benefits_growth,
        stipend=stipend,
        minimum_positions=float(line.minimum_positions),
        turnover=float(line.turnover),
        schedule=_schedule(line.schedule),
        cola=_cola(line, val),
        cola_settlement=line.cola_settlement,
        benefits=_benefits(line, ctx),
        basis=line.enrollment_basis,
        **rule,
    )


def _technology(line: schema.Technology, ctx: LineContext) -> lines.TechnologyCost:
    val = _Reader("cost", line, ctx)
    growth = ctx.factor(line.growth)
    price = val("device_price", "USD")
    price_growth = ctx.factor(line.price_growth)
    return lines.TechnologyCost(
        **val.common,
        active=ctx.active(),
        growth=growth,
        devices_per_pupil=float(line.devices_per_pupil),
        price=price,
        price_growth=price_growth,
        refresh_share=line.refresh_share,
        refresh_every=line.refresh_every,
        last_purchase=int(line.last_purchase) + ctx.offset,
        license=val("license_per_pupil", "USD/student"),
        support=val("support_per_device", "USD"),
    )


def _one_time(line: schema.OneTimeCost, ctx: LineContext) -> lines.OneTimeCost:
    """One year's amount, shifted with the model's years; no window of its own."""
    val = _Reader("cost", line, ctx)
    return lines.OneTimeCost(
        **val.common, amount=val("amount", "USD"), year=int(line.year) + ctx.offset
    )


Builder = Callable[[Any, LineContext], Any]

#: revenue kind -> builder (config line, context) -> typed line of :mod:`sustainsim.model.lines`
REVENUE_BUILDERS: dict[str, Builder] = {
    "per_pupil": _per_pupil_revenue,
    "categorical": _categorical,
    "fixed": _fixed_revenue,
    "grant": _grant,
    "levy": _levy,
}
#: cost kind -> builder
COST_BUILDERS: dict[str, Builder] = {
    "fixed": _fixed_cost,
    "per_pupil": _per_pupil_cost,
    "staff": _staff,
    "technology": _technology,
    "one_time": _one_time,
}

_BUILDERS = {"revenue": REVENUE_BUILDERS, "cost": COST_BUILDERS}


def build_line(part: str, line: Any, ctx: LineContext) -> Any:
    """The typed ``part`` (``"revenue"`` or ``"cost"``) line of a config line."""
    table = _BUILDERS[part]
    if line.kind not in table:  # pragma: no cover - the schema admits no other kind
        raise ValueError(f"no builder for {part} kind {line.kind!r}; known: {', '.join(table)}")
    return place(part, line, table[line.kind](line, ctx), ctx)
