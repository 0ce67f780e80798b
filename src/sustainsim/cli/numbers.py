"""One number format for every command: percentages, dollars in $K/$M, intervals in brackets.

Every subcommand prints its numbers through these functions, so ``run``, ``compare``,
``stress``, ``levers``, ``sweep``, ``batch``, ``validate``, ``calibrate`` and
``backtest`` read alike: ``96.3% [95.1%, 97.4%]``, ``-$4.70M``, ``+2.1 pp``.
A missing value (None or NaN) prints as ``n/a``, never as ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["NA", "count", "estimate", "interval", "nbytes", "num", "pct", "pp", "usd"]

#: what a missing value prints as
NA = "n/a"


def _missing(x: float | None) -> bool:
    return x is None or not math.isfinite(float(x))


def pct(p: float | None, digits: int = 1) -> str:
    """A probability or share as a percentage.

    Examples
    --------
    >>> pct(0.9734), pct(1.0), pct(None)
    ('97.3%', '100.0%', 'n/a')
    """
    return NA if _missing(p) else f"{100 * float(p):.{digits}f}%"  # type: ignore[arg-type]


def pp(d: float | None, digits: int = 1) -> str:
    """A difference of probabilities in percentage points, signed.

    Examples
    --------
    >>> pp(0.0213), pp(-0.2871)
    ('+2.1 pp', '-28.7 pp')
    """
    return NA if _missing(d) else f"{100 * float(d):+.{digits}f} pp"  # type: ignore[arg-type]


def usd(x: float | None, sign: bool = False) -> str:
    """Dollars with three significant digits in $K, $M or $B (whole dollars below $1,000).

    Examples
    --------
    >>> usd(4_695_321), usd(-45_600), usd(950), usd(2.5e9), usd(12_345, sign=True)
    ('$4.70M', '-$45.6K', '$950', '$2.50B', '+$12.3K')
    """
    if _missing(x):
        return NA
    v = float(x)  # type: ignore[arg-type]
    head = "-" if v < 0 else ("+" if sign and v > 0 else "")
    a = abs(v)
    if a < 0.5:
        return "$0"
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= 0.9995 * scale:  # three significant digits round to at least 1.00 of it
            m = a / scale
            digits = 2 if m < 9.995 else (1 if m < 99.95 else 0)
            return f"{head}${m:,.{digits}f}{unit}"
    return f"{head}${a:,.0f}"


def num(x: float | None, sig: int = 4) -> str:
    """A plain number: ``sig`` significant digits, thousands separated, no exponent below 1e15.

    Examples
    --------
    >>> num(0.012345), num(-4_695_321.7), num(3.0), num(None)
    ('0.01235', '-4,695,322', '3', 'n/a')
    """
    if _missing(x):
        return NA
    v = float(x)  # type: ignore[arg-type]
    if v != 0 and (abs(v) >= 10**sig or abs(v) >= 1e15):
        return f"{v:,.0f}" if abs(v) < 1e15 else f"{v:.{sig - 1}e}"
    if v != 0 and abs(v) < 1e-4:
        return f"{v:.{sig - 1}e}"
    return f"{v:,.{sig}g}"


def count(n: int | None) -> str:
    """A count with thousands separators: ``2,000,000``."""
    return NA if n is None else f"{int(n):,}"


def interval(
    lower: float | None, upper: float | None, fmt: Callable[[float | None], str] = pct
) -> str:
    """An interval in brackets, both ends in the same format.

    Examples
    --------
    >>> interval(0.951, 0.974), interval(-1.2e6, 3.4e5, usd)
    ('[95.1%, 97.4%]', '[-$1.20M, $340K]')
    """
    return f"[{fmt(lower)}, {fmt(upper)}]"


def estimate(
    value: float | None,
    lower: float | None,
    upper: float | None,
    fmt: Callable[[float | None], str] = pct,
) -> str:
    """A value and its interval: ``96.3% [95.1%, 97.4%]``."""
    return f"{fmt(value)} {interval(lower, upper, fmt)}"


def nbytes(n: int | float) -> str:
    """A size in bytes with a unit of powers of 1000: ``452 MB``, ``1.8 GB``.

    Examples
    --------
    >>> nbytes(999), nbytes(45_200), nbytes(1_812_000_000)
    ('999 B', '45.2 kB', '1.81 GB')
    """
    v = float(n)
    for scale, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if v >= 0.9995 * scale:
            m = v / scale
            digits = 2 if m < 9.995 else (1 if m < 99.95 else 0)
            return f"{m:.{digits}f} {unit}"
    return f"{v:.0f} B"
