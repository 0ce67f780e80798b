"""Plots of risk drivers and sweeps: tornado charts and probability heatmaps.

Part of :mod:`sustainsim.plotting` (re-exported there); the same conventions hold:
each function takes data and an optional ``ax`` and returns the Axes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import Normalize

from sustainsim.plotting.style import (
    _EDGE,
    _OUTCOME_UNITS,
    COLORS,
    HATCHES,
    _label,
    _legend_below,
    _new_axes,
    _text,
    _value_axis,
    format_input_value,
    input_label,
    short_usd,
)

__all__ = ["heatmap", "tornado"]


def _sens_frame(sens: Any) -> tuple[pd.DataFrame | pd.Series, dict]:
    """A sensitivity table as a DataFrame (low/high/base) or a Series of scores."""
    attrs = dict(getattr(sens, "attrs", {}) or {})
    if isinstance(sens, xr.DataArray):
        if sens.ndim != 1:
            raise ValueError(f"a DataArray of scores must be 1-D (got dims {sens.dims})")
        sens = sens.to_series()
    elif isinstance(sens, xr.Dataset):
        if len(sens.dims) != 1:
            raise ValueError(f"a sensitivity Dataset must have one dim (got {tuple(sens.dims)})")
        sens = sens.to_dataframe()
    if isinstance(sens, pd.Series):
        return sens.astype(float), attrs
    if not isinstance(sens, pd.DataFrame):
        raise TypeError(
            "tornado expects a DataFrame with columns input, low, high[, base], a Series of "
            f"signed scores, or an xarray equivalent (got {type(sens).__name__})"
        )
    df = sens.set_index(next((c for c in ("input", "label") if c in sens.columns), sens.index))
    if not {"low", "high"} <= set(df.columns):
        raise ValueError(
            f"sensitivity table needs columns low and high (and input, base); have {list(sens)}"
        )
    out = df[["low", "high"]].astype(float)
    out["base"] = df["base"].astype(float) if "base" in df.columns else 0.0
    for col in ("low_value", "high_value"):
        if col in df.columns:
            out[col] = df[col].astype(float)
    return out, attrs


def tornado(
    sens: pd.DataFrame | pd.Series | xr.Dataset | xr.DataArray,
    *,
    max_inputs: int = 20,
    label: str | None = None,
    labels: xr.Dataset | Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Tornado chart: which inputs move the outcome most, largest at the top.

    Input formats:

    - **range table** (what :func:`sustainsim.analysis.sensitivity.tornado_table` returns): a
      DataFrame with columns ``input`` (or the index), ``low``, ``high`` and optionally
      ``base``: the outcome with the input low (its bottom tail, e.g. below its 10th
      percentile) and high (top tail), and the outcome over all draws. Bars run from
      ``base`` to ``low`` and to ``high``, ranked by ``|high - low|``. Without ``base``,
      ``low`` and ``high`` are changes from the base (base 0).
    - **signed scores**: a Series (index: inputs) of signed effects, e.g. rank
      correlations; bars from 0, ranked by ``|score|``.

    With ``low_value`` and ``high_value`` columns (the input's values at the two tail
    cut-offs, as ``tornado_table`` gives), each bar's end is annotated with the value of
    the input there, in the input's units when ``labels`` is the results Dataset.
    Inputs are labelled with :func:`~sustainsim.plotting.style.input_label` of
    ``labels`` (the Dataset's ``label`` attrs, or a mapping), else their names in words.

    xarray equivalents (a one-dim Dataset with ``low``/``high``[/``base``], a 1-D
    DataArray of scores) work too. Table ``attrs``: ``units`` (``"USD"``, or ``"1"`` for
    probabilities) or ``outcome`` (a name from ``sensitivity.OUTCOMES``) set the axis
    format; ``long_name``/``outcome`` the label; ``low``/``high`` (tail shares) the legend.

    Returns
    -------
    matplotlib.axes.Axes
        The y tick labels, top to bottom, are the inputs in decreasing order of effect.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> table = pd.DataFrame({"input": ["cuts", "salary"], "low": [-1e5, 2e4],
    ...                       "high": [3e5, 1e5], "base": [5e4, 5e4]})
    >>> ax = tornado(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['cuts', 'salary']
    >>> table["low_value"], table["high_value"] = [0.0, 0.02], [3.0, 0.05]
    >>> ax = tornado(table, labels={"salary": "salary growth"})
    >>> sorted(t.get_text() for t in ax.texts)
    ['0', '0.02', '0.05', '3']
    >>> plt.close(ax.figure)
    """
    if labels is None and isinstance(sens, pd.DataFrame) and {"input", "label"} <= set(sens):
        labels = dict(zip(sens["input"].astype(str), sens["label"].astype(str), strict=True))
    frame, attrs = _sens_frame(sens)
    if len(frame) == 0:
        raise ValueError("the sensitivity table is empty")
    n_bars = min(len(frame), max_inputs)
    ax = _new_axes(ax, figsize=(8.0, 2.4 + 0.45 * n_bars))
    outcome = str(attrs.get("outcome", ""))
    units = attrs.get("units", _OUTCOME_UNITS.get(outcome))
    if isinstance(frame, pd.Series):
        s = frame.loc[frame.abs().sort_values(ascending=False, kind="stable").index[:n_bars]]
        y = np.arange(len(s))[::-1]
        pos = s.to_numpy() >= 0
        for mask, name, i in ((pos, "positive", 0), (~pos, "negative", 1)):
            if mask.any():
                ax.barh(y[mask], s.to_numpy()[mask], color=COLORS[i], hatch=HATCHES[i + 1],
                        label=name, **_EDGE)  # fmt: skip
        ax.axvline(0, color="black", linewidth=1)
        names, title, default = list(s.index), "Sensitivity: signed effect of each input", "effect"
    else:
        effect = (frame["high"] - frame["low"]).abs()
        f = frame.loc[effect.sort_values(ascending=False, kind="stable").index[:n_bars]]
        y = np.arange(len(f))[::-1]
        base = f["base"].to_numpy()
        lo_q, hi_q = attrs.get("low"), attrs.get("high")
        lo_text = f"in its lowest {lo_q:.0%}" if lo_q else "at its low value (P10)"
        hi_text = f"in its highest {1 - hi_q:.0%}" if hi_q else "at its high value (P90)"
        for i, (col, text) in enumerate((("low", lo_text), ("high", hi_text))):
            ax.barh(y, f[col].to_numpy() - base, left=base, height=0.7, color=COLORS[i],
                    hatch=HATCHES[i + 1], label=f"input {text}", **_EDGE)  # fmt: skip
        if {"low_value", "high_value"} <= set(f.columns):
            _annotate_ends(ax, f, y, labels)
        ax.axvline(float(np.median(base)), color="black", linewidth=1, label="base")
        names, default = list(f.index), "outcome"
        title = _tornado_finding(f, labels, units, {**attrs, "label": label})
    ax.set_yticks(y, labels=[_wrap(input_label(labels, str(k)), 32) for k in names])
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.margins(x=0.16)
    _value_axis(ax.xaxis, units)
    text = label or attrs.get("long_name") or outcome.replace("_", " ") or default
    shown = {"1": "%"}.get(str(units), units)
    ax.set_xlabel(f"{text} [{shown}]" if shown and "[" not in text else text)
    ax.set_title(title)
    _legend_below(ax)
    ax.grid(True, axis="x")
    return ax


