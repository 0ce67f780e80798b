"""Plain-text tables that fit the terminal: columns wrapped into blocks, key columns repeated.

A table with many entities (six schools and the district, each a probability and its
interval) is wider than a terminal; :func:`wrap_table` splits its value columns into
blocks that fit ``width`` (default: the terminal's, :func:`shutil.get_terminal_size`),
each block repeating the key columns (year, scenario, ...) on its left.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

__all__ = ["terminal_width", "wrap_table"]


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` first; 100 when not a terminal)."""
    return shutil.get_terminal_size((100, 24)).columns


def _widths(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]


def _blocks(widths: list[int], keys: int, width: int, gap: int) -> list[list[int]]:
    """Indices of the value columns of each block (at least one column per block)."""
    base = sum(widths[:keys]) + gap * keys
    blocks: list[list[int]] = []
    used = base
    for i in range(keys, len(widths)):
        w = widths[i] + gap
        if blocks and blocks[-1] and used + w <= width:
            blocks[-1].append(i)
            used += w
        else:
            blocks.append([i])
            used = base + w
    return blocks or [[]]


def wrap_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    keys: int = 1,
    width: int | None = None,
    gap: int = 2,
) -> str:
    """Lay out a table of strings; value columns right-aligned, wrapped to ``width``.

    Parameters
    ----------
    header : sequence of str
        Column titles; the first ``keys`` are key columns (left-aligned, repeated).
    rows : sequence of sequences of str
        The cells, already formatted (see :mod:`sustainsim.cli.numbers`).
    width : int, optional
        Characters per line; default :func:`terminal_width`.

    Examples
    --------
    >>> print(wrap_table(["year", "a", "b"], [["2030", "97.0%", "88.1%"]], width=14))
    year      a
    2030  97.0%
    <BLANKLINE>
    year      b
    2030  88.1%
    """
    width = terminal_width() if width is None else width
    widths = _widths(header, rows)
    out: list[str] = []
    for block in _blocks(widths, keys, width, gap):
        cols = list(range(keys)) + block

        def line(cells: Sequence[str], cols: list[int] = cols) -> str:
            parts = [
                cells[i].ljust(widths[i]) if i < keys else cells[i].rjust(widths[i]) for i in cols
            ]
            return (" " * gap).join(parts).rstrip()

        if out:
            out.append("")
        out.append(line(header))
        out.extend(line(r) for r in rows)
    return "\n".join(out)
