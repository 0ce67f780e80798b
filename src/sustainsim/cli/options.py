"""argparse types and options shared by the subcommands: numbers with a bound, clear messages."""

from __future__ import annotations

import argparse
import math
from decimal import Decimal, InvalidOperation

from sustainsim.run.plan import parse_bytes

__all__ = [
    "add_data_columns",
    "column_value",
    "memory_size",
    "nonneg_int",
    "positive_float",
    "positive_int",
    "year_list",
]


def _whole(text: str, minimum: int) -> int:
    """A whole number written as ``2000000``, ``2_000_000``, ``2e6`` or ``2.0e6`` (exactly)."""
    try:
        d = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or d != d.to_integral_value():
        raise argparse.ArgumentTypeError(
            f"expected a whole number (e.g. 2000000, 2_000_000 or 2e6), got {text!r}"
        ) from None
    if d.adjusted() > 100:  # a googol and up: no count or seed, and int() of 1e999999 hangs
        raise argparse.ArgumentTypeError(f"too large: {text!r}")
    v = int(d)
    if v < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
    return v


def positive_int(text: str) -> int:
    """A whole number >= 1: ``1000000``, ``1_000_000`` or ``1e6`` (not ``2.5``).

    Examples
    --------
    >>> positive_int("2e6") == positive_int("2_000_000") == 2_000_000
    True
    """
    return _whole(text, 1)


def nonneg_int(text: str) -> int:
    """A whole number >= 0 (underscores and exact float notation allowed, as ``positive_int``)."""
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


def add_data_columns(parser: argparse.ArgumentParser) -> None:
    """The finance columns and ``--filter`` that ``calibrate`` and ``backtest`` both read."""
    add = parser.add_argument
    add("--balance", default=None, metavar="COL", help="finance: ending fund balance column")
    add("--revenue", default=None, metavar="COL", help="finance: revenue column")
    add("--expenditure", default=None, metavar="COL", help="finance: expenditure column")
    add("--enrollment", default=None, metavar="COL", help="finance: enrollment column")
    add(
        "--filter",
        type=column_value,
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="keep rows where COL equals VALUE (repeatable)",
    )


def year_list(text: str) -> list[int]:
    """Fiscal years: ``2030``, ``2027,2031,2036`` or a range ``2027-2031`` (mixed allowed).

    Examples
    --------
    >>> year_list("2027-2029,2036")
    [2027, 2028, 2029, 2036]
    """
    years: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected years such as 2030, 2027,2031 or 2027-2031, got {text!r}"
            ) from None
        if b < a:
            raise argparse.ArgumentTypeError(f"range {part.strip()!r} runs backwards")
        years.extend(y for y in range(a, b + 1) if y not in years)
    return years
