"""Tests of the stochastic drivers: enrollment, cuts, grants, growth, regimes."""
