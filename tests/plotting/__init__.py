"""Tests of the plots: artists checked against independently computed values."""
