"""Tests of the command line, through ``main([...])``."""
