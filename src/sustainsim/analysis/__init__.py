"""Questions asked of runs: paired comparisons, stress capacity, risk drivers, Sobol indices, PRIM.

``paired`` (scenario differences on common random numbers), ``stress`` (the largest permanent
cut a school absorbs), ``stress_pairs`` (that cut under two models on common draws),
``sensitivity`` (risk drivers: rank correlations, SRC, LMG, tornado table),
``sobol`` (Sobol indices through SALib), ``discovery`` (PRIM scenario discovery), ``levers``
(decisions ranked on common draws), ``breakeven`` (break-evens, "what must be true") and
``millage`` (the millage a levy needs for a target P(solvent)).
"""

from sustainsim.analysis.breakeven import break_even, distribution_inputs, what_must_be_true
from sustainsim.analysis.discovery import PrimResult, prim
from sustainsim.analysis.levers import levers
from sustainsim.analysis.millage import levy_millage
from sustainsim.analysis.paired import compare, compare_runs, paired_difference
from sustainsim.analysis.sensitivity import risk_drivers, tornado_table
from sustainsim.analysis.sobol import sobol_indices
from sustainsim.analysis.stress import stress_capacity
from sustainsim.analysis.stress_pairs import compare_stress_capacity

__all__ = [
    "PrimResult",
    "break_even",
    "compare",
    "compare_runs",
    "compare_stress_capacity",
    "distribution_inputs",
    "levers",
    "levy_millage",
    "paired_difference",
    "prim",
    "risk_drivers",
    "sobol_indices",
    "stress_capacity",
    "tornado_table",
    "what_must_be_true",
]
