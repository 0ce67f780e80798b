"""The config language: TOML parsed into validated pydantic models.

A config has these parts::

    [simulation]        # horizon, draws, seed
    [district]          # district-wide drivers (growth, cuts), reserve policy, response,
                        # central revenue and cost lines
    [models.NAME]       # school models: lines shared by the schools that run them
    [[schools]]         # one table per school: enrollment, model, conversion, own lines
    [scenarios.NAME]    # variants as dotted-path overrides, run on the same draws

The parts live in their own modules: :mod:`sustainsim.config.district` (drivers, the
response, central money), :mod:`sustainsim.config.schools` (enrollment, models, schools),
:mod:`sustainsim.config.lines` (line kinds) and :mod:`sustainsim.config.decisions` (levers).

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

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from sustainsim.config.decisions import DecisionLever, LeverRange
from sustainsim.config.district import (
    Correlation,
    Cuts,
    District,
    GrowthEntry,
    GrowthIndex,
    Regime,
    RegimeState,
    ReservePolicy,
    Response,
    ResponseLever,
)
from sustainsim.config.errors import ConfigError, format_validation_error
from sustainsim.config.fields import Name, _Model
from sustainsim.config.flows import flow_problems
from sustainsim.config.funding import funding_problems
from sustainsim.config.macro import macro_problems
from sustainsim.config.schools import RESERVED_NAMES, Enrollment, School, SchoolModel

__all__ = [
    "RESERVED_NAMES",
    "Config",
    "Correlation",
    "Cuts",
    "DecisionLever",
    "District",
    "Enrollment",
    "GrowthEntry",
    "GrowthIndex",
    "LeverRange",
    "Regime",
    "RegimeState",
    "ReservePolicy",
    "Response",
    "ResponseLever",
    "School",
    "SchoolModel",
    "Simulation",
    "parse_config",
]

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

    title: str | None = Field(None, max_length=200, description="the report's title")
    description: str | None = Field(
        None, max_length=5000, description="what the study asks, for the report's first page"
    )

    @model_validator(mode="after")
    def _sobol_limit(self):
        if self.sampler == "sobol" and self.draws > 2**32:
            raise ValueError(f"the sobol sampler takes at most 2**32 draws (got {self.draws})")
        return self


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
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="human labels of uncertain inputs, by canonical name (spec.inputs())",
    )
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
        problems += macro_problems(self)
        problems += flow_problems(self)
        problems += funding_problems(self)
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
        for field in ("growth", "benefits_growth", "price_growth", "valuation_growth"):
            g = getattr(line, field, None)
            if isinstance(g, str) and g not in self.district.growth:
                known = sorted(self.district.growth)
                problems.append(
                    f"{where}.{line.name}.{field}: unknown growth index {g!r}; defined in "
                    f"[district.growth]: {', '.join(known) or 'none'} (or give a number)"
                )
            if isinstance(g, float) and not -1 < g <= 1:
                problems.append(f"{where}.{line.name}.{field}: must be > -1 and <= 1 (got {g})")
        horizon = getattr(line, "horizon_problems", None)  # a levy's election years
        if horizon is not None:
            problems += horizon(f"{where}.{line.name}", self.simulation.years)
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
