"""Figures: a Dataset (or a metric's result) in, matplotlib Axes out, in one house style.

``style`` (the house style: fonts, Okabe-Ito colours, dollar and percent axes, human
labels), ``paths`` (fan chart, balance distribution), ``multiples`` (small multiples on a
shared y-axis), ``composition`` (the budget by group with the net surplus),
``probabilities`` (solvency curve, scenario comparison), ``paired`` (scenarios as paired
differences), ``bad_futures`` (representative failing draws), ``risk`` (tornado,
heatmap), ``discovery`` (PRIM), ``sobol`` (Sobol' indices), ``sweeps`` (sweep charts)
and ``diagnostics`` (convergence, back-test coverage). Every plot takes ``ax=``.
"""

from sustainsim.plotting.bad_futures import bad_future_drivers, bad_futures
from sustainsim.plotting.composition import composition, grouped_lines, line_groups
from sustainsim.plotting.diagnostics import plot_convergence, plot_coverage, plot_pit
from sustainsim.plotting.discovery import prim_box, prim_tradeoff
from sustainsim.plotting.multiples import fan_multiples, share_y, solvency_multiples
from sustainsim.plotting.paired import paired_differences
from sustainsim.plotting.paths import balance_distribution, fan_chart
from sustainsim.plotting.probabilities import scenario_comparison, solvency_curve
from sustainsim.plotting.risk import heatmap, tornado
from sustainsim.plotting.sobol import sobol_bars
from sustainsim.plotting.style import (
    UsdFormatter,
    default_entity,
    format_input_value,
    format_usd,
    house_style,
    input_label,
    use_house_style,
)
from sustainsim.plotting.sweeps import sweep_chart

__all__ = [
    "UsdFormatter",
    "bad_future_drivers",
    "bad_futures",
    "balance_distribution",
    "composition",
    "default_entity",
    "fan_chart",
    "fan_multiples",
    "format_input_value",
    "format_usd",
    "grouped_lines",
    "heatmap",
    "house_style",
    "input_label",
    "line_groups",
    "paired_differences",
    "plot_convergence",
    "plot_coverage",
    "plot_pit",
    "prim_box",
    "prim_tradeoff",
    "scenario_comparison",
    "share_y",
    "sobol_bars",
    "solvency_curve",
    "solvency_multiples",
    "sweep_chart",
    "tornado",
    "use_house_style",
]
