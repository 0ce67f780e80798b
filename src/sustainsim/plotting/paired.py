"""Scenarios against a baseline as paired differences with their intervals.

With common random numbers two scenarios differ draw by draw only by what the scenario
changes, so the difference of their estimates has a far narrower interval than two
separate intervals suggest; this chart draws that difference
(:func:`sustainsim.analysis.paired.compare`), not two absolute bars with unpaired
error bars.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim.analysis.paired import compare
from sustainsim.plotting.style import (
    _EDGE,
    COLORS,
    HATCHES,
    UsdFormatter,
    _blend,
    _headline,
    _new_axes,
    _text,
    short_usd,
)

__all__ = ["paired_differences"]

_WHAT = {
    "p_solvent": "P(solvent through FY{year})",
    "final_balance": "mean fund balance at the end of FY{year}",
    "worst_balance": "mean lowest fund balance to FY{year}",
}


def _points(x: float, pos: int | None = None) -> str:
    """A probability difference in percentage points: ``+12``, ``-5``, ``0``."""
    return f"{100 * x:+.0f}" if round(100 * x) else "0"


def _differences(data: xr.Dataset, baseline: str | None, metric: str) -> xr.Dataset:
    if "difference" in data:
        return data
    return compare(data, baseline, metric=metric)


def paired_differences(
    data: xr.Dataset,
    *,
    baseline: str | None = None,
    metric: str = "p_solvent",
    year: int | None = None,
    school: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Each scenario minus the baseline, per school and the district, with paired intervals.

    Parameters
    ----------
    data : xarray.Dataset
        Simulation results with a ``scenario`` dim (compared here with
        :func:`~sustainsim.analysis.paired.compare`), or a ``compare`` result.
    baseline : str, optional
        The reference scenario; default the first (ignored for a ``compare`` result).
    metric : {"p_solvent", "final_balance", "worst_balance"}
        As in :func:`~sustainsim.analysis.paired.compare`.
    year : int, optional
        For ``p_solvent``: the fiscal year (default the horizon).
    school : str, optional
        Only this entity; default every school and the district.

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal bar container per entity, labelled with its name, over the
        scenarios (top to bottom in the data's order): widths are ``difference``, error
        bars run from ``lower`` to ``upper``. Entities no scenario changes at all (zero
        difference and interval everywhere) are named in the title instead of drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> ds = sustainsim.simulate_scenarios(spec, draws=1_000, seed=1)
    >>> ax = paired_differences(ds)
    >>> (pl,) = [c for c in ax.containers if c.get_label() == "pl_k8"]
    >>> [round(float(p.get_width()), 3) for p in pl.patches]
    [-0.287]
    >>> plt.close(ax.figure)
    """
    cmp = _differences(data, baseline, metric)
    metric = str(cmp.attrs.get("metric", metric))
    base = str(cmp.attrs.get("baseline", "the baseline"))
    years = [int(y) for y in data["year"].values] if "year" in data.coords else []
    if "year" in cmp.dims:
        year = years[-1] if year is None else int(year)
        cmp = cmp.sel(year=year)
    elif years:
        year = years[-1]
    scenarios = [str(s) for s in cmp["scenario"].values]
    schools = [str(s) for s in cmp["school"].values] if school is None else [str(school)]
    same = [s for s in schools if _unchanged(cmp.sel(school=s))] if school is None else []
    same = same if len(same) < len(schools) else []
    schools = [s for s in schools if s not in same]
    ax = _new_axes(ax, figsize=(8.0, 1.6 + 0.5 * len(scenarios) * max(len(schools), 2) ** 0.5))
    y = np.arange(len(scenarios))[::-1].astype(float)
    height = 0.8 / len(schools)
    for i, sch in enumerate(schools):
        sel = cmp.sel(school=sch, scenario=scenarios)
        d, lo, hi = (np.atleast_1d(sel[k].values) for k in ("difference", "lower", "upper"))
        yy = y + 0.4 - height * (i + 0.5)
        ax.barh(yy, d, height * 0.9, xerr=np.vstack([d - lo, hi - d]), capsize=2,
                color=_blend(COLORS[i % len(COLORS)], 0.2), hatch=HATCHES[i % len(HATCHES)],
                label=sch, error_kw={"elinewidth": 1, "ecolor": "0.2"}, **_EDGE)  # fmt: skip
        for yv, dv, lv, hv in zip(yy, d, lo, hi, strict=True):
            text = _points(dv) if metric == "p_solvent" else ("+" if dv > 0 else "") + short_usd(dv)
            right = dv >= 0
            ax.annotate(_text(text), (hv if right else lv, yv), xytext=(4 if right else -4, 0),
                        textcoords="offset points", va="center", fontsize=7,
                        ha="left" if right else "right")  # fmt: skip
    ax.axvline(0, color="black", linewidth=1)
    ax.margins(x=0.12)
    ax.set_yticks(y, labels=scenarios)
    ax.set_ylabel("scenario")
    what = _WHAT.get(metric, metric).format(year=year)
    if metric == "p_solvent":
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_points))
        ax.set_xlabel(f"change in {what} against {base} [percentage points]")
    else:
        ax.xaxis.set_major_formatter(UsdFormatter())
        ax.set_xlabel(f"change in {what} against {base} [USD]")
    conf = float(cmp.attrs.get("confidence", 0.95))
    detail = f"bars: paired difference on the same draws; lines: {conf:.0%} interval"
    if same:
        detail += "\nthe same in every scenario (not drawn): " + ", ".join(same)
    _headline(ax, _finding(cmp, scenarios, schools, what, base, metric), detail)
    if len(schools) > 1:
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles, labels, title="entity", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="x")
    return ax


def _unchanged(cmp: xr.Dataset) -> bool:
    """Whether an entity's difference and interval are zero in every scenario."""
    return all(bool((np.abs(cmp[k]) == 0).all()) for k in ("difference", "lower", "upper"))


def _finding(cmp, scenarios, schools, what, base, metric) -> str:
    """The largest change, in words."""
    d = cmp["difference"].sel(school=schools, scenario=scenarios).transpose("scenario", "school")
    vals = np.asarray(d.values, dtype=float)
    if not np.isfinite(vals).any():
        return f"Scenarios against {base}"
    s, e = np.unravel_index(np.nanargmax(np.abs(vals)), vals.shape)
    v = vals[s, e]
    if metric == "p_solvent":
        amount = f"{100 * v:+.0f} points"
    else:
        amount = ("+" if v > 0 else "") + short_usd(v)
    return f"{scenarios[s]}: {what} {amount} at {schools[e]} against {base}"
