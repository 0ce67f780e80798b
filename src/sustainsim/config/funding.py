"""Funding ties in a config: which grant line pays a cost line (``funded_by``).

A cost line of a school, of a school model or of the district may name the grant line
that pays it, ``funded_by = "NAME"``. The grant must be one the cost's school runs: a
line of the school itself, of its ``model`` or ``previous_model``, or of the district
(a model's cost is checked for every school that runs the model; a district cost may
name only a district grant). :func:`funding_problems` lists every reference that names
no such grant, with the names allowed; the realized tie (the years the grant pays, and
what happens when it stops) is :mod:`sustainsim.model.funding`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["funding_problems", "uses_funding"]


def _grants(lines: Iterable[Any]) -> list[str]:
    return [x.name for x in lines if x.kind == "grant"]


def _problem(where: str, line: Any, grants: list[str], others: set[str]) -> str | None:
    ref = line.funded_by
    if ref is None or ref in grants:
        return None
    allowed = ", ".join(sorted(set(grants))) or "none"
    what = (
        f"{ref!r} is a revenue line but not a grant"
        if ref in others
        else f"unknown grant line {ref!r}"
    )
    return (
        f"{where}.cost.{line.name}.funded_by: {what}; a cost may be funded by a grant of its "
        f"school, the school's model or the district: {allowed}"
    )


def _models_of(config: Any, school: Any) -> list[tuple[str, Any]]:
    out = []
    for attr in ("previous_model", "model"):
        name = getattr(school, attr)
        if name in config.models:
            out.append((name, config.models[name]))
    return out


def funding_problems(config: Any) -> list[str]:
    """Every ``funded_by`` of ``config`` that names no grant its cost's school runs.

    Parameters
    ----------
    config : sustainsim.config.schema.Config
        The config being validated (its schools, models and district).

    Returns
    -------
    list of str
        One message per bad reference: the field path, the value and the grants allowed.
    """
    district = config.district
    problems: list[str | None] = []
    for line in district.cost:
        problems.append(_problem("district", line, _grants(district.revenue), set()))
    district_rev = list(district.revenue)
    run_models: set[str] = set()
    for s in config.schools:
        models = _models_of(config, s)
        run_models.update(name for name, _ in models)
        revenue = list(s.revenue) + [x for _, m in models for x in m.revenue] + district_rev
        grants, others = _grants(revenue), {x.name for x in revenue}
        for line in s.cost:
            problems.append(_problem(f"schools.{s.name}", line, grants, others))
        for name, m in models:
            for line in m.cost:
                problems.append(_problem(f"models.{name}", line, grants, others))
    for name, m in config.models.items():
        if name in run_models:
            continue
        revenue = list(m.revenue) + district_rev
        for line in m.cost:
            problems.append(
                _problem(f"models.{name}", line, _grants(revenue), {x.name for x in revenue})
            )
    return list(dict.fromkeys(p for p in problems if p is not None))


def _all_lines(config: Any) -> Iterator[Any]:
    parts = [config.district, *config.models.values(), *config.schools]
    for owner in parts:
        yield from owner.revenue
        yield from owner.cost


def uses_funding(config: Any) -> bool:
    """Whether any line is ``funded_by`` a grant or sets ``recurring`` itself.

    Such a config's runs keep the funding outputs (``grant_funded_cost``,
    ``absorbed_cost``, ``cliff_year``, ``cliff_gap``); every other config's outputs are
    as before.
    """
    return any(
        getattr(x, "funded_by", None) is not None or x.recurring is not None
        for x in _all_lines(config)
    )
