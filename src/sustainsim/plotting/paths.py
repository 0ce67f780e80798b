"""Paths over years and their distribution: fan chart, balance distribution, composition.

Every plot takes ``ax=`` (a matplotlib Axes to draw on); without it, a new pyplot figure
(so notebooks show it). :mod:`sustainsim.report` passes Axes of plain ``Figure`` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim import metrics
from sustainsim.plotting.style import (
    _ZERO,
    COLORS,
    HATCHES,
    UsdFormatter,
    _blend,
    _label,
    _legend_below,
    _new_axes,
    _select,
    _value_axis,
    _where,
    _year_axis,
)

__all__ = ["balance_distribution", "composition", "fan_chart"]


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
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ax = fan_chart(sustainsim.simulate(spec, draws=1_000, seed=1), school="ref")
    >>> print(ax.get_title())
    Ending fund balance: ref
    quantiles over 1,000 draws
    >>> plt.close(ax.figure)
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
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ax = balance_distribution(sustainsim.simulate(spec, draws=1_000, seed=1), "worst")
    >>> ax.get_legend().get_texts()[1].get_text()
    'zero: 98.1% of draws below'
    >>> plt.close(ax.figure)
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
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ax = composition(sustainsim.central_case(spec))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['revenue: per_pupil', 'revenue: grant', 'cost: fixed', 'cost: per_pupil']
    >>> plt.close(ax.figure)
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
