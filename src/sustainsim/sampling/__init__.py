"""Uniform random numbers and the distributions they are mapped through.

``distributions`` (named distributions as inverse CDFs), ``streams`` (named seekable PCG64
streams), ``samplers`` (Latin hypercube and Sobol sources, chosen by name) and ``copula``
(Gaussian-copula rank correlation). Nothing here knows a config.
"""

from sustainsim.sampling.copula import CorrelatedSource
from sustainsim.sampling.distributions import DISTRIBUTIONS, Distribution
from sustainsim.sampling.samplers import SAMPLERS, LatinHypercube, Sobol, make_source
from sustainsim.sampling.streams import MonteCarlo, UniformSource

__all__ = [
    "DISTRIBUTIONS",
    "SAMPLERS",
    "CorrelatedSource",
    "Distribution",
    "LatinHypercube",
    "MonteCarlo",
    "Sobol",
    "UniformSource",
    "make_source",
]
