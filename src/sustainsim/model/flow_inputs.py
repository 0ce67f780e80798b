"""Typed money flows from the config: :mod:`sustainsim.config.flows` in, :class:`Flows` out.

School and line names become indices into the chunk's schools and their typed lines
(the order of :func:`sustainsim.model.walk.school_lines`), weights and shares arrays
over schools; the engine (:mod:`sustainsim.model.flows`) sees only these. No random
numbers: every flow parameter is a fixed number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sustainsim.config.flows import flows_configured
from sustainsim.config.schema import Config
from sustainsim.model.drivers import growth_factors
from sustainsim.model.flows import Allocation, Backstop, Charge, Flows
from sustainsim.model.schools import SchoolInputs

__all__ = ["build_flows"]


def _mask(names: Sequence[str], chosen: Sequence[str] | None) -> np.ndarray:
    return np.array([1.0 if chosen is None or n in chosen else 0.0 for n in names])


def _allocation(config: Config, i: int, line, schools: Sequence[SchoolInputs]) -> Allocation:
    a, names = line.allocate, [s.name for s in config.schools]
    temporary = line.kind == "grant"
    if a.method == "shares":
        shares = np.array([float(a.shares.get(n, 0.0)) for n in names])
        return Allocation(i, temporary, shares=shares)
    if a.method == "pass_through":
        targets = []
        for t in a.to:
            j = names.index(t.school)
            for name in t.lines:  # each line in the order given
                idx = tuple(k for k, ln in enumerate(schools[j].cost) if ln.name == name)
                targets.append((j, idx))
        return Allocation(i, temporary, targets=tuple(targets))
    w = _mask(names, a.schools)
    if a.method == "weighted":
        for j, sc in enumerate(config.schools):
            if w[j]:
                w[j] = a.weights[sc.name] if a.weights else sc.attributes[a.weight_attribute]
    return Allocation(i, temporary, share=float(a.share), weights=w)


def _charge(config: Config, i: int, line, growth: Mapping[str, np.ndarray], T: int) -> Charge:
    c, names = line.charge, [s.name for s in config.schools]
    g = growth[c.growth] if isinstance(c.growth, str) else growth_factors(float(c.growth), T, 1)
    rate = None if c.rate is None else float(c.rate)
    return Charge(i, c.method == "indirect_rate", rate, g, _mask(names, c.schools))


def build_flows(
    config: Config,
    schools: Sequence[SchoolInputs],
    growth: Mapping[str, np.ndarray],
    years: int,
) -> Flows | None:
    """The district's flows for the chunk, None when it has none.

    Parameters
    ----------
    config : Config
    schools : sequence of SchoolInputs
        The chunk's schools, in the config's order, with their typed lines.
    growth : mapping of str to ndarray
        The growth indices ``(years + 1, ·)`` of ``[district.growth]``.
    years : int
    """
    d = config.district
    if not flows_configured(d):
        return None
    names = [s.name for s in config.schools]
    allocations = tuple(
        _allocation(config, i, ln, schools) for i, ln in enumerate(d.revenue) if ln.allocate
    )
    charges = tuple(
        _charge(config, i, ln, growth, years) for i, ln in enumerate(d.cost) if ln.charge
    )
    backstop = None
    if d.backstop is not None:
        b = d.backstop
        per = np.inf if b.per_school is None else float(b.per_school)
        backstop = Backstop(float(b.cap), per, _mask(names, b.schools))
    return Flows(allocations, charges, backstop, bool(d.pooled_reserve))
