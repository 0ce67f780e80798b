"""Tests of the analysis stage: paired scenarios, sensitivity, Sobol indices, discovery."""
