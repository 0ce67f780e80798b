"""Config schema of money flows inside the district: allocations, charges, a backstop.

District revenue lines may be allocated to the schools (``allocate`` on a line of
``[[district.revenue]]``), central cost lines charged to them (``charge`` on a line of
``[[district.cost]]``); ``[district.backstop]`` covers school deficits up to a cap a
year, and ``district.pooled_reserve`` pools the schools' balances at the district::

    [[district.revenue]]
    name = "ngsi_grant"
    kind = "grant"
    amount = 600_000
    end = 3
    allocate = { method = "pass_through", to = [
        { school = "adams", lines = ["startup_technology", "startup_pd"] },
    ] }

    [[district.revenue]]
    name = "state_aid"
    kind = "per_pupil"
    rate = 880
    allocate = { method = "weighted", weight_attribute = "need", share = 0.5 }

    [[district.cost]]
    name = "central_office"
    kind = "fixed"
    amount = 900_000
    charge = { method = "indirect_rate", rate = 0.04 }

    [district.backstop]
    cap = 250_000                   # USD a year, all schools together
    per_school = 100_000            # USD a year, each school

Allocation methods: ``per_pupil`` (by current enrollment), ``weighted`` (by weight x
enrollment, the weights per school in ``weights`` or read from each school's
``attributes``), ``shares`` (fixed shares of the line, at most 1 in all) and
``pass_through`` (the money pays the named cost lines of named schools, in the order
given, as far as it goes). What is not allocated stays central. Charge methods:
``indirect_rate`` (a share of the school's expenditure) and ``per_pupil`` (a fee of
``rate`` per pupil with ``growth``, or without ``rate`` the line's cost split by
enrollment). The engine side and the order of the year are in
:mod:`sustainsim.model.flows`; every school and line name is checked against the config
by :func:`flow_problems`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sustainsim.config.fields import GrowthRef, Name, _Model

__all__ = [
    "Allocation",
    "Backstop",
    "Charge",
    "PassThrough",
    "flow_lines",
    "flow_problems",
    "flows_configured",
]


class PassThrough(_Model):
    """A pass-through target: cost lines of one school the money pays, in order."""

    school: Name
    lines: list[Name] = Field(min_length=1, description="cost lines of the school it pays")


_METHOD_KEYS = {
    "per_pupil": {"schools", "share"},
    "weighted": {"schools", "share", "weights", "weight_attribute"},
    "shares": {"shares"},
    "pass_through": {"to"},
}


class Allocation(_Model):
    """How a district revenue line goes to the schools (see the module docstring)."""

    method: Literal["per_pupil", "weighted", "shares", "pass_through"]
    schools: list[Name] | None = Field(None, description="receiving schools (default: all)")
    share: float = Field(1.0, ge=0, le=1, description="share of the line allocated")
    weights: dict[Name, float] | None = Field(None, description="weight of each school")
    weight_attribute: Name | None = Field(None, description="a key of the schools' attributes")
    shares: dict[Name, float] | None = Field(None, description="fixed share of each school")
    to: list[PassThrough] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _method_keys(self):
        given = {k for k in self.model_fields_set if k != "method"}
        extra = sorted(given - _METHOD_KEYS[self.method])
        if extra:
            allowed = ", ".join(sorted(_METHOD_KEYS[self.method]))
            raise ValueError(
                f"{', '.join(extra)} does not apply to method = {self.method!r} "
                f"(allowed: {allowed})"
            )
        if self.method == "weighted" and (self.weights is None) == (self.weight_attribute is None):
            raise ValueError(
                'method = "weighted" needs weights (per school) or weight_attribute, not both'
            )
        if self.method == "shares":
            sh = self.shares or {}
            if not sh or any(not 0 <= x <= 1 for x in sh.values()) or sum(sh.values()) > 1 + 1e-9:
                raise ValueError(
                    f"shares must be a table of shares in [0, 1] summing to at most 1 (got {sh})"
                )
        if self.method == "pass_through" and self.to is None:
            raise ValueError('method = "pass_through" needs to = [{ school = ..., lines = [...] }]')
        if any(w < 0 for w in (self.weights or {}).values()):
            raise ValueError(f"weights must be >= 0 (got {self.weights})")
        return self


class Charge(_Model):
    """How a central cost line is charged to the schools (see the module docstring)."""

    method: Literal["indirect_rate", "per_pupil"]
    rate: float | None = Field(
        None, ge=0, description="indirect_rate: share of expenditure; per_pupil: USD per pupil"
    )
    growth: GrowthRef = 0.0
    schools: list[Name] | None = Field(None, description="charged schools (default: all)")

    @model_validator(mode="after")
    def _rate(self):
        if self.method == "indirect_rate":
            if self.rate is None or self.rate > 1:
                raise ValueError(
                    f'method = "indirect_rate" needs a rate in [0, 1], a share of the '
                    f"school's expenditure (got {self.rate})"
                )
            if "growth" in self.model_fields_set:
                raise ValueError('growth applies to method = "per_pupil" only')
        return self


class Backstop(_Model):
    """The district covers school operating deficits, up to a cap a year.

    The deficit of a school's year (after its management response) is covered up to
    ``per_school``; when the schools' claims exceed ``cap`` they are covered pro rata.
    """

    cap: float = Field(ge=0, description="USD a year, all covered schools together")
    per_school: float | None = Field(None, ge=0, description="USD a year, each school")
    schools: list[Name] | None = Field(None, description="covered schools (default: all)")


def flow_lines(district: Any, part: str) -> list[Any]:
    """The district's ``part`` lines that move money to schools: allocated or charged."""
    key = "allocate" if part == "revenue" else "charge"
    return [ln for ln in getattr(district, part) if getattr(ln, key) is not None]


