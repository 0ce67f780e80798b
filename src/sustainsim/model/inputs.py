"""Sample a spec into arrays: every stochastic driver realized for a chunk of draws.

``sample_inputs(config, draws)`` is the only place where the config meets random
numbers. Its result, :class:`~sustainsim.model.schools.Inputs`, holds plain floats and
arrays (year-major, ``(years + 1, n)`` with row 0 the base year) that the engine turns
into budgets: the drivers (growth indices, budget cuts, enrollment) are realized here,
each line by the builder of its kind (:mod:`sustainsim.model.builders`), over the lines
:func:`sustainsim.model.walk.school_lines` places in each school's years.

Stream names are stable and derived from the config's names, e.g.
``district.enrollment.common``, ``district.cuts.event``,
``schools.ref.enrollment.innovation``, ``schools.ref.revenue.grant.end``; see
:mod:`sustainsim.sampling` for what that guarantees.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import special

from sustainsim.config.schema import Config, Cuts, GrowthIndex, School
from sustainsim.model import macro, names
from sustainsim.model.builders import LineContext, Sampler, build_line
from sustainsim.model.drivers import cut_factors, enrollment_paths, growth_factors
from sustainsim.model.drivers.cohort import cohort_paths
from sustainsim.model.drivers.enrollment import closure_years, unit_shocks
from sustainsim.model.drivers.regime import regime_cut_hits, regime_magnitudes
from sustainsim.model.enrollment_events import choice_events
from sustainsim.model.flow_inputs import build_flows
from sustainsim.model.funding import tie_costs
from sustainsim.model.schools import Inputs, Response, SchoolInputs
from sustainsim.model.walk import school_lines
from sustainsim.sampling.distributions import Distribution
from sustainsim.sampling.streams import ChunkDraws

__all__ = ["Inputs", "SchoolInputs", "sample_inputs"]


def _growth(s: Sampler, name: str, g: GrowthIndex, years: int) -> np.ndarray:
    n = s.draws.n
    stream = f"district.growth.{name}"
    if isinstance(g.rate, Distribution):
        if g.per == "year":
            rates = s.draws.sample_years(stream, g.rate, years)
            mean = names.summary(stream, "mean")
            s.record(mean, rates.mean(axis=0), f"mean annual {name} growth", "1/yr")
            return growth_factors(rates, years, n)
        rate = s.draws.sample(stream, g.rate)
        s.record(stream, rate, f"annual {name} growth ~ {g.rate}", "1/yr")
        return growth_factors(rate, years, n)
    return growth_factors(float(g.rate), years, 1)


def _cuts(
    s: Sampler,
    cuts: Cuts,
    years: int,
    prefix: str,
    states: np.ndarray | None = None,
    replay: np.ndarray | None = None,
) -> np.ndarray:
    d = s.draws
    if cuts.regime is not None:
        hits, mag = _regime_cuts(s, cuts, years, prefix, states)
        process = prefix
    else:
        prob, magnitude = cuts.probability, cuts.magnitude
        if prob is None or magnitude is None:  # the schema requires both without a regime
            raise ValueError("cuts need probability and magnitude, or a regime")
        p = s.value(f"{prefix}.probability", prob)
        process = f"{prefix}.event"
        hits = d.uniform_years(process, years) < p
        if isinstance(magnitude, Distribution):
            mag = d.sample_years(f"{prefix}.magnitude", magnitude, years)
            s.record(names.summary(f"{prefix}.magnitude", "mean"), mag.mean(axis=0),
                     "mean drawn cut magnitude over the years", "1")  # fmt: skip
        else:
            mag = np.full((years, 1), float(magnitude))
    if replay is not None:  # replayed years: the given factor, no sampled event
        hits = hits & np.isnan(replay)[:, None]
    c = cut_factors(hits, mag, cuts.recovery, mid_year=cuts.timing == "mid_year", fixed=replay)
    s.record(names.summary(process, "count"), hits.sum(axis=0), "number of budget-cut events", "1")
    s.record(names.summary(prefix, "cumulative"), 1.0 - c[-1],
             "share of exposed revenue cut by the end", "1", input=process)  # fmt: skip
    return c


def _regime_cuts(s: Sampler, cuts: Cuts, years: int, prefix: str, states=None):
    """Cut events from the two-state (normal / recession) chain: they cluster in bad years."""
    d = s.draws
    r = cuts.regime
    if r is None:
        raise ValueError("no regime configured")
    rp = f"{prefix}.regime"
    if states is None:
        states = macro.regime_chain(s, r, years, prefix)
    pn = s.value(f"{rp}.normal.probability", r.normal.probability)
    pr = s.value(f"{rp}.recession.probability", r.recession.probability)
    hits = regime_cut_hits(states, d.uniform_years(f"{prefix}.event", years), pn, pr)
    random_mag = any(isinstance(x.magnitude, Distribution) for x in (r.normal, r.recession))
    u_mag = (
        d.uniform_years(f"{prefix}.magnitude", years) if random_mag else np.full((years, 1), 0.5)
    )
    mag = regime_magnitudes(states, u_mag, r.normal.magnitude, r.recession.magnitude)
    s.record(names.summary(prefix, "recession_years"), states.sum(axis=0),
             "number of recession years", "1")  # fmt: skip
    return hits, mag


def _cohort(d, en, T: int, pre: str, entering: np.ndarray, events=None) -> np.ndarray:
    """Grades of the cohort model: ratios, noise, choice events and capacity (by its rule)."""
    later = (en.grades or [])[1:]
    sd, unc = np.asarray(en.per_grade("progression_sd")), en.per_grade("progression_uncertainty")
    ratios = np.asarray(en.progression_ratios(), float)[:, None]
    if any(u > 0 for u in unc):
        z = np.stack(
            [
                special.ndtri(d.uniform(f"{pre}.enrollment.ratio.{g}")) if u > 0 else np.zeros(d.n)
                for g, u in zip(later, unc, strict=True)
            ]
        )
        ratios = ratios * np.exp(np.asarray(unc)[:, None] * z)
    noise = None
    if np.any(sd > 0):
        noise = np.stack(
            [
                sd_g * special.ndtri(d.uniform_years(f"{pre}.enrollment.progression.{g}", T))
                if sd_g > 0
                else np.zeros((T, d.n))
                for g, sd_g in zip(later, sd, strict=True)
            ]
        )
    loss = None
    if events is not None:
        entering, loss = entering * events[0], events[1]
    return cohort_paths(
        np.asarray(en.by_grade, float),
        ratios,
        entering,
        noise,
        capacity=en.capacity,
        rule=en.capacity_rule,
        loss=loss,
    )


def _enrollment(
    s: Sampler,
    school: School,
    T: int,
    z_common: np.ndarray | None,
    pre: str,
    shift: np.ndarray | None = None,
):
    d = s.draws
    en = school.enrollment
    keys = ("drift", "volatility", "persistence", "common_loading")
    par = {k: s.value(f"{pre}.enrollment.{k}", getattr(en, k)) for k in keys}
    if en.model == "aggregate":
        if en.base is None:  # the schema requires a base for the aggregate model
            raise ValueError("aggregate enrollment needs a base")
        par["base"] = s.value(f"{pre}.enrollment.base", en.base, "students")
    else:
        par["base"] = float((en.by_grade or [0.0])[0])
    random_params = any(np.ndim(v) for v in par.values()) or shift is not None
    stochastic = not (isinstance(en.volatility, float) and en.volatility == 0.0)
    if stochastic:
        df = en.innovation_df
        u = d.uniform_years(f"{pre}.enrollment.innovation", T)
        z_own = unit_shocks(u, df, out=u)  # in place: the uniforms are this call's own
        zc = z_common if z_common is not None else np.zeros((T, 1))
        if df is not None and z_common is not None:  # the district's normal shock, as a t
            zc = unit_shocks(special.ndtr(zc), df)
        zc = np.broadcast_to(zc, z_own.shape)
    else:
        z_own = np.zeros((T, d.n if random_params else 1))
        zc = z_own
    closed = None
    if en.closure_hazard > 0:
        closed = closure_years(d.uniform_years(f"{pre}.enrollment.closure", T), en.closure_hazard)
        s.record(names.summary(f"{pre}.enrollment.closure", "closed_years"),
                 closed.sum(axis=0), "projected years closed", "1")  # fmt: skip
    cap = en.capacity if en.capacity is not None else np.inf
    events = choice_events(s, en, T, pre)
    path = enrollment_paths(
        par["base"],
        par["drift"],
        par["volatility"],
        par["persistence"],
        par["common_loading"],
        zc,
        z_own,
        capacity=cap if en.model == "aggregate" else np.inf,
        closed=closed if en.model == "aggregate" else None,
        shift=shift,
        level=events[1] if events is not None and en.model == "aggregate" else None,
    )
    grades = None
    if en.model == "cohort":
        grades = _cohort(d, en, T, pre, path, events)
        if closed is not None:
            grades = np.where(closed[None], 0.0, grades)
        path = grades.sum(axis=0)
    elif en.grades is not None:
        grades = np.asarray(en.grade_shares, float)[:, None, None] * path[None]
    s.record(
        names.summary(f"{pre}.enrollment", "change"),
        path[-1] / path[0] - 1.0,
        "relative enrollment change over the horizon",
        "1",
        input=names.enrollment_input(pre, en),
    )
    return path, grades


def _school_lines(ctx: LineContext, config: Config, school: School, part: str) -> tuple:
    """The typed ``part`` lines of a school, in the order of :func:`school_lines`."""
    return tuple(
        build_line(part, p.line, _placed(ctx, p.offset, p.window))
        for p in school_lines(config, school, part)
    )


def _placed(ctx: LineContext, offset: int, window) -> LineContext:
    """``ctx`` with a placed line's offset and window (itself when they are its own)."""
    if offset == ctx.offset and window == ctx.window:
        return ctx
    return replace(ctx, offset=offset, window=window)


