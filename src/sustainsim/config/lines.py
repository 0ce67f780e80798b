"""Config schema of budget lines: what a school (or model, or district) earns and spends.

Revenue kinds: ``per_pupil`` (a funding formula, optionally hold-harmless),
``categorical`` (per eligible pupil), ``fixed``, ``grant`` (temporary money), ``levy``
(a local property-tax levy renewed by vote: recurring money; see :class:`Levy`).
Cost kinds: ``fixed``, ``per_pupil``, ``staff`` (positions by a fixed count, a ratio or
class sections), ``technology`` (devices, refresh, licenses, support), ``one_time``
(start-up and other non-recurring spending).

Years in lines are projected years (1 = the first projected year). Inside a school
model (``[models.NAME]``) they count from the school's conversion: 1 = the launch year,
0 = the planning year before it.

Every line may run in a window of years, ``start`` to ``end`` (both included; a fixed
year or a whole-numbered distribution sampled per draw; a grant's own ``start`` and
``end`` are its paid term). ``recurring`` says whether its money counts as recurring
for structural balance and the grant cliff (grants and one-time costs are not, every
other kind is; :func:`line_recurring`). A cost line may be ``funded_by`` a grant line
(of its school, the school's model or the district): with ``on_expiry = "end"`` it stops
in the first year the grant no longer pays, with ``"absorb"`` it goes on, on the
school's general budget (:mod:`sustainsim.config.funding`, :mod:`sustainsim.model.funding`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sustainsim.config.fields import (
    AnyNumber,
    Cola,
    GrowthRef,
    Name,
    NonNeg,
    Positive,
    Probability,
    YearIndex,
    _Model,
    _show,
)
from sustainsim.config.flows import Allocation, Charge
from sustainsim.sampling.distributions import Distribution

__all__ = ["CostLine", "RevenueLine", "RosterEntry", "SalarySchedule", "SectionBand", "Sections"]


def _lowest(v: float | Distribution) -> float:
    return v.bounds()[0] if isinstance(v, Distribution) else float(v)


def check_window(start: float | Distribution | None, end: float | Distribution | None) -> None:
    """Refuse a line window whose end can fall before its start (lowest values compared)."""
    if start is None or end is None:
        return
    if _lowest(end) < _lowest(start):
        raise ValueError(
            f"end year ({_show(end)}) is before start year ({_show(start)}); "
            "end must be >= start (both are projected years, 1 = first)"
        )


class _Line(_Model):
    name: Name
    category: str | None = Field(
        None, max_length=40, description="grouping for reports and seed-study metrics"
    )
    flexible: bool = Field(
        False, description="may be trimmed by the management response when deficits appear"
    )
    allocate: Allocation | None = None  # district revenue lines (config.flows)
    charge: Charge | None = None  # district cost lines (config.flows)
    start: YearIndex | None = Field(
        None, description="first year the line runs (fixed or a distribution; default: always)"
    )
    end: YearIndex | None = Field(
        None, description="last year the line runs, included (fixed or a distribution)"
    )
    recurring: bool | None = Field(
        None,
        description="recurring money for structural balance and the cliff (default: grants "
        "and one_time costs are not, every other kind is)",
    )

    @model_validator(mode="after")
    def _end_after_start(self):
        check_window(self.start, self.end)
        return self


class _Cost(_Line):
    funded_by: Name | None = Field(
        None, description="the grant line (of the school, its model or the district) paying it"
    )
    on_expiry: Literal["end", "absorb"] = Field(
        "end",
        description="when its grant stops paying: end (the cost stops) or absorb (it goes on, "
        "on the school's general budget)",
    )

    @model_validator(mode="after")
    def _expiry_needs_grant(self):
        if "on_expiry" in self.model_fields_set and self.funded_by is None:
            raise ValueError(
                f"on_expiry = {self.on_expiry!r} needs funded_by (the grant line paying "
                "this cost); give funded_by or drop on_expiry"
            )
        return self


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


#: pass probabilities of each attempt in turn
_AttemptRates = Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1)]


class Levy(_Line):
    """A local property-tax levy (Ohio-style): recurring money that voters must renew.

    The yield is one of two forms, exactly one given:

    * ``millage`` (mills: dollars per $1,000) x assessed ``valuation`` [USD] of the base
      year, the valuation growing with ``valuation_growth`` (a name in
      ``[district.growth]`` or a fixed annual rate);
    * ``amount`` [USD], a fixed sum, growing with ``growth`` if given.

    Either is multiplied by ``collection_rate`` (the share of the tax billed that is
    collected). A levy ``in_force`` (the default) is collected from year 1 through
    ``expires`` (the projected year of the last collection under the current levy;
    none: a permanent levy, collected every year, with no elections). A levy not in
    force is a new levy, put to the voters from the first election.

    Renewal elections: the projected years ``election_years`` (default every year from
    the expiry year on, or from year 1 for a new levy, to the horizon), each with
    ``elections_per_year`` attempts (1, or 2: a spring primary and a fall general).
    Attempt ``i`` (0 = the first) passes with ``pass_probability * pass_decay**i`` (or,
    with a list ``pass_probability = [p0, p1, ...]``, with ``p_i``, the last one for any
    later attempt); the first pass ends the campaign, and at most ``max_attempts`` are
    made. A renewal
    passed in or before the expiry year continues the levy without a gap; a levy
    passed later (a replacement, or a new levy) is collected from ``collection_lag``
    years after the election year on. A passed levy then runs through the horizon
    (later renewals are not modelled).
    """

    kind: Literal["levy"]
    millage: NonNeg | None = Field(None, description="tax rate [mills: USD per USD 1,000]")
    valuation: NonNeg | None = Field(None, description="assessed valuation, base year [USD]")
    valuation_growth: GrowthRef | None = None
    amount: NonNeg | None = Field(None, description="a fixed-sum levy's annual yield [USD]")
    growth: GrowthRef | None = None
    collection_rate: Probability = 1.0
    in_force: bool = True
    expires: int | None = Field(
        None, ge=0, description="projected year of the last collection (none: permanent)"
    )
    election_years: list[Annotated[int, Field(ge=1)]] | None = None
    elections_per_year: int = Field(1, ge=1, le=2)
    pass_probability: Probability | _AttemptRates | None = Field(
        None, description="chance an attempt passes; a list: each attempt's in turn"
    )
    pass_decay: float = Field(1.0, gt=0, le=1)
    max_attempts: int | None = Field(None, ge=1)
    collection_lag: int = Field(1, ge=0, le=5)
    exposed_to_cuts: bool = False

    @model_validator(mode="after")
    def _one_form(self):
        rate = self.millage is not None or self.valuation is not None
        if rate == (self.amount is not None):
            raise ValueError(
                "give millage and valuation (a tax rate on assessed value) or amount "
                "(a fixed sum), exactly one form" + ("; got both" if rate else "; got neither")
            )
        if rate and (self.millage is None or self.valuation is None):
            missing = "valuation" if self.valuation is None else "millage"
            raise ValueError(f"the millage form needs millage and valuation; {missing} is missing")
        if rate and self.growth is not None:
            raise ValueError("growth is for the amount form; give valuation_growth with millage")
        if not rate and self.valuation_growth is not None:
            raise ValueError("valuation_growth is for the millage form; give growth with amount")
        return self

    @model_validator(mode="after")
    def _elections(self):
        if not self.in_force and self.expires is not None:
            raise ValueError(
                f"expires ({self.expires}) is for a levy in force; a new levy "
                "(in_force = false) is collected once it passes"
            )
        if not self.needs_elections:
            given = [
                k
                for k in ("election_years", "pass_probability", "max_attempts")
                if getattr(self, k) is not None
            ]
            if given:
                raise ValueError(
                    f"a permanent levy (in force, no expires) holds no elections; "
                    f"remove {', '.join(given)} or give expires"
                )
            return self
        if self.pass_probability is None:
            raise ValueError("a levy that expires (or a new levy) needs pass_probability")
        if isinstance(self.pass_probability, list) and self.pass_decay != 1:
            raise ValueError(
                "pass_decay is for one pass_probability; a list gives each attempt's own"
            )
        ys = self.election_years
        if ys is not None and any(b <= a for a, b in zip(ys, ys[1:], strict=False)):
            raise ValueError(
                f"election_years {ys} must be strictly increasing (two elections in a year: "
                "elections_per_year = 2)"
            )
        return self

    @property
    def needs_elections(self) -> bool:
        """Whether the levy goes to the voters: it expires, or it is new."""
        return not self.in_force or self.expires is not None

    def horizon_problems(self, where: str, years: int) -> list[str]:
        """Election years beyond the horizon of ``years`` projected years."""
        late = [y for y in self.election_years or [] if y > years]
        if not late:
            return []
        return [
            f"{where}.election_years: {late} after the horizon (years = {years}); "
            f"election years are projected years 1..{years}"
        ]


RevenueLine = Annotated[
    PerPupilRevenue | CategoricalRevenue | FixedRevenue | Grant | Levy, Field(discriminator="kind")
]


# --- cost ----------------------------------------------------------------------------------------


class FixedCost(_Cost):
    """A fixed annual cost with growth."""

    kind: Literal["fixed"]
    amount: NonNeg
    growth: GrowthRef = 0.0


class PerPupilCost(_Cost):
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
    combine_adjacent: bool = Field(
        False,
        description="the pupils left over after full sections of adjacent grades share "
        "split (combination) classes",
    )
    soft_max_class_size: int | None = Field(
        None, ge=1, description="a soft cap: pupils above it in a section cost overage_cost"
    )
    overage_cost: float = Field(0.0, ge=0, description="cost per pupil above the soft cap [USD]")

    @model_validator(mode="after")
    def _min_le_max(self):
        if self.min_class_size > self.max_class_size:
            raise ValueError(
                f"min_class_size ({self.min_class_size}) must be <= max_class_size "
                f"({self.max_class_size})"
            )
        return self


class RosterEntry(_Model):
    """Positions (FTE) in one cell of a salary schedule (1-based step and lane)."""

    step: int = Field(ge=1)
    lane: int = Field(1, ge=1)
    fte: float = Field(gt=0)


class SalarySchedule(_Model):
    """A salary schedule: steps (rows) x lanes (education columns), with a top step.

    Give the table as ``salaries`` (one row per step, one column per lane) or generate it
    from ``base`` (step 1, lane 1), ``steps``, ``lanes``, ``step_increment`` (each step
    pays that much more than the one below) and ``lane_increment`` (each lane more than
    the one before). Positions start in the cells of ``placement`` (shares over the
    cells, same shape as the table) or of ``roster`` (``{step, lane, fte}`` entries),
    or all at the entry cell. Every year each position moves one step (the top step
    stays at the top); a share ``turnover`` of the line leaves and is replaced at the
    entry cell (``entry_step``, ``entry_lane``, 1-based).
    """

    salaries: list[list[Annotated[float, Field(ge=0)]]] | None = None
    base: float | None = Field(None, ge=0)
    steps: int | None = Field(None, ge=1, le=60)
    lanes: int = Field(1, ge=1, le=20)
    step_increment: float = Field(0.0, ge=0, le=0.5)
    lane_increment: float = Field(0.0, ge=0, le=1)
    placement: list[list[Annotated[float, Field(ge=0)]]] | None = None
    roster: list[RosterEntry] | None = None
    entry_step: int = Field(1, ge=1)
    entry_lane: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _shape(self):
        if (self.salaries is None) == (self.base is None or self.steps is None):
            raise ValueError(
                "give the table as salaries (rows = steps, columns = lanes) or base and "
                "steps (with lanes, step_increment, lane_increment), not both"
            )
        rows, cols = self.shape
        if self.salaries is not None and any(len(r) != cols for r in self.salaries):
            raise ValueError(f"every row of salaries needs {cols} lanes")
        if self.placement is not None and self.roster is not None:
            raise ValueError("give placement (shares over cells) or roster, not both")
        if self.placement is not None and (
            len(self.placement) != rows or any(len(r) != cols for r in self.placement)
        ):
            raise ValueError(f"placement must be {rows} steps x {cols} lanes like the table")
        cells = [(r.step, r.lane) for r in self.roster or []] + [(self.entry_step, self.entry_lane)]
        bad = [c for c in cells if c[0] > rows or c[1] > cols]
        if bad:
            raise ValueError(f"cells {bad} (step, lane) outside the {rows} x {cols} table")
        return self

    @property
    def shape(self) -> tuple[int, int]:
        """(steps, lanes) of the table."""
        if self.salaries is not None:
            return len(self.salaries), len(self.salaries[0]) if self.salaries else 0
        return int(self.steps or 0), self.lanes


class Sections(_Model):
    """Class-section staffing: sections per band, positions per section."""

    bands: list[SectionBand] = Field(min_length=1)
    positions_per_section: float = Field(1.0, gt=0)


class StaffRole(_Cost):
    """Staff positions with salary, steps, cost-of-living raises, benefits and stipends.

    Exactly one rule sets the positions: ``positions`` (a fixed count),
    ``students_per_position`` (enrollment / ratio, rounded up to whole positions) or
    ``sections`` (class sections by grade band). Pay per position in year t::

        salary * (1 + step_rate)^t * F_growth[t]            (steps and raises)
        + salary * benefits_rate * F_benefits[t]            (benefits)
        + stipend * F_growth[t]                             (stipends, no benefits)

    where ``F_benefits`` follows ``benefits_growth`` when given (health premiums grow on
    their own), otherwise the salary path.

    A finance office's form replaces pieces of it: ``schedule`` (a salary schedule of
    steps x lanes with a top step, a placement or roster, turnover replaced at the entry
    cell) instead of ``salary`` and ``step_rate``; ``cola`` (settlements by year, fixed or
    random, on top of ``growth``; random ones shared by the lines of a
    ``bargaining_unit``) paid per ``cola_settlement``; and the benefits split,
    ``pension_rate`` (on salary, and stipends if ``stipend_pensionable``),
    ``health_per_fte`` (growing with ``health_growth``) and ``payroll_tax_rate``,
    instead of ``benefits_rate``.
    ``enrollment_basis`` sets the enrollment the positions are staffed on; ``turnover``
    also bounds the hiring freeze of the management response.
    See :mod:`sustainsim.model.compensation` and :mod:`sustainsim.model.staffing`.
    """

    kind: Literal["staff"]
    salary: NonNeg | None = None
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
    schedule: SalarySchedule | None = None
    cola: Cola | None = Field(
        None,
        description="cost-of-living settlements on growth: by projected year (a list), or "
        "every year (one value); each a rate or a distribution drawn per draw and year",
    )
    cola_settlement: Literal["on_time", "late", "late_retroactive"] = "on_time"
    bargaining_unit: Name | None = Field(
        None,
        description="random settlements drawn per unit: lines of one unit (in any school) "
        "share the draws of stream settlements.<unit>.cola; default: the line's own stream",
    )
    pension_rate: float | None = Field(None, ge=0, le=1, description="on pensionable pay")
    health_per_fte: float | None = Field(None, ge=0, description="health insurance per FTE")
    health_growth: GrowthRef = 0.0
    payroll_tax_rate: float = Field(0.0, ge=0, le=0.5, description="statutory payroll taxes")
    stipend_pensionable: bool = False
    enrollment_basis: Literal["current", "prior", "projection"] = Field(
        "current",
        description="the enrollment positions are staffed on: this year's, last year's, "
        "or the planning year's projection (cohorts moved up a grade)",
    )

    @model_validator(mode="after")
    def _pay(self):
        if (self.salary is None) == (self.schedule is None):
            raise ValueError("give salary (one pay with step_rate) or schedule, not both")
        if self.schedule is not None and self.step_rate:
            raise ValueError("step_rate is for salary; a schedule moves positions up its steps")
        split = self.pension_rate is not None or self.health_per_fte is not None
        if split and (self.benefits_rate or self.benefits_growth is not None):
            raise ValueError(
                "give benefits_rate (one load) or pension_rate/health_per_fte, not both"
            )
        return self

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


class Technology(_Cost):
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


class OneTimeCost(_Cost):
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
    ("revenue", "levy"): "levy",
    ("cost", "fixed"): "operations",
    ("cost", "per_pupil"): "operations",
    ("cost", "staff"): "staff",
    ("cost", "technology"): "technology",
    ("cost", "one_time"): "startup",
}


#: line kinds whose money is not recurring by default (a line's own ``recurring`` wins)
NONRECURRING_KINDS = frozenset({("revenue", "grant"), ("cost", "one_time")})


def line_category(part: str, line) -> str:
    """The category of a line: its own, or its kind's default."""
    return line.category or DEFAULT_CATEGORY[(part, line.kind)]


def line_recurring(part: str, line) -> bool:
    """Whether a line's money is recurring: its own flag, or its kind's default."""
    if line.recurring is not None:
        return bool(line.recurring)
    return (part, line.kind) not in NONRECURRING_KINDS


__all__ += [
    "AnyNumber",
    "DEFAULT_CATEGORY",
    "NONRECURRING_KINDS",
    "check_window",
    "line_category",
    "line_recurring",
]
