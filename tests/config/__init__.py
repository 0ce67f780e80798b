"""Tests of the config stage: schema, lines, fields, spec."""
