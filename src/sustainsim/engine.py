"""The budget engine: realized inputs in, revenue, cost and fund-balance paths out.

Pure arithmetic, no I/O and no randomness: every line's amount is computed for all
projected years and draws at once, the balance steps over years::

    revenue[t] = sum of revenue lines in year t
    cost[t]    = sum of cost lines in year t
    surplus[t] = revenue[t] - cost[t]
    B[t]       = B[t-1] + surplus[t],  B[0] = starting fund balance

Arrays are year-major, ``(years, n)`` for one school, float64. Line kinds are looked
up by name in :data:`REVENUE_KINDS` and :data:`COST_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .inputs import Inputs, LineInputs, SchoolInputs

__all__ = ["COST_KINDS", "OUTPUTS", "REVENUE_KINDS", "run"]

# variables the engine produces, each (years, schools, n)
OUTPUTS = ("enrollment", "revenue", "cost", "surplus", "fund_balance")

# ceil() of a ratio that is a whole number up to rounding error must not add a position
_CEIL_TOL = 1e-9


def _cut(line: LineInputs, school: SchoolInputs) -> np.ndarray | None:
    if line.values.get("exposed") and school.cut is not None:
        return school.cut[1:]
    return None


def _per_pupil_revenue(line: LineInputs, school: SchoolInputs) -> np.ndarray:
    v = line.values
    amt = v["growth"][1:] * v["rate"]
    amt = amt * school.enrollment[1:]
    cut = _cut(line, school)
    if cut is not None:
        if amt.shape == np.broadcast_shapes(amt.shape, cut.shape):
            amt *= cut
        else:
            amt = amt * cut
    return amt


def _fixed_revenue(line: LineInputs, school: SchoolInputs) -> np.ndarray:
    v = line.values
    amt = v["growth"][1:] * v["amount"]
    cut = _cut(line, school)
    return amt if cut is None else amt * cut


def _grant(line: LineInputs, school: SchoolInputs) -> np.ndarray:
    v = line.values
    amt = v["paying"][1:] * v["amount"]
    cut = _cut(line, school)
    return amt if cut is None else amt * cut


def _fixed_cost(line: LineInputs, school: SchoolInputs) -> np.ndarray:
    v = line.values
    return v["growth"][1:] * v["amount"]


def _per_pupil_cost(line: LineInputs, school: SchoolInputs) -> np.ndarray:
    v = line.values
    amt = v["growth"][1:] * v["rate"]
    return amt * school.enrollment[1:]


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


def _staff(line: LineInputs, school: SchoolInputs) -> np.ndarray:
    v = line.values
    if "students_per_position" in v:
        pos = staff_positions(school.enrollment[1:], v["students_per_position"], v["minimum_positions"])
    else:
        pos = max(v["positions"], v["minimum_positions"])
    pay = v["growth"][1:] * (v["salary"] * (1.0 + v["benefits_rate"]))
    return pay * pos


LineFn = Callable[[LineInputs, SchoolInputs], np.ndarray]

REVENUE_KINDS: dict[str, LineFn] = {
    "per_pupil": _per_pupil_revenue,
    "fixed": _fixed_revenue,
    "grant": _grant,
}
COST_KINDS: dict[str, LineFn] = {
    "fixed": _fixed_cost,
    "per_pupil": _per_pupil_cost,
    "staff": _staff,
}


def _sum_lines(
    lines: list[LineInputs], school: SchoolInputs, kinds: Mapping[str, LineFn], out: np.ndarray,
    line_out: np.ndarray | None, line_index: Mapping[str, int] | None,
) -> None:
    out[...] = 0.0
    for line in lines:
        amt = kinds[line.kind](line, school)
        out += amt
        if line_out is not None:
            line_out[:, line_index[line.name]] = amt


def run(
    inputs: Inputs,
    out: Mapping[str, np.ndarray] | None = None,
    *,
    revenue_lines: Mapping[str, int] | None = None,
    cost_lines: Mapping[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """Budgets of every school for one chunk of draws.

    Parameters
    ----------
    inputs : Inputs
        Realized drivers (:func:`sustainsim.inputs.sample_inputs`).
    out : mapping of str to ndarray, optional
        Arrays ``(years, schools, n)`` to write :data:`OUTPUTS` into (views into the
        run's result arrays); allocated if not given. ``revenue_lines`` /
        ``cost_lines`` (``(years, schools, lines, n)``) are filled too when present,
        with ``revenue_lines`` / ``cost_lines`` mapping line names to their index.

    Returns
    -------
    dict of str to ndarray
        ``enrollment`` [students], ``revenue``, ``cost``, ``surplus``, ``fund_balance`` [USD].
    """
    T, S, n = inputs.years, len(inputs.schools), inputs.n
    if out is None:
        out = {k: np.empty((T, S, n)) for k in OUTPUTS}
    out = dict(out)
    for k in OUTPUTS:
        out.setdefault(k, np.empty((T, S, n)))
    rl, cl = out.get("revenue_lines"), out.get("cost_lines")
    for j, school in enumerate(inputs.schools):
        out["enrollment"][:, j] = school.enrollment[1:]
        rev = out["revenue"][:, j]
        cost = out["cost"][:, j]
        _sum_lines(school.revenue, school, REVENUE_KINDS, rev,
                   None if rl is None else rl[:, j], revenue_lines)
        _sum_lines(school.cost, school, COST_KINDS, cost,
                   None if cl is None else cl[:, j], cost_lines)
        surplus = out["surplus"][:, j]
        np.subtract(rev, cost, out=surplus)
        bal = out["fund_balance"][:, j]
        np.add(surplus[0], school.fund_balance, out=bal[0])
        for t in range(1, T):  # B[t] = B[t-1] + surplus[t]
            np.add(bal[t - 1], surplus[t], out=bal[t])
    return out
