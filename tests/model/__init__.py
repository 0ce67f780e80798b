"""Tests of the model stage: drivers, budget lines, the engine."""
