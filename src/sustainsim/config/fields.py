"""Shared building blocks of the config schema: numbers-or-distributions and names."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, TypeAlias

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, field_validator

from sustainsim.sampling.distributions import Distribution, DistributionError

__all__ = [
    "MAX_MAGNITUDE",
    "AnyNumber",
    "Cola",
    "Drift",
    "GrowthRate",
    "GrowthRef",
    "Loading",
    "Name",
    "NonNeg",
    "Persistence",
    "Positive",
    "Probability",
    "Volatility",
    "YearIndex",
    "check_finite",
]

#: the largest magnitude of any number in a config: a quadrillion (dollars, pupils, ...).
#: Far above any real school or district, and small enough that sums, products and
#: a century of compounding stay finite in float64.
MAX_MAGNITUDE = 1e15


def check_finite(x: float) -> float:
    """``x`` if it is finite and at most :data:`MAX_MAGNITUDE` in magnitude, else ValueError."""
    if not math.isfinite(x):
        raise ValueError(f"must be a finite number (got {x!r})")
    if abs(x) > MAX_MAGNITUDE:
        raise ValueError(f"must be at most {MAX_MAGNITUDE:g} in magnitude (got {x!r})")
    return x


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
            raise ValueError(
                f"expected a number{' or a distribution' if dist_ok else ''}, got {v!r}"
            )
        if isinstance(v, int | float):
            x = float(v)
            if not math.isfinite(x):
                raise ValueError(f"must be a finite number (got {v!r})")
            if integer and not x.is_integer():
                raise ValueError(f"must be a whole number (got {v!r})")
            if not in_range(x):
                raise ValueError(f"must be {allowed} (got {v!r})")
            return check_finite(x)
        if isinstance(v, Mapping) and dist_ok:
            try:
                d = Distribution.from_spec(v)
            except DistributionError as exc:
                raise ValueError(str(exc)) from None
            with np.errstate(
                over="ignore", invalid="ignore"
            ):  # huge parameters: inf, refused below
                lo, hi = d.bounds()
            if not all(math.isfinite(b) and abs(b) <= MAX_MAGNITUDE for b in (lo, hi)):
                raise ValueError(
                    f"distribution {d} takes values in [{lo:g}, {hi:g}]; numbers in a config "
                    f"must be finite and at most {MAX_MAGNITUDE:g} in magnitude (use a bounded "
                    "or truncated distribution)"
                )
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


def _param(**bounds: Any) -> Any:
    return (
        PlainValidator(_make_param_validator(**bounds)),
        WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "object"}]}),
    )


# Named numbers-or-distributions with their allowed ranges
AnyNumber: TypeAlias = Annotated[float | Distribution, *_param()]
NonNeg: TypeAlias = Annotated[float | Distribution, *_param(ge=0)]
Positive: TypeAlias = Annotated[float | Distribution, *_param(gt=0)]
Probability: TypeAlias = Annotated[float | Distribution, *_param(ge=0, le=1)]
#: an annual growth rate: above -100% and at most +100% a year
GrowthRate: TypeAlias = Annotated[float | Distribution, *_param(gt=-1, le=1)]
#: annual log growth (enrollment drift): within +-1 (x0.37 to x2.7 a year)
Drift: TypeAlias = Annotated[float | Distribution, *_param(ge=-1, le=1)]
#: standard deviation of annual log growth: at most 2
Volatility: TypeAlias = Annotated[float | Distribution, *_param(ge=0, le=2)]
Persistence: TypeAlias = Annotated[float | Distribution, *_param(gt=-1, lt=1)]
Loading: TypeAlias = Annotated[float | Distribution, *_param(ge=-1, le=1)]
YearIndex: TypeAlias = Annotated[float | Distribution, *_param(ge=0, integer=True)]


_cola_rate = _make_param_validator(gt=-1, le=1)


def _validate_cola(v: Any) -> float | Distribution | list[float | Distribution]:
    """A list of settlements by year (each a rate or a distribution), or one for every year."""
    if isinstance(v, list | tuple):
        out = []
        for i, x in enumerate(v):
            try:
                out.append(_cola_rate(x))
            except ValueError as exc:
                raise ValueError(f"item {i} (projected year {i + 1}): {exc}") from None
        return out
    try:
        return _cola_rate(v)
    except ValueError as exc:
        raise ValueError(
            f"{exc}; cola is a list of settlements by projected year (each a rate or a "
            "distribution table) or one rate or distribution for every year"
        ) from None


#: cost-of-living settlements: a list by projected year, each a rate (> -1, <= 1) or a
#: distribution of it drawn per draw and year; or one rate or distribution for every year
Cola: TypeAlias = Annotated[
    float | Distribution | list[float | Distribution],
    PlainValidator(_validate_cola),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "object"}, {"type": "array"}]}),
]


def _finite_numbers(v: Any) -> Any:
    """Every float in ``v`` (a number or nested lists of them) checked by :func:`check_finite`."""
    if isinstance(v, float):
        check_finite(v)
    elif isinstance(v, list | tuple):
        for i, x in enumerate(v):
            try:
                _finite_numbers(x)
            except ValueError as exc:
                raise ValueError(f"item {i}: {exc}") from None
    return v


class _Model(BaseModel):
    """Base of every config model: unknown keys forbidden, every number finite."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        arbitrary_types_allowed=True,
        allow_inf_nan=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        return _finite_numbers(v)


Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]


GrowthRef = float | Name


def _show(v: Any) -> str:
    return str(v) if isinstance(v, Distribution) else f"{v:g}"
