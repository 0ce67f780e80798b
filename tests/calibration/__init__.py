"""Tests of calibration: fitting drivers to panels and backtesting them."""
