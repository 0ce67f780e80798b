"""argparse types shared by the subcommands: numbers with a bound, clear messages."""

from __future__ import annotations

import argparse

__all__ = ["nonneg_int", "positive_float", "positive_int"]


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
    """A number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return v
