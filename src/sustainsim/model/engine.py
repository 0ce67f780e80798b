"""The budget engine: realized inputs in, revenue, cost and fund-balance paths out.

Pure arithmetic, no I/O and no randomness. Every line's amount is computed for all
projected years and draws at once; the balance then steps over years::

    revenue[t] = sum of revenue lines in year t
    cost[t]    = sum of cost lines in year t - trimmed[t]
    surplus[t] = revenue[t] - cost[t]
    B[t]       = B[t-1] + surplus[t],  B[0] = starting fund balance

``trimmed[t]`` is the management response (zero unless configured): after a deficit
(or a balance under the policy reserve) in year ``t - lag``, flexible lines are cut by
the same share, at most ``cap``, so they never go negative.

Arrays are year-major, ``(years, n)`` for one school, float64. The inputs are the
typed dataclasses of :mod:`sustainsim.model.schools` and :mod:`sustainsim.model.lines`
(this module imports nothing else but numpy). Each line's amount comes from the function
of its kind in :data:`REVENUE_KINDS` and :data:`COST_KINDS`, keyed like the schema's
kinds and the builders (:mod:`sustainsim.model.builders`): adding a line kind takes one
schema class, one typed line with its builder, and one function here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sustainsim.model import lines
from sustainsim.model.schools import Inputs, SchoolInputs

__all__ = [
    "COST_KINDS",
    "DISTRICT_OUTPUTS",
    "OPTIONAL_OUTPUTS",
    "OUTPUTS",
    "REVENUE_KINDS",
    "class_sections",
    "run",
    "staff_positions",
]

# variables the engine always produces, each (years, schools, n)
OUTPUTS = ("enrollment", "revenue", "cost", "surplus", "fund_balance")
# produced when the caller asks for them (present in ``out``)
OPTIONAL_OUTPUTS = ("temporary_revenue", "one_time_cost", "trimmed")
# district totals, each (years, n)
DISTRICT_OUTPUTS = (
    "district_revenue",
    "district_cost",
    "district_surplus",
    "district_fund_balance",
)

# ceil() of a ratio that is a whole number up to rounding error must not add a position
_CEIL_TOL = 1e-9


def _cut(line: lines.RevenueLine, school: SchoolInputs) -> np.ndarray | None:
    if line.exposed and school.cut is not None:
        return school.cut[1:]
    return None


def _times(amt: np.ndarray, factor: np.ndarray | None) -> np.ndarray:
    if factor is None:
        return amt
    if amt.shape == np.broadcast_shapes(amt.shape, factor.shape):
        amt *= factor
        return amt
    return amt * factor


def _basis(school: SchoolInputs, basis: str) -> np.ndarray:
    e = school.enrollment
    if basis == "current":
        return e[1:]
    if basis == "prior":
        return e[:-1]
    return np.maximum(e[1:], e[:-1])  # hold harmless


def _per_pupil_revenue(line: lines.PerPupilRevenue, school: SchoolInputs) -> np.ndarray:
    amt = line.growth[1:] * line.rate
    amt = amt * _basis(school, line.basis)
    return _times(amt, _cut(line, school))


def _categorical(line: lines.CategoricalRevenue, school: SchoolInputs) -> np.ndarray:
    amt = line.growth[1:] * (line.rate * line.share)
    amt = amt * school.enrollment[1:]
    return _times(amt, _cut(line, school))


def _fixed_revenue(line: lines.FixedRevenue, school: SchoolInputs) -> np.ndarray:
    return _times(line.growth[1:] * line.amount, _cut(line, school))


def _grant(line: lines.GrantRevenue, school: SchoolInputs) -> np.ndarray:
    return _times(line.paying[1:] * line.amount, _cut(line, school))


def _fixed_cost(line: lines.FixedCost, school: SchoolInputs) -> np.ndarray:
    return line.growth[1:] * line.amount


def _per_pupil_cost(line: lines.PerPupilCost, school: SchoolInputs) -> np.ndarray:
    amt = line.growth[1:] * line.rate
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


def _staff(line: lines.StaffCost, school: SchoolInputs) -> np.ndarray:
    pos = _positions(line, school)
    f = line.growth[1:]
    T = f.shape[0]
    steps = (1.0 + line.step_rate) ** np.arange(1, T + 1)[:, None] if line.step_rate else 1.0
    salary = (f * steps) * line.salary
    if line.benefits_growth is None:
        benefits = salary * line.benefits_rate
    else:
        benefits = line.benefits_growth[1:] * (line.salary * line.benefits_rate)
    pay = salary + benefits
    if np.any(line.stipend):
        pay = pay + f * line.stipend
    return pay * pos


def _technology(line: lines.TechnologyCost, school: SchoolInputs) -> np.ndarray:
    e = school.enrollment
    fleet = line.devices_per_pupil * e  # (T + 1, n)
    T = fleet.shape[0] - 1
    bought = np.maximum(fleet[1:] - fleet[:-1], 0.0)  # growth of the fleet
    if line.refresh_share is not None:
        bought = bought + line.refresh_share * fleet[:-1]
    elif line.refresh_every is not None:
        t = np.arange(1, T + 1)
        due = ((t - line.last_purchase) % line.refresh_every == 0)[:, None]
        bought = bought + due * fleet[:-1]
    cost = bought * (line.price_growth[1:] * line.price)
    f = line.growth[1:]
    if np.any(line.support):
        cost = cost + f * line.support * fleet[1:]
    if np.any(line.license):
        cost = cost + f * line.license * e[1:]
    return cost


def _one_time(line: lines.OneTimeCost, school: SchoolInputs) -> np.ndarray:
    T = school.enrollment.shape[0] - 1
    out = np.zeros((T, np.size(line.amount) if np.ndim(line.amount) else 1))
    if 1 <= line.year <= T:
        out[line.year - 1] = line.amount
    return out


#: a line kind's amounts ``(years, n)`` (or ``(years, 1)``) from the line and its school
LineFn = Callable[[Any, SchoolInputs], np.ndarray]

#: revenue kind -> amount; the keys are the revenue kinds of the schema and the builders
REVENUE_KINDS: dict[str, LineFn] = {
    "per_pupil": _per_pupil_revenue,
    "categorical": _categorical,
    "fixed": _fixed_revenue,
    "grant": _grant,
}
#: cost kind -> amount
COST_KINDS: dict[str, LineFn] = {
    "fixed": _fixed_cost,
    "per_pupil": _per_pupil_cost,
    "staff": _staff,
    "technology": _technology,
    "one_time": _one_time,
}


def _amount(line: lines.Line, school: SchoolInputs, kinds: Mapping[str, LineFn]) -> np.ndarray:
    amt = kinds[line.kind](line, school)
    if line.active is not None:
        amt = amt * line.active[1:, None]
    return amt


def _respond(
    school: SchoolInputs,
    rev: np.ndarray,
    cost: np.ndarray,
    flex: np.ndarray,
    surplus: np.ndarray,
    bal: np.ndarray,
    trimmed: np.ndarray,
) -> None:
    """Step over years applying the management response; fills surplus, bal, trimmed."""
    r = school.response
    if r is None:
        raise ValueError(f"school {school.name} has no management response")
    T = rev.shape[0]
    cap, lag = r.cap, r.lag
    months = school.reserve_months
    for t in range(T):
        trim = 0.0
        if t - lag >= 0:
            s = t - lag
            if r.trigger == "deficit":
                gap = np.maximum(-surplus[s], 0.0)
            else:
                gap = np.maximum(months / 12.0 * cost[s] - bal[s], 0.0)
            trim = np.minimum(cap * flex[t], gap)
        trimmed[t] = trim
        cost[t] -= trim
        np.subtract(rev[t], cost[t], out=surplus[t])
        prev = bal[t - 1] if t else school.fund_balance
        np.add(prev, surplus[t], out=bal[t])


def _sum_revenue(school: SchoolInputs, rev, temp, rl, rev_index) -> None:
    """Add up the revenue lines into ``rev`` (grants also into ``temp``, lines into ``rl``)."""
    rev[...] = 0.0
    if temp is not None:
        temp[...] = 0.0
    for r_line in school.revenue:
        amt = _amount(r_line, school, REVENUE_KINDS)
        rev += amt
        if temp is not None and r_line.kind == "grant":
            temp += amt
        if rl is not None:
            rl[:, rev_index[r_line.name]] += amt


def _sum_cost(school: SchoolInputs, cost, once, cl, cost_index) -> np.ndarray | None:
    """Add up the cost lines into ``cost`` (one-time also into ``once``); the flexible sum."""
    cost[...] = 0.0
    if once is not None:
        once[...] = 0.0
    flex = None
    for line in school.cost:
        amt = _amount(line, school, COST_KINDS)
        cost += amt
        if once is not None and line.kind == "one_time":
            once += amt
        if line.flexible:
            flex = amt.copy() if flex is None else flex + amt
        if cl is not None:
            cl[:, cost_index[line.name]] += amt
    return flex


def _run_one(
    school: SchoolInputs,
    rev,
    cost,
    surplus,
    bal,
    *,
    temp=None,
    once=None,
    trimmed=None,
    rl=None,
    cl=None,
    rev_index=None,
    cost_index=None,
) -> None:
    _sum_revenue(school, rev, temp, rl, rev_index)
    flex = _sum_cost(school, cost, once, cl, cost_index)
    if school.response is not None and flex is not None:
        tr = trimmed if trimmed is not None else np.empty_like(cost)
        flex = np.broadcast_to(flex, cost.shape)
        _respond(school, rev, cost, flex, surplus, bal, tr)
        if cl is not None:  # trim the flexible lines' own amounts by the same share
            share = np.divide(tr, flex, out=np.zeros_like(cost), where=flex > 0)
            for line in school.cost:
                if line.flexible:
                    cl[:, cost_index[line.name]] *= 1.0 - share
        return
    if trimmed is not None:
        trimmed[...] = 0.0
    np.subtract(rev, cost, out=surplus)
    T = rev.shape[0]
    np.add(surplus[0], school.fund_balance, out=bal[0])
    for t in range(1, T):  # B[t] = B[t-1] + surplus[t]
        np.add(bal[t - 1], surplus[t], out=bal[t])


def run(
    inputs: Inputs,
    out: Mapping[str, np.ndarray] | None = None,
    *,
    revenue_lines: Mapping[str, int] | None = None,
    cost_lines: Mapping[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """Budgets of every school (and district totals) for one chunk of draws.

    Parameters
    ----------
    inputs : Inputs
        Realized drivers (:func:`sustainsim.model.inputs.sample_inputs`).
    out : mapping of str to ndarray, optional
        Arrays ``(years, schools, n)`` to write :data:`OUTPUTS` (and any of
        :data:`OPTIONAL_OUTPUTS` present) into, ``(years, n)`` for
        :data:`DISTRICT_OUTPUTS`; ``revenue_lines`` / ``cost_lines``
        (``(years, schools, lines, n)``, zero-filled) with the name-to-index maps.

    Returns
    -------
    dict of str to ndarray
    """
    T, S, n = inputs.years, len(inputs.schools), inputs.n
    out = dict(out or {})
    for k in OUTPUTS:
        out.setdefault(k, np.empty((T, S, n)))
    rl, cl = out.get("revenue_lines"), out.get("cost_lines")
    for j, school in enumerate(inputs.schools):
        out["enrollment"][:, j] = school.enrollment[1:]
        _run_one(
            school,
            out["revenue"][:, j],
            out["cost"][:, j],
            out["surplus"][:, j],
            out["fund_balance"][:, j],
            temp=out["temporary_revenue"][:, j] if "temporary_revenue" in out else None,
            once=out["one_time_cost"][:, j] if "one_time_cost" in out else None,
            trimmed=out["trimmed"][:, j] if "trimmed" in out else None,
            rl=None if rl is None else rl[:, j],
            cl=None if cl is None else cl[:, j],
            rev_index=revenue_lines,
            cost_index=cost_lines,
        )
    if "district_revenue" in out:
        _district(inputs, out)
    return out


def _district(inputs: Inputs, out: dict[str, np.ndarray]) -> None:
    """District totals: the schools plus the district's own (central) lines and balance."""
    T, n = inputs.years, inputs.n
    rev, cost = out["district_revenue"], out["district_cost"]
    surplus, bal = out["district_surplus"], out["district_fund_balance"]
    start = np.zeros(n)
    for s in inputs.schools:
        start = start + s.fund_balance
    d = inputs.district
    temp = out.get("district_temporary_revenue")
    once = out.get("district_one_time_cost")
    for arr, k in ((temp, "temporary_revenue"), (once, "one_time_cost")):
        if arr is not None:
            arr[...] = out[k].sum(axis=1) if k in out else 0.0
    if d is not None:
        own = {k: np.empty((T, n)) for k in ("r", "c", "s", "b", "t", "o")}
        _run_one(d, own["r"], own["c"], own["s"], own["b"], temp=own["t"], once=own["o"])
        rev[...] = own["r"]
        cost[...] = own["c"]
        if temp is not None:
            temp += own["t"]
        if once is not None:
            once += own["o"]
        start = start + d.fund_balance
    else:
        rev[...] = 0.0
        cost[...] = 0.0
    rev += out["revenue"].sum(axis=1)
    cost += out["cost"].sum(axis=1)
    np.subtract(rev, cost, out=surplus)
    np.add(surplus[0], start, out=bal[0])
    for t in range(1, T):
        np.add(bal[t - 1], surplus[t], out=bal[t])
