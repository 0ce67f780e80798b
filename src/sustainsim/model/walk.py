"""Which lines a school runs, and when: the one walk over a school's revenue or cost lines.

A school runs, in this order:

1. the lines of its ``previous_model`` in the years before its conversion
   (projected years ``1 .. conversion_year - 1``);
2. the lines of its ``model`` from the conversion year on, their own years (a grant's
   start and end, a one-time cost's year, a device purchase) counted from the
   conversion: shifted by ``conversion_year - 1``;
3. its own lines, every year.

The input builders (:func:`sustainsim.model.inputs.sample_inputs`) and the run's
bookkeeping of line names, kinds and outputs (:mod:`sustainsim.run.chunk`) both walk
through :func:`school_lines`, so they cannot disagree. The order is also the order in
which the builders ask for random streams, which fixes Sobol dimensions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from sustainsim.config.schema import Config, School

__all__ = ["PlacedLine", "school_lines"]


class PlacedLine(NamedTuple):
    """A config line placed in a school's years.

    ``offset`` shifts the line's own years (``conversion_year - 1`` for the model's
    lines, else 0); ``window`` is the first and last projected year it runs (both
    included), None for every year.
    """

    line: Any  # a member of the config's RevenueLine or CostLine union
    offset: int = 0
    window: tuple[int, int] | None = None


def school_lines(config: Config, school: School, part: str) -> Iterator[PlacedLine]:
    """The ``part`` (``"revenue"`` or ``"cost"``) lines ``school`` runs, placed in time.

    Parameters
    ----------
    config : Config
        The validated config (its ``models`` and ``simulation.years``).
    school : School
        One of ``config.schools``.
    part : {"revenue", "cost"}

    Yields
    ------
    PlacedLine
        Previous model's lines, then the model's, then the school's own.

    Examples
    --------
    >>> from sustainsim.config.schema import parse_config
    >>> cfg = parse_config({
    ...     "simulation": {"years": 5, "first_year": 2030},
    ...     "models": {
    ...         "old": {"cost": [{"name": "t", "kind": "fixed", "amount": 1.0}]},
    ...         "new": {"cost": [{"name": "pl", "kind": "fixed", "amount": 2.0}]},
    ...     },
    ...     "schools": [{
    ...         "name": "a", "model": "new", "previous_model": "old", "conversion_year": 3,
    ...         "enrollment": {"base": 100},
    ...         "cost": [{"name": "rent", "kind": "fixed", "amount": 3.0}],
    ...     }],
    ... })
    >>> [(p.line.name, p.offset, p.window) for p in school_lines(cfg, cfg.schools[0], "cost")]
    [('t', 0, (1, 2)), ('pl', 2, (3, 5)), ('rent', 0, None)]
    """
    c = school.conversion_year
    years = config.simulation.years
    previous = config.models.get(school.previous_model or "")
    if previous is not None:
        for line in getattr(previous, part):
            yield PlacedLine(line, 0, (1, c - 1))
    model = config.models.get(school.model or "")
    if model is not None:
        for line in getattr(model, part):
            yield PlacedLine(line, c - 1, (c, years))
    for line in getattr(school, part):
        yield PlacedLine(line, 0, None)
