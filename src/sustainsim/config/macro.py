"""Config checks of the district-wide economy: replayed paths, regime couplings, the deflator.

Three features of ``[district]`` read across tables, so they are checked here on the
whole config (from :meth:`sustainsim.config.schema.Config._cross_checks`):

* **historical replay**: a growth index may carry ``path = [..]`` (annual rates) and
  the cuts ``factor_path = [..]`` (the factor on exposed revenue, base year = 1),
  both starting at fiscal year ``path_start`` (default: the first projected year); the
  given years replace the sampled ones, and must lie within the horizon;
* **regime couplings**: ``[district.cuts.regime.coupling]`` maps a channel to what a
  recession year adds: a growth index's name (``funding = -0.02`` is added to that
  index's annual rate) or :data:`ENROLLMENT` (``enrollment = -0.01`` is added to every
  school's annual log enrollment growth, the district-wide part of its shock); the
  chain must be district-wide (``scope = "district"``) so one chain drives every front;
* **the deflator**: :data:`DEFLATOR` is the reserved name of the growth index that
  turns nominal dollars into real dollars of the base year
  (:func:`sustainsim.metrics.views.real_dollars`).
"""

from __future__ import annotations

from typing import Any

from sustainsim.sampling.distributions import Distribution

__all__ = ["DEFLATOR", "ENROLLMENT", "macro_problems"]

#: the reserved growth index of the price level (real dollars of the base year)
DEFLATOR = "deflator"
#: the coupling channel of the district-wide enrollment shock
ENROLLMENT = "enrollment"


def _lowest(rate: Any) -> float:
    return float(rate.bounds()[0]) if isinstance(rate, Distribution) else float(rate)


def _window(where: str, path: list[float], start: int | None, first: int, years: int) -> list[str]:
    """The replayed years must be projected years."""
    start = first if start is None else start
    last = first + years - 1
    if start < first or start > last:
        return [f"{where}.path_start: {start} is not a projected fiscal year ({first}..{last})"]
    if start + len(path) - 1 > last:
        return [
            f"{where}: a path of {len(path)} years from {start} runs past the horizon "
            f"(last projected year {last}); give at most {last - start + 1} values"
        ]
    return []


def _coupling_problems(district: Any) -> list[str]:
    cuts = district.cuts
    regime = cuts.regime if cuts is not None else None
    coupling = regime.coupling if regime is not None else {}
    if not coupling:
        return []
    where = "district.cuts.regime.coupling"
    problems: list[str] = []
    if cuts.scope != "district":
        problems.append(
            f"{where}: couplings need one district-wide chain; set district.cuts.scope = "
            f'"district" (got {cuts.scope!r})'
        )
    growth = district.growth
    if ENROLLMENT in growth:
        problems.append(
            f"{where}: {ENROLLMENT!r} is both a growth index and the enrollment channel; "
            "rename the growth index"
        )
    allowed = ", ".join([*sorted(growth), ENROLLMENT])
    for channel, value in coupling.items():
        if channel != ENROLLMENT and channel not in growth:
            problems.append(
                f"{where}.{channel}: unknown channel {channel!r}; allowed: {allowed} (a "
                f"growth index of [district.growth] or {ENROLLMENT!r})"
            )
        elif channel in growth and _lowest(growth[channel].rate) + value <= -1:
            problems.append(
                f"{where}.{channel}: {value:g} added to the lowest rate of "
                f"district.growth.{channel} gives a rate <= -1 (a price level at or below 0)"
            )
    return problems


def macro_problems(config: Any) -> list[str]:
    """Problems of replayed paths and regime couplings in a whole config.

    Parameters
    ----------
    config : sustainsim.config.schema.Config

    Returns
    -------
    list of str
        One message per problem, each naming the field, the value and what is allowed.
    """
    sim, district = config.simulation, config.district
    problems: list[str] = []
    for name, g in district.growth.items():
        if g.path is not None:
            problems += _window(
                f"district.growth.{name}", g.path, g.path_start, sim.first_year, sim.years
            )
    cuts = district.cuts
    if cuts is not None and cuts.factor_path is not None:
        problems += _window(
            "district.cuts", cuts.factor_path, cuts.path_start, sim.first_year, sim.years
        )
    return problems + _coupling_problems(district)