def flows_configured(district: Any) -> bool:
    """True when the district moves money to or from its schools."""
    return bool(
        district.backstop is not None
        or district.pooled_reserve
        or any(ln.allocate is not None for ln in district.revenue)
        or any(ln.charge is not None for ln in district.cost)
    )


def _names(where: str, field: str, given, allowed: list[str], what: str) -> list[str]:
    bad = [g for g in given if g not in allowed]
    return [
        f"{where}.{field}: unknown {what} {b!r}; allowed: {', '.join(allowed) or 'none'}"
        for b in bad
    ]


def _allocation_problems(config: Any, line: Any, cost_lines: dict[str, list[str]]) -> list[str]:
    a, where = line.allocate, f"district.revenue.{line.name}.allocate"
    schools = list(cost_lines)
    problems = _names(where, "schools", a.schools or [], schools, "school")
    problems += _names(where, "weights", a.weights or {}, schools, "school")
    problems += _names(where, "shares", a.shares or {}, schools, "school")
    receiving = a.schools or schools
    if a.weights is not None:
        missing = [s for s in receiving if s not in a.weights]
        if missing:
            problems.append(
                f"{where}.weights: no weight for {', '.join(missing)} (weights needed for: "
                f"{', '.join(receiving)})"
            )
    if a.weight_attribute is not None:
        attrs = {s.name: s.attributes for s in config.schools}
        for s in receiving:
            if s in attrs and a.weight_attribute not in attrs[s]:
                problems.append(
                    f"{where}.weight_attribute: school {s!r} has no attribute "
                    f"{a.weight_attribute!r}; its attributes: {', '.join(attrs[s]) or 'none'}"
                )
    for i, t in enumerate(a.to or []):
        if t.school not in cost_lines:
            problems += _names(where, f"to[{i}].school", [t.school], schools, "school")
            continue
        problems += _names(
            where, f"to[{i}].lines", t.lines, cost_lines[t.school], f"cost line of {t.school!r}"
        )
    return problems


def _pool_problems(config: Any) -> list[str]:
    """A pooled reserve: no response may read the school's own balance."""
    problems = []
    for s in config.schools:
        r = s.response or config.district.response
        if r is None:
            continue
        if r.trigger == "below_reserve" or r.restore == "above_reserve" or "reserves" in r.levers:
            where = f"schools.{s.name}.response" if s.response else "district.response"
            problems.append(
                f"{where}: with district.pooled_reserve = true the schools hold no balance, so "
                'the response cannot read it (use trigger = "deficit", no "reserves" lever and '
                'restore = "never" or "surplus")'
            )
    return problems


def _cost_line_names(config: Any, school: Any) -> list[str]:
    """The cost lines a school runs: its previous model's, its model's, its own."""
    models = [config.models.get(school.previous_model or ""), config.models.get(school.model or "")]
    lines = [ln for m in models if m is not None for ln in m.cost] + list(school.cost)
    return list(dict.fromkeys(ln.name for ln in lines))


def flow_problems(config: Any) -> list[str]:
    """Every school, line and growth name a flow refers to, checked against ``config``."""
    d = config.district
    cost_lines = {s.name: _cost_line_names(config, s) for s in config.schools}
    schools = list(cost_lines)
    problems: list[str] = []
    for line in d.revenue:
        if line.charge is not None:
            problems.append(f"district.revenue.{line.name}.charge: only cost lines are charged")
        if line.allocate is not None:
            problems += _allocation_problems(config, line, cost_lines)
    for line in d.cost:
        if line.allocate is not None:
            problems.append(f"district.cost.{line.name}.allocate: only revenue lines are allocated")
        if line.charge is not None:
            where = f"district.cost.{line.name}.charge"
            problems += _names(where, "schools", line.charge.schools or [], schools, "school")
            g = line.charge.growth
            if isinstance(g, str) and g not in d.growth:
                problems += _names(where, "growth", [g], sorted(d.growth), "growth index")
    owners = [(f"schools.{s.name}", s) for s in config.schools]
    owners += [(f"models.{m}", x) for m, x in config.models.items()]
    for where, owner in owners:
        for part in ("revenue", "cost"):
            for line in getattr(owner, part):
                for key in ("allocate", "charge"):
                    if getattr(line, key) is not None:
                        problems.append(
                            f"{where}.{part}.{line.name}.{key}: only district lines move money "
                            f"to or from schools ([[district.{part}]])"
                        )
    if d.backstop is not None:
        problems += _names(
            "district.backstop", "schools", d.backstop.schools or [], schools, "school"
        )
    if d.pooled_reserve:
        problems += _pool_problems(config)
    return problems
