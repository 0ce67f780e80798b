"""The report's figures, drawn on plain matplotlib Figures and returned as PNG bytes.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (Agg, no pyplot state),
so building reports is thread-safe and needs no display; the same inputs give
byte-identical PNG files.
"""

from __future__ import annotations

import io as _io
from collections.abc import Callable

import xarray as xr
from matplotlib.figure import Figure

from sustainsim import metrics, plotting
from sustainsim.report.summary import scenarios as _scenario_names

__all__ = ["DPI", "FIGURES", "check_results", "figure_names", "render_figures"]

#: figure name -> caption, in report order
FIGURES: dict[str, str] = {
    "fan_chart": "Fund balance over the years: quantile bands over draws and the median.",
    "solvency_curve": "Probability that the fund balance stays at or above zero in every year "
    "up to each year, with its confidence interval.",
    "scenario_comparison": "Probability of staying solvent through the horizon by scenario.",
    "balance_distribution": "Distribution over draws of the fund balance at the horizon and of "
    "the lowest balance over the horizon (histogram and cumulative share).",
    "composition": "Budget composition by revenue and cost line in the central case "
    "(every input at its median).",
}

DPI = 110
_MAX_PANELS = 6


def _png(fig: Figure) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return buf.getvalue()


def _panels(n: int, width: float = 8.0, height: float = 4.5) -> tuple[Figure, list]:
    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    scale = 1.0 if n == 1 else 0.7
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


def figure_names(ds: xr.Dataset, central: xr.Dataset | None = None) -> list[str]:
    """The names of the figures :func:`render_figures` draws for ``ds``, in report order."""
    lines = central if central is not None else ds
    skip = {"scenario_comparison"} if "scenario" not in ds.dims else set()
    if not {"revenue_lines", "cost_lines"} <= set(lines.data_vars):
        skip.add("composition")
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

    ``fan_chart``: one panel per scenario (main entity: the district total or the only
    school) or, without scenarios, one per school and the district total (at most
    six panels); ``solvency_curve``; ``scenario_comparison`` when there is a
    ``scenario`` dim; ``balance_distribution`` (final and worst balance);
    ``composition`` when ``central`` is given or ``ds`` has line data.
    ``progress(name)`` is called as each figure is drawn (see :func:`figure_names`).
    """
    check_results(ds)
    out: dict[str, bytes] = {} if progress is None else _Notify(progress)
    scenarios = _scenario_names(ds)
    main = plotting.default_entity(_entities(ds))
    if scenarios != [None]:
        panels = [(main, s) for s in scenarios[:_MAX_PANELS]]
    else:
        panels = [(e, None) for e in _entities(ds)[:_MAX_PANELS]]
    fig, axes = _panels(len(panels))
    for ax, (entity, scenario) in zip(axes, panels, strict=True):
        plotting.fan_chart(ds, school=entity, scenario=scenario, ax=ax)
    out["fan_chart"] = _png(fig)

    ps = metrics.p_solvent(ds)
    fig, (ax,) = _panels(1)
    plotting.solvency_curve(ps, ax=ax)
    out["solvency_curve"] = _png(fig)

    if scenarios != [None]:
        fig, (ax,) = _panels(1)
        plotting.scenario_comparison(ps, ax=ax)
        out["scenario_comparison"] = _png(fig)

    fig, axes = _panels(2)
    plotting.balance_distribution(ds, "final", ax=axes[0])
    plotting.balance_distribution(ds, "worst", ax=axes[1])
    out["balance_distribution"] = _png(fig)

    lines = central if central is not None else ds
    if {"revenue_lines", "cost_lines"} <= set(lines.data_vars):
        fig, (ax,) = _panels(1, width=10.0, height=5.5)
        plotting.composition(lines, ax=ax)
        out["composition"] = _png(fig)
    return {k: out[k] for k in FIGURES if k in out}


def check_results(ds: xr.Dataset) -> None:
    """Raise ValueError unless ``ds`` looks like a sustainsim results Dataset."""
    if not isinstance(ds, xr.Dataset) or "fund_balance" not in ds or "draw" not in ds.dims:
        raise ValueError(
            "expected a sustainsim results Dataset (with 'fund_balance' over draw, year, school)"
        )