def _response(cfg: Config, school: School) -> Response | None:
    r = school.response or cfg.district.response
    if r is None:
        return None
    return Response(
        r.trigger,
        float(r.cap),
        int(r.lag),
        levers=tuple(r.levers),
        restore=r.restore,
        notice_lag=int(r.notice_lag),
        reserve_floor=float(r.reserve_floor),
    )


def _stressed(cut: np.ndarray | None, stress: float, T: int) -> np.ndarray | None:
    if not stress:
        return cut
    out = (cut if cut is not None else np.ones((T + 1, 1))).copy()
    out[1:] *= 1.0 - stress
    return out


def sample_inputs(config: Config, draws: ChunkDraws) -> Inputs:
    """Realize every driver of ``config`` for the draws of one chunk.

    Parameters
    ----------
    config : Config
        The validated config (``spec.config``).
    draws : ChunkDraws
        The chunk's uniform source and draw range.

    Returns
    -------
    Inputs
    """
    cfg = config
    T = cfg.simulation.years
    first = cfg.simulation.first_year
    s = Sampler(draws)
    cuts = cfg.district.cuts
    states = macro.coupled_states(s, cuts, T)  # None unless a coupling needs the chain
    coupling = cuts.regime.coupling if cuts is not None and cuts.regime is not None else {}
    growth = {
        name: macro.growth_index(s, name, g, T, first, states, coupling.get(name, 0.0))
        if g.path is not None or name in coupling
        else _growth(s, name, g, T)
        for name, g in cfg.district.growth.items()
    }
    needs_common = any(
        not (isinstance(sc.enrollment.common_loading, float) and sc.enrollment.common_loading == 0)
        for sc in cfg.schools
    )
    z_common = None
    if needs_common:
        u = draws.uniform_years("district.enrollment.common", T)
        z_common = special.ndtri(u, out=u)  # in place: the uniforms are this call's own
    if z_common is not None:
        s.record(names.summary("district.enrollment.common", "mean"), z_common.mean(axis=0),
                 "mean district-wide enrollment shock (in sd)", "sd")  # fmt: skip
    district_cut = None
    replay = macro.replayed_factors(cuts, T, first)
    if cuts is not None and cuts.scope == "district":
        district_cut = _cuts(s, cuts, T, "district.cuts", states, replay)
    shift = macro.enrollment_shift(cuts, states)
    policy = cfg.district.reserve
    reserve = policy.months if policy is not None else 0.0
    with_one_time = bool(policy.include_one_time) if policy is not None else False
    schools = []
    for sc in cfg.schools:
        pre = f"schools.{sc.name}"
        path, grades = _enrollment(s, sc, T, z_common, pre, shift)
        cut = district_cut
        if cuts is not None and cuts.scope == "school":
            cut = _cuts(s, cuts, T, f"{pre}.cuts", replay=replay)
        cut = _stressed(cut, cfg.district.stress_cut, T)
        ctx = LineContext(s, pre, growth, T, first)
        rev = _school_lines(ctx, cfg, sc, "revenue")
        cost = _school_lines(ctx, cfg, sc, "cost")
        fb = s.value(f"{pre}.fund_balance", sc.fund_balance, "USD")
        schools.append(
            SchoolInputs(
                sc.name,
                path,
                fb,
                cut,
                rev,
                cost,
                grades=grades,
                grade_labels=tuple(sc.enrollment.grades or ()),
                response=_response(cfg, sc),
                reserve_months=reserve,
                reserve_one_time=with_one_time,
            )
        )
    district = None
    dist = cfg.district
    if (
        dist.revenue
        or dist.cost
        or not (isinstance(dist.fund_balance, float) and dist.fund_balance == 0)
    ):
        total = np.zeros((T + 1, draws.n))
        for x in schools:
            total += x.enrollment
        ctx = LineContext(s, "district", growth, T, first)
        rev = tuple(build_line("revenue", ln, ctx) for ln in dist.revenue)
        cost = tuple(build_line("cost", ln, ctx) for ln in dist.cost)
        fb = s.value("district.fund_balance", dist.fund_balance, "USD")
        district = SchoolInputs(
            "district",
            total,
            fb,
            _stressed(district_cut, dist.stress_cut, T),
            rev,
            cost,
            reserve_months=reserve,
            reserve_one_time=with_one_time,
        )
    schools, district = tie_costs(cfg, schools, district)
    names.annotate(cfg, s.attrs)
    return Inputs(
        n=draws.n,
        years=T,
        first_year=first,
        schools=tuple(schools),
        district=district,
        flows=build_flows(cfg, schools, growth, T),
        scalars=s.scalars,
        scalar_attrs=s.attrs,
        deflator=growth.get(macro.DEFLATOR),
    )
