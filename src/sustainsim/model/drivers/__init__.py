"""Stochastic drivers: pure functions from parameters and random numbers to arrays.

All arrays are year-major: a path has shape ``(years + 1, n)`` with row 0 the base
year (known actuals) and rows 1..years the projected years; ``n`` counts draws.
Parameters may be Python floats or arrays of shape ``(n,)`` (one value per draw).
"""

from .cuts import cut_factors
from .enrollment import enrollment_paths
from .grants import grant_schedule
from .growth import growth_factors
from .levy import election_calendar, levy_schedule

__all__ = [
    "cut_factors",
    "election_calendar",
    "enrollment_paths",
    "grant_schedule",
    "growth_factors",
    "levy_schedule",
]
