"""Questions asked of runs: paired comparisons, stress capacity, risk drivers, Sobol indices, PRIM.

``paired`` (scenario differences on common random numbers), ``stress`` (the largest permanent
cut a school absorbs), ``sensitivity`` (risk drivers: rank correlations, SRC, LMG, tornado table),
``sobol`` (Sobol indices through SALib) and ``discovery`` (PRIM scenario discovery).
"""

from sustainsim.analysis.discovery import PrimResult, prim
from sustainsim.analysis.paired import compare, paired_difference
from sustainsim.analysis.sensitivity import risk_drivers, tornado_table
from sustainsim.analysis.sobol import sobol_indices
from sustainsim.analysis.stress import stress_capacity

__all__ = [
    "PrimResult",
    "compare",
    "paired_difference",
    "prim",
    "risk_drivers",
    "sobol_indices",
    "stress_capacity",
    "tornado_table",
]