def _annotate_ends(ax: Axes, f: pd.DataFrame, y: np.ndarray, labels) -> None:
    """The input's values outside each row's bars: the further-left end's on the left.

    The other value goes at the right end, so the two never overlap, however short the bars.
    """
    for yy, (name, row) in zip(y, f.iterrows(), strict=True):
        units = None
        if isinstance(labels, xr.Dataset) and name in labels.variables:
            units = labels[name].attrs.get("units")
        ends = (row["low"], row["high"], row["base"])
        first, second = ("low", "high") if row["low"] <= row["high"] else ("high", "low")
        for col, x, dx, ha in ((first, min(ends), -3, "right"), (second, max(ends), 3, "left")):
            ax.annotate(_text(format_input_value(row[f"{col}_value"], units)), (x, yy),
                        xytext=(dx, 0), textcoords="offset points", ha=ha, va="center",
                        fontsize=7)  # fmt: skip


def _tornado_finding(f: pd.DataFrame, labels, units: str | None, attrs: dict) -> str:
    """The tornado's headline: the top input and the outcome at its two tails."""
    if not len(f):
        return "Sensitivity: outcome with each input low and high"
    name, row = str(f.index[0]), f.iloc[0]
    outcome = str(attrs.get("label") or attrs.get("long_name") or "the outcome").split(" [")[0]
    fmt: Callable[[float], str] = "{:.3g}".format
    if units == "USD":
        fmt = short_usd
    elif units == "1":
        fmt = "{:.0%}".format
    top = input_label(labels, name)
    finding = (
        f"{top[:1].upper() + top[1:]} matters most: {fmt(row['low'])} with it low, "
        f"{fmt(row['high'])} with it high"
    )
    detail = f"{outcome}: mean over each tail's draws; all draws {fmt(row['base'])}"
    return _text(_wrap(finding, 75) + "\n" + _wrap(detail, 75))


