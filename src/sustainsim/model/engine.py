"""The budget engine: realized inputs in, revenue, cost and fund-balance paths out.

Pure arithmetic, no I/O and no randomness. Every line's amount is computed for all
projected years and draws at once; the balance then steps over years::

    revenue[t] = sum of revenue lines in year t
    cost[t]    = sum of cost lines in year t - base reductions[t]
    surplus[t] = revenue[t] - cost[t]
    B[t]       = B[t-1] + surplus[t],  B[0] = starting fund balance

The base reductions are the management response's (none unless configured;
:mod:`sustainsim.model.response`): reductions that persist, made by levers in order
(trims of flexible lines, a hiring freeze, reductions in force), reported as
``required_cut``, ``cut`` by lever and ``unmet_gap``; ``trimmed`` is the trim lever's part.
Staff lines' positions and pay come from :mod:`sustainsim.model.staffing`; the grant
cliff and the costs tied to grants from :mod:`sustainsim.model.cliff`.

Arrays are year-major, ``(years, n)`` for one school, float64. The inputs are the
typed dataclasses of :mod:`sustainsim.model.schools` and :mod:`sustainsim.model.lines`
(this module imports nothing else but numpy and its numpy-only siblings). Each line's
amount comes from the function of its kind in :data:`REVENUE_KINDS` and
:data:`COST_KINDS`, keyed like the schema's kinds and the builders
(:mod:`sustainsim.model.builders`): adding a line kind takes one schema class, one typed
line with its builder, and one function here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sustainsim.model import lines
from sustainsim.model.cliff import CLIFF_OUTPUTS, TIE_OUTPUTS, fill_cliff, ties_for
from sustainsim.model.compensation import COMPONENTS
from sustainsim.model.flows import Transfers
from sustainsim.model.response import LEVERS, StaffPool, respond
from sustainsim.model.schools import Inputs, SchoolInputs
from sustainsim.model.staffing import class_sections, staff_budget, staff_positions

__all__ = [
    "COMPONENTS",
    "COST_KINDS",
    "DISTRICT_OUTPUTS",
    "FUNDING_OUTPUTS",
    "LEVERS",
    "LEVER_OUTPUTS",
    "OPTIONAL_OUTPUTS",
    "OUTPUTS",
    "REVENUE_KINDS",
    "class_sections",
    "run",
    "run_schools",
    "runs_school_by_school",
    "staff_positions",
]

# variables the engine always produces, each (years, schools, n)
OUTPUTS = ("enrollment", "revenue", "cost", "surplus", "fund_balance")
# produced when the caller asks for them (present in ``out``)
OPTIONAL_OUTPUTS = (
    "temporary_revenue",
    "one_time_cost",
    "trimmed",
    "required_cut",
    "unmet_gap",
    "levy_in_force",
)
# funding ties (years, schools, n) and the grant cliff (schools, n): :mod:`sustainsim.model.cliff`
FUNDING_OUTPUTS = TIE_OUTPUTS + CLIFF_OUTPUTS
# the management response's cut by lever, (years, schools, levers, n), levers in LEVERS order
LEVER_OUTPUTS = ("cut",)
# district totals, each (years, n)
DISTRICT_OUTPUTS = (
    "district_revenue",
    "district_cost",
    "district_surplus",
    "district_fund_balance",
)


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


def _levy(line: lines.LevyRevenue, school: SchoolInputs) -> np.ndarray:
    return _times(line.collected[1:] * (line.growth[1:] * line.amount), _cut(line, school))


def _fixed_cost(line: lines.FixedCost, school: SchoolInputs) -> np.ndarray:
    return line.growth[1:] * line.amount


def _per_pupil_cost(line: lines.PerPupilCost, school: SchoolInputs) -> np.ndarray:
    amt = line.growth[1:] * line.rate
    return amt * school.enrollment[1:]


def _staff(line: lines.StaffCost, school: SchoolInputs) -> np.ndarray:
    return staff_budget(line, school).amount


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
    "levy": _levy,
}
#: cost kind -> amount
COST_KINDS: dict[str, LineFn] = {
    "fixed": _fixed_cost,
    "per_pupil": _per_pupil_cost,
    "staff": _staff,
    "technology": _technology,
    "one_time": _one_time,
}


def _on(active: np.ndarray) -> np.ndarray:
    """A line's active years ``(T + 1,)`` or ``(T + 1, n)`` as a ``(T, ·)`` factor."""
    return active[1:, None] if active.ndim == 1 else active[1:]


