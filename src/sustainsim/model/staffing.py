"""Staff lines: positions from a staffing rule, and their pay.

:func:`staff_budget` gives a staff line's cost, its positions (FTE) and the entry pay of
its reducible positions (what a hiring freeze or a reduction in force saves per position:
the cost at the bottom of the schedule). Arrays are year-major, ``(years, n)``. Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sustainsim.model import lines
from sustainsim.model.schools import SchoolInputs

__all__ = ["StaffBudget", "class_sections", "staff_budget", "staff_positions"]

# ceil() of a ratio that is a whole number up to rounding error must not add a position
_CEIL_TOL = 1e-9


@dataclass
class StaffBudget:
    """A staff line's year-by-year cost, positions and entry cost of its reducible positions.

    ``amount`` [USD], ``positions`` [FTE] and ``entry`` (the reducible positions, above
    ``minimum_positions``, priced at entry pay [USD]), each ``(years, n)`` or ``(years, 1)``.
    """

    amount: np.ndarray
    positions: np.ndarray
    entry: np.ndarray


def staff_positions(
    enrollment: np.ndarray, students_per_position, minimum: float = 0.0
) -> np.ndarray:
    """Whole positions: one per ``students_per_position`` students, rounded up.

    Examples
    --------
    >>> staff_positions(np.array([500.0, 501.0, 0.0]), 25.0, minimum=1.0)
    array([20., 21.,  1.])
    """
    pos = np.ceil(enrollment / students_per_position - _CEIL_TOL)
    if minimum:
        np.maximum(pos, minimum, out=pos)
    return pos


def class_sections(by_grade: np.ndarray, max_size: float, min_size: float = 0.0) -> np.ndarray:
    """Class sections of a grade band.

    A grade with at least ``min_size`` pupils gets ``ceil(n / max_size)`` sections of
    its own; the grades below the minimum are combined into multi-age sections,
    ``ceil(pooled / max_size)``.

    Parameters
    ----------
    by_grade : ndarray (G, ...)
        Enrollment of each grade of the band.

    Examples
    --------
    Classes of at most 28, grades of fewer than 15 pooled: 60 pupils make 3 sections, 29
    make 2, and the 12 + 9 pupils of the two small grades share 1.

    >>> class_sections(np.array([[60.0], [29.0], [12.0], [9.0]]), 28, 15)
    array([6.])
    """
    n = np.asarray(by_grade, dtype=float)
    own = n >= min_size
    sections = np.where(own, np.ceil(n / max_size - _CEIL_TOL), 0.0).sum(axis=0)
    pooled = np.where(own, 0.0, n).sum(axis=0)
    return sections + np.ceil(pooled / max_size - _CEIL_TOL)


def _positions(line: lines.StaffCost, school: SchoolInputs) -> np.ndarray | float:
    if line.students_per_position is not None:
        return staff_positions(
            school.enrollment[1:], line.students_per_position, line.minimum_positions
        )
    if line.positions is not None:
        return max(line.positions, line.minimum_positions)
    sec = line.sections
    if sec is None:  # pragma: no cover - StaffCost requires one rule
        raise ValueError(f"staff line {line.name}: no rule for its positions")
    if school.grades is None:  # the schema ties the section rule to enrollment by grade
        raise ValueError(f"school {school.name}: class sections need enrollment by grade")
    index = {g: i for i, g in enumerate(school.grade_labels)}
    total: np.ndarray | float = 0.0
    for band in sec.bands:
        rows = school.grades[[index[g] for g in band.grades], 1:]
        if band.multi_age:
            rows = rows.sum(axis=0, keepdims=True)
        total = total + class_sections(rows, band.max_class_size, band.min_class_size)
    pos = total * sec.positions_per_section
    if line.minimum_positions:
        pos = np.maximum(pos, line.minimum_positions)
    return pos


def staff_budget(line: lines.StaffCost, school: SchoolInputs) -> StaffBudget:
    """Cost, positions and entry cost of a staff line (before the management response).

    Pay per position is ``salary * (1 + step_rate)^t * F[t]`` plus benefits (on the salary
    path, or ``salary * benefits_rate * F_benefits[t]``) plus ``stipend * F[t]``; entry pay
    is the same without steps.
    """
    pos = _positions(line, school)
    f = line.growth[1:]
    T = f.shape[0]
    steps = (1.0 + line.step_rate) ** np.arange(1, T + 1)[:, None] if line.step_rate else 1.0
    base = f * line.salary
    salary = (f * steps) * line.salary
    if line.benefits_growth is None:
        benefits = salary * line.benefits_rate
        entry = base * (1.0 + line.benefits_rate)
    else:
        benefits = line.benefits_growth[1:] * (line.salary * line.benefits_rate)
        entry = base + benefits
    pay = salary + benefits
    if np.any(line.stipend):
        pay = pay + f * line.stipend
        entry = entry + f * line.stipend
    amount = pay * pos
    positions = np.broadcast_to(
        np.asarray(pos, dtype=float), np.broadcast_shapes(np.shape(pos), (T, 1))
    )
    reducible = np.maximum(positions - line.minimum_positions, 0.0)
    return StaffBudget(amount, positions, reducible * entry)
