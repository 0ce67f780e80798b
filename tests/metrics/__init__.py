"""Tests of the metrics stage: solvency, budget criteria, start-up costs."""
