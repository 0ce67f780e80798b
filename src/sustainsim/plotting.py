"""Plots of simulation results: Dataset (or metric result) in, matplotlib Axes out.

Every plot takes ``ax=`` (a matplotlib Axes to draw on); without it, a new pyplot figure
(so notebooks show it). :mod:`sustainsim.report` passes Axes of plain ``Figure`` objects.
Grayscale-readable: series differ by line style, marker and hatch, not only colour.
Dollar axes use :func:`format_usd` ("$1.2M", "-$300K"); probabilities are in percent.
With a ``scenario`` dim, "by school" plots can show "by scenario"; one-entity plots take
``school=`` / ``scenario=`` (default: ``"district"`` if several schools, else the only
school; the first scenario).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.transforms import ScaledTranslation

from . import metrics

__all__ = [
    "UsdFormatter",
    "balance_distribution",
    "composition",
    "default_entity",
    "fan_chart",
    "format_usd",
    "heatmap",
    "scenario_comparison",
    "solvency_curve",
    "tornado",
]

#: Okabe-Ito colours (colour-blind safe), neighbours differing in lightness
COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000", "#D55E00", "#56B4E9", "#F0E442"]
LINESTYLES: list[Any] = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "--", "++", "||", "**", "OO", "/."]
_EDGE: dict[str, Any] = {"edgecolor": "black", "linewidth": 0.5}
_ZERO: dict[str, Any] = {"color": "#B00000", "linestyle": "--", "linewidth": 1.2}
_UNITS = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"), (1.0, "")]
#: outcome names of :func:`sustainsim.sensitivity.tornado_table` and their units
_OUTCOME_UNITS = {"final_balance": "USD", "worst_balance": "USD", "solvent": "1", "insolvent": "1"}


def _style(i: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``i``-th series."""
    return {
        "color": COLORS[i % len(COLORS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def _blend(color: str, lightness: float) -> tuple[float, float, float]:
    """``color`` mixed with white: 0 keeps the colour, 1 gives white."""
    rgb = np.array(to_rgb(color))
    return tuple(rgb + (1 - rgb) * lightness)


# --------------------------------------------------------------------------- formatting
def format_usd(x: float, digits: int = 1) -> str:
    """Format a dollar amount compactly: ``$1.2M``, ``-$300K``, ``$4.5B``, ``$950``.

    The unit (K, M, B, T) is the largest in which the rounded amount is at least 1; at
    most ``digits`` decimals, trailing zeros dropped; the minus sign precedes the ``$``.

    Examples
    --------
    >>> format_usd(1_234_567), format_usd(-300_000), format_usd(999_960), format_usd(0)
    ('$1.2M', '-$300K', '$1M', '$0')
    >>> format_usd(1_250_000, digits=2)
    '$1.25M'
    """
    if not np.isfinite(x):
        return "n/a"
    a = abs(float(x))
    mantissa, suffix = round(a, digits), ""
    for scale, unit in _UNITS:
        if round(a / scale, digits) >= 1:
            mantissa, suffix = round(a / scale, digits), unit
            break
    text = f"{mantissa:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if x < 0 and text.strip("0.") else ""
    return f"{sign}${text}{suffix}"


def _exact_digits(value: float, max_digits: int) -> int:
    """Fewest decimals with which :func:`format_usd` shows ``value`` exactly."""
    a = abs(float(value))
    for d in range(max_digits + 1):
        scale = next((s for s, _ in _UNITS if round(a / s, d) >= 1), 1.0)
        if abs(round(a / scale, d) * scale - a) <= 1e-9 * max(a, 1.0):
            return d
    return max_digits


class UsdFormatter(ticker.Formatter):
    """Tick formatter for dollar axes using :func:`format_usd`.

    All ticks get the same number of decimals, the fewest that show every tick exactly
    (``$1M, $1.25M`` rather than ``$1.2M`` for 1.25 million).
    """

    def __init__(self, max_digits: int = 2) -> None:
        self.max_digits = max_digits
        self.digits = 1

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        finite = [v for v in locs if np.isfinite(v)]
        self.digits = max((_exact_digits(v, self.max_digits) for v in finite), default=0)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return format_usd(x, self.digits)

    def format_data_short(self, value: float) -> str:
        return format_usd(value, 3)


def _value_axis(axis, units: str | None) -> None:
    """Dollar or percent tick labels on ``axis`` according to ``units``."""
    if units == "USD":
        axis.set_major_formatter(UsdFormatter())
    elif units == "1":
        axis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, pos: f"{x:.0f}"))
    ax.set_xlabel("fiscal year")


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def _legend_below(ax: Axes, *handles_labels: list) -> None:
    """A legend under the x axis label (half an inch below the Axes)."""
    below = ax.transAxes + ScaledTranslation(0, -0.5, ax.figure.dpi_scale_trans)
    ax.legend(
        *handles_labels, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below,
        ncol=3, fontsize="small",
    )  # fmt: skip


def _label(da: xr.DataArray, default: str) -> str:
    """``Long name [units]`` for an axis label."""
    name = str(da.attrs.get("long_name", ""))
    name = name[:1].upper() + name[1:] if name else default
    units = da.attrs.get("units")
    return f"{name} [{units}]" if units and units != "1" else name


# --------------------------------------------------------------------------- selection
def default_entity(names: Iterable[Any]) -> str:
    """The entity shown when none is chosen: ``"district"`` if present, else the first."""
    names = [str(n) for n in names]
    return metrics.DISTRICT if metrics.DISTRICT in names else names[0]


def _select(obj, school=None, scenario=None, *, pick_school: bool = True):
    """Select one scenario (default the first) and, with ``pick_school``, one school
    (default :func:`default_entity`). Returns ``(obj, school, scenario)``."""
    if "scenario" in obj.dims:
        names = [str(s) for s in obj["scenario"].values]
        scenario = names[0] if scenario is None else str(scenario)
        if scenario not in names:
            raise ValueError(f"scenario {scenario!r} not in the data (have {names})")
        obj = obj.sel(scenario=scenario)
    elif scenario is not None:
        raise ValueError(f"scenario={scenario!r} given but the data has no 'scenario' dim")
    entity = ""
    if pick_school and "school" in obj.dims:
        names = [str(s) for s in obj["school"].values]
        entity = default_entity(names) if school is None else str(school)
        if entity not in names:
            raise ValueError(f"school {entity!r} not in the data (have {names})")
        obj = obj.sel(school=entity)
    return obj, entity, scenario


def _where(entity: str, scenario: str | None) -> str:
    return entity + (f", scenario {scenario}" if scenario is not None else "")


def _as_psolvent(data: xr.Dataset) -> xr.Dataset:
    """``data`` if it is a :func:`~sustainsim.p_solvent` result, else ``p_solvent(data)``."""
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"expected an xarray.Dataset, got {type(data).__name__}")
    if "probability" not in data:
        return metrics.p_solvent(data)
    missing = {"lower", "upper"} - set(data.data_vars)
    if missing:
        raise ValueError(f"probability Dataset lacks {sorted(missing)}")
    return data


