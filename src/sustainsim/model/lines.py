"""Budget lines as the engine sees them: one frozen dataclass of floats and arrays per kind.

A line's parameters are realized for a chunk of ``n`` draws: a :data:`Value` is a float
(the same in every draw) or an ``(n,)`` array (sampled per draw); a growth factor is
year-major, ``(years + 1, n)`` or ``(years + 1, 1)``, row 0 the base year (1.0).
Nothing here knows the config file: no pydantic object, no random numbers.

Every kind has the same fields: ``name``, ``category`` (for reports), ``flexible``
(the management response may trim it), ``active`` (``(years + 1,)`` bool, or
``(years + 1, n)`` when its own window is drawn per draw, or None for always: the years
its school runs the model it belongs to, within the line's own ``start``/``end``),
``recurring`` (its money counts as recurring) and ``funding`` (a cost line's grant,
:class:`Funding`). Revenue lines add ``exposed`` (hit by budget cuts).

Adding a line kind takes three pieces, each keyed by the kind's name:

1. its schema class in :mod:`sustainsim.config.lines` (a member of ``RevenueLine`` or
   ``CostLine``);
2. its builder in :mod:`sustainsim.model.builders` (``REVENUE_BUILDERS`` /
   ``COST_BUILDERS``), which returns a dataclass of this module with that ``kind``;
3. its amount in :mod:`sustainsim.model.engine` (``REVENUE_KINDS`` / ``COST_KINDS``).

``tests/model/test_kinds.py`` fails when one of the three is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

__all__ = [
    "CategoricalRevenue",
    "CostLine",
    "FixedCost",
    "FixedRevenue",
    "Funding",
    "GrantRevenue",
    "LevyRevenue",
    "Line",
    "OneTimeCost",
    "PerPupilCost",
    "PerPupilRevenue",
    "RevenueLine",
    "SectionBand",
    "Benefits",
    "SalarySchedule",
    "Sections",
    "StaffCost",
    "TechnologyCost",
    "Value",
]

#: a realized parameter: one number for every draw, or one per draw ``(n,)``
Value = float | np.ndarray

EnrollmentBasis = Literal["current", "prior", "max_current_prior"]


@dataclass(frozen=True)
class Funding:
    """The grant paying a cost line (``funded_by``), as bool ``(years + 1, n)`` masks.

    ``paying``: the years the grant pays; ``expired``: the years from its scheduled start
    on in which it no longer pays (the cost is then absorbed, or inactive).
    """

    grant: str
    paying: np.ndarray
    expired: np.ndarray
    on_expiry: str = "end"  # "end" or "absorb"


@dataclass(frozen=True, kw_only=True)
class _Line:
    kind: ClassVar[str]

    name: str
    category: str = ""
    flexible: bool = False
    # (years + 1,) bool, or (years + 1, n) when its years are drawn per draw; None: every year
    active: np.ndarray | None = None
    recurring: bool = True  # counts as recurring money (structural balance, the cliff)
    funding: Funding | None = None  # cost lines: the grant paying it


@dataclass(frozen=True, kw_only=True)
class _Revenue(_Line):
    exposed: bool = False  # scaled by the school's cut factors


# --- revenue -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PerPupilRevenue(_Revenue):
    """``growth[t] * rate * E``, with ``E`` the enrollment ``basis`` counts. [USD]"""

    kind: ClassVar[str] = "per_pupil"

    rate: Value  # [USD/student]
    growth: np.ndarray
    basis: EnrollmentBasis = "current"


@dataclass(frozen=True, kw_only=True)
class CategoricalRevenue(_Revenue):
    """``growth[t] * (rate * share) * E[t]``: a rate per eligible pupil. [USD]"""

    kind: ClassVar[str] = "categorical"

    rate: Value  # [USD/student]
    share: Value  # eligible share of enrollment [1]
    growth: np.ndarray


@dataclass(frozen=True, kw_only=True)
class FixedRevenue(_Revenue):
    """``growth[t] * amount``. [USD]"""

    kind: ClassVar[str] = "fixed"

    amount: Value  # [USD]
    growth: np.ndarray


@dataclass(frozen=True, kw_only=True)
class GrantRevenue(_Revenue):
    """``paying[t] * amount``: temporary money in the years it pays. [USD]

    ``paying`` (``(years + 1, n)``) already holds the grant's own years (start, end,
    renewal, termination), so the line has no ``active`` window.
    """

    kind: ClassVar[str] = "grant"

    amount: Value  # [USD]
    paying: np.ndarray
    start: Value = 1.0  # first scheduled projected year (shifted with its model's years)
    recurring: bool = False


@dataclass(frozen=True, kw_only=True)
class LevyRevenue(_Revenue):
    """``collected[t] * growth[t] * amount``: a property-tax levy in the years it is collected.

    ``amount`` is the base-year yield (millage x valuation / 1000, or the fixed sum,
    times the collection rate) [USD]; ``collected`` (``(years + 1, n)`` bool) holds the
    outcome of the renewal elections (:func:`sustainsim.model.drivers.levy.levy_schedule`).
    Recurring money: not temporary revenue.
    """

    kind: ClassVar[str] = "levy"

    amount: Value  # [USD]
    growth: np.ndarray
    collected: np.ndarray


RevenueLine = PerPupilRevenue | CategoricalRevenue | FixedRevenue | GrantRevenue | LevyRevenue


# --- cost ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FixedCost(_Line):
    """``growth[t] * amount``. [USD]"""

    kind: ClassVar[str] = "fixed"

    amount: Value  # [USD]
    growth: np.ndarray


@dataclass(frozen=True, kw_only=True)
class PerPupilCost(_Line):
    """``growth[t] * rate * E[t]``. [USD]"""

    kind: ClassVar[str] = "per_pupil"

    rate: Value  # [USD/student]
    growth: np.ndarray


@dataclass(frozen=True)
class SectionBand:
    """Grades taught in sections of at most ``max_class_size`` pupils (see ``class_sections``)."""

    grades: tuple[str, ...]
    max_class_size: int
    min_class_size: int = 0
    multi_age: bool = False
    combine_adjacent: bool = False  # leftovers of adjacent grades share split classes
    soft_max_class_size: int | None = None
    overage_cost: float = 0.0  # per pupil above the soft cap [USD]


@dataclass(frozen=True)
class Sections:
    """Class-section staffing: sections of every band, ``positions_per_section`` each."""

    bands: tuple[SectionBand, ...]
    positions_per_section: float = 1.0


@dataclass(frozen=True)
class SalarySchedule:
    """A salary schedule: steps x lanes of salaries, base-year shares, the entry cell.

    ``salaries`` [USD] and ``shares`` (summing to 1) are ``(steps, lanes)``; ``entry`` is
    the 0-based ``(step, lane)`` where replacements are hired.
    """

    salaries: np.ndarray  # (steps, lanes) [USD]
    shares: np.ndarray  # (steps, lanes), summing to 1
    entry: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Benefits:
    """Benefits split: pension on pensionable pay, health per FTE, payroll taxes."""

    pension_rate: float = 0.0  # [1]
    health_per_fte: float = 0.0  # [USD/FTE] in the base year
    health_growth: np.ndarray | None = None  # (years + 1, ·); None: no growth
    payroll_tax_rate: float = 0.0  # [1]
    stipend_pensionable: bool = False


@dataclass(frozen=True, kw_only=True)
class StaffCost(_Line):
    """Positions times pay (salary with steps and raises, benefits, stipend). [USD]

    Exactly one rule sets the positions: ``students_per_position`` (whole positions
    following enrollment), ``positions`` (a fixed count) or ``sections`` (class sections
    by grade band); ``minimum_positions`` is a floor under any of them.
    """

    kind: ClassVar[str] = "staff"

    salary: Value  # [USD] (unused with a schedule)
    step_rate: float  # [1/yr]
    benefits_rate: Value  # [1]
    benefits_growth: np.ndarray | None  # None: benefits follow the salary path
    stipend: Value  # [USD]
    growth: np.ndarray
    minimum_positions: float = 0.0
    turnover: float = 0.0  # share of positions leaving each year [1/yr]
    students_per_position: Value | None = None  # [students]
    positions: float | None = None
    sections: Sections | None = None
    schedule: SalarySchedule | None = None  # replaces salary and step_rate
    cola: np.ndarray | None = None  # (years + 1, ·) factor of the settlements by year
    cola_settlement: str = "on_time"  # "on_time", "late", "late_retroactive"
    benefits: Benefits | None = None  # replaces benefits_rate and benefits_growth
    basis: str = "current"  # enrollment the positions are staffed on

    def __post_init__(self) -> None:
        rules = (self.students_per_position, self.positions, self.sections)
        if sum(r is not None for r in rules) != 1:
            raise ValueError(
                f"staff line {self.name}: give exactly one of students_per_position, "
                "positions or sections"
            )


@dataclass(frozen=True, kw_only=True)
class TechnologyCost(_Line):
    """Devices bought (fleet growth plus refresh) at ``price``, support and licenses. [USD]

    ``refresh_share`` (a share of the fleet every year) or ``refresh_every`` (the whole
    fleet every k years counted from ``last_purchase``), or neither.
    """

    kind: ClassVar[str] = "technology"

    devices_per_pupil: float
    price: Value  # [USD]
    price_growth: np.ndarray
    license: Value  # [USD/student]
    support: Value  # [USD/device]
    growth: np.ndarray
    refresh_share: float | None = None
    refresh_every: int | None = None
    last_purchase: int = 0  # projected year of the last full purchase


@dataclass(frozen=True, kw_only=True)
class OneTimeCost(_Line):
    """``amount`` in projected year ``year`` (1 = first), nothing in the others. [USD]

    The line carries its own year, so it has no ``active`` window.
    """

    kind: ClassVar[str] = "one_time"

    amount: Value  # [USD]
    year: int
    recurring: bool = False


CostLine = FixedCost | PerPupilCost | StaffCost | TechnologyCost | OneTimeCost

#: any typed line
Line = RevenueLine | CostLine
