"""Config schema of decision levers: a config path the district controls and its candidates."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, model_validator

from sustainsim.config.fields import _Model

__all__ = ["DecisionLever", "LeverRange"]


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
