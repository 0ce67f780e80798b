"""Staff lines: positions from a staffing rule, and their cost.

:func:`staff_budget` gives a staff line's cost (by component, see
:mod:`sustainsim.model.compensation`), its positions (FTE) and the entry cost of its
reducible positions (what a hiring freeze or a reduction in force saves per position:
the cost at the bottom of the schedule).

Positions follow one rule: a fixed count, a ratio (``ceil(E / students_per_position)``)
or class sections by grade band (:func:`class_sections`: whole sections per grade, small
grades pooled, optionally the pupils left over in adjacent grades combined into split
classes; an optional soft cap whose overage costs per pupil). The enrollment they are
staffed on is this year's, last year's, or the projection made in the planning year
(last year's cohorts moved up a grade, the entry grade as last year's). Arrays are
year-major, ``(years, n)``. Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sustainsim.model import lines
from sustainsim.model.compensation import pay_per_fte
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
    reducible: np.ndarray  # positions above the minimum [FTE]
    components: dict[str, np.ndarray]  # cost by component (COMPONENTS) [USD]


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


def class_sections(
    by_grade: np.ndarray, max_size: float, min_size: float = 0.0, combine: bool = False
) -> np.ndarray:
    """Class sections of a grade band.

    A grade with at least ``min_size`` pupils gets ``ceil(n / max_size)`` sections of
    its own; the grades below the minimum are combined into multi-age sections,
    ``ceil(pooled / max_size)``. With ``combine``, a grade of its own gets
    ``floor(n / max_size)`` full sections and its leftover pupils share a split class
    with the leftovers of the next grade when they fit (grades taken in order).

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

    Two grades of 57 with a cap of 28: 4 full classes and one split class of 1 + 1.

    >>> class_sections(np.array([[57.0], [57.0]]), 28), class_sections(
    ...     np.array([[57.0], [57.0]]), 28, combine=True)
    (array([6.]), array([5.]))
    """
    n = np.asarray(by_grade, dtype=float)
    own = n >= min_size
    pooled = np.where(own, 0.0, n).sum(axis=0)
    small = np.ceil(pooled / max_size - _CEIL_TOL)
    if not combine:
        sections = np.where(own, np.ceil(n / max_size - _CEIL_TOL), 0.0).sum(axis=0)
        return sections + small
    full = np.floor(n / max_size + _CEIL_TOL)
    left = n - full * max_size
    if min_size:
        full *= own
        left *= own
    left[left <= _CEIL_TOL * max_size] = 0.0
    count = full.sum(axis=0) + small
    pending = np.array(left[0], dtype=float)
    limit = max_size * (1.0 + _CEIL_TOL)
    for r in left[1:]:  # a pending leftover takes one class, with the next grade's if it fits
        has = pending > 0
        count += has
        fits = np.add(pending, r, out=pending) <= limit
        fits &= has
        np.multiply(r, ~fits, out=pending)
    count += pending > 0
    return count


def _grades(school: SchoolInputs, basis: str) -> np.ndarray:
    """Enrollment by grade the positions are staffed on, ``(G, years, n)``."""
    g = school.grades
    if g is None:  # the schema ties the section rule to enrollment by grade
        raise ValueError(f"school {school.name}: class sections need enrollment by grade")
    if basis == "current":
        return g[:, 1:]
    if basis == "prior":
        return g[:, :-1]
    proj = np.empty_like(g[:, 1:])
    proj[0] = g[0, :-1]
    proj[1:] = g[:-1, :-1]
    return proj


def _total(school: SchoolInputs, basis: str) -> np.ndarray:
    if basis == "current":
        return school.enrollment[1:]
    if basis == "prior" or school.grades is None:
        return school.enrollment[:-1]
    return _grades(school, basis).sum(axis=0)


def _sections(line: lines.StaffCost, sec: lines.Sections, school: SchoolInputs):
    """Positions of the section rule, and pupils above the soft caps (each at its cost)."""
    grades = _grades(school, line.basis)
    index = {g: i for i, g in enumerate(school.grade_labels)}
    total: np.ndarray | float = 0.0
    overage: np.ndarray | float = 0.0
    for band in sec.bands:
        rows = grades[[index[g] for g in band.grades]]
        if band.multi_age:
            rows = rows.sum(axis=0, keepdims=True)
        n = class_sections(rows, band.max_class_size, band.min_class_size, band.combine_adjacent)
        total = total + n
        if band.soft_max_class_size is not None and band.overage_cost:
            over = np.maximum(rows.sum(axis=0) - n * band.soft_max_class_size, 0.0)
            overage = overage + band.overage_cost * over
    return total * sec.positions_per_section, overage


def _positions(line: lines.StaffCost, school: SchoolInputs):
    """Positions (FTE) and the overage cost of the soft caps (base-year dollars)."""
    if line.students_per_position is not None:
        e = _total(school, line.basis)
        return staff_positions(e, line.students_per_position, line.minimum_positions), 0.0
    if line.positions is not None:
        return max(line.positions, line.minimum_positions), 0.0
    sec = line.sections
    if sec is None:  # pragma: no cover - StaffCost requires one rule
        raise ValueError(f"staff line {line.name}: no rule for its positions")
    pos, overage = _sections(line, sec, school)
    if line.minimum_positions:
        pos = np.maximum(pos, line.minimum_positions)
    return pos, overage


def staff_budget(line: lines.StaffCost, school: SchoolInputs) -> StaffBudget:
    """Cost, positions and entry cost of a staff line (before the management response).

    The cost is the positions times the pay per FTE
    (:func:`sustainsim.model.compensation.pay_per_fte`), plus the soft caps' overage
    (``overage_cost * F[t]`` per pupil above them, counted as salary).
    """
    pos, overage = _positions(line, school)
    comp, total, entry = pay_per_fte(line)
    T = total.shape[0]
    amount = total * pos
    components = {k: v * pos for k, v in comp.items()}
    if np.any(overage):
        extra = line.growth[1:] * overage
        amount = amount + extra
        components["salary"] = components["salary"] + extra
    positions = np.broadcast_to(
        np.asarray(pos, dtype=float), np.broadcast_shapes(np.shape(pos), (T, 1))
    )
    reducible = np.maximum(positions - line.minimum_positions, 0.0)
    return StaffBudget(amount, positions, reducible * entry, reducible, components)