def _amount(line: lines.Line, school: SchoolInputs, kinds: Mapping[str, LineFn]) -> np.ndarray:
    amt = kinds[line.kind](line, school)
    if line.active is not None:
        amt = amt * _on(line.active)
    return amt


def _sum_revenue(school: SchoolInputs, rev, temp, rl, rev_index) -> None:
    """Add up the revenue lines into ``rev`` (non-recurring also into ``temp``, lines in ``rl``)."""
    rev[...] = 0.0
    if temp is not None:
        temp[...] = 0.0
    for r_line in school.revenue:
        amt = _amount(r_line, school, REVENUE_KINDS)
        rev += amt
        if temp is not None and not r_line.recurring:
            temp += amt
        if rl is not None:
            rl[:, rev_index[r_line.name]] += amt


def _sum_cost(school: SchoolInputs, cost, once, cl, cost_index, ties=None):
    """Add up the cost lines into ``cost`` (non-recurring also into ``once``, tied into ``ties``).

    Returns the flexible sum (None without flexible lines), the staff pool with the
    staff lines' names, and (with line breakdowns) each cost-line column's flexible amount.
    """
    cost[...] = 0.0
    if once is not None:
        once[...] = 0.0
    flex = None
    pool, staff = StaffPool(), []
    flex_columns: dict[int, np.ndarray] = {}  # cost-line column -> its flexible amount
    for line in school.cost:
        if isinstance(line, lines.StaffCost):
            sb = staff_budget(line, school)
            amt = sb.amount
            entry = sb.entry
            if line.active is not None:
                amt = amt * _on(line.active)
                entry = entry * _on(line.active)
            pool.entry.append(np.broadcast_to(entry, cost.shape))
            pool.turnover.append(float(line.turnover))
            staff.append((line.name, sb, line.active))
        else:
            amt = _amount(line, school, COST_KINDS)
        cost += amt
        if once is not None and not line.recurring:
            once += amt
        if ties is not None:
            ties.add(line.funding, amt)
        if line.flexible:
            flex = amt.copy() if flex is None else flex + amt
        if cl is not None:
            idx = cost_index[line.name]
            cl[:, idx] += amt
            if line.flexible:  # lines of one name (two models' devices) share a column
                flex_columns[idx] = flex_columns.get(idx, 0.0) + amt
    return flex, pool, staff, flex_columns


def _staffing(staff, saved, res, ci) -> None:
    """Positions (FTE) by line and cost by component, after the response's savings."""
    pos, comp = res.get("positions"), res.get("compensation")
    if pos is None and comp is None:
        return
    for j, (name, sb, active) in enumerate(staff):
        on = 1.0 if active is None else _on(active)
        amount = sb.amount * on
        if saved is None:
            kept, cut_pos = 1.0, 0.0
        else:
            s = saved[j]
            amount = np.broadcast_to(amount, s.shape)
            kept = 1.0 - np.divide(s, amount, out=np.zeros_like(s), where=amount > 0)
            entry = np.broadcast_to(sb.entry * on, s.shape)
            cut_pos = np.divide(s, entry, out=np.zeros_like(s), where=entry > 0) * sb.reducible
        if pos is not None:
            pos[:, ci[name]] += sb.positions * on - cut_pos
        if comp is not None:
            for k, c in enumerate(COMPONENTS):
                comp[:, k] += sb.components[c] * on * kept


