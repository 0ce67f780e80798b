"""The HTML report: key figures as PNG files and one self-contained ``report.html``.

A board's report, built from a results Dataset and never simulating: the executive
summary (:mod:`~sustainsim.report.executive`), the sections per school and scenario,
the assumptions in plain words (:mod:`~sustainsim.report.assumptions`), the detail
tables (:mod:`~sustainsim.report.summary`) and the figures
(:mod:`~sustainsim.report.figures`), laid out by :mod:`~sustainsim.report.page` and
written by :mod:`~sustainsim.report.write`. Table cells carry the exact values in
``data-*`` attributes, so the report can be checked against :func:`sustainsim.summary`.
Every file is written atomically; the same inputs give byte-identical files.
"""

from __future__ import annotations

from sustainsim.report.figures import FIGURES, check_results, figure_names, render_figures
from sustainsim.report.page import build_html
from sustainsim.report.summary import summary_tables
from sustainsim.report.write import write_report, write_run_figures

__all__ = [
    "FIGURES",
    "build_html",
    "check_results",
    "figure_names",
    "render_figures",
    "summary_tables",
    "write_report",
    "write_run_figures",
]
