"""HTML pieces every section of the report uses: escaping, numbers, cells and tables.

Table cells carry the exact values in ``data-*`` attributes (the text shows them
rounded), so the report can be checked against the numbers it came from; every table
sits in a ``div.scroll`` so a narrow screen scrolls the table, not the page.
"""

from __future__ import annotations

import html

__all__ = ["cell", "esc", "interval", "pct", "table", "usd"]


def esc(x: object) -> str:
    """``x`` as HTML text (attribute-safe)."""
    return html.escape(str(x), quote=True)


def pct(x: float) -> str:
    """A probability or share in percent, one decimal: ``0.8123`` -> ``81.2%``."""
    return f"{100 * x:.1f}%"


def usd(x: float) -> str:
    """Dollars to three significant figures, short: ``$1.23M``, ``-$351K``, ``$950``.

    Examples
    --------
    >>> usd(1_234_567), usd(-350_612.0), usd(949.6), usd(0.0)
    ('$1.23M', '-$351K', '$950', '$0')
    """
    sign, a = ("-" if x < 0 else ""), abs(float(x))
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        v = a / div
        if round(v, 2) >= 1:
            digits = max(0, 3 - len(str(int(v))))
            return f"{sign}${v:.{digits}f}{suffix}"
    return f"{sign}${a:,.0f}"


def interval(p: float, lower: float, upper: float) -> str:
    """``81.2% [79.0%, 83.3%]`` with the interval in a muted span."""
    return f'{pct(p)} <span class="ci">[{pct(lower)}, {pct(upper)}]</span>'


def cell(value: float | None, text: str, **data: object) -> str:
    """A ``<td>`` showing ``text`` with the exact ``value`` and ``data`` as attributes."""
    attrs = "".join(f' data-{k}="{esc(v)}"' for k, v in data.items())
    if value is not None:
        attrs += f' data-value="{float(value)!r}"'
    return f"<td{attrs}>{text}</td>"


def table(cls: str, caption: str, head: list[str], rows: list[str], **data: object) -> str:
    """A captioned table (head cells given as text, rows as ``<tr>`` HTML), scrollable."""
    attrs = "".join(f' data-{k}="{esc(v)}"' for k, v in data.items())
    ths = "".join(f"<th{' class=key' if i == 0 else ''}>{h}</th>" for i, h in enumerate(head))
    return (
        f'<div class="scroll"><table class="{cls}"{attrs}><caption>{caption}</caption>'
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
