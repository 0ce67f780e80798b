"""The report's figures, drawn on plain matplotlib Figures and returned as PNG bytes.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (Agg, no pyplot state)
in the house style (:func:`sustainsim.plotting.house_style`), so building reports is
thread-safe and needs no display; the same inputs give byte-identical PNG files.
Which figures a results file gets depends only on the file (and the central case the
caller passes), so ``sustainsim report results.nc`` draws exactly what ``run`` drew
(:func:`figure_names`).
"""

from __future__ import annotations

import io as _io
from collections.abc import Callable

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from sustainsim import metrics, plotting, results
from sustainsim.plotting.composition import CENTRAL, COST_GROUPS, REVENUE_GROUPS
from sustainsim.report.summary import scenarios as _scenario_names

__all__ = ["DPI", "FIGURES", "check_results", "figure_names", "render_figures"]

#: figure name -> caption, in report order
FIGURES: dict[str, str] = {
    "fan_chart": "Fund balance of every school over the years (the config as written): "
    "quantile bands over draws and the median, on one scale for all schools; the "
    "coloured lines are the representative bad futures.",
    "scenario_fans": "Fund balance of the district (or the school) in each scenario, on one "
    "scale, with the same bad futures.",
    "solvency_curve": "Probability that the fund balance stays at or above zero in every year "
    "up to each year, for every school and the district, with its confidence interval; one "
    "panel per scenario.",
    "paired_differences": "Each scenario minus the config as written, on the same draws: the "
    "change in the probability of staying solvent and in the mean ending balance, with "
    "paired confidence intervals.",
    "bad_futures": "Representative bad futures: failing draws spread over the failing tail "
    "(by ending balance), and what their inputs were, each input's value placed among all "
    "draws.",
    "tornado": "What moves the ending balance most: the mean ending balance among the draws "
    "with each input in its lowest and in its highest tenth, the input's value at each end.",
    "balance_distribution": "Distribution over draws of the fund balance at the horizon and of "
    "the lowest balance over the horizon (histogram and cumulative share).",
    "composition": "Budget composition by group (staff, technology, start-up, other) in the "
    "central case (every input at its median), with the net surplus on its own scale.",
}

DPI = 110
_MAX_PANELS = 8
_MAX_COMPOSITION = 3


def _png(fig: Figure) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return buf.getvalue()


