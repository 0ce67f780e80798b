"""Sweep charts: P(solvent) over a swept config value, with its interval, by a second value."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes

from sustainsim.plotting.style import (
    _headline,
    _new_axes,
    _style,
    default_entity,
    input_label,
)

__all__ = ["sweep_chart"]


def sweep_chart(
    result: xr.Dataset,
    x: str | None = None,
    *,
    school: str | None = None,
    year: int | None = None,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """P(solvent through a year) against a swept value, interval bars, one line per level.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`sustainsim.run.grid.sweep` (one dim per swept path, ``probability``,
        ``lower``, ``upper`` over ``(year, school)``).
    x : str, optional
        The swept path on the x axis; default the first. A second swept path gives one
        line per value; more are not drawn (select them first).
    school, year : optional
        Default the district total (or the only school) and the horizon.
    labels : mapping, optional
        Human labels of the swept paths.

    Returns
    -------
    matplotlib.axes.Axes
        One line per level of the second path (or one line), its y data the
        probabilities and its error bars the interval.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import sustainsim
    >>> from sustainsim.run.grid import sweep
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> res = sweep(spec, {"district.cuts.probability": [0.1, 0.3]}, draws=1_000, seed=1)
    >>> ax = sweep_chart(res)
    >>> ax.get_lines()[0].get_ydata().round(3).tolist()
    [0.039, 0.003]
    >>> plt.close(ax.figure)
    """
    paths = [str(d) for d in result["probability"].dims if d not in ("year", "school")]
    if not paths:
        raise ValueError("sweep_chart needs a sweep result (one dim per swept path)")
    x = paths[0] if x is None else x
    if x not in paths:
        raise ValueError(f"{x!r} is not a swept path (have {paths})")
    others = [p for p in paths if p != x]
    if len(others) > 1:
        raise ValueError(f"select all but two swept paths first (have {paths})")
    school = default_entity(result["school"].values) if school is None else school
    years = [int(v) for v in result["year"].values]
    year = years[-1] if year is None else int(year)
    ps = result[["probability", "lower", "upper"]].sel(school=school, year=year)
    ax = _new_axes(ax, figsize=(7.0, 4.2))
    levels = list(result[others[0]].values) if others else [None]
    xs = np.asarray(result[x].values, dtype=float)
    for i, level in enumerate(levels):
        p = ps.sel({others[0]: level}) if others else ps
        v, lo, hi = (
            np.asarray(p[k].transpose(x).values) for k in ("probability", "lower", "upper")
        )
        text = f"{input_label(labels, others[0])} = {level:.4g}" if others else school
        ax.errorbar(xs, v, yerr=np.vstack([v - lo, hi - v]), capsize=3, ms=5, label=text,
                    **_style(i))  # fmt: skip
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(input_label(labels, x))
    ax.set_ylabel(f"P(solvent through FY{year}) [%]")
    p_all = np.asarray(ps["probability"].values, dtype=float)
    draws, conf = result.attrs.get("draws"), float(result.attrs.get("confidence", 0.95))
    detail = f"bars: {conf:.0%} interval" + (f", {draws:,} draws a point" if draws else "")
    _headline(ax, f"{school}: P(solvent through FY{year}) from {np.nanmin(p_all):.0%} to "
              f"{np.nanmax(p_all):.0%} across the sweep", detail)  # fmt: skip
    ax.legend(loc="best")
    ax.grid(True)
    return ax
