"""The school-choice events of a school's enrollment, realized for a chunk of draws.

Each event with a ``hazard`` draws its year from its own stream,
``schools.NAME.enrollment.choice.EVENT`` (one uniform per draw), recorded as the scalar
input ``schools.NAME.enrollment.choice.EVENT.year``; an event with a fixed ``year`` draws nothing.
The factors are those of :func:`sustainsim.model.drivers.choice.choice_factors`.
"""

from __future__ import annotations

import numpy as np

from sustainsim.config.schema import Enrollment
from sustainsim.model import names
from sustainsim.model.builders import Sampler
from sustainsim.model.drivers.choice import choice_factors, event_years

__all__ = ["choice_events"]


def choice_events(
    s: Sampler, en: Enrollment, T: int, pre: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Entering-grade and continuing-grade multipliers ``(T + 1, n)`` of ``en``'s events.

    Parameters
    ----------
    s : Sampler
        The chunk's sampler.
    en : Enrollment
        The school's enrollment config.
    T : int
        Projected years.
    pre : str
        The school's stream prefix (``schools.NAME``).

    Returns
    -------
    (entry, loss) or None
        None without events; see :func:`~sustainsim.model.drivers.choice.choice_factors`.
    """
    if not en.choice_events:
        return None
    years: list[np.ndarray | float] = []
    for e in en.choice_events:
        if e.hazard is None:
            years.append(float(e.year or 1))
            continue
        stream = f"{pre}.enrollment.choice.{e.name}"
        tau = event_years(s.draws.uniform(stream), e.hazard)
        s.record(
            names.summary(stream, "year"),
            tau,
            f"projected year of choice event {e.name} (hazard {e.hazard:g})",
            "1",
        )
        years.append(tau)
    ev = en.choice_events
    return choice_factors(years, [e.share for e in ev], [e.scope for e in ev], T)
