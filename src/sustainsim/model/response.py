"""The management response: base reductions that persist, made with levers in order.

A finance office reads the budget of year ``s = t - lag`` and sets the reductions of
year ``t``. The reductions already in force in year ``s`` (``base[s]``) stay in the
base; the signal of year ``s`` adds to them (or, under a restoration rule, gives some
back)::

    reserve[s]      = months / 12 * (cost[s] - once[s])   (the reserve base: recurring cost)
    gap[s]          = -surplus[s]                      (trigger "deficit")
                    = -surplus[s] if B[s] < reserve[s] else 0   (trigger "below_reserve")
    restore[s]      = 0                                (restore "never")
                    = max(surplus[s], 0)               (restore "surplus")
                    = max(surplus[s], 0) if B[s] >= reserve[s] else 0   ("above_reserve")
    required_cut[t] = max(base[s] + max(gap[s], 0) - restore[s], 0)

so a constant structural gap is closed by the same cut every year after the lag, and the
balance stays flat. Under ``below_reserve`` the reserve is a buffer the district lets run
down first: a deficit is closed only once the balance is below the policy reserve. (The
shortfall itself is a stock, not a structural gap: adding it to the base every year
would cut the base again and again for one shortfall.) The required cut is met by the
levers in their configured order, each up to its capacity in year ``t``:

``trim``
    flexible lines, at most ``cap`` of their amount;
``freeze``
    a hiring freeze: leavers are not replaced; the frozen share of a staff line's
    positions grows by at most its ``turnover`` a year;
``rif``
    a reduction in force: positions cut, effective ``notice_lag`` years after the need
    was recognised (the cut in force in year ``t`` is at most the need of year
    ``t - notice_lag``);
``reserves``
    a planned draw on the fund balance down to ``reserve_floor`` months of expenditure
    (not a cost reduction: it lets the deficit happen).

The reserve base leaves one-time spending out (``once``, zero when the policy's
``include_one_time`` puts it back in); ``reserve_floor`` is months of the same base.

Staff positions are saved at their cost at the bottom of the schedule (entry pay), never
below a line's ``minimum_positions``. ``base[t]`` is the sum of the cost-reducing levers
(trim, freeze, rif); what no lever covers is ``unmet_gap[t]``.

Arrays are year-major, ``(years, n)``; the levers' cuts are ``(years, levers, n)`` in
the order of :data:`LEVERS`. Numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["LEVERS", "RESTORE_RULES", "Response", "StaffPool", "respond"]

#: every lever, in the order of the ``lever`` dimension of the results
LEVERS = ("trim", "freeze", "rif", "reserves")
#: how reductions in force are given back
RESTORE_RULES = ("never", "surplus", "above_reserve")


@dataclass(frozen=True)
class Response:
    """A school's management response (see the module docstring).

    ``trigger = "deficit"``: the gap is year ``t - lag``'s deficit; ``"below_reserve"``:
    that deficit once the balance is below the policy reserve.
    """

    trigger: Literal["deficit", "below_reserve"]
    cap: float  # largest share of flexible spending trimmed [1]
    lag: int  # years between the signal and the cut
    levers: tuple[str, ...] = ("trim",)
    restore: str = "never"
    notice_lag: int = 1  # years between a reduction-in-force decision and its saving
    reserve_floor: float = 0.0  # months of expenditure the reserves lever keeps


@dataclass
class StaffPool:
    """The staff lines' reducible positions, priced at entry pay.

    ``entry[i]`` is line i's cost of its reducible positions at entry pay (``(years, n)``,
    zero where the line is inactive) and ``turnover[i]`` its annual leaving rate.
    """

    entry: list[np.ndarray] = field(default_factory=list)
    turnover: list[float] = field(default_factory=list)


class _State:
    """The levers' state while stepping over years (each array ``(n,)`` or a line's list)."""

    def __init__(
        self, r: Response, flex, pool: StaffPool, cost, bal, start, months, notice, once=None
    ):
        self.r, self.flex, self.pool, self.cost, self.bal = r, flex, pool, cost, bal
        self.once = once
        self.start, self.months = start, months
        k = len(pool.entry)
        self.frozen = [0.0] * k  # share of each line's reducible positions frozen
        self.riffed = [0.0] * k
        self.used: list = [0.0] * k  # share of each line taken by earlier levers this year
        self.want = notice  # (years, n): the reduction in force wanted each year

    def new_year(self) -> None:
        self.used = [0.0] * len(self.pool.entry)

    def _staff(self, t, rem, limits, attr):
        """Spread ``min(rem, capacity)`` over the staff lines by their share limits."""
        entry = [e[t] for e in self.pool.entry]
        room = [np.maximum(lim - u, 0.0) for lim, u in zip(limits, self.used, strict=True)]
        capacity = sum((x * e for x, e in zip(room, entry, strict=True)), start=np.zeros(1))
        amt = np.minimum(rem, capacity)
        g = np.divide(amt, capacity, out=np.zeros(np.shape(amt)), where=capacity > 0)
        shares = [g * x for x in room]
        setattr(self, attr, shares)
        self.used = [u + s for u, s in zip(self.used, shares, strict=True)]
        return amt


def _trim(st: _State, t: int, rem):
    return np.minimum(rem, st.r.cap * st.flex[t])


def _freeze(st: _State, t: int, rem):
    limits = [np.minimum(f + tau, 1.0) for f, tau in zip(st.frozen, st.pool.turnover, strict=True)]
    return st._staff(t, rem, limits, "frozen")


def _rif(st: _State, t: int, rem):
    st.want[t] = rem
    n = st.r.notice_lag
    allowed = st.want[t - n] if t >= n else 0.0
    return st._staff(t, np.minimum(rem, allowed), [1.0] * len(st.pool.entry), "riffed")


def _reserves(st: _State, t: int, rem):
    prev_bal = st.bal[t - 1] if t else st.start
    prev_cost = _base(st.cost, st.once, t - 1 if t else 0)
    room = np.maximum(prev_bal - st.r.reserve_floor / 12.0 * prev_cost, 0.0)
    return np.minimum(rem, room)


_LEVER_FNS: dict[str, Callable[[_State, int, np.ndarray], np.ndarray]] = {
    "trim": _trim,
    "freeze": _freeze,
    "rif": _rif,
    "reserves": _reserves,
}
_BASE = ("trim", "freeze", "rif")  # the levers that reduce cost (and so persist)


def _base(cost, once, s: int):
    """The reserve base of year ``s``: its cost less one-time spending (if ``once`` is given)."""
    return cost[s] if once is None else cost[s] - once[s]


def _required(r: Response, s: int, base, surplus, bal, cost, months: float, once=None):
    reserve = months / 12.0 * _base(cost, once, s)
    gap = -surplus[s]
    if r.trigger == "below_reserve":
        gap = np.where(bal[s] < reserve, gap, 0.0)
    ease = np.maximum(surplus[s], 0.0)
    if r.restore == "never":
        ease = 0.0
    elif r.restore == "above_reserve":
        ease = np.where(bal[s] >= reserve, ease, 0.0)
    return np.maximum(base[s] + np.maximum(gap, 0.0) - ease, 0.0)


def respond(
    r: Response,
    rev: np.ndarray,
    cost: np.ndarray,
    flex: np.ndarray,
    pool: StaffPool,
    start,
    months: float,
    *,
    surplus: np.ndarray,
    bal: np.ndarray,
    required: np.ndarray,
    cuts: np.ndarray,
    staff_cut: Sequence[np.ndarray],
    once: np.ndarray | None = None,
) -> None:
    """Step over years applying the response; fills every keyword array.

    Parameters
    ----------
    r : Response
    rev, cost, flex : ndarray (years, n)
        Revenue, cost before the response (reduced in place) and flexible spending.
    pool : StaffPool
        The staff lines' reducible positions at entry pay.
    start : float or ndarray (n,)
        Starting fund balance. [USD]
    months : float
        The policy reserve. [months of expenditure]
    surplus, bal, required : ndarray (years, n)
        Filled with the surplus, the fund balance and ``required_cut``. [USD]
    cuts : ndarray (years, levers, n)
        Filled with each lever's cut, in the order of :data:`LEVERS`. [USD]
    staff_cut : sequence of ndarray (years, n)
        Filled with each staff line's saving (freeze and reduction in force). [USD]
    once : ndarray (years, n), optional
        One-time spending, left out of the reserve base; None counts all of ``cost``. [USD]

    Examples
    --------
    A constant $100K gap, $300K of flexible lines: trimmed by $100K from year 2 on.

    >>> T = 4
    >>> rev, cost = np.full((T, 1), 1.0e6), np.full((T, 1), 1.1e6)
    >>> out = {k: np.empty((T, 1)) for k in ("surplus", "bal", "required")}
    >>> cuts = np.empty((T, len(LEVERS), 1))
    >>> respond(Response("deficit", 0.5, 1), rev, cost, np.full((T, 1), 3e5), StaffPool(),
    ...         0.0, 0.0, cuts=cuts, staff_cut=[], **out)
    >>> cuts[:, 0, 0], out["bal"][:, 0]
    (array([     0., 100000., 100000., 100000.]), array([-100000., -100000., -100000., -100000.]))
    """
    T = rev.shape[0]
    st = _State(r, flex, pool, cost, bal, start, months, np.zeros_like(cost), once)
    base = np.zeros_like(cost)
    order = [(LEVERS.index(k), _LEVER_FNS[k]) for k in r.levers]
    base_idx = [LEVERS.index(k) for k in _BASE]
    cuts[...] = 0.0
    for t in range(T):
        st.new_year()
        s = t - r.lag
        req = _required(r, s, base, surplus, bal, cost, months, once) if s >= 0 else 0.0
        required[t] = req
        rem = np.asarray(req, dtype=float)
        for i, fn in order:
            amt = fn(st, t, rem)
            cuts[t, i] = amt
            rem = rem - amt
        base[t] = cuts[t, base_idx].sum(axis=0)
        for j, e in enumerate(pool.entry):
            staff_cut[j][t] = (st.frozen[j] + st.riffed[j]) * e[t]
        cost[t] -= base[t]
        np.subtract(rev[t], cost[t], out=surplus[t])
        np.add(bal[t - 1] if t else start, surplus[t], out=bal[t])
