"""What the engine runs on: each school's realized drivers and typed lines, for one chunk.

The contract between the input builders (:mod:`sustainsim.model.inputs`, which read the
config and the random streams) and the engine (:mod:`sustainsim.model.engine`, pure
arithmetic). Plain frozen dataclasses of floats and numpy arrays: this module and
:mod:`sustainsim.model.lines` import numpy only, never the config layer, pydantic or
the sampling layer.

Arrays are year-major, ``(years + 1, n)`` (or ``(years + 1, 1)`` when the same in every
draw), row 0 the base year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sustainsim.model.flows import Flows
from sustainsim.model.lines import CostLine, RevenueLine, Value
from sustainsim.model.response import Response

__all__ = ["Inputs", "Response", "SchoolInputs"]


@dataclass(frozen=True)
class SchoolInputs:
    """A school's (or the district's own) realized drivers and lines."""

    name: str
    enrollment: np.ndarray  # (T + 1, n) or (T + 1, 1) [students]
    fund_balance: Value  # starting balance [USD]
    cut: np.ndarray | None  # (T + 1, n) factors on exposed revenue, or None
    revenue: tuple[RevenueLine, ...]
    cost: tuple[CostLine, ...]
    grades: np.ndarray | None = None  # (G, T + 1, n): enrollment by grade
    grade_labels: tuple[str, ...] = ()
    response: Response | None = None
    reserve_months: float = 0.0  # policy reserve [months of expenditure]
    reserve_one_time: bool = False  # one-time spending counts in the reserve base


@dataclass(frozen=True)
class Inputs:
    """Everything the engine needs for one chunk of ``n`` draws over ``years`` years.

    ``scalars`` are the sampled scalar inputs, ``(n,)`` each under their canonical name,
    with their attrs in ``scalar_attrs``; the engine does not read them.
    """

    n: int
    years: int
    first_year: int
    schools: tuple[SchoolInputs, ...]
    district: SchoolInputs | None = None
    flows: Flows | None = None  # money moved between the district and its schools
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    scalar_attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    deflator: np.ndarray | None = None  # (T + 1, n) or (T + 1, 1): the price level, base = 1
