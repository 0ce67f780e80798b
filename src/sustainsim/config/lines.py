"""Config schema of budget lines: what a school (or model, or district) earns and spends.

Revenue kinds: ``per_pupil`` (a funding formula, optionally hold-harmless),
``categorical`` (per eligible pupil), ``fixed``, ``grant`` (temporary money).
Cost kinds: ``fixed``, ``per_pupil``, ``staff`` (positions by a fixed count, a ratio or
class sections), ``technology`` (devices, refresh, licenses, support), ``one_time``
(start-up and other non-recurring spending).

Years in lines are projected years (1 = the first projected year). Inside a school
model (``[models.NAME]``) they count from the school's conversion: 1 = the launch year,
0 = the planning year before it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sustainsim.config.fields import (
    AnyNumber,
    GrowthRef,
    Name,
    NonNeg,
    Positive,
    Probability,
    YearIndex,
    _Model,
    _show,
)
from sustainsim.sampling.distributions import Distribution

__all__ = ["CostLine", "RevenueLine", "SectionBand", "Sections"]


class _Line(_Model):
    name: Name
    category: str | None = Field(
        None, max_length=40, description="grouping for reports and seed-study metrics"
    )
    flexible: bool = Field(
        False, description="may be trimmed by the management response when deficits appear"
    )


# --- revenue -------------------------------------------------------------------------------------


class PerPupilRevenue(_Line):
    """Rate x enrollment (a per-pupil funding formula).

    ``enrollment_basis`` sets the count the formula pays on: ``current`` (this year's),
    ``prior`` (last year's: a lagged formula) or ``max_current_prior`` (hold harmless:
    a school is paid on the larger of the two).
    """

    kind: Literal["per_pupil"]
    rate: NonNeg
    growth: GrowthRef = 0.0
    exposed_to_cuts: bool = True
    enrollment_basis: Literal["current", "prior", "max_current_prior"] = "current"


class CategoricalRevenue(_Line):
    """Categorical funds: rate x eligible pupils (share of enrollment eligible)."""

    kind: Literal["categorical"]
    rate: NonNeg
    eligible_share: Probability
    growth: GrowthRef = 0.0
    exposed_to_cuts: bool = False


class FixedRevenue(_Line):
    """A fixed annual amount with growth."""

    kind: Literal["fixed"]
    amount: NonNeg
    growth: GrowthRef = 0.0
    exposed_to_cuts: bool = False


class Grant(_Line):
    """Temporary money paid in years start..end (both included)."""

    kind: Literal["grant"]
    amount: NonNeg
    start: YearIndex = 1.0
    end: YearIndex
    renewal_probability: float = Field(0.0, ge=0, lt=1)
    termination_probability: float = Field(0.0, ge=0, le=1)
    exposed_to_cuts: bool = False

    @model_validator(mode="after")
    def _end_after_start(self):
        s_lo = self.start.bounds()[0] if isinstance(self.start, Distribution) else self.start
        e_lo = self.end.bounds()[0] if isinstance(self.end, Distribution) else self.end
        if e_lo < s_lo:
            raise ValueError(
                f"end year ({_show(self.end)}) is before start year ({_show(self.start)}); "
                "end must be >= start (both are projected years, 1 = first)"
            )
        return self


RevenueLine = Annotated[
    PerPupilRevenue | CategoricalRevenue | FixedRevenue | Grant, Field(discriminator="kind")
]


# --- cost ----------------------------------------------------------------------------------------


class FixedCost(_Line):
    """A fixed annual cost with growth."""

    kind: Literal["fixed"]
    amount: NonNeg
    growth: GrowthRef = 0.0


class PerPupilCost(_Line):
    """Rate x enrollment."""

    kind: Literal["per_pupil"]
    rate: NonNeg
    growth: GrowthRef = 0.0


class SectionBand(_Model):
    """Grades taught in sections of at most ``max_class_size`` pupils.

    Each grade with at least ``min_class_size`` pupils gets ``ceil(n / max)`` sections;
    grades below the minimum are combined into multi-age sections (``ceil(pooled / max)``).
    ``multi_age = true`` pools every grade of the band into mixed-age rooms.
    """

    grades: list[str] = Field(min_length=1)
    max_class_size: int = Field(ge=1)
    min_class_size: int = Field(0, ge=0)
    multi_age: bool = False

    @model_validator(mode="after")
    def _min_le_max(self):
        if self.min_class_size > self.max_class_size:
            raise ValueError(
                f"min_class_size ({self.min_class_size}) must be <= max_class_size "
                f"({self.max_class_size})"
            )
        return self


class Sections(_Model):
    """Class-section staffing: sections per band, positions per section."""

    bands: list[SectionBand] = Field(min_length=1)
    positions_per_section: float = Field(1.0, gt=0)


class StaffRole(_Line):
    """Staff positions with salary, steps, cost-of-living raises, benefits and stipends.

    Exactly one rule sets the positions: ``positions`` (a fixed count),
    ``students_per_position`` (enrollment / ratio, rounded up to whole positions) or
    ``sections`` (class sections by grade band). Pay per position in year t::

        salary * (1 + step_rate)^t * F_growth[t]            (steps and raises)
        + salary * benefits_rate * F_benefits[t]            (benefits)
        + stipend * F_growth[t]                             (stipends, no benefits)

    where ``F_benefits`` follows ``benefits_growth`` when given (health premiums grow on
    their own), otherwise the salary path.
    """

    kind: Literal["staff"]
    salary: NonNeg
    step_rate: float = Field(0.0, ge=0, le=0.2)
    benefits_rate: NonNeg = 0.0
    benefits_growth: GrowthRef | None = None
    stipend: NonNeg = 0.0
    students_per_position: Positive | None = None
    positions: float | None = Field(None, ge=0)
    sections: Sections | None = None
    minimum_positions: float = Field(0.0, ge=0)
    growth: GrowthRef = 0.0
    turnover: float = Field(
        0.0, ge=0, le=1, description="share of positions leaving each year (hiring freeze)"
    )

    @model_validator(mode="after")
    def _one_rule(self):
        given = [
            k
            for k in ("students_per_position", "positions", "sections")
            if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of students_per_position (positions follow enrollment), "
                "positions (a fixed count) or sections (class sections by grade band)"
                + (f"; got {', '.join(given)}" if given else "")
            )
        return self


class Technology(_Line):
    """Devices per pupil with a refresh cycle, licenses and support.

    Fleet ``D[t] = devices_per_pupil * E[t]``. Devices bought in year t: new ones when
    the fleet grows (``max(0, D[t] - D[t-1])``) plus replacements: a share
    ``refresh_share`` of the fleet every year, or the whole fleet every
    ``refresh_every`` years counted from ``last_purchase`` (a cohort). Each costs
    ``device_price * F_price[t]``. Licenses cost ``license_per_pupil * E[t] * F[t]``;
    support ``support_per_device * D[t] * F[t]``.
    """

    kind: Literal["technology"]
    devices_per_pupil: float = Field(1.0, ge=0)
    device_price: NonNeg
    price_growth: GrowthRef = 0.0
    refresh_share: float | None = Field(None, gt=0, le=1)
    refresh_every: int | None = Field(None, ge=1)
    last_purchase: int = Field(0, le=0, description="year of the last full purchase (0 = base)")
    license_per_pupil: NonNeg = 0.0
    support_per_device: NonNeg = 0.0
    growth: GrowthRef = 0.0

    @model_validator(mode="after")
    def _one_refresh(self):
        if self.refresh_share is not None and self.refresh_every is not None:
            raise ValueError(
                "give refresh_share (a share each year) or refresh_every (a cohort "
                "every k years), not both"
            )
        return self


class OneTimeCost(_Line):
    """A one-time cost in one year (start-up: technology, PD, planning, furniture/space)."""

    kind: Literal["one_time"]
    amount: NonNeg
    year: int = Field(ge=0, description="projected year (in a model: 0 = planning, 1 = launch)")


CostLine = Annotated[
    FixedCost | PerPupilCost | StaffRole | Technology | OneTimeCost, Field(discriminator="kind")
]

#: default category of each line kind (a line's own ``category`` wins)
DEFAULT_CATEGORY = {
    ("revenue", "per_pupil"): "formula",
    ("revenue", "categorical"): "categorical",
    ("revenue", "fixed"): "other_revenue",
    ("revenue", "grant"): "temporary",
    ("cost", "fixed"): "operations",
    ("cost", "per_pupil"): "operations",
    ("cost", "staff"): "staff",
    ("cost", "technology"): "technology",
    ("cost", "one_time"): "startup",
}


def line_category(part: str, line) -> str:
    """The category of a line: its own, or its kind's default."""
    return line.category or DEFAULT_CATEGORY[(part, line.kind)]


__all__ += ["AnyNumber", "DEFAULT_CATEGORY", "line_category"]
