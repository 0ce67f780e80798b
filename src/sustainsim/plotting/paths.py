"""Paths over years and their distribution: fan chart and balance distribution.

Every plot takes ``ax=`` (a matplotlib Axes to draw on); without it, a new pyplot figure
(so notebooks show it). :mod:`sustainsim.report` passes Axes of plain ``Figure`` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim import metrics
from sustainsim.plotting.style import (
    _ZERO,
    BAD_COLORS,
    BAD_STYLES,
    COLORS,
    UsdFormatter,
    _blend,
    _headline,
    _label,
    _legend_below,
    _new_axes,
    _select,
    _value_axis,
    _where,
    _year_axis,
    bad_future_label,
    short_usd,
)

__all__ = ["balance_distribution", "fan_chart"]


def fan_chart(
    ds: xr.Dataset,
    variable: str = "fund_balance",
    school: str | None = None,
    quantiles: Sequence[float] = metrics.DEFAULT_QUANTILES,
    *,
    scenario: str | None = None,
    highlight: Sequence[int] | None = None,
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
    highlight : sequence of int, optional
        Draws (labels of the ``draw`` coord) whose own paths are drawn over the bands,
        in the colours of :data:`~sustainsim.plotting.style.BAD_COLORS`, labelled
        ``"bad future A"``, ``"B"``, ... (see :func:`~sustainsim.plotting.bad_futures`).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ax = fan_chart(sustainsim.simulate(spec, draws=1_000, seed=1), school="ref")
    >>> print(ax.get_title().replace(chr(92), ""))  # without the escapes of "$"
    ref: median balance -$4.9M in FY2036, 98% end below $0
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
    if highlight is not None and len(highlight):
        paths, _, _ = _select(metrics.entity_balance(ds, variable), entity, scenario)
        _draw_highlight(ax, paths, highlight)
    _year_axis(ax)
    units = ds[variable].attrs.get("units")
    _value_axis(ax.yaxis, units)
    label = _label(ds[variable], variable)
    ax.set_ylabel(label)
    _headline(ax, _fan_finding(ds, variable, q_da, entity, scenario, units),
              f"quantiles over {ds.sizes['draw']:,} draws")  # fmt: skip
    ax.legend(loc="best", fontsize="small")
    ax.grid(True)
    return ax


def _fan_finding(ds, variable, q_da, entity, scenario, units, where: str | None = None) -> str:
    """The fan chart's headline: the median at the horizon (and the share below zero)."""
    year = int(q_da["year"].values[-1])
    name = str(ds[variable].attrs.get("long_name", variable.replace("_", " ")))
    name = "balance" if variable == "fund_balance" else name
    med = float(q_da.sel(quantile=0.5).isel(year=-1)) if 0.5 in q_da["quantile"] else np.nan
    value = short_usd(med) if units == "USD" else f"{med:,.0f}"
    compact = where is not None
    where = _where(entity, scenario) if where is None else where
    text = (
        f"{where}: median {value} by FY{year}"
        if compact
        else (f"{where}: median {name} {value} in FY{year}")
    )
    if variable == "fund_balance":
        end, _, _ = _select(metrics.entity_balance(ds).isel(year=-1), entity, scenario)
        text += f", {float((end < 0).mean()):.0%} end below $0"
    return text


def _draw_highlight(ax: Axes, paths: xr.DataArray, draws: Sequence[int]) -> None:
    """The paths of a few draws over a fan chart, each in its bad-future colour."""
    years = paths["year"].values
    for i, d in enumerate(draws):
        ax.plot(years, paths.sel(draw=d).values, color=BAD_COLORS[i % len(BAD_COLORS)],
                linestyle=BAD_STYLES[i % len(BAD_STYLES)], linewidth=1.6,
                label=bad_future_label(i))  # fmt: skip


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
    twin.set_ylabel("share of draws at or below (ECDF) [%]")
    ax.xaxis.set_major_formatter(UsdFormatter())
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=1))
    ax.set_xlabel(f"{what} [USD]")
    ax.set_ylabel("share of draws per bin [%]")
    below = float(np.mean(values < 0))
    verb = f"end FY{y[-1]} below $0" if which == "final" else f"dip below $0 by FY{y[-1]}"
    _headline(ax, f"{_where(entity, scenario)}: {below:.0%} of draws {verb}",
              f"{what}, {n:,} draws; median {short_usd(float(np.median(values)))}")  # fmt: skip
    twin.spines["right"].set_visible(True)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    _legend_below(ax, h1 + h2, l1 + l2)
    ax.grid(True, alpha=0.3)
    return ax
