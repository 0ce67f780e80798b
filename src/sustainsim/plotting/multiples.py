"""Small multiples: one panel per school and scenario, on a shared y-axis.

Panels compared side by side must share their scale, or a reader compares tick labels
instead of shapes. :func:`fan_multiples` draws one fan chart per (entity, scenario) and
gives every school panel the same y limits (the district total, several times larger,
gets its own, said in its title); :func:`solvency_multiples` one solvency curve per
scenario, every school and the district in each.
"""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr
from matplotlib.axes import Axes

from sustainsim import metrics
from sustainsim.plotting.paths import _fan_finding, fan_chart
from sustainsim.plotting.probabilities import solvency_curve
from sustainsim.plotting.style import _ends, _label, _select, _text

__all__ = ["fan_multiples", "share_y", "solvency_multiples"]


def share_y(axes: Sequence[Axes]) -> tuple[float, float]:
    """Give every Axes in ``axes`` the union of their y limits; returns the limits."""
    lims = [a.get_ylim() for a in axes]
    lo, hi = min(v[0] for v in lims), max(v[1] for v in lims)
    for a in axes:
        a.set_ylim(lo, hi)
    return lo, hi


def fan_multiples(
    ds: xr.Dataset,
    axes: Sequence[Axes],
    panels: Sequence[tuple[str, str | None]],
    *,
    variable: str = "fund_balance",
    highlight: Sequence[int] | None = None,
) -> list[Axes]:
    """One fan chart per ``(entity, scenario)`` panel; school panels share their y limits.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results.
    axes : sequence of Axes
        One per panel.
    panels : sequence of (entity, scenario)
        Entity: a school or ``"district"``; scenario None without a ``scenario`` dim.
    highlight : sequence of int, optional
        Draws drawn over every panel (the same futures everywhere; see
        :func:`~sustainsim.plotting.bad_futures`).

    Returns
    -------
    list of Axes
        The panels, in order. Panels of schools share y limits, and so do panels of
        the district total; only the first panel keeps its legend.

    Examples
    --------
    >>> import sustainsim
    >>> from matplotlib.figure import Figure
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> ds = sustainsim.simulate(spec, draws=500, seed=1)
    >>> axes = Figure().subplots(1, 2)
    >>> a, b = fan_multiples(ds, axes, [("pl_k8", None), ("trad_k8", None)])
    >>> a.get_ylim() == b.get_ylim()
    True
    """
    if len(axes) != len(panels):
        raise ValueError(f"need one Axes per panel (got {len(axes)} for {len(panels)})")
    by_scenario = len({e for e, _ in panels}) == 1 and len(panels) > 1
    mixed = not by_scenario and len({e == metrics.DISTRICT for e, _ in panels}) == 2
    quantiles = metrics.balance_quantiles(ds, metrics.DEFAULT_QUANTILES, variable)
    units = ds[variable].attrs.get("units")
    for ax, (entity, scenario) in zip(axes, panels, strict=True):
        fan_chart(ds, variable, school=entity, scenario=scenario, highlight=highlight, ax=ax)
        q, _, _ = _select(quantiles, entity, scenario)
        name = str(scenario) if by_scenario else entity
        title = _fan_finding(ds, variable, q, entity, scenario, units, where=name)
        if mixed and entity == metrics.DISTRICT:
            title += "\n(own scale: the schools and the central books)"
        ax.set_title(_text(title))
    districts = [a for a, (e, _) in zip(axes, panels, strict=True) if e == metrics.DISTRICT]
    schools = [a for a in axes if a not in districts]
    for group in (schools, districts):
        if group:
            share_y(group)
    _one_legend(axes)
    what = (
        f" of {panels[0][0]} by scenario"
        if by_scenario
        else " by school" + (f" (scenario {panels[0][1]})" if panels[0][1] is not None else "")
    )
    scale = "one scale" if by_scenario or not districts else "schools on one scale"
    name = _label(ds[variable], variable).split(" [")[0]
    axes[0].figure.suptitle(
        f"{name}{what}: quantiles over {ds.sizes['draw']:,} draws, {scale}",
        x=0.01, ha="left", fontsize="medium",
    )  # fmt: skip
    return list(axes)


def _one_legend(axes: Sequence[Axes]) -> None:
    """Keep the first panel's legend only (the panels share their series)."""
    for a in list(axes)[1:]:
        legend = a.get_legend()
        if legend is not None:
            legend.remove()


def solvency_multiples(
    ds: xr.Dataset, axes: Sequence[Axes], scenarios: Sequence[str | None]
) -> list[Axes]:
    """One solvency curve per scenario, each with every school and the district.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results or a :func:`~sustainsim.p_solvent` result.
    axes : sequence of Axes
        One per scenario.
    scenarios : sequence of str or None
        ``[None]`` without a ``scenario`` dim.

    Returns
    -------
    list of Axes
        Every panel from 0% to 100% (shared); lines labelled with the entities.
    """
    if len(axes) != len(scenarios):
        raise ValueError(f"need one Axes per scenario (got {len(axes)} for {len(scenarios)})")
    ps = ds if "probability" in ds else metrics.p_solvent(ds)
    for ax, scenario in zip(axes, scenarios, strict=True):
        solvency_curve(ps, by="school", scenario=scenario, ax=ax)
        p = ps["probability"].isel(year=-1)
        p = p.sel(scenario=scenario) if scenario is not None else p
        ends = _ends({str(s): float(p.sel(school=s)) for s in p["school"].values})
        ax.set_title(f"{scenario}: {ends}" if scenario is not None else ends)
    share_y(axes)
    _one_legend(axes)
    year = int(ps["year"].values[-1])
    draws = ps.attrs.get("draws")
    axes[0].figure.suptitle(
        f"Probability of staying solvent through each year (FY{year} in the titles); "
        f"{ps.attrs.get('confidence', 0.95):.0%} interval bands"
        + (f", {draws:,} draws" if draws else ""),
        x=0.01, ha="left", fontsize="medium",
    )  # fmt: skip
    return list(axes)
