"""A line's own years: its ``start``/``end`` window and its ``recurring`` flag, realized.

Every line kind may run in a window of its own, projected years ``start .. end`` (both
included; inside a school model counted from the conversion, so shifted by the
placement's offset like the model's other years). A fixed year gives a ``(years + 1,)``
mask; a distribution is sampled once per draw from the line's own streams
``<entity>.<part>.<line>.start`` / ``.end`` (recorded as the scalar inputs
``<entity>.<line>.start`` / ``.end``), which gives a ``(years + 1, n)`` mask. The window
is combined with the years the school runs the line (``LineContext.active``). A grant's
``start`` and ``end`` are its paid term (:func:`sustainsim.model.drivers.grant_schedule`),
so a grant gets no window here.

A line without ``start``, ``end`` or ``recurring`` comes back as its builder made it: no
stream is asked for, so configs without windows give the same numbers as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sustainsim.config.lines import line_recurring

if TYPE_CHECKING:
    from sustainsim.model.builders import LineContext

__all__ = ["both", "place", "window_mask"]


def both(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The years two masks share (None: every year); ``(T + 1,)`` and ``(T + 1, n)`` mix."""
    if a is None:
        return b
    if b is None:
        return a
    if a.ndim != b.ndim:
        a, b = (a[:, None], b) if a.ndim == 1 else (a, b[:, None])
    return a & b


def window_mask(part: str, line: Any, ctx: LineContext) -> np.ndarray | None:
    """The line's own ``start .. end`` as a bool mask over years ``0 .. T`` (None: no window).

    Examples
    --------
    >>> from sustainsim.config.lines import FixedCost
    >>> from sustainsim.model.builders import LineContext, Sampler
    >>> from sustainsim.sampling.streams import ChunkDraws, Median
    >>> ctx = LineContext(Sampler(ChunkDraws(Median(), 0, 1)), "schools.a", {}, 5, 2030)
    >>> line = FixedCost(name="ops", kind="fixed", amount=1.0, start=2, end=3)
    >>> window_mask("cost", line, ctx).astype(int)
    array([0, 0, 1, 1, 0, 0])
    """
    if line.kind == "grant" or (line.start is None and line.end is None):
        return None
    stream = f"{ctx.stream}.{part}.{line.name}"
    s = ctx.sampler
    lo = -np.inf if line.start is None else s.value(f"{stream}.start", line.start)
    hi = np.inf if line.end is None else s.value(f"{stream}.end", line.end)
    t = np.arange(ctx.years + 1, dtype=float)
    if np.ndim(lo) or np.ndim(hi):
        t = t[:, None]
    return (t >= np.asarray(lo) + ctx.offset) & (t <= np.asarray(hi) + ctx.offset)


def place(part: str, line: Any, typed: Any, ctx: LineContext) -> Any:
    """``typed`` with the line's own window and recurring flag (itself when neither changes)."""
    own = window_mask(part, line, ctx)
    recurring = line_recurring(part, line)
    if own is None and recurring == typed.recurring:
        return typed
    return replace(typed, active=both(typed.active, own), recurring=recurring)
