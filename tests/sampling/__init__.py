"""Tests of the sampling stage: distributions, streams, samplers, copulas."""