def _respond(
    school: SchoolInputs,
    rev,
    cost,
    surplus,
    bal,
    flex,
    pool,
    staff,
    res,
    cl,
    ci,
    flex_columns,
    once=None,
):
    """Apply the school's response; fills surplus, bal and the response outputs ``res``."""
    r = school.response
    if r is None:  # pragma: no cover - the caller checks
        raise ValueError(f"school {school.name} has no management response")
    T, n = cost.shape
    flex = np.zeros_like(cost) if flex is None else np.broadcast_to(flex, cost.shape)
    cuts = res.get("cut")
    if cuts is None:
        cuts = np.empty((T, len(LEVERS), n))
    required = res.get("required_cut")
    if required is None:
        required = np.empty_like(cost)
    staff_cut = [np.zeros_like(cost) for _ in staff]
    respond(
        r,
        rev,
        cost,
        flex,
        pool,
        school.fund_balance,
        school.reserve_months,
        surplus=surplus,
        bal=bal,
        required=required,
        cuts=cuts,
        staff_cut=staff_cut,
        once=None if school.reserve_one_time else once,
    )
    _staffing(staff, staff_cut, res, ci)
    trim = cuts[:, LEVERS.index("trim")]
    if res.get("trimmed") is not None:
        res["trimmed"][...] = trim
    if res.get("unmet_gap") is not None:
        np.subtract(required, cuts.sum(axis=1), out=res["unmet_gap"])
    if cl is None:
        return
    share = np.divide(trim, flex, out=np.zeros_like(cost), where=flex > 0)
    # trim each column's flexible amount by the same share, once: the columns add up to cost
    for idx, amt in flex_columns.items():
        cl[:, idx] -= amt * share
    for (name, _, _), saved in zip(staff, staff_cut, strict=True):
        cl[:, ci[name]] -= saved


def _run_one(
    school: SchoolInputs,
    rev,
    cost,
    surplus,
    bal,
    *,
    temp=None,
    once=None,
    res=None,
    rl=None,
    cl=None,
    rev_index=None,
    cost_index=None,
    adjust=None,
    ties=None,
) -> None:
    _sum_revenue(school, rev, temp, rl, rev_index)
    if once is None and school.response is not None and not school.reserve_one_time:
        once = np.zeros_like(cost)  # the reserve base leaves one-time spending out
    flex, pool, staff, flex_columns = _sum_cost(school, cost, once, cl, cost_index, ties)
    if adjust is not None:  # allocations and charges (model.flows), before the response
        adjust(rev, cost, temp)
    res = res or {}
    if school.response is not None:
        _respond(
            school,
            rev,
            cost,
            surplus,
            bal,
            flex,
            pool,
            staff,
            res,
            cl,
            cost_index,
            flex_columns,
            once,
        )
        return
    for k, v in res.items():
        if v is not None and k not in ("positions", "compensation"):
            v[...] = 0.0
    _staffing(staff, None, res, cost_index)
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
        :data:`OPTIONAL_OUTPUTS` and :data:`FUNDING_OUTPUTS` present, the latter
        ``(schools, n)`` for the cliff) into, ``(years, n)`` for
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
    tr = None
    if inputs.flows is not None:
        tr = Transfers(inputs, out, _revenue_amount, _cost_amount, revenue_lines, cost_lines)
    for j, school in enumerate(inputs.schools):
        _school(school, out, j, revenue_lines, cost_lines, None if tr is None else tr.adjust(j))
    if tr is not None:
        tr.after_schools()
    if "cliff_year" in out:
        fill_cliff(out, inputs.first_year)
    if "district_revenue" in out:
        _district(inputs, out, tr)
    if "levy_in_force" in out or "district_levy_in_force" in out:
        _levies(inputs, out)
    return out


#: school outputs the management response writes (present in ``out`` when asked for)
_RESPONSE_OUTPUTS = ("trimmed", "required_cut", "unmet_gap", "cut", "positions", "compensation")
#: the school outputs :func:`_district` adds up over schools (those present in ``out``)
_SUMMED = ("revenue", "cost", "temporary_revenue", "one_time_cost")


def _school(school, out, j, revenue_lines=None, cost_lines=None, adjust=None) -> None:
    """Run school ``j`` into its slices ``[:, j]`` of ``out``."""
    rl, cl = out.get("revenue_lines"), out.get("cost_lines")
    out["enrollment"][:, j] = school.enrollment[1:]
    _run_one(
        school,
        out["revenue"][:, j],
        out["cost"][:, j],
        out["surplus"][:, j],
        out["fund_balance"][:, j],
        temp=out["temporary_revenue"][:, j] if "temporary_revenue" in out else None,
        once=out["one_time_cost"][:, j] if "one_time_cost" in out else None,
        res={k: out[k][:, j] for k in _RESPONSE_OUTPUTS if k in out},
        rl=None if rl is None else rl[:, j],
        cl=None if cl is None else cl[:, j],
        rev_index=revenue_lines,
        cost_index=cost_lines,
        adjust=adjust,
        ties=ties_for(out, j),
    )


