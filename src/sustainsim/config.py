"""The config language: TOML parsed into validated pydantic models.

A config has three parts::

    [simulation]        # horizon, draws, seed
    [district]          # district-wide drivers: growth indices, budget cuts
    [[schools]]         # one table per school: enrollment, revenue and cost lines

Wherever a number is expected, a distribution may stand instead, written
``{ dist = "NAME", param = value, ... }`` (see :mod:`sustainsim.distributions`); it is
sampled once per draw. Every model forbids unknown keys, and every error names the
field path, the value and what is allowed (:class:`ConfigError`).
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .distributions import Distribution, DistributionError

__all__ = [
    "Config",
    "ConfigError",
    "apply_overrides",
    "parse_config",
    "read_config_text",
]

RESERVED_NAMES = {"district", "total"}


class ConfigError(ValueError):
    """A config file is missing, unreadable or invalid.

    ``errors`` holds one line per problem: ``field.path: what is wrong (got value)``.
    """

    def __init__(self, errors: list[str], source: str | None = None):
        self.errors = list(errors)
        self.source = source
        head = f"invalid config {source}" if source else "invalid config"
        super().__init__(head + ":\n  " + "\n  ".join(self.errors))


# --- numbers or distributions ---------------------------------------------------------------


def _fmt_bound(ge, gt, le, lt) -> str:
    parts = []
    if ge is not None:
        parts.append(f">= {ge:g}")
    if gt is not None:
        parts.append(f"> {gt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    return " and ".join(parts)


def _make_param_validator(ge=None, gt=None, le=None, lt=None, integer=False, dist_ok=True):
    allowed = _fmt_bound(ge, gt, le, lt)

    def in_range(x: float) -> bool:
        return not (
            (ge is not None and x < ge)
            or (gt is not None and x <= gt)
            or (le is not None and x > le)
            or (lt is not None and x >= lt)
        )

    def validate(v: Any) -> float | Distribution:
        if isinstance(v, Distribution):
            v = v.to_spec()
        if isinstance(v, bool) or v is None:
            raise ValueError(f"expected a number{' or a distribution' if dist_ok else ''}, got {v!r}")
        if isinstance(v, int | float):
            x = float(v)
            if math.isnan(x):
                raise ValueError("NaN is not allowed")
            if integer and not x.is_integer():
                raise ValueError(f"must be a whole number (got {v!r})")
            if not in_range(x):
                raise ValueError(f"must be {allowed} (got {v!r})")
            return x
        if isinstance(v, Mapping) and dist_ok:
            try:
                d = Distribution.from_spec(v)
            except DistributionError as exc:
                raise ValueError(str(exc)) from None
            lo, hi = d.bounds()
            if allowed and not (in_range(lo) and in_range(hi)):
                raise ValueError(
                    f"distribution {d} takes values in [{lo:g}, {hi:g}]; "
                    f"this field must be {allowed}"
                )
            if integer and not d.is_integer:
                raise ValueError(f"distribution {d} is not whole-numbered; this field needs one")
            if d.name == "fixed":
                return float(d.params["value"])
            return d
        kind = "a number or a distribution table {dist = ..., ...}" if dist_ok else "a number"
        raise ValueError(f"expected {kind}, got {v!r}")

    return validate


def Param(*, ge=None, gt=None, le=None, lt=None, integer=False):  # noqa: N802 - a type factory
    """A config number that may be a distribution, with the allowed range."""
    return Annotated[
        float | Distribution,
        PlainValidator(_make_param_validator(ge, gt, le, lt, integer)),
        WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "object"}]}),
    ]


AnyNumber = Param()
NonNeg = Param(ge=0)
Probability = Param(ge=0, le=1)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True)


Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]


# --- simulation -------------------------------------------------------------------------------


class Simulation(_Model):
    """Run settings."""

    years: int = Field(ge=1, le=100, description="projected fiscal years")
    first_year: int = Field(ge=1, le=9999, description="first projected fiscal year")
    draws: int = Field(10_000, ge=1, le=10**10, description="Monte Carlo draws")
    seed: int = Field(0, ge=0, description="seed of the run's SeedSequence")
    chunk_size: int | None = Field(None, ge=1, description="draws per chunk")


# --- district-wide drivers --------------------------------------------------------------------


class GrowthIndex(_Model):
    """An annual growth rate: fixed, one random rate per draw, or a new rate each year."""

    rate: Param(gt=-1)
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


class Cuts(_Model):
    """Budget-cut events applied to the revenue lines exposed to cuts."""

    probability: Probability = Field(description="annual chance of a cut event")
    magnitude: Probability = Field(description="share of exposed revenue cut by one event")
    recovery: float = Field(0.0, ge=0, le=1, description="share of past cuts restored each year")
    scope: Literal["district", "school"] = "district"
    timing: Literal["start", "mid_year"] = "start"


class District(_Model):
    """District-wide drivers shared by every school of a draw."""

    growth: dict[Name, GrowthEntry] = Field(default_factory=dict)
    cuts: Cuts | None = None
    stress_cut: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="a known permanent cut of exposed revenue from the first projected year "
        "(stress tests; see sustainsim.stress_capacity)",
    )


# --- schools ---------------------------------------------------------------------------------


class Enrollment(_Model):
    """Aggregate enrollment: log growth with drift, AR(1), a common-shock loading, a cap."""

    base: Param(gt=0)
    drift: AnyNumber = 0.0
    volatility: NonNeg = 0.0
    persistence: Param(gt=-1, lt=1) = 0.0
    common_loading: Param(ge=-1, le=1) = 0.0
    capacity: float | None = Field(None, gt=0)


GrowthRef = float | Name


class _Line(_Model):
    name: Name


class PerPupilRevenue(_Line):
    """Rate x enrollment (a per-pupil funding formula)."""

    kind: Literal["per_pupil"]
    rate: NonNeg
    growth: GrowthRef = 0.0
    exposed_to_cuts: bool = True


class FixedRevenue(_Line):
    """A fixed annual amount with growth."""

    kind: Literal["fixed"]
    amount: NonNeg
    growth: GrowthRef = 0.0
    exposed_to_cuts: bool = False


class Grant(_Line):
    """Temporary money paid in projected years start..end (both included)."""

    kind: Literal["grant"]
    amount: NonNeg
    start: Param(ge=1, integer=True) = 1.0
    end: Param(ge=0, integer=True)
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
    PerPupilRevenue | FixedRevenue | Grant, Field(discriminator="kind")
]


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


class StaffRole(_Line):
    """Staff positions: a fixed count, or one per ``students_per_position`` rounded up."""

    kind: Literal["staff"]
    salary: NonNeg
    benefits_rate: NonNeg = 0.0
    students_per_position: Param(gt=0) | None = None
    positions: float | None = Field(None, ge=0)
    minimum_positions: float = Field(0.0, ge=0)
    growth: GrowthRef = 0.0

    @model_validator(mode="after")
    def _one_rule(self):
        if (self.students_per_position is None) == (self.positions is None):
            raise ValueError(
                "give exactly one of students_per_position (positions follow enrollment) "
                "or positions (a fixed count)"
            )
        return self


CostLine = Annotated[FixedCost | PerPupilCost | StaffRole, Field(discriminator="kind")]


class School(_Model):
    """One school: starting fund balance, enrollment, revenue and cost lines."""

    name: Name
    fund_balance: AnyNumber = 0.0
    enrollment: Enrollment
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
        for part in ("revenue", "cost"):
            names = [line.name for line in getattr(self, part)]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{part} line names must be unique; repeated: {', '.join(dup)}")
        return self


class Config(_Model):
    """A whole config file."""

    simulation: Simulation
    district: District = Field(default_factory=District)
    schools: list[School] = Field(min_length=1)
    scenarios: dict[Name, dict[str, Any]] = Field(
        default_factory=dict,
        description="named variants: dotted config paths and their values, run on the same draws",
    )

    @model_validator(mode="after")
    def _cross_checks(self):
        names = [s.name for s in self.schools]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"school names must be unique; repeated: {', '.join(dup)}")
        known = sorted(self.district.growth)
        problems = []
        for s in self.schools:
            for part in ("revenue", "cost"):
                for line in getattr(s, part):
                    g = getattr(line, "growth", 0.0)
                    if isinstance(g, str) and g not in self.district.growth:
                        problems.append(
                            f"schools.{s.name}.{part}.{line.name}.growth: unknown growth index "
                            f"{g!r}; defined in [district.growth]: {', '.join(known) or 'none'} "
                            "(or give a number)"
                        )
                    if isinstance(g, float) and g <= -1:
                        problems.append(
                            f"schools.{s.name}.{part}.{line.name}.growth: must be > -1 (got {g})"
                        )
        if problems:
            raise ValueError("\n  ".join(problems))
        return self


def _show(v: Any) -> str:
    return str(v) if isinstance(v, Distribution) else f"{v:g}"


# --- reading and errors -------------------------------------------------------------------------


def read_config_text(path: str | Path) -> str:
    """The text of a config file; :class:`ConfigError` if it is missing or unreadable."""
    p = Path(path)
    if not p.exists():
        raise ConfigError([f"file not found: {str(p)!r}"], source=str(p))
    if p.is_dir():
        raise ConfigError([f"{str(p)!r} is a directory, not a config file"], source=str(p))
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {str(p)!r}: {exc}"], source=str(p)) from None


def parse_toml(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse TOML text; syntax errors become :class:`ConfigError` with line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML syntax error: {exc}"], source=source) from None


def _loc_path(loc: tuple, data: Mapping[str, Any]) -> str:
    """Turn a pydantic error location into ``schools.ref.revenue.grant.end``."""
    out: list[str] = []
    node: Any = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            label = item.get("name") if isinstance(item, Mapping) else None
            out.append(str(label) if isinstance(label, str) and label else f"[{key}]")
            node = item
            # a discriminated union inserts the tag after the index: skip it
            if (
                i + 1 < len(loc)
                and isinstance(node, Mapping)
                and loc[i + 1] == node.get("kind")
            ):
                i += 1
        else:
            out.append(str(key))
            node = node.get(key) if isinstance(node, Mapping) else None
        i += 1
    return ".".join(out).replace(".[", "[")


def _all_field_names() -> list[str]:
    names: set[str] = set()
    stack: list[type] = [_Model]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names.update(getattr(cls, "model_fields", {}))
    return sorted(names)


def _format_validation_error(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        path = _loc_path(tuple(err["loc"]), data)
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        typ = err["type"]
        if typ == "extra_forbidden":
            parent = path.rsplit(".", 1)[0] if "." in path else "top level"
            key = str(err["loc"][-1])
            msg = f"unknown key (not allowed in {parent}; check the spelling)"
            close = difflib.get_close_matches(key, _all_field_names(), n=1)
            if close:
                msg = f"unknown key (not allowed in {parent}); did you mean {close[0]!r}?"
            lines.append(f"{path}: {msg}")
            continue
        if typ == "union_tag_invalid":
            ctx = err.get("ctx", {})
            msg = f"unknown kind {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}"
        if typ == "missing":
            lines.append(f"{path}: required field is missing")
            continue
        inp = err.get("input")
        shown = "" if isinstance(inp, Mapping | list) or "got " in msg else f" (got {inp!r})"
        prefix = f"{path}: " if path else ""
        lines.append(f"{prefix}{msg}{shown}")
    return lines


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
        raise ConfigError(_format_validation_error(exc, data), source=source) from None


# --- overrides (sweeps, scenarios, notebooks) ---------------------------------------------------


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with values set at dotted paths.

    Lists of named tables are addressed by name: ``schools.ref.enrollment.drift`` or
    ``schools.ref.revenue.grant.end``.

    Examples
    --------
    >>> d = {"district": {"cuts": {"probability": 0.1}}, "schools": [{"name": "a"}]}
    >>> apply_overrides(d, {"district.cuts.probability": 0.2, "schools.a.fund_balance": 5})
    {'district': {'cuts': {'probability': 0.2}}, 'schools': [{'name': 'a', 'fund_balance': 5}]}
    """
    out = copy.deepcopy(dict(data))
    for path, value in overrides.items():
        keys = path.split(".")
        node: Any = out
        for j, key in enumerate(keys[:-1]):
            nxt = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, list):
                nxt = next((x for x in node if isinstance(x, dict) and x.get("name") == key), None)
                if nxt is None:
                    names = [x.get("name") for x in node if isinstance(x, dict)]
                    raise ConfigError(
                        [f"{path}: no entry named {key!r} at {'.'.join(keys[:j])}; have {names}"]
                    )
            elif nxt is None:
                nxt = {}
                node[key] = nxt
            node = nxt
        last = keys[-1]
        if isinstance(node, list):
            raise ConfigError([f"{path}: cannot set a whole list entry; name a field inside it"])
        node[last] = value
    return out
