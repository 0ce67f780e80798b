"""Tests of the run stage: the plan and the run core."""
