"""Budget composition: revenue and cost lines grouped into a few plain-word groups.

Costs are grouped into staff, technology, start-up and other; revenues into formula
funding, categorical funding, levy, other revenue and temporary grants; the groups come
from the line coords of the Dataset (``cost_category``/``cost_kind``,
``revenue_category``/``revenue_kind``). A net-surplus panel under the bars shows the
gap on its own scale, since a gap of 2% of the budget is invisible on bars from $0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from sustainsim import metrics
from sustainsim.plotting.style import (
    _ZERO,
    COLORS,
    HATCHES,
    UsdFormatter,
    _blend,
    _headline,
    _select,
    _where,
    _year_axis,
    format_usd,
)

__all__ = [
    "CENTRAL",
    "COST_GROUPS",
    "REVENUE_GROUPS",
    "composition",
    "grouped_lines",
    "line_groups",
]

#: cost groups in stacking order (bottom first)
COST_GROUPS = ["staff", "technology", "start-up", "other"]
#: revenue groups in stacking order (bottom first)
REVENUE_GROUPS = ["formula funding", "categorical funding", "levy", "other revenue", "grants"]
_REVENUE_OF = {
    "formula": "formula funding",
    "categorical": "categorical funding",
    "levy": "levy",
    "temporary": "grants",
}
#: the group of the district's own (central) money, beside the schools' lines
CENTRAL = "district central"
_COLOR_OF = {
    CENTRAL: "#999999",
    "staff": COLORS[0],
    "technology": COLORS[1],
    "start-up": COLORS[3],
    "other": COLORS[6],
}


def _cost_group(category: str, kind: str) -> str:
    if kind == "one_time" or category == "startup":
        return "start-up"
    if "staff" in (category, kind):
        return "staff"
    if "technology" in (category, kind):
        return "technology"
    return "other"


def line_groups(ds: xr.Dataset, part: str) -> dict[str, list[str]]:
    """The group of every line of ``part`` (``"revenue"`` or ``"cost"``): group -> lines.

    A cost line is ``start-up`` if its kind is ``one_time`` (or its category
    ``startup``), else ``staff`` or ``technology`` if its category or kind says so,
    else ``other``. A revenue line's group follows its category (``temporary``:
    ``grants``; anything else not listed: ``other revenue``). Without category coords
    every line is ``other`` / ``other revenue``. Groups without lines are left out.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> line_groups(sustainsim.central_case(spec), "cost")["start-up"][:2]
    ['startup_technology', 'startup_pd']
    """
    if part not in ("revenue", "cost"):
        raise ValueError(f"part must be 'revenue' or 'cost' (got {part!r})")
    dim = f"{part}_line"
    names = [str(n) for n in ds[dim].values]
    cats = _coord(ds, f"{part}_category", len(names))
    kinds = _coord(ds, f"{part}_kind", len(names))
    order = COST_GROUPS if part == "cost" else REVENUE_GROUPS
    out: dict[str, list[str]] = {g: [] for g in order}
    for name, cat, kind in zip(names, cats, kinds, strict=True):
        group = _cost_group(cat, kind) if part == "cost" else _REVENUE_OF.get(cat, "other revenue")
        out[group].append(name)
    return {g: v for g, v in out.items() if v}


def _coord(ds: xr.Dataset, name: str, n: int) -> list[str]:
    return [str(v) for v in ds[name].values] if name in ds.coords else [""] * n


def grouped_lines(
    ds: xr.Dataset, part: str, school: str | None = None, *, scenario: str | None = None
) -> tuple[xr.DataArray, str, str | None]:
    """The lines of ``part`` summed by group for one entity: DataArray over (group, year).

    Several draws: the mean over draws. ``school`` None: the only school, or the sum
    over schools (``"district"``): then, when the Dataset has the district totals
    (``district_revenue``/``district_cost``: the schools and the central books), the
    central books' part is one more group, ``"district central"``, so the groups sum to
    the district total. Returns ``(amounts, entity, scenario)``.
    """
    var = f"{part}_lines"
    if var not in ds:
        raise ValueError(
            "composition needs per-line data (revenue_lines, cost_lines): pass "
            "sustainsim.central_case(spec) or simulate(spec, lines=True)"
        )
    da = ds[var]
    da = da.mean("draw") if "draw" in da.dims else da
    da, _, scenario = _select(da, None, scenario, pick_school=False)
    names = [str(s) for s in da["school"].values]
    if school is None or school == metrics.DISTRICT:
        entity = names[0] if len(names) == 1 and school is None else metrics.DISTRICT
        da = da.sum("school")
    elif school not in names:
        raise ValueError(f"school {school!r} not in the data (have {names})")
    else:
        entity, da = school, da.sel(school=school)
    dim = f"{part}_line"
    groups = line_groups(ds, part)
    parts = [da.sel({dim: lines}).sum(dim) for lines in groups.values()]
    names = list(groups)
    if entity == metrics.DISTRICT and f"district_{part}" in ds:
        central = _central(ds, part, scenario) - da.sum(dim)
        if bool(np.any(np.abs(central.values) > 0.005)):
            parts.append(central)
            names.append(CENTRAL)
    out = xr.concat(parts, dim="group").assign_coords(group=names)
    out.attrs = {"units": "USD", "long_name": f"{part} by group"}
    return out.transpose("group", "year"), entity, scenario


def _central(ds: xr.Dataset, part: str, scenario: str | None) -> xr.DataArray:
    """The district total of ``part`` (schools and the central books), mean over draws."""
    da = ds[f"district_{part}"]
    da = da.mean("draw") if "draw" in da.dims else da
    da, _, _ = _select(da, None, scenario, pick_school=False)
    return da.reset_coords(drop=True)


def _stack(ax: Axes, amounts: xr.DataArray, part: str, offset: float) -> None:
    """One stacked bar per year: positive amounts upward, negative ones downward."""
    years = amounts["year"].values
    up, down = np.zeros(len(years)), np.zeros(len(years))
    groups = [str(g) for g in amounts["group"].values]
    for j, group in enumerate(groups):
        v = np.asarray(amounts.sel(group=group).values, dtype=float)
        if not np.any(v != 0):
            continue
        color: Any
        if group == CENTRAL:
            color, hatch = _COLOR_OF[group], "xx"
        elif part == "cost":
            color, hatch = _COLOR_OF[group], ""
        else:
            color, hatch = _blend(COLORS[2], 0.15 + 0.6 * j / max(len(groups), 1)), HATCHES[1]
        ax.bar(
            years + offset, v, 0.38, bottom=np.where(v >= 0, up, down), color=color, hatch=hatch,
            label=f"{part}: {group}", edgecolor="white" if part == "cost" else "0.3",
            linewidth=0.4,
        )  # fmt: skip
        up, down = up + np.maximum(v, 0), down + np.minimum(v, 0)


def _surplus_panel(ax: Axes, years: np.ndarray, net: np.ndarray) -> None:
    """The net surplus (revenue minus cost) as a line with markers, zero dashed."""
    ax.axhline(0, **_ZERO)
    ax.plot(years, net, "o-", color="black", ms=4, lw=1.5, label="net surplus")
    neg = net < 0
    ax.fill_between(years, net, 0, where=neg, color=_blend("#D55E00", 0.6), lw=0,
                    interpolate=True, label="deficit")  # fmt: skip
    lo, hi = min(float(net.min()), 0.0), max(float(net.max()), 0.0)
    pad = 0.15 * (hi - lo or max(abs(hi), 1.0))
    ax.set_ylim(lo - pad, hi + pad)
    ax.yaxis.set_major_formatter(UsdFormatter())
    ax.set_ylabel("net surplus [USD]")
    ax.grid(True, axis="y")


def _two_panels() -> tuple[Axes, Axes]:
    """A new pyplot figure: the bars above, the net surplus below, sharing years."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9.0, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.4])
    return top, bottom


