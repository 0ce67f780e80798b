"""The config language: TOML parsed into validated pydantic models.

A config has these parts::

    [simulation]        # horizon, draws, seed
    [district]          # district-wide drivers (growth, cuts), reserve policy, response,
                        # central revenue and cost lines
    [models.NAME]       # school models: lines shared by the schools that run them
    [[schools]]         # one table per school: enrollment, model, conversion, own lines
    [scenarios.NAME]    # variants as dotted-path overrides, run on the same draws

The line kinds live in :mod:`sustainsim.config.lines`.

Wherever a number is expected, a distribution may stand instead, written
``{ dist = "NAME", param = value, ... }`` (see :mod:`sustainsim.sampling.distributions`); it is
sampled once per draw. Every model forbids unknown keys, and every error names the
field path, the value and what is allowed (:class:`ConfigError`).

Numbers are finite by construction: ``inf`` and ``nan`` are refused everywhere, every
number (and every value a distribution can take) is at most 1e15 in magnitude
(:data:`~sustainsim.config.fields.MAX_MAGNITUDE`), growth rates lie in (-1, 1], enrollment
drift in [-1, 1] and its volatility in [0, 2], and a capacity must hold the base-year
enrollment; the run core checks every chunk of output as well
(:func:`sustainsim.run.chunk.check_finite_outputs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sustainsim.config.errors import ConfigError, format_validation_error
from sustainsim.config.fields import (
    AnyNumber,
    Drift,
    GrowthRate,
    Loading,
    Name,
    Persistence,
    Positive,
    Probability,
    Volatility,
    _Model,
)
from sustainsim.config.lines import CostLine, RevenueLine
from sustainsim.sampling.distributions import Distribution

__all__ = ["Config", "parse_config"]

RESERVED_NAMES = {"district", "total"}
#: the largest seed: it is stored as a 64-bit integer in the results' provenance
MAX_SEED = 2**63 - 1


# --- simulation -------------------------------------------------------------------------------


class Simulation(_Model):
    """Run settings."""

    years: int = Field(ge=1, le=100, description="projected fiscal years")
    first_year: int = Field(ge=1, le=9999, description="first projected fiscal year")
    draws: int = Field(10_000, ge=1, le=10**10, description="Monte Carlo draws")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the run's SeedSequence")
    chunk_size: int | None = Field(None, ge=1, description="draws per chunk")
    sampler: Literal["monte_carlo", "lhs", "sobol"] = Field(
        "monte_carlo", description="plain Monte Carlo, Latin hypercube or scrambled Sobol"
    )

    @model_validator(mode="after")
    def _sobol_limit(self):
        if self.sampler == "sobol" and self.draws > 2**32:
            raise ValueError(f"the sobol sampler takes at most 2**32 draws (got {self.draws})")
        return self


# --- district-wide drivers --------------------------------------------------------------------


class GrowthIndex(_Model):
    """An annual growth rate: fixed, one random rate per draw, or a new rate each year."""

    rate: GrowthRate
    per: Literal["draw", "year"] = "draw"


def _growth_index(v: Any) -> GrowthIndex:
    if isinstance(v, GrowthIndex):
        return v
    if isinstance(v, Mapping) and "rate" in v:
        return GrowthIndex.model_validate(v)
    return GrowthIndex(rate=v)


GrowthEntry = Annotated[
    GrowthIndex,
    PlainValidator(_growth_index),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "object"}]}),
]


class RegimeState(_Model):
    """Cut events in one state of the regime chain."""

    probability: Probability = Field(description="annual chance of a cut event in this state")
    magnitude: Probability = Field(description="share of exposed revenue cut by one event")


class Regime(_Model):
    """A two-state (normal / recession) Markov chain so cuts cluster in bad years.

    Long-run share of recession years ``p_enter / (p_enter + p_exit)``; mean length of a
    recession ``1 / p_exit`` years.
    """

    p_enter: Probability = Field(description="P(normal -> recession) each year")
    p_exit: Probability = Field(description="P(recession -> normal) each year")
    initial: Literal["stationary", "normal", "recession"] = "stationary"
    normal: RegimeState
    recession: RegimeState

    @model_validator(mode="after")
    def _stationary_defined(self):
        def lo(v):
            return v.bounds()[0] if isinstance(v, Distribution) else v

        if self.initial == "stationary" and lo(self.p_enter) + lo(self.p_exit) <= 0:
            raise ValueError(
                'initial = "stationary" needs p_enter + p_exit > 0; give initial = '
                '"normal" or "recession"'
            )
        return self


class Cuts(_Model):
    """Budget-cut events applied to the revenue lines exposed to cuts.

    Either one ``probability`` and ``magnitude`` for every year, or a ``regime`` chain
    with a probability and magnitude per state.
    """

    probability: Probability | None = Field(None, description="annual chance of a cut event")
    magnitude: Probability | None = Field(
        None, description="share of exposed revenue cut by one event"
    )
    regime: Regime | None = None
    recovery: float = Field(0.0, ge=0, le=1, description="share of past cuts restored each year")
    scope: Literal["district", "school"] = "district"
    timing: Literal["start", "mid_year"] = "start"

    @model_validator(mode="after")
    def _either(self):
        flat = self.probability is not None or self.magnitude is not None
        if self.regime is not None and flat:
            raise ValueError(
                "with a regime, give probability and magnitude per state under "
                "[district.cuts.regime.normal] and [district.cuts.regime.recession]"
            )
        if self.regime is None and (self.probability is None or self.magnitude is None):
            raise ValueError("give probability and magnitude (or a regime)")
        return self


class Correlation(_Model):
    """Rank (Spearman) correlation among named random inputs, by a Gaussian copula.

    ``inputs`` are stream names (``district.growth.funding``,
    ``schools.a.enrollment.innovation``, ...); give ``matrix`` or ``pairs``. A matrix
    that is not positive semi-definite is repaired to the nearest valid one with a
    warning, or rejected when ``strict``.
    """

    inputs: list[str] = Field(min_length=2)
    matrix: list[list[float]] | None = None
    pairs: list[dict[str, Any]] | None = None
    strict: bool = False

    @model_validator(mode="after")
    def _valid(self):
        from sustainsim.sampling.copula import matrix_from_pairs, validate_correlation

        if (self.matrix is None) == (self.pairs is None):
            raise ValueError("give exactly one of matrix or pairs")
        m: Any = self.matrix
        if self.pairs is not None:
            bad = [p for p in self.pairs if set(p) != {"a", "b", "rank_corr"}]
            if bad:
                raise ValueError(
                    f"each pair is {{a = ..., b = ..., rank_corr = ...}} (got {bad[0]})"
                )
            m = matrix_from_pairs(
                self.inputs, [(p["a"], p["b"], p["rank_corr"]) for p in self.pairs]
            )
        validate_correlation(m, self.inputs)
        return self


class ReservePolicy(_Model):
    """Policy reserve: months of the year's expenditure (GFOA: at least two)."""

    months: float = Field(2.0, ge=0, le=24)