# --------------------------------------------------------------------------- plots
def fan_chart(
    ds: xr.Dataset,
    variable: str = "fund_balance",
    school: str | None = None,
    quantiles: Sequence[float] = metrics.DEFAULT_QUANTILES,
    *,
    scenario: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Quantile bands of a path variable over the years, the median line, and zero.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results (dims ``draw``, ``year``, ``school``[, ``scenario``]).
    variable : str
        A path variable: ``fund_balance`` (default), ``surplus``, ``revenue``, ``cost``,
        ``enrollment``. Balances and surpluses get a zero line (label ``"zero"``).
    school, scenario : str, optional
        The entity (school or ``"district"``) and scenario shown.
    quantiles : sequence of float
        Symmetric pairs (in sorted order) become nested bands, the middle level (0.5)
        the line labelled ``"median"``.

    Examples
    --------
    >>> ax = fan_chart(ds, school="ref")  # doctest: +SKIP
    """
    if variable not in ds:
        raise ValueError(f"variable {variable!r} not in the Dataset (have {list(ds.data_vars)})")
    qs = sorted({float(q) for q in quantiles})
    if not qs or qs[0] < 0 or qs[-1] > 1:
        raise ValueError(f"quantiles must be in [0, 1] (got {list(quantiles)})")
    q_da, entity, scenario = _select(metrics.balance_quantiles(ds, qs, variable), school, scenario)
    ax = _new_axes(ax)
    years = q_da["year"].values
    n_bands = len(qs) // 2
    for i, shade in enumerate(np.linspace(0.78, 0.5, max(n_bands, 1))[:n_bands]):
        lo, hi = qs[i], qs[-1 - i]
        ax.fill_between(
            years, q_da.sel(quantile=lo).values, q_da.sel(quantile=hi).values, linewidth=0,
            color=_blend(COLORS[0], shade), label=f"{lo:.0%}-{hi:.0%} of draws",
        )  # fmt: skip
    if len(qs) % 2:
        mid = qs[n_bands]
        label = "median" if mid == 0.5 else f"{mid:.0%} quantile"
        ax.plot(years, q_da.sel(quantile=mid).values, "o-", color="black", ms=4, label=label)
    if variable in ("fund_balance", "surplus"):
        ax.axhline(0, label="zero", **_ZERO)
    _year_axis(ax)
    _value_axis(ax.yaxis, ds[variable].attrs.get("units"))
    label = _label(ds[variable], variable)
    ax.set_ylabel(label)
    where = _where(entity, scenario)
    ax.set_title(f"{label.split(' [')[0]}: {where}\nquantiles over {ds.sizes['draw']:,} draws")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax


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
    >>> ax = solvency_curve(sustainsim.p_solvent(ds))  # doctest: +SKIP
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
    ax.set_ylabel("P(solvent through year)")
    draws = ps.attrs.get("draws")
    sub = f"{ps.attrs.get('confidence', 0.95):.0%} interval bands"
    sub += f", {draws:,} draws" if draws else ""
    ax.set_title(f"Probability of staying solvent{where}\n{sub}")
    ax.legend(title=by, loc="lower left", fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax


def balance_distribution(
    ds: xr.Dataset,
    which: Literal["final", "worst"] = "final",
    school: str | None = None,
    *,
    scenario: str | None = None,
    bins: int = 50,
    ax: Axes | None = None,
) -> Axes:
    """Histogram and ECDF of the final or the worst fund balance over draws.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results.
    which : {"final", "worst"}
        The balance at the end of the last year, or the lowest over the horizon.
    school, scenario, bins
        The entity and scenario shown; histogram bins.

    Returns
    -------
    matplotlib.axes.Axes
        The histogram Axes (bar heights: share of draws per bin, summing to 1). The ECDF
        is on a twin Axes sharing x: ``ax.get_shared_x_axes().get_siblings(ax)``.

    Examples
    --------
    >>> ax = balance_distribution(ds, "worst")  # doctest: +SKIP
    """
    y = ds["year"].values
    if which == "final":
        da, what = metrics.entity_balance(ds).isel(year=-1), f"Fund balance at the end of FY{y[-1]}"
    elif which == "worst":
        da, what = metrics.worst_balance(ds), f"Lowest fund balance FY{y[0]}-FY{y[-1]}"
    else:
        raise ValueError(f"which must be 'final' or 'worst' (got {which!r})")
    da, entity, scenario = _select(da, school, scenario)
    values = np.asarray(da.values, dtype=float).ravel()
    n = values.size
    ax = _new_axes(ax)
    ax.hist(
        values, bins=bins, weights=np.full(n, 1.0 / n), color=_blend(COLORS[0], 0.45),
        edgecolor=COLORS[0], linewidth=0.5, label="share of draws",
    )  # fmt: skip
    ax.axvline(0, label=f"zero: {np.mean(values < 0):.1%} of draws below", **_ZERO)
    twin = ax.twinx()
    # the ECDF at most 4,000 points (exact values there; finer is below a pixel)
    idx = np.unique(np.linspace(0, n - 1, min(n, 4000)).round().astype(int))
    twin.step(
        np.sort(values)[idx],
        (idx + 1) / n,
        where="post",
        color="black",
        lw=1.5,
        label="ECDF (right axis)",
    )
    twin.set_ylim(0, 1.02)
    twin.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))
    twin.set_ylabel("share of draws at or below (ECDF)")
    ax.xaxis.set_major_formatter(UsdFormatter())
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=1))
    ax.set_xlabel(f"{what} [USD]")
    ax.set_ylabel("share of draws per bin")
    ax.set_title(f"{what}: {_where(entity, scenario)}\n{n:,} draws")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    _legend_below(ax, h1 + h2, l1 + l2)
    ax.grid(True, alpha=0.3)
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
    >>> ax = scenario_comparison(ds_scenarios)  # doctest: +SKIP
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


def composition(
    ds_central: xr.Dataset,
    school: str | None = None,
    *,
    scenario: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Budget composition by line over the years: stacked revenue and cost bars.

    Each year has two bars: the revenue lines stacked (left) and the cost lines
    stacked (right), positive amounts upward and negative ones downward; the gap
    between the tops is the year's surplus or deficit.

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

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per non-zero line, labelled ``"revenue: NAME"`` / ``"cost: NAME"``.

    Examples
    --------
    >>> ax = composition(sustainsim.central_case(spec))  # doctest: +SKIP
    """
    if not {"revenue_lines", "cost_lines"} <= set(ds_central.data_vars):
        raise ValueError(
            "composition needs per-line data (revenue_lines, cost_lines): pass "
            "sustainsim.central_case(spec) or simulate(spec, lines=True)"
        )
    ax = _new_axes(ax, figsize=(9.0, 5.0))
    hatch_i, entity = 0, ""
    for part, offset, cmap_name in (("revenue", -0.2, "Blues"), ("cost", 0.2, "Oranges")):
        da = ds_central[f"{part}_lines"]
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
        years = da["year"].values
        line_dim = f"{part}_line"
        keep = [str(n) for n in da[line_dim].values if np.any(da.sel({line_dim: n}) != 0)]
        shades = np.linspace(0.85, 0.35, max(len(keep), 1))
        up, down = np.zeros(len(years)), np.zeros(len(years))
        for j, name in enumerate(keep):
            v = np.asarray(da.sel({line_dim: name}).values, dtype=float)
            ax.bar(
                years + offset, v, 0.38, bottom=np.where(v >= 0, up, down),
                color=mpl.colormaps[cmap_name](shades[j]), hatch=HATCHES[hatch_i % len(HATCHES)],
                label=f"{part}: {name}", edgecolor="black", linewidth=0.4,
            )  # fmt: skip
            hatch_i += 1
            up, down = up + np.maximum(v, 0), down + np.minimum(v, 0)
    ax.axhline(0, color="black", linewidth=0.8)
    _year_axis(ax)
    if len(years) <= 16:
        ax.set_xticks(years)
    ax.yaxis.set_major_formatter(UsdFormatter())
    ax.set_ylabel("Amount per year [USD]")
    draws = ds_central.sizes.get("draw", 1)
    basis = "central case" if draws == 1 else f"mean over {draws:,} draws"
    ax.set_title(f"Budget composition: {_where(entity, scenario)} ({basis})\n"
                 "left bar: revenue lines, right bar: cost lines")  # fmt: skip
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


from .plotting_risk import heatmap, tornado  # noqa: E402  (re-exported)
