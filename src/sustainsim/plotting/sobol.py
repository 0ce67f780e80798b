"""Sobol' indices as bars: first-order and total effect of each varied assumption."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim.plotting.style import (
    _EDGE,
    COLORS,
    HATCHES,
    _headline,
    _new_axes,
    input_label,
)

__all__ = ["sobol_bars"]


def sobol_bars(
    indices: xr.Dataset,
    *,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """First-order (S1) and total (ST) Sobol' indices per input, with interval bars.

    Parameters
    ----------
    indices : xarray.Dataset
        From :func:`sustainsim.analysis.sobol.sobol_indices` (``S1``, ``ST`` and their
        ``*_conf`` half-widths over ``input``).
    labels : mapping, optional
        Human labels of the inputs (config paths); default the paths in words.

    Returns
    -------
    matplotlib.axes.Axes
        Bar containers labelled ``"first order S1"`` and ``"total ST"``, inputs sorted by
        ``ST``, largest at the top.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> s = xr.Dataset({"S1": ("input", [0.1, 0.6]), "ST": ("input", [0.2, 0.7]),
    ...                 "S1_conf": ("input", [0.05, 0.05]), "ST_conf": ("input", [0.05, 0.05])},
    ...                coords={"input": ["a.b", "c.d"]})
    >>> ax = sobol_bars(s)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['c: d', 'a: b']
    >>> plt.close(ax.figure)
    """
    order = np.argsort(-np.nan_to_num(indices["ST"].values), kind="stable")
    s = indices.isel(input=order)
    names = [str(n) for n in s["input"].values]
    ax = _new_axes(ax, figsize=(8.0, 1.6 + 0.5 * len(names)))
    y = np.arange(len(names))[::-1].astype(float)
    for i, (key, text, dy) in enumerate((("S1", "first order S1", 0.2), ("ST", "total ST", -0.2))):
        conf = s[f"{key}_conf"].values if f"{key}_conf" in s else None
        ax.barh(y + dy, s[key].values, 0.38, xerr=conf, capsize=2, color=COLORS[i],
                hatch=HATCHES[i], label=text, **_EDGE)  # fmt: skip
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, labels=[input_label(labels, n) for n in names])
    ax.xaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))
    outcome = str(indices.attrs.get("outcome", "the outcome"))
    ax.set_xlabel(f"share of the variance of {outcome} [%]")
    top = input_label(labels, names[0]) if names else ""
    _headline(ax, f"{top[:1].upper() + top[1:]} explains the most: "
              f"{float(s['ST'].values[0]):.0%} of the variance with its interactions",
              "Sobol' indices; lines: interval half-widths")  # fmt: skip
    ax.legend(loc="lower right")
    ax.grid(True, axis="x")
    return ax