#: the actions of the deficit response, used in the order given
ResponseLever = Literal["trim", "freeze", "rif", "reserves"]


class Response(_Model):
    """Management response: trim flexible lines after a deficit, up to a cap, with a lag.

    In year t the signal is read in year ``t - lag``: with ``trigger = "deficit"`` the
    gap is that year's deficit (``-surplus``), with ``"below_reserve"`` the shortfall of
    the balance under the policy reserve. Flexible lines are cut by the same share,
    ``min(cap, gap / flexible spending)``.
    """

    trigger: Literal["deficit", "below_reserve"] = "deficit"
    cap: float = Field(0.5, ge=0, le=1, description="largest share of flexible spending trimmed")
    lag: int = Field(1, ge=1, le=5, description="years between the signal and the trim")
    levers: list[ResponseLever] = Field(
        default_factory=lambda: list[ResponseLever](["trim"]),
        min_length=1,
        description="levers in the order used: trim (flexible lines up to cap), freeze "
        "(leavers not replaced), rif (reduction in force after notice_lag), reserves "
        "(a draw on the fund balance down to reserve_floor)",
    )
    restore: Literal["never", "surplus", "above_reserve"] = Field(
        "never",
        description="when reductions are given back: never, by any surplus, or by a "
        "surplus once the balance is at least the policy reserve",
    )
    notice_lag: int = Field(
        1, ge=0, le=5, description="years between a reduction-in-force decision and its saving"
    )
    reserve_floor: float = Field(
        0.0, ge=0, le=24, description="months of expenditure the reserves lever keeps"
    )

    @field_validator("levers")
    @classmethod
    def _unique_levers(cls, v: list[str]) -> list[str]:
        dup = sorted({x for x in v if v.count(x) > 1})
        if dup:
            raise ValueError(f"levers must be unique; repeated: {', '.join(dup)}")
        return v