def _wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) or text


def heatmap(
    probabilities: xr.DataArray | xr.Dataset,
    *,
    annotate: bool = True,
    fmt: str | Callable[[float], str] = "{:.0%}",
    cmap: str = "viridis",
    vmin: float = 0.0,
    vmax: float = 1.0,
    ax: Axes | None = None,
) -> Axes:
    """A probability over a two-parameter sweep: annotated cells and a 0-1 colorbar.

    Parameters
    ----------
    probabilities : xarray.DataArray
        2-D after dropping size-1 dims: rows are the first dim (y axis, bottom to top),
        columns the second (x axis); the coords are the swept values. A Dataset with a
        ``probability`` variable works too.
    annotate, fmt : bool, str or callable
        Write each cell's value (``fmt.format(v)`` or ``fmt(v)``; NaN shows as "-").
    cmap, vmin, vmax : str, float
        Colour map (default viridis: monotone in lightness, reads in grayscale) and limits.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0].get_array()`` holds the values as drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> p = xr.DataArray([[0.9, 0.7], [0.6, 0.3]], dims=("cut", "grant"),
    ...                  coords={"cut": [0.0, 0.1], "grant": [1, 3]})
    >>> ax = heatmap(p)
    >>> ax.get_title()
    'Probability by cut and grant'
    >>> plt.close(ax.figure)
    """
    da = probabilities
    if isinstance(da, xr.Dataset):
        if "probability" not in da:
            raise ValueError("a Dataset passed to heatmap needs a 'probability' variable")
        da = da["probability"]
    da = da.squeeze(drop=True)
    if da.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D DataArray (got dims {da.dims})")
    ydim, xdim = (str(d) for d in da.dims)
    values = np.asarray(da.values, dtype=float)
    ax = _new_axes(ax, figsize=(1.6 + 0.9 * values.shape[1], 1.4 + 0.6 * values.shape[0]))
    im = ax.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap=cmap,
                   vmin=vmin, vmax=vmax, interpolation="nearest")  # fmt: skip
    for dim, setter in ((xdim, ax.set_xticks), (ydim, ax.set_yticks)):
        coord = da[dim].values if dim in da.coords else np.arange(da.sizes[dim])
        texts = [f"{v:.4g}" if isinstance(v, float | np.floating) else str(v) for v in coord]
        setter(np.arange(len(coord)), labels=texts)
    ax.set_xlabel(
        da[xdim].attrs.get("label") or _label(da[xdim], xdim) if xdim in da.coords else xdim
    )
    ax.set_ylabel(
        da[ydim].attrs.get("label") or _label(da[ydim], ydim) if ydim in da.coords else ydim
    )
    if annotate:
        text_of = fmt.format if isinstance(fmt, str) else fmt
        norm, cm = Normalize(vmin, vmax), im.get_cmap()
        for (r, c), v in np.ndenumerate(values):
            lum = float(np.dot(cm(norm(v))[:3], [0.2126, 0.7152, 0.0722])) if v == v else 1.0
            ax.text(c, r, text_of(v) if v == v else "-", ha="center", va="center",
                    fontsize="small", color="black" if lum > 0.45 else "white")  # fmt: skip
    name = str(da.attrs.get("long_name", da.name or "probability"))
    cbar = ax.figure.colorbar(im, ax=ax)
    cbar.set_label(name)
    if (vmin, vmax) == (0.0, 1.0):
        cbar.formatter = ticker.PercentFormatter(xmax=1, decimals=0)
        cbar.update_ticks()
    ax.set_title(f"{name[:1].upper() + name[1:]} by {ydim} and {xdim}")
    return ax
