"""The grant cliff of each school: when temporary money ends, and how much recurring cost it leaves.

Numpy only, like the engine that calls it. Per school and draw, over projected years
``t = 1 .. T``, with ``TR`` the temporary (non-recurring) revenue, ``NC`` the
non-recurring cost, ``RR = revenue - TR`` and ``RC = cost - NC``:

* **cliff year** ``c``: the first year after the last year with temporary money
  (``TR > 0``), as a fiscal year; NaN when the school has no temporary money or it
  pays to the horizon;
* **uncovered recurring cost** ``U[t] = max(0, RC[t] - RR[t] - max(0, TR[t] - NC[t]))``:
  recurring cost that neither recurring revenue nor the temporary money left after
  non-recurring spending covers;
* **cliff gap** ``max(0, U[c] - U[c - 1])``: the recurring cost newly uncovered when
  the temporary money ends (a cost absorbed onto the general budget shows here; one
  that ends with its grant does not). [USD]

Costs tied to a grant (``funded_by``, :class:`sustainsim.model.lines.Funding`) are
reported as ``grant_funded_cost`` (in the years the grant pays them) and
``absorbed_cost`` (carried on after it stopped), before the management response.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sustainsim.model.lines import Funding

__all__ = ["CLIFF_OUTPUTS", "TIE_OUTPUTS", "Ties", "fill_cliff", "ties_for"]

#: per-year outputs of the ties, each (years, schools, n)
TIE_OUTPUTS = ("grant_funded_cost", "absorbed_cost")
#: per-draw outputs of the cliff, each (schools, n)
CLIFF_OUTPUTS = ("cliff_year", "cliff_gap")


class Ties:
    """Adds a school's grant-funded and absorbed cost lines into ``(years, n)`` arrays."""

    def __init__(self, funded: np.ndarray, absorbed: np.ndarray):
        self.funded, self.absorbed = funded, absorbed
        funded[...] = 0.0
        absorbed[...] = 0.0

    def add(self, funding: Funding | None, amount: np.ndarray) -> None:
        """Split one cost line's ``(years, ·)`` amount by its grant's years."""
        if funding is None:
            return
        self.funded += amount * funding.paying[1:]
        self.absorbed += amount * funding.expired[1:]


def ties_for(out: Mapping[str, np.ndarray], j: int) -> Ties | None:
    """The :class:`Ties` of school ``j`` writing into ``out``, None if ``out`` has none."""
    if TIE_OUTPUTS[0] not in out:
        return None
    return Ties(*(out[k][:, j] for k in TIE_OUTPUTS))


def fill_cliff(out: Mapping[str, np.ndarray], first_year: int) -> None:
    """Write ``cliff_year`` and ``cliff_gap`` ``(schools, n)`` from the schools' budgets.

    ``out`` holds ``revenue`` and ``cost`` ``(years, schools, n)`` and, where the
    config has such lines, ``temporary_revenue`` and ``one_time_cost`` (zero without).

    Examples
    --------
    >>> T = np.zeros((3, 1, 1))
    >>> out = {"revenue": T + [[[1200.0]], [[1200.0]], [[1000.0]]],
    ...        "cost": T + 1100.0, "temporary_revenue": T + [[[200.0]], [[200.0]], [[0.0]]],
    ...        "cliff_year": np.empty((1, 1)), "cliff_gap": np.empty((1, 1))}
    >>> fill_cliff(out, 2030)
    >>> float(out["cliff_year"][0, 0]), float(out["cliff_gap"][0, 0])
    (2032.0, 100.0)
    """
    rev, cost = out["revenue"], out["cost"]
    zero = np.zeros((1, 1, 1))
    temp = out.get("temporary_revenue", zero)
    once = out.get("one_time_cost", zero)
    T = rev.shape[0]
    uncovered = np.maximum(0.0, (cost - once) - (rev - temp) - np.maximum(0.0, temp - once))
    paid = np.broadcast_to(temp > 0, rev.shape)
    last = T - 1 - np.argmax(paid[::-1], axis=0)  # index of the last year with temporary money
    cliff = paid.any(axis=0) & (last < T - 1)
    c = np.minimum(last + 1, T - 1)
    after = np.take_along_axis(uncovered, c[None], axis=0)[0]
    before = np.take_along_axis(uncovered, last[None], axis=0)[0]
    out["cliff_year"][...] = np.where(cliff, first_year + c, np.nan)
    out["cliff_gap"][...] = np.where(cliff, np.maximum(0.0, after - before), np.nan)