def _finding(entity: str, scenario: str | None, years: np.ndarray, net: np.ndarray) -> str:
    where = _where(entity, scenario)
    neg = np.flatnonzero(net < 0)
    if neg.size == 0:
        return f"{where}: revenue covers cost every year (smallest surplus {format_usd(net.min())})"
    worst = int(np.argmin(net))
    return (
        f"{where}: cost exceeds revenue in {neg.size} of {len(years)} years from "
        f"FY{years[neg[0]]}, worst {format_usd(net[worst])} in FY{years[worst]}"
    )


def composition(
    ds_central: xr.Dataset,
    school: str | None = None,
    *,
    scenario: str | None = None,
    ax: Axes | None = None,
    surplus_ax: Axes | None = None,
) -> Axes:
    """Budget composition over the years: grouped revenue and cost bars, and the net surplus.

    Each year has two bars: revenue stacked by group (left, hatched green shades) and
    cost stacked by group (right: staff, technology, start-up, other); positive amounts
    upward, negative ones downward. The net surplus (revenue minus cost) is a line on
    its own axis, so the gap shows even when it is a small share of the budget.

    Parameters
    ----------
    ds_central : xarray.Dataset
        With ``revenue_lines`` and ``cost_lines``: :func:`sustainsim.central_case` or
        ``simulate(spec, lines=True)`` (several draws: the mean over draws is shown).
    school : str, optional
        One school; default the only school, or the sum over schools (``"district"``,
        which may also be given explicitly).
    scenario : str, optional
        With a ``scenario`` dim: the scenario shown (default the first).
    ax, surplus_ax : matplotlib Axes, optional
        The Axes of the bars and of the net surplus. Without ``ax``, a new figure with
        both panels; with ``ax`` but no ``surplus_ax``, the surplus goes on a twin Axes
        (right scale) of ``ax``.

    Returns
    -------
    matplotlib.axes.Axes
        The bars' Axes: one bar container per non-zero group, labelled
        ``"revenue: GROUP"`` / ``"cost: GROUP"``. The surplus line is labelled
        ``"net surplus"``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ax = composition(sustainsim.central_case(spec))
    >>> [c.get_label() for c in ax.containers]
    ['revenue: formula funding', 'revenue: grants', 'cost: other']
    >>> plt.close(ax.figure)
    """
    rev, entity, scenario = grouped_lines(ds_central, "revenue", school, scenario=scenario)
    cost, _, _ = grouped_lines(ds_central, "cost", school, scenario=scenario)
    if ax is None:
        ax, surplus_ax = _two_panels()
    _stack(ax, rev, "revenue", -0.2)
    _stack(ax, cost, "cost", 0.2)
    years = rev["year"].values
    net = rev.sum("group").values - cost.sum("group").values
    twin = surplus_ax is None
    sax: Any = ax.twinx() if twin else surplus_ax
    _surplus_panel(sax, years, net)
    if twin:
        sax.spines["right"].set_visible(True)
    ax.axhline(0, color="black", linewidth=0.8)
    for a in {ax, sax}:
        _year_axis(a)
        if len(years) <= 16:
            a.set_xticks(years)
    if not twin:
        ax.set_xlabel("")
    ax.yaxis.set_major_formatter(UsdFormatter())
    ax.set_ylabel("amount per year [USD]")
    draws = ds_central.sizes.get("draw", 1)
    basis = "central case" if draws == 1 else f"mean over {draws:,} draws"
    _headline(ax, _finding(entity, scenario, years, net),
              f"{basis}; left bar revenue, right bar cost; net surplus "
              + ("right scale" if twin else "below"))  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if not twin:
        sax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y")
    return ax
