"""Config schema of the district: its drivers, its response and its own money.

Growth indices, budget cuts (flat or a regime chain), correlations among random inputs,
the reserve policy, the management response, and the district's central lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator, model_validator

from sustainsim.config.fields import AnyNumber, GrowthRate, Name, Probability, _Model
from sustainsim.config.flows import Backstop
from sustainsim.config.lines import CostLine, RevenueLine
from sustainsim.sampling.distributions import Distribution

__all__ = [
    "Correlation",
    "Cuts",
    "District",
    "GrowthEntry",
    "GrowthIndex",
    "Regime",
    "RegimeState",
    "ReservePolicy",
    "Response",
    "ResponseLever",
]


class GrowthIndex(_Model):
    """An annual growth rate: fixed, one random rate per draw, or a new rate each year.

    ``path`` replays given annual rates (a historical stretch such as FY2009-FY2012)
    from fiscal year ``path_start`` (default: the first projected year) on, replacing
    the sampled rate (and any regime coupling) in those years. The index named
    ``deflator`` is the price level: results can be reported in real dollars of the
    base year (:func:`sustainsim.metrics.views.real_dollars`).
    """

    rate: GrowthRate
    per: Literal["draw", "year"] = "draw"
    path: list[Annotated[float, Field(gt=-1, le=1)]] | None = Field(
        default=None, min_length=1, description="replayed annual rates, from path_start on"
    )
    path_start: int | None = Field(
        default=None, ge=1, le=9999, description="fiscal year of the first replayed rate"
    )

    @model_validator(mode="after")
    def _start_needs_path(self):
        if self.path_start is not None and self.path is None:
            raise ValueError("path_start goes with path = [..] (the replayed rates)")
        return self


def _growth_index(v: Any) -> GrowthIndex:
    if isinstance(v, GrowthIndex):
        return v
    if isinstance(v, Mapping) and ("rate" in v or "path" in v):
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
    coupling: dict[Name, Annotated[float, Field(gt=-1, lt=1)]] = Field(
        default_factory=dict,
        description="what a recession year adds, by channel: a growth index's name (to its "
        "annual rate) or 'enrollment' (to every school's annual log enrollment growth)",
    )

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
    with a probability and magnitude per state. ``factor_path`` replays a given factor
    on exposed revenue (e.g. FY2009-FY2012 state aid relative to the base year) from
    fiscal year ``path_start`` on: those years take the given factor, no sampled event,
    and later years recover and are cut from there.
    """

    probability: Probability | None = Field(None, description="annual chance of a cut event")
    magnitude: Probability | None = Field(
        None, description="share of exposed revenue cut by one event"
    )
    regime: Regime | None = None
    factor_path: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        None,
        min_length=1,
        description="replayed factor on exposed revenue (base year = 1), from path_start on",
    )
    path_start: int | None = Field(
        None, ge=1, le=9999, description="fiscal year of the first replayed factor"
    )
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
        if self.path_start is not None and self.factor_path is None:
            raise ValueError("path_start goes with factor_path = [..] (the replayed factors)")
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
    """Policy reserve: months of the year's expenditure (GFOA: at least two).

    The reserve base is the year's recurring expenditure: one-time (start-up) spending
    is left out unless ``include_one_time``. The same base serves the reserve
    requirement, reserve months and days of cash on hand, the response's
    ``below_reserve`` trigger, ``above_reserve`` restoration and ``reserve_floor``.
    """

    months: float = Field(2.0, ge=0, le=24)
    include_one_time: bool = Field(
        False, description="count one-time (start-up) spending in the reserve base"
    )


#: the actions of the deficit response, used in the order given
ResponseLever = Literal["trim", "freeze", "rif", "reserves"]


class Response(_Model):
    """Management response: base reductions after a deficit, by levers in order, with a lag.

    In year t the signal is read in year ``t - lag``: with ``trigger = "deficit"`` the
    gap is that year's deficit (``-surplus``); with ``"below_reserve"`` the same deficit,
    once the balance is below the policy reserve (the reserve is spent down first).
    Reductions persist until restored; see :mod:`sustainsim.model.response`.
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
    backstop: Backstop | None = None  # config.flows
    pooled_reserve: bool = Field(False, description="school balances pooled at the district")
