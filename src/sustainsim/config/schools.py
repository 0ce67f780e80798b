"""Config schema of schools: enrollment, school models and the schools that run them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sustainsim.config.district import Response
from sustainsim.config.fields import (
    AnyNumber,
    Drift,
    Loading,
    Name,
    Persistence,
    Positive,
    Volatility,
    _Model,
)
from sustainsim.config.lines import CostLine, RevenueLine
from sustainsim.sampling.distributions import Distribution

__all__ = ["RESERVED_NAMES", "ChoiceEvent", "Enrollment", "School", "SchoolModel"]

RESERVED_NAMES = {"district", "total"}


class ChoiceEvent(_Model):
    """A charter opening or a boundary change: ``share`` of the pupils leave from a year on.

    The event happens in projected year ``year`` (1 = the first projected year), or in a
    random year with an annual ``hazard`` (``P(by year t) = 1 - (1 - hazard)**t``; one of
    the two). From then on it removes ``share`` of the entering grade (``scope =
    "entry"``), or of every grade in the event year and of the entering grade after
    (``"all"``; for the aggregate model, the enrollment level). See
    :mod:`sustainsim.model.drivers.choice`.
    """

    name: Name
    share: float = Field(gt=0, lt=1)
    scope: Literal["entry", "all"] = "entry"
    hazard: float | None = Field(None, gt=0, le=1)
    year: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_timing(self):
        if (self.hazard is None) == (self.year is None):
            raise ValueError(
                f"choice event {self.name!r} needs exactly one of hazard (a random year) "
                f"or year (a fixed projected year) (got hazard={self.hazard}, year={self.year})"
            )
        return self


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
    is the sd of the log of each ratio, drawn once per draw (an uncertain ratio). A full
    cohort building turns pupils away by ``capacity_rule`` (``"proportional"``: every
    grade scaled; ``"entrants_first"``: the entering grade first), and those turned away
    are not carried forward. ``choice_events`` (:class:`ChoiceEvent`) take a share of the
    pupils from a fixed or random year on.
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
    capacity_rule: Literal["proportional", "entrants_first"] = "proportional"
    choice_events: list[ChoiceEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _choice_events(self):
        names = [e.name for e in self.choice_events]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"choice_events names must be unique; repeated: {', '.join(dup)}")
        if self.model == "aggregate":
            entry = [e.name for e in self.choice_events if e.scope == "entry"]
            if entry:
                raise ValueError(
                    f'choice event {entry[0]!r}: scope = "entry" needs grades entering '
                    '(model = "cohort"); the aggregate model takes scope = "all"'
                )
            if self.capacity_rule != "proportional":
                raise ValueError(
                    f"capacity_rule = {self.capacity_rule!r} belongs to the cohort model "
                    "(the aggregate model caps the total)"
                )
        return self

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
    attributes: dict[Name, float] = Field(default_factory=dict, description="weights of flows")

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
