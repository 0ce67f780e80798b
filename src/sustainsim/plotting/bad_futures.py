"""Representative bad futures: a few failing draws, named and drawn the same way everywhere.

A probability of failure is abstract; one future in which the school fails, with its
own enrollment, raises and cuts, is not. :func:`bad_futures` picks a few draws from the
failing tail (the draws whose fund balance went below zero), spread over it by their
ending balance; :func:`~sustainsim.plotting.fan_chart` (``highlight=``) draws their paths
and :func:`bad_future_drivers` shows what their inputs were, each future in the same
colour and line style (:data:`~sustainsim.plotting.style.BAD_COLORS`) in every figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from sustainsim import metrics, results
from sustainsim.metrics.ranks import rankdata
from sustainsim.plotting.style import (
    BAD_COLORS,
    MARKERS,
    _headline,
    _legend_below,
    _new_axes,
    _select,
    _text,
    bad_future_label,
    default_entity,
    format_input_value,
    input_label,
)

__all__ = ["bad_future_drivers", "bad_futures"]


def bad_futures(
    ds: xr.Dataset,
    school: str | None = None,
    *,
    scenario: str | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
) -> list[int]:
    """A few failing draws, spread over the failing tail by their ending balance.

    Among the draws that are not solvent through the horizon (the entity's fund balance
    below zero in some year), the draw whose ending balance is nearest each quantile of
    the failing draws' ending balances (default their 10th, 50th and 90th percentile: a
    severe, a typical and a mild failure), each draw at most once.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results.
    school, scenario : str, optional
        The entity (default the district total, or the only school) and the scenario
        (default the first).
    quantiles : sequence of float
        Where in the failing tail to pick, in [0, 1].

    Returns
    -------
    list of int
        Draw labels (of the ``draw`` coord), one per quantile; fewer (or none) if fewer
        draws fail.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=1_000, seed=1)
    >>> picked = bad_futures(ds)
    >>> len(picked), bool(ds.fund_balance.sel(draw=picked).min(("year", "school")).max() < 0)
    (3, True)
    """
    qs = [float(q) for q in quantiles]
    if any(not 0 <= q <= 1 for q in qs):
        raise ValueError(f"quantiles must be in [0, 1] (got {list(quantiles)})")
    ok, entity, scenario = _select(metrics.solvent(ds).isel(year=-1), school, scenario)
    end, _, _ = _select(metrics.entity_balance(ds).isel(year=-1), entity, scenario)
    labels = np.asarray(ok["draw"].values)
    failing = ~np.asarray(ok.values, dtype=bool)
    values = np.asarray(end.values, dtype=float)[failing]
    draws = labels[failing]
    picked: list[int] = []
    taken = np.zeros(values.size, dtype=bool)
    for q in qs:
        if taken.all():
            break
        target = np.quantile(values, q)
        dist = np.where(taken, np.inf, np.abs(values - target))
        j = int(np.argmin(dist))
        taken[j] = True
        picked.append(int(draws[j]))
    return picked


def _percentiles(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of each of ``values`` among ``x`` (ties count half)."""
    srt = np.sort(x)
    below = np.searchsorted(srt, values, side="left")
    at = np.searchsorted(srt, values, side="right") - below
    return (below + 0.5 * at) / x.size


def _driver_rows(ds, draws, scenario, inputs) -> list[tuple[str, np.ndarray, np.ndarray, Any]]:
    """Per input: name, the draws' percentiles, their values, units; most unusual first.

    Inputs constant over draws, or ordering the draws exactly like an earlier input
    (a grant's end and its last fiscal year), are left out.
    """
    names = list(results.input_names(ds)) if inputs is None else list(inputs)
    rows: list[tuple[str, np.ndarray, np.ndarray, Any]] = []
    seen: list[np.ndarray] = []
    for name in names:
        da = ds[name]
        if "scenario" in da.dims:
            da, _, _ = _select(da, None, scenario, pick_school=False)
        if set(da.dims) != {"draw"}:
            continue
        x = np.asarray(da.values, dtype=float)
        if np.all(x == x[0]):
            continue
        ranks = rankdata(x)
        if any(np.array_equal(ranks, r) or np.array_equal(ranks, x.size + 1 - r) for r in seen):
            continue
        seen.append(ranks)
        v = np.asarray(da.sel(draw=list(draws)).values, dtype=float)
        rows.append((name, _percentiles(x, v), v, da.attrs.get("units")))
    rows.sort(key=lambda r: -float(np.mean(np.abs(r[1] - 0.5))) if len(r[1]) else 0.0)
    return rows


def bad_future_drivers(
    ds: xr.Dataset,
    draws: Sequence[int],
    *,
    scenario: str | None = None,
    inputs: Sequence[str] | None = None,
    max_inputs: int = 8,
    ax: Axes | None = None,
) -> Axes:
    """The sampled inputs of a few draws, as percentiles among all draws, values written.

    One row per input (the draws' most unusual inputs at the top: by the mean distance
    of their percentiles from the median), one marker per draw in its bad-future colour,
    the input's value written beside it. Inputs constant over draws are left out.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results with sampled inputs (``results.input_names(ds)``).
    draws : sequence of int
        Draw labels, e.g. :func:`bad_futures`.
    inputs : sequence of str, optional
        Default every sampled input.

    Returns
    -------
    matplotlib.axes.Axes
        Marker lines labelled ``"bad future A"``, ...; x: percentile among draws in [0, 1].

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=1_000, seed=1)
    >>> ax = bad_future_drivers(ds, bad_futures(ds))
    >>> ax.get_xlabel()
    'percentile of the input among all draws [%]'
    >>> plt.close(ax.figure)
    """
    rows = _driver_rows(ds, draws, scenario, inputs)[:max_inputs]
    draws = [int(d) for d in draws]
    ax = _new_axes(ax, figsize=(8.0, 1.6 + 0.42 * max(len(rows), 1)))
    y = np.arange(len(rows))[::-1]
    # the values as a table right of the axes, one column per draw, in its colour
    base = blended_transform_factory(ax.transAxes, ax.transData)
    for i, d in enumerate(draws):
        color = BAD_COLORS[i % len(BAD_COLORS)]
        xs = [r[1][i] for r in rows]
        ax.plot(xs, y, linestyle="none", marker=MARKERS[i % len(MARKERS)], ms=7, color=color,
                mec="white", mew=0.5, label=f"{bad_future_label(i)} (draw {d})")  # fmt: skip
        where = base + ScaledTranslation(0.1 + 0.7 * i, 0, ax.figure.dpi_scale_trans)
        ax.text(1.0, len(rows) - 0.45, chr(ord("A") + i), transform=where, ha="left",
                fontsize=8, fontweight="bold", color=color)  # fmt: skip
        for yv, r in zip(y, rows, strict=True):
            ax.text(1.0, yv, _text(format_input_value(r[2][i], r[3])), transform=where,
                    ha="left", va="center", fontsize=7.5, color=color)  # fmt: skip
    ax.axvline(0.5, color="0.5", lw=0.8, ls=":", label="median draw")
    ax.set_yticks(y, labels=[input_label(ds, r[0]) for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.1)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))
    ax.set_xlabel("percentile of the input among all draws [%]")
    entity = default_entity(metrics.entity_balance(ds)["school"].values)
    _headline(ax, f"What the bad futures of {entity} had in common",
              "each input's percentile among all draws; its value at the right")  # fmt: skip
    _legend_below(ax)
    ax.grid(True, axis="x")
    return ax
