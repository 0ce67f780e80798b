"""argparse types shared by the subcommands: numbers with a bound, clear messages."""

from __future__ import annotations

import argparse
import math

from sustainsim.run.plan import parse_bytes

__all__ = ["column_value", "memory_size", "nonneg_int", "positive_float", "positive_int"]


def _whole(text: str, minimum: int) -> int:
    try:
        v = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
    return v


def positive_int(text: str) -> int:
    """A whole number >= 1 (underscores allowed: 1_000_000)."""
    return _whole(text, 1)


def nonneg_int(text: str) -> int:
    """A whole number >= 0 (underscores allowed)."""
    return _whole(text, 0)


def positive_float(text: str) -> float:
    """A finite number > 0 (not nan, not inf)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def memory_size(text: str) -> int:
    """A memory size: bytes, or with a unit (``4GB``, ``512MiB``; see ``parse_bytes``)."""
    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("max_memory: ")) from None


def column_value(text: str) -> tuple[str, str]:
    """``COLUMN=VALUE`` of a ``--filter`` option, as a pair."""
    col, sep, val = text.partition("=")
    if not sep or not col:
        raise argparse.ArgumentTypeError(f"--filter takes COLUMN=VALUE (got {text!r})")
    return col, val
