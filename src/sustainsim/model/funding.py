"""Costs tied to grants (``funded_by``): the grant's realized years on the cost line.

Run once every line of a chunk is built (:func:`sustainsim.model.inputs.sample_inputs`):
a cost line ``funded_by`` a grant gets a :class:`~sustainsim.model.lines.Funding` with,
per draw, the years the grant pays (``paying``, following its realized end, renewals and
early termination) and the years from its scheduled start on in which it no longer pays
(``expired``). With ``on_expiry = "end"`` the cost stops in the first such year (its
``active`` mask loses them); with ``"absorb"`` it goes on, on the school's general
budget. Before the grant's start the cost runs in its own years like any line.

The grant is looked up among the lines the school runs, preferring one placed like the
cost (the same model, or the school's own lines), then the district's grants
(:func:`sustainsim.config.funding.funding_problems` has checked that one exists).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from sustainsim.config.funding import uses_funding
from sustainsim.config.schema import Config
from sustainsim.model.lines import Funding, GrantRevenue
from sustainsim.model.schools import SchoolInputs
from sustainsim.model.walk import PlacedLine, school_lines
from sustainsim.model.windows import both

__all__ = ["funding", "tie_costs"]


def funding(grant: GrantRevenue, on_expiry: str, years: int) -> Funding:
    """The tie of a cost line to ``grant``: its paying and expired years.

    Examples
    --------
    >>> from sustainsim.model.drivers import grant_schedule
    >>> paying, _ = grant_schedule(2, 3, 5)
    >>> g = GrantRevenue(name="g", amount=1.0, paying=paying, start=2.0)
    >>> funding(g, "end", 5).expired[:, 0].astype(int)
    array([0, 0, 0, 0, 1, 1])
    """
    t = np.arange(years + 1, dtype=float)[:, None]
    paying = np.asarray(grant.paying, dtype=bool)
    expired = (t >= np.asarray(grant.start)) & ~paying
    return Funding(grant.name, paying, expired, on_expiry)


def _tied(line: Any, tie: Funding) -> Any:
    active = line.active
    if tie.on_expiry == "end":
        active = both(active, ~tie.expired)
    return replace(line, active=active, funding=tie)


def _grant(
    name: str,
    where: PlacedLine,
    placed: list[PlacedLine],
    typed: tuple,
    district: SchoolInputs | None,
) -> GrantRevenue:
    same = [
        x
        for p, x in zip(placed, typed, strict=True)
        if isinstance(x, GrantRevenue) and x.name == name
        if (p.offset, p.window) == (where.offset, where.window)
    ]
    other = [x for x in typed if isinstance(x, GrantRevenue) and x.name == name]
    central = [x for x in (district.revenue if district else ()) if isinstance(x, GrantRevenue)]
    found = same + other + [x for x in central if x.name == name]
    if not found:  # pragma: no cover - the config's cross-checks refuse it
        raise ValueError(f"cost funded by {name!r}: no such grant")
    return found[0]


def _tie_school(
    school: SchoolInputs, placed_rev: list, placed_cost: list, district, years: int
) -> SchoolInputs:
    cost = list(school.cost)
    for i, p in enumerate(placed_cost):
        ref = getattr(p.line, "funded_by", None)
        if ref is None:
            continue
        grant = _grant(ref, p, placed_rev, school.revenue, district)
        cost[i] = _tied(cost[i], funding(grant, p.line.on_expiry, years))
    return replace(school, cost=tuple(cost))


def tie_costs(
    config: Config, schools: list[SchoolInputs], district: SchoolInputs | None
) -> tuple[list[SchoolInputs], SchoolInputs | None]:
    """The schools (and district) with every ``funded_by`` cost line tied to its grant.

    Parameters
    ----------
    config : Config
        The validated config the inputs were built from.
    schools : list of SchoolInputs
        The schools' inputs, in ``config.schools`` order, lines in
        :func:`~sustainsim.model.walk.school_lines` order.
    district : SchoolInputs, optional
        The district's own lines.

    Returns
    -------
    (list of SchoolInputs, SchoolInputs or None)
        The same objects when no line is tied.
    """
    if not uses_funding(config):
        return schools, district
    T = config.simulation.years
    out = []
    for sc, x in zip(config.schools, schools, strict=True):
        placed_rev = list(school_lines(config, sc, "revenue"))
        placed_cost = list(school_lines(config, sc, "cost"))
        out.append(_tie_school(x, placed_rev, placed_cost, district, T))
    if district is not None:
        own = [PlacedLine(line) for line in config.district.revenue]
        costs = [PlacedLine(line) for line in config.district.cost]
        district = _tie_school(district, own, costs, None, T)
    return out, district
