"""Money flows inside the district: allocations, charges, a backstop and a pooled reserve.

The engine side of :mod:`sustainsim.config.flows` (numpy only). A transfer is money
that moves between the district's central books and a school; it is counted once at
the school and taken out of the central books of the same kind, so the district's
totals (the consolidated books) do not change with the flows::

    school revenue  += allocated_revenue + backstop_transfer
    school cost     += indirect_charge
    central_revenue  = own revenue - sum over schools (allocated_revenue + backstop_transfer)
    central_cost     = own cost - sum over schools indirect_charge
    district_x       = central_x + sum over schools x        (revenue, cost, surplus)
    district_fund_balance = central_fund_balance + sum over schools fund_balance

``central_revenue`` (and ``central_cost``) are net of transfers and may be negative (a
backstop larger than the central revenue, a charge that recovers more than the cost).

The order of a year (every year, all draws at once):

1. **Before the budget** (known when a school's budget is set): each allocated district
   revenue line's amount of the year (after the district's cuts) goes to the schools:
   ``per_pupil`` / ``weighted`` in proportion to ``weight x current enrollment`` of the
   receiving schools (``share`` of the line; nothing when none of them has pupils),
   ``shares`` by fixed shares, ``pass_through`` to the named cost lines of named schools
   in the order given, each paid its budgeted amount of the year (before the response)
   as far as the money goes; allocations are made in the order of the district's lines,
   and a line already paid (in part) by an earlier pass-through is paid only the rest.
   Money from a grant line is temporary revenue at the school too. Then each school
   is charged: a per-pupil fee (``rate x growth x enrollment``), or its enrollment
   share of a central line's cost, plus ``indirect_rate x`` its direct expenditure of
   the year (every cost line before the response and the charges).
2. **The school's budget and its management response** (:mod:`sustainsim.model.response`)
   see the allocations and charges as revenue and cost.
3. **The backstop** reacts to each covered school's operating deficit of the year after
   its response (``max(-surplus, 0)``), covered up to ``per_school``, the claims scaled
   down pro rata when together they exceed ``cap``. It is paid after the response, so
   the response does not see it (management still closes its own deficits; the backstop
   is a safety net) and a school's balance rises by the transfers from then on.
4. **A pooled reserve** sweeps each school's starting balance and every year's surplus
   (after the backstop) to the central balance (``pooled_transfer``, positive to the
   district); the schools' balances are zero. The config refuses responses that read a
   school's balance under a pool.
5. **Central and district totals** as above.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sustainsim.model.schools import Inputs

__all__ = [
    "BACKSTOP_LINE",
    "CENTRAL_OUTPUTS",
    "FLOW_OUTPUTS",
    "Allocation",
    "Backstop",
    "Charge",
    "Flows",
    "Transfers",
]

#: per school, each ``(years, schools, n)``: what moved to (or from) each school
FLOW_OUTPUTS = ("allocated_revenue", "indirect_charge", "backstop_transfer", "pooled_transfer")
#: the district's own books after transfers, each ``(years, n)``
CENTRAL_OUTPUTS = ("central_revenue", "central_cost", "central_surplus", "central_fund_balance")
#: the revenue-line column of the backstop's transfers in a school's line breakdown
BACKSTOP_LINE = "district_backstop"


@dataclass(frozen=True)
class Allocation:
    """A district revenue line (index ``line``) allocated to the schools.

    ``weights`` (S,): the receiving schools' weights on enrollment (0 elsewhere);
    ``shares`` (S,): fixed shares; ``targets``: ``(school, cost-line indices)`` paid in
    order (pass-through). Exactly one of the three is given.
    """

    line: int
    temporary: bool = False  # a grant: temporary revenue at the school too
    share: float = 1.0
    weights: np.ndarray | None = None
    shares: np.ndarray | None = None
    targets: tuple[tuple[int, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class Charge:
    """A central cost line (index ``line``) charged to the schools ``schools`` (S,) 0/1.

    ``indirect``: ``rate`` x the school's direct expenditure; else a per-pupil fee of
    ``rate x growth[t]`` [USD per pupil], or (``rate`` None) the line's cost split by
    enrollment.
    """

    line: int
    indirect: bool
    rate: float | None
    growth: np.ndarray  # (T + 1, ·)
    schools: np.ndarray


@dataclass(frozen=True)
class Backstop:
    """Deficits of the ``covered`` (S,) 0/1 schools covered up to ``per_school`` and ``cap``."""

    cap: float  # [USD a year]
    per_school: float  # [USD a year], inf without a limit
    covered: np.ndarray


@dataclass(frozen=True)
class Flows:
    """Every flow of a district (see the module docstring)."""

    allocations: tuple[Allocation, ...] = ()
    charges: tuple[Charge, ...] = ()
    backstop: Backstop | None = None
    pooled: bool = False


#: a line's amounts ``(years, ·)`` in its entity (the engine's ``_amount`` of its kind)
AmountFn = Callable[[Any, Any], np.ndarray]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.broadcast_arrays(num, den)
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


class Transfers:
    """The flows of one chunk, filled in the order of the year (module docstring).

    Parameters
    ----------
    inputs : Inputs
        The chunk's inputs; ``inputs.flows`` is not None.
    out : dict of str to ndarray
        The engine's outputs; the flow outputs ``(years, schools, n)`` are added if missing.
    revenue_amount, cost_amount : callable
        A revenue (cost) line's amounts ``(years, ·)`` in its entity.
    revenue_lines, cost_lines : mapping of str to int, optional
        The columns of ``out["revenue_lines"]`` / ``out["cost_lines"]`` (with line
        breakdowns): each flow is added to its district line's column at the school
        (the backstop to :data:`BACKSTOP_LINE`'s), so the columns add up to the totals.
    """

    def __init__(
        self,
        inputs: Inputs,
        out: dict[str, np.ndarray],
        revenue_amount: AmountFn,
        cost_amount: AmountFn,
        revenue_lines: Mapping[str, int] | None = None,
        cost_lines: Mapping[str, int] | None = None,
    ):
        flows = inputs.flows
        if flows is None:  # pragma: no cover - the engine checks
            raise ValueError("no flows configured")
        self.flows, self.inputs = flows, inputs
        T, S, n = inputs.years, len(inputs.schools), inputs.n
        for k in FLOW_OUTPUTS:
            out.setdefault(k, np.empty((T, S, n)))
            out[k][...] = 0.0
        self.out = out
        self.temp = np.zeros((T, S, n)) if any(a.temporary for a in flows.allocations) else None
        self.rate = np.zeros(S)  # the indirect rates of each school, added up
        self.rl, self.cl = out.get("revenue_lines"), out.get("cost_lines")
        self.rev_index, self.cost_index = revenue_lines or {}, cost_lines or {}
        self.indirect: list[tuple[np.ndarray, int]] = []  # (rates by school, cost-line column)
        self._allocate(revenue_amount, cost_amount)
        self._fees(cost_amount)

    def _column(self, part: str, line: int) -> int | None:
        """The breakdown column of the district's ``part`` line ``line`` (None without one)."""
        d = self.inputs.district
        arr, index = (self.rl, self.rev_index) if part == "revenue" else (self.cl, self.cost_index)
        if arr is None or d is None:
            return None
        return index.get(getattr(d, part)[line].name)

    def _enrollment(self) -> np.ndarray:
        """Current enrollment ``(years, schools, ·)``."""
        return np.stack([s.enrollment[1:] for s in self.inputs.schools], axis=1)

    def _allocate(self, revenue_amount: AmountFn, cost_amount: AmountFn) -> None:
        d, alloc = self.inputs.district, self.out["allocated_revenue"]
        if d is None or not self.flows.allocations:
            return
        e = self._enrollment()
        paid: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}  # by earlier pass-throughs
        for a in self.flows.allocations:
            amt = revenue_amount(d.revenue[a.line], d)  # (T, ·)
            if a.weights is not None:
                we = a.weights[None, :, None] * e
                part = a.share * amt[:, None] * _ratio(we, we.sum(axis=1, keepdims=True))
            elif a.shares is not None:
                part = a.shares[None, :, None] * amt[:, None]
            else:
                part = np.zeros(np.broadcast_shapes(alloc.shape, amt[:, None].shape))
                left = np.broadcast_to(amt, part[:, 0].shape).copy()
                for j, idx in a.targets:
                    school = self.inputs.schools[j]
                    due = sum((cost_amount(school.cost[i], school) for i in idx), np.zeros(1))
                    before = paid.get((j, idx), 0.0)
                    pay = np.minimum(np.maximum(due - before, 0.0), left)
                    paid[(j, idx)] = before + pay
                    part[:, j] += pay
                    left -= pay
            alloc += part
            if a.temporary and self.temp is not None:
                self.temp += part
            col = self._column("revenue", a.line)
            if col is not None and self.rl is not None:
                self.rl[:, :, col] += part

    def _fees(self, cost_amount: AmountFn) -> None:
        """Per-pupil charges (known before the budget); indirect rates are kept for later."""
        d, fee = self.inputs.district, self.out["indirect_charge"]
        e = self._enrollment() if self.flows.charges else None
        for c in self.flows.charges:
            col = self._column("cost", c.line)
            if c.indirect:
                rates = c.schools * float(c.rate or 0.0)
                self.rate = self.rate + rates
                if col is not None:
                    self.indirect.append((rates, col))
                continue
            me = c.schools[None, :, None] * e
            if c.rate is not None:
                part = c.rate * c.growth[1:, None] * me
            elif d is not None:
                amt = cost_amount(d.cost[c.line], d)
                part = amt[:, None] * _ratio(me, me.sum(axis=1, keepdims=True))
            else:  # pragma: no cover - a charged line is a district line
                continue
            fee += part
            if col is not None and self.cl is not None:
                self.cl[:, :, col] += part

    def adjust(self, j: int) -> Callable[[np.ndarray, np.ndarray, np.ndarray | None], None]:
        """Step 1 for school ``j``: add its allocations and charges to its budget in place."""

        def add(rev: np.ndarray, cost: np.ndarray, temp: np.ndarray | None) -> None:
            rev += self.out["allocated_revenue"][:, j]
            if temp is not None and self.temp is not None:
                temp += self.temp[:, j]
            charge = self.out["indirect_charge"][:, j]
            if self.cl is not None:
                for rates, col in self.indirect:
                    self.cl[:, j, col] += rates[j] * cost
            if self.rate[j]:
                charge += self.rate[j] * cost  # on the direct expenditure, before the charges
            cost += charge

        return add

    def after_schools(self) -> None:
        """Steps 3 and 4: the backstop and the pooled reserve, on every school at once."""
        out, b = self.out, self.flows.backstop
        if b is not None:
            claim = np.minimum(np.maximum(-out["surplus"], 0.0), b.per_school)
            claim *= b.covered[None, :, None]
            total = claim.sum(axis=1, keepdims=True)
            scale = np.minimum(1.0, _ratio(np.full(total.shape, b.cap), total))
            transfer = out["backstop_transfer"]
            np.multiply(claim, np.where(total > b.cap, scale, 1.0), out=transfer)
            out["revenue"] += transfer
            out["surplus"] += transfer
            out["fund_balance"] += np.cumsum(transfer, axis=0)
            col = self.rev_index.get(BACKSTOP_LINE)
            if self.rl is not None and col is not None:
                self.rl[:, :, col] += transfer
        if self.flows.pooled:
            pool = out["pooled_transfer"]
            pool[...] = out["surplus"]
            for j, s in enumerate(self.inputs.schools):
                pool[0, j] += s.fund_balance
            out["fund_balance"][...] = 0.0

    def central(self, rev: np.ndarray, cost: np.ndarray, temp: np.ndarray | None) -> None:
        """Step 5: the central books net of transfers (``rev``, ``cost`` hold the own lines).

        ``rev``, ``cost`` (and ``temp``, the district's temporary revenue so far) are
        reduced in place; the central outputs are written when present.
        """
        out = self.out
        rev -= out["allocated_revenue"].sum(axis=1) + out["backstop_transfer"].sum(axis=1)
        cost -= out["indirect_charge"].sum(axis=1)
        if temp is not None and self.temp is not None and "temporary_revenue" in out:
            temp -= self.temp.sum(axis=1)
        if "central_revenue" not in out:
            return
        out["central_revenue"][...] = rev
        out["central_cost"][...] = cost
        surplus = np.subtract(rev, cost, out=out["central_surplus"])
        bal = out["central_fund_balance"]
        d = self.inputs.district
        np.add(surplus, out["pooled_transfer"].sum(axis=1), out=bal)
        bal[0] += 0.0 if d is None else d.fund_balance
        np.cumsum(bal, axis=0, out=bal)
