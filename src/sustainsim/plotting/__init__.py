"""Figures: a Dataset (or a metric's result) in, matplotlib Axes out, in one house style.

``style`` (colours, markers, dollar axes), ``paths`` (fan chart, balance distribution,
composition), ``probabilities`` (solvency curve, scenario comparison), ``risk`` (tornado,
heatmap) and ``diagnostics`` (convergence, back-test coverage). Every plot takes ``ax=``.
"""

from sustainsim.plotting.diagnostics import plot_convergence, plot_coverage, plot_pit
from sustainsim.plotting.paths import balance_distribution, composition, fan_chart
from sustainsim.plotting.probabilities import scenario_comparison, solvency_curve
from sustainsim.plotting.risk import heatmap, tornado
from sustainsim.plotting.style import UsdFormatter, default_entity, format_usd

__all__ = [
    "UsdFormatter",
    "balance_distribution",
    "composition",
    "default_entity",
    "fan_chart",
    "format_usd",
    "heatmap",
    "plot_convergence",
    "plot_coverage",
    "plot_pit",
    "scenario_comparison",
    "solvency_curve",
    "tornado",
]