class District(_Model):
    """District-wide drivers and the district's own (central) money."""

    growth: dict[Name, GrowthEntry] = Field(default_factory=dict)
    cuts: Cuts | None = None
    stress_cut: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="a known permanent cut of exposed revenue from the first projected year "
        "(stress tests; see sustainsim.stress_capacity)",
    )
    reserve: ReservePolicy | None = None
    response: Response | None = None
    fund_balance: AnyNumber = Field(0.0, description="central fund balance at the base year's end")
    revenue: list[RevenueLine] = Field(default_factory=list)
    cost: list[CostLine] = Field(default_factory=list)


# --- schools ---------------------------------------------------------------------------------


class Enrollment(_Model):
    """Enrollment: aggregate log growth, or grade-level cohort survival.

    ``model = "aggregate"``: total enrollment from ``base`` follows log growth with
    ``drift``, ``volatility``, AR(1) ``persistence`` and a loading on the district-wide
    shock (``common_loading``), capped at ``capacity``; ``grades`` with ``grade_shares``
    split it by grade for class-section staffing.

    ``model = "cohort"``: ``by_grade`` holds the base year's enrollment per grade; each
    year grade g gets last year's grade g-1 times its progression ratio (with log-normal
    noise ``progression_sd``), and the entering grade follows the log-growth process
    (``drift``, ``volatility``, ...) from its base-year size.

    ``innovation_df`` makes the innovations Student-t with that many degrees of freedom
    (scaled to the same variance; heavy tails; omit for normal innovations).
    ``closure_hazard`` is the annual probability that the school closes (enrollment 0
    from then on; default 0). In the cohort model ``progression_sd`` may be one value or
    one per grade after the first, and ``progression_uncertainty`` (one or one per grade)
    is the sd of the log of each ratio, drawn once per draw (an uncertain ratio).
    """

    model: Literal["aggregate", "cohort"] = "aggregate"
    base: Positive | None = None
    drift: Drift = 0.0
    volatility: Volatility = 0.0
    persistence: Persistence = 0.0
    common_loading: Loading = 0.0
    capacity: float | None = Field(None, gt=0)
    grades: list[str] | None = None
    grade_shares: list[float] | None = None
    by_grade: list[float] | None = None
    progression: float | list[float] | None = None
    progression_sd: float | list[float] = 0.0
    progression_uncertainty: float | list[float] = 0.0
    innovation_df: float | None = Field(None, gt=2)
    closure_hazard: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _consistent(self):
        g = self.grades
        if g is not None and len(set(g)) != len(g):
            raise ValueError("grades must be unique")
        if self.model == "aggregate":
            if self.base is None:
                raise ValueError(
                    'base is required for the aggregate model (or set model = "cohort")'
                )
            for k in ("by_grade", "progression"):
                if getattr(self, k) is not None:
                    raise ValueError(f'{k} belongs to the cohort model; set model = "cohort"')
            if (g is None) != (self.grade_shares is None):
                raise ValueError(
                    "grades and grade_shares go together (shares of the total by grade)"
                )
            _check_capacity(self.capacity, self.base, "base")
            if g is not None and self.grade_shares is not None:
                sh = self.grade_shares
                if len(sh) != len(g) or any(x < 0 for x in sh) or abs(sum(sh) - 1) > 1e-6:
                    raise ValueError(
                        f"grade_shares must be {len(g)} non-negative numbers summing to 1 "
                        f"(got {sh})"
                    )
            return self
        if self.base is not None:
            raise ValueError("the cohort model takes by_grade, not base")
        if g is None or len(g) < 2 or self.by_grade is None or self.progression is None:
            raise ValueError("the cohort model needs grades (2 or more), by_grade and progression")
        if (
            len(self.by_grade) != len(g)
            or any(x < 0 for x in self.by_grade)
            or sum(self.by_grade) <= 0
        ):
            raise ValueError(
                f"by_grade must be {len(g)} non-negative counts, not all zero (got {self.by_grade})"
            )
        if self.by_grade[0] <= 0:
            raise ValueError("by_grade[0] (the entering grade) must be > 0")
        _check_capacity(self.capacity, sum(self.by_grade), "the sum of by_grade")
        pr = self.progression
        prs = [pr] * (len(g) - 1) if isinstance(pr, float) else list(pr)
        if len(prs) != len(g) - 1 or any(not 0 < x <= 3 for x in prs):
            raise ValueError(
                f"progression must be one ratio or {len(g) - 1} ratios in (0, 3] (got {pr})"
            )
        if self.grade_shares is not None:
            raise ValueError("grade_shares belongs to the aggregate model")
        return self

    @model_validator(mode="after")
    def _per_grade_noise(self):
        n = max(len(self.grades or []) - 1, 1)
        for k in ("progression_sd", "progression_uncertainty"):
            v = getattr(self, k)
            vs = [v] * n if isinstance(v, float | int) else list(v)
            if (self.model == "cohort" and len(vs) != n) or any(not 0 <= x <= 1 for x in vs):
                raise ValueError(f"{k} must be one value or {n} values in [0, 1] (got {v})")
        return self

    def per_grade(self, name: str) -> list[float]:
        """``progression_sd`` or ``progression_uncertainty``, one per grade after the first."""
        v, grades = getattr(self, name), self.grades or []
        return [float(v)] * (len(grades) - 1) if isinstance(v, float | int) else list(v)

    def progression_ratios(self) -> list[float]:
        """One progression ratio per grade after the first (cohort model)."""
        pr, grades = self.progression, self.grades
        if pr is None or grades is None:
            raise ValueError("progression ratios belong to the cohort model")
        return [pr] * (len(grades) - 1) if isinstance(pr, float) else list(pr)