def runs_school_by_school(inputs: Inputs) -> bool:
    """Whether :func:`run_schools` can run these inputs: no money moves between the books."""
    return inputs.flows is None


def run_schools(
    inputs: Inputs,
    scratch: Mapping[str, np.ndarray],
    visit: Callable[[int], None],
    district: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Run the schools one at a time into ``scratch``, calling ``visit(j)`` after each.

    The numbers of :func:`run`, bit for bit, for inputs without flows
    (:func:`runs_school_by_school`), without an array of every school: ``scratch``
    holds one school's outputs, ``(years, 1, n)`` (``(1, n)`` for the cliff), and is
    written over by the next school, so a caller reduces each school while it is in
    cache. The district totals (``district``: :data:`DISTRICT_OUTPUTS` and the
    district's ``temporary_revenue`` and ``one_time_cost``, ``(years, n)``) are
    added up over schools in school order, as :func:`run`'s sums over the school axis
    do, and written after the last school. ``levy_in_force`` is not produced.
    """
    if not runs_school_by_school(inputs):
        raise ValueError("inputs with flows between the books need run(), not run_schools()")
    sums: dict[str, np.ndarray] = {}
    for j, school in enumerate(inputs.schools):
        _school(school, scratch, 0)
        if "cliff_year" in scratch:
            fill_cliff(scratch, inputs.first_year)
        if district is not None:
            for k in _SUMMED:
                if k in scratch:  # x0 + x1 + ... in school order: numpy's sum over schools
                    x = scratch[k][:, 0]
                    if j == 0:
                        sums[k] = x.copy()
                    else:
                        sums[k] += x
        visit(j)
    if district is not None:
        _district(inputs, district, sums=sums)


def _in_force(school: SchoolInputs, T: int, n: int) -> np.ndarray:
    """``(T, n)``: how many of the school's levy lines are collected each year."""
    count = np.zeros((T, n))
    for line in school.revenue:
        if isinstance(line, lines.LevyRevenue):
            on = line.collected[1:]
            count += on if line.active is None else on & line.active[1:, None]
    return count


def _levies(inputs: Inputs, out: dict[str, np.ndarray]) -> None:
    """``levy_in_force`` by school and ``district_levy_in_force`` (schools and central)."""
    T, n = inputs.years, inputs.n
    total = np.zeros((T, n))
    for j, school in enumerate(inputs.schools):
        count = _in_force(school, T, n)
        total += count
        if "levy_in_force" in out:
            out["levy_in_force"][:, j] = count
    if "district_levy_in_force" in out:
        d = inputs.district
        out["district_levy_in_force"][...] = total if d is None else total + _in_force(d, T, n)


def _revenue_amount(line: lines.Line, school: SchoolInputs) -> np.ndarray:
    return _amount(line, school, REVENUE_KINDS)


def _cost_amount(line: lines.Line, school: SchoolInputs) -> np.ndarray:
    return _amount(line, school, COST_KINDS)


def _district(
    inputs: Inputs,
    out: Mapping[str, np.ndarray],
    tr: Transfers | None = None,
    sums: Mapping[str, np.ndarray] | None = None,
) -> None:
    """District totals: the schools plus the district's own (central) lines and balance.

    The schools' totals are ``out[k].sum(axis=1)``, or ``sums[k]`` when given
    (:func:`run_schools`, which keeps no array of every school).
    """
    if sums is None:
        sums = {k: out[k].sum(axis=1) for k in _SUMMED if k in out}
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
            arr[...] = sums[k] if k in sums else 0.0
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
    if tr is not None:  # the central books net of transfers (model.flows)
        tr.central(rev, cost, temp)
    rev += sums["revenue"]
    cost += sums["cost"]
    np.subtract(rev, cost, out=surplus)
    np.add(surplus[0], start, out=bal[0])
    for t in range(1, T):
        np.add(bal[t - 1], surplus[t], out=bal[t])
