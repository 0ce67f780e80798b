"""Probabilities: the solvency curve and the scenario comparison.

Every plot takes ``ax=``; without it, a new pyplot figure.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim.plotting.style import (
    _EDGE,
    COLORS,
    HATCHES,
    _as_psolvent,
    _blend,
    _ends,
    _headline,
    _new_axes,
    _select,
    _style,
    _year_axis,
    default_entity,
)

__all__ = ["scenario_comparison", "solvency_curve"]


def solvency_curve(
    data: xr.Dataset,
    by: Literal["school", "scenario"] | None = None,
    *,
    school: str | None = None,
    scenario: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """P(solvent through year t) with its interval band, one line per school or scenario.

    Parameters
    ----------
    data : xarray.Dataset
        Simulation results, or a :func:`~sustainsim.p_solvent` result (``probability``,
        ``lower``, ``upper`` over ``year``, ``school``[, ``scenario``]).
    by : {"school", "scenario"}, optional
        One line per school (and the district total) or per scenario; default
        ``"scenario"`` when there is a ``scenario`` dim, else ``"school"``.
    school, scenario : str, optional
        The entity shown with ``by="scenario"``, the scenario shown with ``by="school"``.

    Returns
    -------
    matplotlib.axes.Axes
        Lines labelled with the school or scenario name; bands: the Wilson interval.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ax = solvency_curve(sustainsim.p_solvent(sustainsim.simulate(spec, draws=1_000, seed=1)))
    >>> print(ax.get_title())
    Solvent through FY2036: ref 2%
    95% interval bands, 1,000 draws
    >>> plt.close(ax.figure)
    """
    ps = _as_psolvent(data)
    by = by or ("scenario" if "scenario" in ps.dims else "school")
    if by not in ("school", "scenario"):
        raise ValueError(f"by must be 'school' or 'scenario' (got {by!r})")
    if by not in ps.dims:
        raise ValueError(f"by={by!r} but the data has no {by!r} dim (dims {tuple(ps.dims)})")
    if by == "school":
        ps, _, scenario = _select(ps, None, scenario, pick_school=False)
        where = f" (scenario {scenario})" if scenario is not None else ""
    else:
        if "school" in ps.dims:
            school = default_entity(ps["school"].values) if school is None else str(school)
            ps = ps.sel(school=school)
        where = f": {school}" if school else ""
    extra = set(ps["probability"].dims) - {"year", by}
    if extra:
        raise ValueError(f"cannot plot dims {sorted(map(str, extra))}; select them first")
    ax = _new_axes(ax)
    years = ps["year"].values
    for i, name in enumerate(ps[by].values):
        p, st = ps.sel({by: name}), _style(i)
        ax.fill_between(years, p["lower"], p["upper"], color=st["color"], alpha=0.2, lw=0)
        ax.plot(years, p["probability"].values, label=str(name), markersize=4, **st)
    _year_axis(ax)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("P(solvent through year) [%]")
    draws = ps.attrs.get("draws")
    sub = f"{ps.attrs.get('confidence', 0.95):.0%} interval bands"
    sub += f", {draws:,} draws" if draws else ""
    end = ps["probability"].isel(year=-1)
    ends = _ends({str(n): float(end.sel({by: n})) for n in ps[by].values})
    _headline(ax, f"Solvent through FY{int(years[-1])}{where}: {ends}", sub)
    ax.legend(title=by, loc="lower left", fontsize="small")
    ax.grid(True)
    return ax


def scenario_comparison(
    data: xr.Dataset,
    *,
    year: int | None = None,
    school: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """P(solvent through a year) by scenario (and school), with interval error bars.

    Parameters
    ----------
    data : xarray.Dataset
        Simulation results or a :func:`~sustainsim.p_solvent` result. With a ``scenario``
        dim: one group of bars per scenario, one bar per school and the district total;
        without: one bar per school.
    year : int, optional
        Fiscal year; default the horizon.
    school : str, optional
        Show only this school (or ``"district"``).

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per school, labelled with its name; error bars: the interval.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> ax = scenario_comparison(sustainsim.simulate_scenarios(spec, draws=1_000, seed=1))
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['expected', 'severe_cuts']
    >>> plt.close(ax.figure)
    """
    ps = _as_psolvent(data)
    years = [int(y) for y in ps["year"].values]
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise ValueError(f"year {year} not in the data (have {years[0]}-{years[-1]})")
    ps = ps.sel(year=year)
    schools = [str(s) for s in ps["school"].values] if school is None else [str(school)]
    groups = [str(s) for s in ps["scenario"].values] if "scenario" in ps.dims else [None]
    extra = set(ps["probability"].dims) - {"school", "scenario"}
    if extra:
        raise ValueError(f"cannot plot dims {sorted(map(str, extra))}; select them first")
    ax = _new_axes(ax)
    x = np.arange(len(groups))
    width = 0.8 / len(schools)
    for i, sch in enumerate(schools):
        sel = ps.sel(school=sch)
        sel = sel.sel(scenario=groups) if groups != [None] else sel
        p, lo, hi = (np.atleast_1d(sel[k].values) for k in ("probability", "lower", "upper"))
        bars = ax.bar(
            x - 0.4 + width * (i + 0.5), p, width * 0.92, yerr=np.vstack([p - lo, hi - p]),
            capsize=3, color=_blend(COLORS[i % len(COLORS)], 0.25),
            hatch=HATCHES[i % len(HATCHES)], label=sch, **_EDGE,
        )  # fmt: skip
        if len(groups) * len(schools) <= 16:
            ax.bar_label(bars, labels=[f"{v:.0%}" for v in p], padding=2, fontsize="small")
    if groups != [None]:
        ax.set_xticks(x, labels=[str(g) for g in groups])
        by = "scenario"
    else:
        ax.set_xticks(x - 0.4 + width * (np.arange(len(schools)) + 0.5), labels=schools)
        by = "school"
    ax.set_xlabel(by)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(f"P(solvent through FY{year})")
    conf = ps.attrs.get("confidence", 0.95)
    ax.set_title(f"Probability of staying solvent through FY{year} by {by}\n"
                 f"error bars: {conf:.0%} interval")  # fmt: skip
    if by == "scenario" and len(schools) > 1:
        ax.legend(title="school", fontsize="small", loc="upper right")
    ax.grid(True, axis="y", alpha=0.3)
    return ax