def _panels(
    n: int, width: float = 8.0, height: float = 4.5, ncols: int | None = None
) -> tuple[Figure, list]:
    ncols = ncols or (1 if n == 1 else 2 if n <= 4 else min(4, -(-n // 2)))
    nrows = -(-n // ncols)
    scale = 1.0 if n == 1 else 0.7 if ncols == 2 else 0.55
    fig = Figure(
        figsize=(width * scale * ncols, height * scale * nrows + 0.3), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, list(axes[:n])


def _entities(ds: xr.Dataset) -> list[str]:
    names = [str(s) for s in ds["school"].values]
    return names + [metrics.DISTRICT] if len(names) > 1 else names


def _first(ds: xr.Dataset) -> xr.Dataset:
    """The first scenario (the config as written, ``base``, in a CLI run), or ``ds``."""
    return ds.isel(scenario=0) if "scenario" in ds.dims else ds


def _varying_inputs(ds: xr.Dataset) -> list[str]:
    base = _first(ds)
    out = []
    for name in results.input_names(base):
        v = np.asarray(base[name].values, dtype=float)
        if base[name].dims == ("draw",) and v.size > 1 and np.nanmin(v) < np.nanmax(v):
            out.append(name)
    return out


def _bad_draws(ds: xr.Dataset) -> list[int]:
    return plotting.bad_futures(_first(ds))


def figure_names(ds: xr.Dataset, central: xr.Dataset | None = None) -> list[str]:
    """The names of the figures :func:`render_figures` draws for ``ds``, in report order.

    ``scenario_fans`` and ``paired_differences`` need a ``scenario`` dim; ``tornado``
    sampled inputs that vary; ``bad_futures`` those and at least one failing draw;
    ``composition`` per-line data (``central`` or ``ds`` itself).
    """
    lines = central if central is not None else ds
    skip = set() if "scenario" in ds.dims else {"scenario_fans", "paired_differences"}
    if not {"revenue_lines", "cost_lines"} <= set(lines.data_vars):
        skip.add("composition")
    if not _varying_inputs(ds):
        skip |= {"tornado", "bad_futures"}
    elif not _bad_draws(ds):
        skip.add("bad_futures")
    return [k for k in FIGURES if k not in skip]


class _Notify(dict):
    """A dict of figures that calls ``progress(name)`` as each one is drawn."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        super().__init__()
        self._progress = progress

    def __setitem__(self, key: str, value: bytes) -> None:
        super().__setitem__(key, value)
        self._progress(key)


def render_figures(
    ds: xr.Dataset,
    central: xr.Dataset | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, bytes]:
    """Draw the report's figures and return them as PNG bytes by name (see :data:`FIGURES`).

    The figures of :func:`figure_names`, in the house style: ``fan_chart`` one panel per
    school and the district (first scenario; schools on one y scale), ``scenario_fans``
    the main entity per scenario, ``solvency_curve`` every entity per scenario,
    ``paired_differences`` against the first scenario, ``bad_futures``, ``tornado``,
    ``balance_distribution`` and ``composition`` (when ``central`` is given or ``ds``
    has line data). The bad futures (:func:`sustainsim.plotting.bad_futures` of the
    first scenario's main entity) are the same draws in every figure that shows them.
    ``progress(name)`` is called as each figure is drawn.
    """
    check_results(ds)
    names = figure_names(ds, central)
    out: dict[str, bytes] = {} if progress is None else _Notify(progress)
    bad = _bad_draws(ds) if "bad_futures" in names else []
    with plotting.house_style():
        for name in names:
            out[name] = _DRAW[name](ds, central, bad)
    return {k: out[k] for k in FIGURES if k in out}


def _fan_chart(ds, central, bad) -> bytes:
    scenario = _scenario_names(ds)[0]
    entities = _entities(ds)[:_MAX_PANELS]
    fig, axes = _panels(len(entities))
    plotting.fan_multiples(ds, axes, [(e, scenario) for e in entities], highlight=bad)
    return _png(fig)


def _scenario_fans(ds, central, bad) -> bytes:
    main = plotting.default_entity(_entities(ds))
    scenarios = _scenario_names(ds)[:_MAX_PANELS]
    fig, axes = _panels(len(scenarios))
    plotting.fan_multiples(ds, axes, [(main, s) for s in scenarios], highlight=bad)
    return _png(fig)


def _solvency_curve(ds, central, bad) -> bytes:
    scenarios = _scenario_names(ds)[:_MAX_PANELS]
    fig, axes = _panels(len(scenarios))
    plotting.solvency_multiples(metrics.p_solvent(ds), axes, scenarios)
    return _png(fig)


def _paired_differences(ds, central, bad) -> bytes:
    n = ds.sizes["scenario"] - 1
    fig = Figure(figsize=(10.0, 3.0 + 1.6 * n), layout="constrained")
    axes = fig.subplots(2, 1)
    plotting.paired_differences(ds, metric="p_solvent", ax=axes[0])
    plotting.paired_differences(ds, metric="final_balance", ax=axes[1])
    return _png(fig)


def _bad_futures(ds, central, bad) -> bytes:
    main = plotting.default_entity(_entities(ds))
    # the right 7% is room for the values written right of the drivers' Axes
    fig = Figure(figsize=(14.0, 5.0), layout=ConstrainedLayoutEngine(rect=(0, 0, 0.93, 1)))
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    plotting.fan_chart(_first(ds), school=main, highlight=bad, ax=left)
    plotting.bad_future_drivers(_first(ds), bad, ax=right)
    return _png(fig)


def _tornado(ds, central, bad) -> bytes:
    from sustainsim.analysis.sensitivity import tornado_table

    base = _first(ds)
    table = tornado_table(base, "final_balance", inputs=_varying_inputs(ds))
    n = min(len(table), 10)
    fig = Figure(figsize=(9.0, 2.4 + 0.45 * n), layout="constrained")
    main = plotting.default_entity(_entities(ds))
    year = int(ds["year"].values[-1])
    plotting.tornado(table, max_inputs=n, labels=base, ax=fig.add_subplot(),
                     label=f"{main} balance FY{year}")  # fmt: skip
    return _png(fig)


def _balance_distribution(ds, central, bad) -> bytes:
    fig, axes = _panels(2)
    plotting.balance_distribution(ds, "final", ax=axes[0])
    plotting.balance_distribution(ds, "worst", ax=axes[1])
    return _png(fig)


def _composition(ds, central, bad) -> bytes:
    lines = central if central is not None else ds
    schools = [str(s) for s in lines["school"].values]
    entities = schools if 1 < len(schools) <= _MAX_COMPOSITION else [None]
    n = len(entities)
    fig = Figure(figsize=(6.2 * n + 2.4, 6.2), layout="constrained")
    grid = fig.subplots(2, n, squeeze=False, sharex="col", height_ratios=[3, 1.4])
    for j, entity in enumerate(entities):
        plotting.composition(lines, entity, ax=grid[0, j], surplus_ax=grid[1, j])
    if n > 1:
        plotting.share_y(list(grid[0]))
        plotting.share_y(list(grid[1]))
        for ax in (*grid[0, :-1], *grid[1, :-1]):
            ax.get_legend().remove()
        # one legend of every group any school has (a start-up only one school runs)
        seen: dict[str, object] = {}
        for ax in grid[0]:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(lab, h)
        labels = sorted(seen, key=_legend_rank)
        grid[0, -1].legend([seen[lab] for lab in labels], labels,
                           loc="upper left", bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    return _png(fig)


def _legend_rank(label: str) -> tuple[int, int]:
    """Costs before revenues, each from the top of its stack down (as the bars read)."""
    part, _, group = label.partition(": ")
    order = [*(COST_GROUPS if part == "cost" else REVENUE_GROUPS), CENTRAL]
    return (part != "cost", -order.index(group) if group in order else 0)


_DRAW: dict[str, Callable[[xr.Dataset, xr.Dataset | None, list[int]], bytes]] = {
    "fan_chart": _fan_chart,
    "scenario_fans": _scenario_fans,
    "solvency_curve": _solvency_curve,
    "paired_differences": _paired_differences,
    "bad_futures": _bad_futures,
    "tornado": _tornado,
    "balance_distribution": _balance_distribution,
    "composition": _composition,
}


def check_results(ds: xr.Dataset) -> None:
    """Raise ValueError unless ``ds`` looks like a sustainsim results Dataset."""
    if not isinstance(ds, xr.Dataset) or "fund_balance" not in ds or "draw" not in ds.dims:
        raise ValueError(
            "expected a sustainsim results Dataset (with 'fund_balance' over draw, year, school)"
        )