def _check_capacity(capacity: float | None, base: Any, what: str) -> None:
    """The capacity cap must hold the base year's enrollment (a distribution's median)."""
    if capacity is None or base is None:
        return
    central = base.median() if isinstance(base, Distribution) else float(base)
    if capacity < central:
        shown = f"{base} (median {central:g})" if isinstance(base, Distribution) else f"{central:g}"
        raise ValueError(
            f"capacity ({capacity:g}) is below the base-year enrollment {what} = {shown}; "
            "capacity must be >= the base enrollment"
        )


class SchoolModel(_Model):
    """A school model (``personalized``, ``traditional``, ...): lines shared by many schools.

    Years in its lines count from the conversion: 1 = launch year, 0 = planning year.
    """

    description: str = ""
    revenue: list[RevenueLine] = Field(default_factory=list)
    cost: list[CostLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_lines(self):
        _check_unique(self)
        return self


def _check_unique(obj) -> None:
    for part in ("revenue", "cost"):
        names = [line.name for line in getattr(obj, part)]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{part} line names must be unique; repeated: {', '.join(dup)}")


class School(_Model):
    """One school: starting fund balance, enrollment, its model and its own lines."""

    name: Name
    fund_balance: AnyNumber = 0.0
    enrollment: Enrollment
    model: Name | None = Field(None, description="a [models.NAME] whose lines the school runs")
    previous_model: Name | None = Field(None, description="the model run before conversion")
    conversion_year: int = Field(1, ge=1, description="projected year the model starts")
    response: Response | None = None
    revenue: list[RevenueLine] = Field(default_factory=list)
    cost: list[CostLine] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v in RESERVED_NAMES:
            raise ValueError(f"{v!r} is reserved for totals; choose another school name")
        return v

    @model_validator(mode="after")
    def _unique_lines(self):
        _check_unique(self)
        if self.previous_model is not None and self.model is None:
            raise ValueError("previous_model needs model (what the school converts to)")
        return self


class LeverRange(_Model):
    """Evenly spaced candidate values from ``low`` to ``high`` (both included)."""

    low: float
    high: float
    steps: int = Field(default=5, ge=2, le=101)

    @model_validator(mode="after")
    def _ordered(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"need finite low < high (got low={self.low}, high={self.high})")
        return self


class DecisionLever(_Model):
    """A decision the district controls: a config path and the values it may take."""

    path: str = Field(min_length=1, description="the dotted config path the lever sets")
    values: list[float | int | str | bool] | None = Field(default=None, min_length=1)
    range: LeverRange | None = None
    cost: float = Field(default=0.0, ge=0, description="its cost per year [USD] (for ranking)")
    label: str | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if (self.values is None) == (self.range is None):
            raise ValueError("a lever needs exactly one of values = [...] or range = {low, high}")
        if self.path.split(".")[0] in ("levers", "scenarios", "correlations"):
            raise ValueError(f"path {self.path!r}: a lever sets a model value, not {self.path!r}")
        return self

    def candidates(self) -> list[Any]:
        """The values to evaluate, in order."""
        if self.values is not None:
            return list(self.values)
        r = self.range
        if r is None:  # pragma: no cover - _one_way requires values or a range
            raise ValueError("a lever needs values or a range")
        step = (r.high - r.low) / (r.steps - 1)
        return [r.low + i * step for i in range(r.steps)]


class Config(_Model):
    """A whole config file."""

    simulation: Simulation
    district: District = Field(default_factory=lambda: District.model_validate({}))
    models: dict[Name, SchoolModel] = Field(default_factory=dict)
    schools: list[School] = Field(min_length=1)
    scenarios: dict[Name, dict[str, Any]] = Field(
        default_factory=dict,
        description="named variants: dotted config paths and their values, run on the same draws",
    )
    correlations: list[Correlation] = Field(default_factory=list)
    levers: dict[Name, DecisionLever] = Field(
        default_factory=dict,
        description="decisions to evaluate: a config path and candidate values (sustainsim levers)",
    )

    @model_validator(mode="after")
    def _cross_checks(self):
        names = [s.name for s in self.schools]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"school names must be unique; repeated: {', '.join(dup)}")
        problems = self._correlation_problems() + self._shared_line_problems()
        for s in self.schools:
            problems += self._school_problems(s)
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    def _correlation_problems(self) -> list[str]:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for i, c in enumerate(self.correlations):
            for name in c.inputs:
                if name in seen:
                    problems.append(
                        f"correlations[{i}].inputs: {name!r} is already in correlations"
                        f"[{seen[name]}]; an input belongs to one group"
                    )
                seen.setdefault(name, i)
        return problems

    def _growth_problems(self, where: str, line) -> list[str]:
        problems: list[str] = []
        for field in ("growth", "benefits_growth", "price_growth"):
            g = getattr(line, field, None)
            if isinstance(g, str) and g not in self.district.growth:
                known = sorted(self.district.growth)
                problems.append(
                    f"{where}.{line.name}.{field}: unknown growth index {g!r}; defined in "
                    f"[district.growth]: {', '.join(known) or 'none'} (or give a number)"
                )
            if isinstance(g, float) and not -1 < g <= 1:
                problems.append(f"{where}.{line.name}.{field}: must be > -1 and <= 1 (got {g})")
        return problems

    def _shared_line_problems(self) -> list[str]:
        """Problems of the district's and the school models' lines."""
        problems: list[str] = []
        for part in ("revenue", "cost"):
            for line in getattr(self.district, part):
                problems += self._growth_problems(f"district.{part}", line)
                if getattr(line, "sections", None) is not None:
                    problems.append(f"district.cost.{line.name}: sections need a school's grades")
            for m, model in self.models.items():
                for line in getattr(model, part):
                    problems += self._growth_problems(f"models.{m}.{part}", line)
        return problems

    def _school_problems(self, s: School) -> list[str]:
        problems: list[str] = []
        for attr in ("model", "previous_model"):
            ref = getattr(s, attr)
            if ref is not None and ref not in self.models:
                problems.append(
                    f"schools.{s.name}.{attr}: unknown model {ref!r}; defined in [models]: "
                    f"{', '.join(sorted(self.models)) or 'none'}"
                )
        if s.conversion_year > self.simulation.years + 1:
            problems.append(
                f"schools.{s.name}.conversion_year: {s.conversion_year} is after the horizon "
                f"(years = {self.simulation.years})"
            )
        for part in ("revenue", "cost"):
            for line in getattr(s, part):
                problems += self._growth_problems(f"schools.{s.name}.{part}", line)
            own = {x.name for x in getattr(s, part)}
            for attr in ("model", "previous_model"):
                model = self.models.get(getattr(s, attr) or "")
                if model is None:
                    continue
                clash = sorted(own & {x.name for x in getattr(model, part)})
                if clash:
                    problems.append(
                        f"schools.{s.name}.{part}: line names {', '.join(clash)} are also in "
                        f"model {getattr(s, attr)!r}; rename the school's lines"
                    )
        return problems + self._section_problems(s)

    def _section_problems(self, s: School) -> list[str]:
        """Section bands must use grades the school's enrollment has."""
        problems: list[str] = []
        grades = set(s.enrollment.grades or [])
        for line in self._school_cost_lines(s):
            sec = getattr(line, "sections", None)
            if sec is None:
                continue
            missing = sorted({g for b in sec.bands for g in b.grades} - grades)
            if missing:
                problems.append(
                    f"schools.{s.name}.cost.{line.name}.sections: grades {missing} are not in "
                    f"schools.{s.name}.enrollment.grades ({sorted(grades) or 'none given'})"
                )
        return problems

    def _school_cost_lines(self, s: School) -> list:
        out = list(s.cost)
        for attr in ("model", "previous_model"):
            m = self.models.get(getattr(s, attr) or "")
            if m is not None:
                out += list(m.cost)
        return out


# --- reading and errors -------------------------------------------------------------------------


def parse_config(data: Mapping[str, Any], source: str | None = None) -> Config:
    """Validate a config given as nested dicts (parsed TOML).

    Raises
    ------
    ConfigError
        Listing every problem with its field path, value and what is allowed.
    """
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, data), source=source) from None
