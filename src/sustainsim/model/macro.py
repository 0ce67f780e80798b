"""The district-wide economy of a chunk: one recession chain behind every front, replayed years.

A regime chain of ``[district.cuts.regime]`` (:mod:`sustainsim.model.drivers.regime`)
makes cuts cluster in bad years. Its couplings (``[district.cuts.regime.coupling]``)
let the same chain move the other district-wide drivers, so a bad year is bad on every
front at once: in a recession year (state ``R[t] = 1``)::

    g_index[t] = g_index_sampled[t] + coupling[index]        (a growth index's rate)
    log E[t]   = log E[t-1] + ... + coupling["enrollment"]   (every school's enrollment)

so the mean annual rate of a coupled index is ``mean rate + pi * coupling`` with the
stationary recession share ``pi = p_enter / (p_enter + p_exit)``.

Historical replay puts a given path into chosen years: ``path = [..]`` on a growth
index replaces its (sampled and coupled) rate from fiscal year ``path_start`` on;
``factor_path = [..]`` on the cuts replaces the cut factor (events and recovery) in its
years. Numbers come from the streams of the chain (``district.cuts.regime.*``) and of
the growth indices (``district.growth.NAME``); the chain is realized before the
growth indices only when a coupling needs it.
"""

from __future__ import annotations

import numpy as np

from sustainsim.config.district import Cuts, GrowthIndex, Regime
from sustainsim.config.macro import DEFLATOR, ENROLLMENT
from sustainsim.model import names
from sustainsim.model.builders import Sampler
from sustainsim.model.drivers.growth import growth_factors, replay_rates
from sustainsim.model.drivers.regime import regime_states
from sustainsim.sampling.distributions import Distribution

__all__ = [
    "DEFLATOR",
    "ENROLLMENT",
    "coupled_states",
    "enrollment_shift",
    "growth_index",
    "regime_chain",
    "replayed_factors",
]


def regime_chain(s: Sampler, r: Regime, years: int, prefix: str) -> np.ndarray:
    """The states of a regime chain ``(years, n)``: 1 in recession years.

    Streams ``<prefix>.regime.initial`` and ``<prefix>.regime.step``; random
    ``p_enter`` / ``p_exit`` are recorded as ``<prefix>.regime.p_enter`` / ``p_exit``.
    """
    d = s.draws
    rp = f"{prefix}.regime"
    pe = s.value(f"{rp}.p_enter", r.p_enter)
    px = s.value(f"{rp}.p_exit", r.p_exit)
    return regime_states(
        d.uniform(f"{rp}.initial"),
        d.uniform_years(f"{rp}.step", years),
        pe,
        px,
        initial=r.initial,
    )


def coupled_states(s: Sampler, cuts: Cuts | None, years: int) -> np.ndarray | None:
    """The district chain's states when a coupling needs them before the growth indices."""
    if cuts is None or cuts.regime is None or not cuts.regime.coupling:
        return None
    return regime_chain(s, cuts.regime, years, "district.cuts")


def growth_index(
    s: Sampler,
    name: str,
    g: GrowthIndex,
    years: int,
    first_year: int,
    states: np.ndarray | None = None,
    add: float = 0.0,
) -> np.ndarray:
    """Growth factors ``(years + 1, ·)`` of an index with a coupling and/or a replayed path.

    The rate is sampled as for any index (stream ``district.growth.NAME``), ``add`` is
    added in the recession years of ``states``, then ``g.path`` replaces the years it
    covers.
    """
    stream = f"district.growth.{name}"
    rates: float | np.ndarray = float(g.rate) if not isinstance(g.rate, Distribution) else 0.0
    if isinstance(g.rate, Distribution):
        if g.per == "year":
            rates = s.draws.sample_years(stream, g.rate, years)
            mean = names.summary(stream, "mean")
            s.record(mean, rates.mean(axis=0), f"mean annual {name} growth", "1/yr")
        else:
            rates = s.draws.sample(stream, g.rate)
            s.record(stream, rates, f"annual {name} growth ~ {g.rate}", "1/yr")
    if states is not None and add:
        rates = rates + add * states
    if g.path is not None:
        start = (g.path_start if g.path_start is not None else first_year) - first_year + 1
        rates = replay_rates(rates, g.path, start, years)
    r = np.asarray(rates)
    return growth_factors(r, years, r.shape[-1] if r.ndim else 1)


def enrollment_shift(cuts: Cuts | None, states: np.ndarray | None) -> np.ndarray | None:
    """What recession years add to every school's annual log enrollment growth ``(years, n)``."""
    if states is None or cuts is None or cuts.regime is None:
        return None
    add = cuts.regime.coupling.get(ENROLLMENT, 0.0)
    return add * states if add else None


def replayed_factors(cuts: Cuts | None, years: int, first_year: int) -> np.ndarray | None:
    """The replayed cut factors ``(years,)``, NaN in the years left to the events."""
    if cuts is None or cuts.factor_path is None:
        return None
    out = np.full(years, np.nan)
    start = (cuts.path_start if cuts.path_start is not None else first_year) - first_year
    path = np.asarray(cuts.factor_path, dtype=float)
    if start < 0 or start + path.size > years:
        raise ValueError(
            f"district.cuts.factor_path: {path.size} years from {first_year + start} do not "
            f"fit the horizon ({first_year}..{first_year + years - 1})"
        )
    out[start : start + path.size] = path
    return out
