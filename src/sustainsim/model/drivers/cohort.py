"""Grade-level enrollment by cohort survival (the method district demographers use).

Each year every cohort moves up one grade, scaled by that grade's progression ratio
(survival plus net migration), with log-normal noise; the entering grade follows its
own path (the aggregate log-growth process)::

    n[0, t] = entering[t]
    n[g, t] = n[g-1, t-1] * ratio[g] * exp(noise[g, t])      g = 1..G-1

The ratio is the median progression, fixed or one per draw (an uncertain ratio); the
noise has standard deviation ``progression_sd`` (one per grade) on the log
scale. Pupils leaving the last grade graduate.

A building with a ``capacity`` takes at most that many pupils; the pupils it turns away
in year ``t`` are gone from year ``t + 1`` on too (the capped cohort moves up, not the
cohort that applied). Who is turned away is the ``rule``:

* ``"proportional"``: every grade is scaled by ``capacity / total``;
* ``"entrants_first"``: the entering grade is cut first, then grade 1, and so on (pupils
  already enrolled keep their places).

School-choice events (:mod:`sustainsim.model.drivers.choice`) enter as a smaller entering
grade and a one-time ``loss`` factor on the continuing grades, before the cap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CAPACITY_RULES", "cap_grades", "cohort_paths"]

#: who is turned away when a building is full
CAPACITY_RULES = ("proportional", "entrants_first")


def cap_grades(grades: np.ndarray, capacity: float, rule: str = "proportional") -> np.ndarray:
    """One year's grades ``(G, n)`` cut to at most ``capacity`` pupils by ``rule``.

    Examples
    --------
    >>> g = np.array([[50.0], [20.0], [55.0]])  # 125 pupils for 100 places
    >>> cap_grades(g, 100.0)[:, 0].tolist()
    [40.0, 16.0, 44.0]
    >>> cap_grades(g, 100.0, "entrants_first")[:, 0].tolist()
    [25.0, 20.0, 55.0]
    """
    if rule == "proportional":
        total = grades.sum(axis=0)
        return grades * np.minimum(1.0, capacity / np.maximum(total, 1e-300))
    if rule != "entrants_first":
        raise ValueError(f"capacity rule must be one of {CAPACITY_RULES} (got {rule!r})")
    out = grades.copy()
    excess = np.maximum(out.sum(axis=0) - capacity, 0.0)
    for g in range(out.shape[0]):  # lowest grades first
        take = np.minimum(excess, out[g])
        out[g] -= take
        excess = excess - take
    return out


def cohort_paths(
    by_grade: np.ndarray,
    ratios: Sequence[float] | np.ndarray,
    entering: np.ndarray,
    noise: np.ndarray | None = None,
    capacity: float | None = None,
    rule: str = "proportional",
    loss: np.ndarray | None = None,
) -> np.ndarray:
    """Enrollment by grade over years.

    Parameters
    ----------
    by_grade : ndarray (G,) or (G, n)
        Base-year enrollment per grade (one column per path). [students]
    ratios : sequence of float (G - 1) or ndarray (G - 1, n)
        Progression ratio into grades 1..G-1, fixed or one per draw.
    entering : ndarray (T + 1, n)
        Entering-grade enrollment path (row 0 = ``by_grade[0]``).
    noise : ndarray (G - 1, T, n), optional
        Log-scale noise on each grade's progression each year.
    capacity : float, optional
        Most pupils the building takes in a projected year (the base year is as given).
    rule : {"proportional", "entrants_first"}
        Who is turned away when the grades exceed ``capacity`` (:func:`cap_grades`).
    loss : ndarray (T + 1, n), optional
        Multiplier of the continuing grades (1..G-1) in each year (a choice event).

    Returns
    -------
    ndarray (G, T + 1, n)

    Examples
    --------
    >>> cohort_paths(np.array([100.0, 90.0]), [0.95], np.full((3, 1), 100.0))[:, :, 0]
    array([[100., 100., 100.],
           [ 90.,  95.,  95.]])

    The pupils turned away stay away: 110 apply for 100 places in year 1, 10 of the 60
    entrants are turned away, and the 50 admitted (not 60) move up into grade 1 of year 2:

    >>> cohort_paths(np.array([50.0, 50.0]), [1.0], np.array([[50.0, 60.0, 50.0]]).T,
    ...              capacity=100.0, rule="entrants_first")[:, :, 0]
    array([[50., 50., 50.],
           [50., 50., 50.]])
    """
    G = len(by_grade)
    T1, n = entering.shape
    r = np.asarray(ratios, dtype=float)
    r = r[:, None] if r.ndim == 1 else r
    n = max(n, r.shape[-1], noise.shape[-1] if noise is not None else 1)
    out = np.empty((G, T1, n))
    bg = np.asarray(by_grade, dtype=float)
    out[:, 0] = bg[:, None] if bg.ndim == 1 else bg
    out[0] = entering
    for t in range(1, T1):
        step = out[:-1, t - 1] * r
        if noise is not None:
            step = step * np.exp(noise[:, t - 1])
        if loss is not None:
            step = step * loss[t]
        out[1:, t] = step
        if capacity is not None:
            out[:, t] = cap_grades(out[:, t], capacity, rule)
    return out
