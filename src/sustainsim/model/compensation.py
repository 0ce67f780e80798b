"""Pay per position (FTE) of a staff line: salary, pension, health, payroll taxes.

Two forms of salary:

* **one salary** with compounding steps: ``salary * (1 + step_rate)^t * S[t]``;
* **a schedule** of steps x lanes: the positions' shares over the cells move every year
  (:func:`schedule_shares`), and the salary per FTE is the share-weighted mean of the
  table, ``sum(W[t] * table) * S[t]``; replacements are hired at the entry cell.

``S[t]`` is the line's raise factor: its ``growth`` index times the cost-of-living
settlements by year (``cola``, fixed or random: :mod:`sustainsim.model.settlements`),
as paid (:func:`settled`): on time; ``late`` (each year's settlement paid from the next
year, never recouped); or ``late_retroactive`` (paid from the next year with a year of
arrears then).

Benefits are either one load (``benefits_rate`` on the salary path, or on the base
salary growing with ``benefits_growth``), reported as ``other_benefits``, or split:
``pension`` (``pension_rate`` on pensionable pay: salary, plus stipends if pensionable),
``health`` (``health_per_fte`` growing with its own index) and ``payroll_tax``
(``payroll_tax_rate`` on salary and stipends). Stipends (``stipend * F[t]``) count as
salary. Arrays are year-major, ``(years, n)`` or ``(years, 1)``. Numpy only.
"""

from __future__ import annotations

import numpy as np

from sustainsim.model import lines
from sustainsim.model.lines import Value

__all__ = ["COMPONENTS", "pay_per_fte", "schedule_shares", "settled"]

#: compensation components, in the order of the ``component`` dimension of the results
COMPONENTS = ("salary", "pension", "health", "payroll_tax", "other_benefits")


def schedule_shares(shares: np.ndarray, turnover: float, entry: tuple[int, int], years: int):
    """Shares of positions in each cell, year by year: ``(years, steps, lanes)``.

    Each year a share ``turnover`` of every cell leaves and is replaced at ``entry``; the
    stayers move one step up (the top step keeps its own and receives the step below).

    Examples
    --------
    Half the positions on step 1, half on the top step (3), 10% turnover, hired on step 1:

    >>> w = schedule_shares(np.array([[0.5], [0.0], [0.5]]), 0.1, (0, 0), 2)
    >>> w[:, :, 0].round(4)
    array([[0.1 , 0.45, 0.45],
           [0.1 , 0.09, 0.81]])
    """
    w = np.asarray(shares, dtype=float)
    out = np.empty((years, *w.shape))
    for t in range(years):
        stay = (1.0 - turnover) * w
        nxt = np.zeros_like(w)
        nxt[1:] = stay[:-1]
        nxt[-1] += stay[-1]
        nxt[entry] += turnover * w.sum()
        out[t] = w = nxt
    return out


def settled(factor: np.ndarray, rule: str) -> np.ndarray:
    """The raise factor as paid, ``(years, ·)`` from ``(years + 1, ·)`` (see the module)."""
    f = np.asarray(factor, dtype=float)
    if rule == "on_time":
        return f[1:]
    late = f[:-1]
    if rule == "late":
        return late
    arrears = np.zeros_like(late)
    arrears[1:] = f[1:-1] - f[:-2]  # the raise of year t - 1, paid for that year in t
    return late + arrears


def _salary(line: lines.StaffCost, raise_: np.ndarray) -> tuple[np.ndarray, np.ndarray, Value]:
    """Salary per FTE, entry salary per FTE (both ``(years, ·)``) and base-year salary."""
    T = raise_.shape[0]
    sch = line.schedule
    if sch is None:
        base: Value = line.salary
        steps = (1.0 + line.step_rate) ** np.arange(1, T + 1)[:, None] if line.step_rate else 1.0
        return (raise_ * steps) * base, raise_ * base, base
    w = schedule_shares(sch.shares, line.turnover, sch.entry, T)
    mean = (w * sch.salaries).sum(axis=(1, 2))[:, None]
    entry = float(sch.salaries[sch.entry])
    return raise_ * mean, raise_ * entry, float((sch.shares * sch.salaries).sum())


def pay_per_fte(line: lines.StaffCost) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Pay per FTE by component (:data:`COMPONENTS`), in total, and at entry.

    Parameters
    ----------
    line : StaffCost

    Returns
    -------
    components : dict of str to ndarray (years, ·)
        Salary (with stipends), pension, health, payroll tax, other benefits. [USD/FTE]
    total : ndarray (years, ·)
        The sum of the components. [USD/FTE]
    entry : ndarray (years, ·)
        Total pay of a position at the entry cell (or base salary), at most ``total``.
        [USD/FTE]
    """
    f = line.growth
    raise_ = f if line.cola is None else f * line.cola
    raise_ = settled(raise_, line.cola_settlement)
    salary, entry_salary, base = _salary(line, raise_)
    stipend = f[1:] * line.stipend if np.any(line.stipend) else 0.0
    zero = np.zeros_like(salary)
    b = line.benefits
    if b is None:
        if line.benefits_growth is None:
            other, other_entry = salary * line.benefits_rate, entry_salary * line.benefits_rate
        else:
            other = line.benefits_growth[1:] * (base * line.benefits_rate)
            other_entry = other
        comp = {"pension": zero, "health": zero, "payroll_tax": zero, "other_benefits": other}
        entry = entry_salary + other_entry + stipend
        total = salary + other  # in this order, as ever: the simple form's numbers stay
        if np.any(line.stipend):
            total = total + stipend
    else:
        pensionable = salary + stipend if b.stipend_pensionable else salary
        pe = entry_salary + stipend if b.stipend_pensionable else entry_salary
        hg = b.health_growth[1:] if b.health_growth is not None else 1.0
        health = zero + hg * b.health_per_fte
        comp = {
            "pension": b.pension_rate * pensionable,
            "health": health,
            "payroll_tax": b.payroll_tax_rate * (salary + stipend),
            "other_benefits": zero,
        }
        entry = (
            entry_salary
            + stipend
            + b.pension_rate * pe
            + health
            + b.payroll_tax_rate * (entry_salary + stipend)
        )
        total = salary + stipend + comp["pension"] + health + comp["payroll_tax"]
    comp["salary"] = salary + stipend
    return {k: comp[k] for k in COMPONENTS}, total, np.minimum(entry, total)
