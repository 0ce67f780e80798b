"""Scenario discovery plots: the PRIM peeling trade-off and the box it found.

:func:`sustainsim.analysis.discovery.prim` peels the space of sampled inputs down to a
box where failures concentrate. :func:`prim_tradeoff` shows every box of the trajectory
(coverage: the share of all failures inside; density: the share of the box's draws that
fail), :func:`prim_box` the limits of one box on each input's range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim.plotting.style import (
    COLORS,
    _blend,
    _headline,
    _new_axes,
    _text,
    format_input_value,
    input_label,
)

__all__ = ["prim_box", "prim_tradeoff"]

_PCT = ticker.PercentFormatter(xmax=1, decimals=0)


def prim_tradeoff(result: Any, *, ax: Axes | None = None) -> Axes:
    """Coverage against density of every box on a PRIM trajectory, the chosen box marked.

    Parameters
    ----------
    result : PrimResult
        From :func:`sustainsim.analysis.discovery.prim`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]``: one point per box (x coverage, y density), coloured by the
        number of restricted inputs; the line labelled ``"chosen box"`` marks
        ``result.default_box``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> from sustainsim.analysis.discovery import prim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> res = prim(sustainsim.simulate(spec, draws=2_000, seed=1), "solvent")
    >>> ax = prim_tradeoff(res)
    >>> ax.get_xlabel()
    'coverage: share of all solvent draws inside the box [%]'
    >>> plt.close(ax.figure)
    """
    t = result.trajectory
    ax = _new_axes(ax, figsize=(6.5, 4.5))
    pts = ax.scatter(t["coverage"], t["density"], c=t["n_restricted"], cmap="viridis",
                     s=22, edgecolor="black", linewidth=0.3, zorder=3)  # fmt: skip
    ax.plot(t["coverage"], t["density"], color="0.6", lw=0.8, zorder=2)
    k = result.default_box
    row = t.iloc[k]
    ax.plot([row["coverage"]], [row["density"]], "o", ms=12, mfc="none", mec="#D55E00",
            mew=2, label="chosen box", zorder=4)  # fmt: skip
    ax.annotate(f"box {k}: {int(row['n_restricted'])} inputs restricted",
                (row["coverage"], row["density"]), xytext=(10, 10),
                textcoords="offset points", fontsize=8, color="#D55E00")  # fmt: skip
    cbar = ax.figure.colorbar(pts, ax=ax)
    cbar.set_label("inputs restricted")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(_PCT)
    ax.set_xlim(0, 1.03)
    ax.set_ylim(0, 1.03)
    ax.set_xlabel(f"coverage: share of all {result.cases} inside the box [%]")
    ax.set_ylabel("density: share of the box's draws [%]")
    _headline(ax, f"Box {k} holds {row['coverage']:.0%} of {result.cases} at "
              f"{row['density']:.0%} density",
              f"PRIM peeling trajectory, {len(t)} boxes")  # fmt: skip
    ax.legend(loc="lower left")
    ax.grid(True)
    return ax


def prim_box(
    result: Any,
    i: int | None = None,
    *,
    labels: xr.Dataset | Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The limits of PRIM box ``i`` on each restricted input, within the input's range.

    Each row is one restricted input (most important first, redundant ones left out): a
    grey bar for its range over all draws, scaled to [0, 1], and a coloured bar for the
    box's limits, written in the input's units at both ends.

    Parameters
    ----------
    result : PrimResult
    i : int, optional
        The box; default ``result.default_box``.
    labels : Dataset or mapping, optional
        Human labels of the inputs (see :func:`~sustainsim.plotting.style.input_label`).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[1]``: the box's bars (x from the scaled lower limit, width to the
        scaled upper one).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> from sustainsim.analysis.discovery import prim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=2_000, seed=1)
    >>> ax = prim_box(prim(ds, "solvent"), labels=ds)
    >>> ax.get_xlabel()
    "position in the input's range over all draws [%]"
    >>> plt.close(ax.figure)
    """
    k = result.default_box if i is None else int(i)
    b = result.box(k)
    b = b[~b["redundant"]]
    ax = _new_axes(ax, figsize=(7.0, 1.5 + 0.5 * max(len(b), 1)))
    span = (b["max"] - b["min"]).replace(0, 1.0)
    lo = ((b["lower"] - b["min"]) / span).to_numpy()
    hi = ((b["upper"] - b["min"]) / span).to_numpy()
    y = np.arange(len(b))[::-1]
    ax.barh(y, np.ones(len(b)), 0.5, color="0.9", edgecolor="0.6", lw=0.5, label="range")
    ax.barh(y, hi - lo, 0.5, left=lo, color=_blend(COLORS[5], 0.2), edgecolor="black", lw=0.5,
            label="box")  # fmt: skip
    for yy, (name, r), a, z in zip(y, b.iterrows(), lo, hi, strict=True):
        u = result.units.get(name)
        # outside the box's ends, so that the limits of a narrow box do not overlap
        ax.annotate(_text(format_input_value(r["lower"], u)), (a, yy), xytext=(-3, 0),
                    textcoords="offset points", ha="right", va="center", fontsize=7)  # fmt: skip
        ax.annotate(_text(format_input_value(r["upper"], u)), (z, yy), xytext=(3, 0),
                    textcoords="offset points", ha="left", va="center", fontsize=7)  # fmt: skip
    ax.set_yticks(y, labels=[input_label(labels, str(n)) for n in b.index])
    ax.set_ylim(-0.6, len(b) - 0.2)
    ax.set_xlim(-0.25, 1.22)
    ax.xaxis.set_major_formatter(_PCT)
    ax.set_xlabel("position in the input's range over all draws [%]")
    t = result.trajectory.iloc[k]
    _headline(ax, f"Where {result.cases} concentrate: box {k}",
              f"coverage {t['coverage']:.0%}, density {t['density']:.0%}, "
              f"{t['mass']:.0%} of all draws")  # fmt: skip
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="x")
    return ax
