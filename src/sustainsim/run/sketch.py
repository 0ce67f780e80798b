"""A mergeable quantile sketch: fixed-bin histograms with exact extremes and a stated bound.

Used by :mod:`sustainsim.run.summary` to keep quantiles of balances over tens of millions of
draws in memory bounded by the bin count. Bins span a range set from a pilot chunk
(widened by a margin); values outside fall in under/overflow cells whose extremes are
kept exactly. A quantile inside the range is off by at most one bin width; outside, by
at most the distance from the exact minimum or maximum to the range edge.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Histogram"]

_SLACK = 16 * np.finfo(float).eps
#: values up to which a chunk is binned (and its moments taken, run.accumulate) whole
#: rather than a year at a time: 2 MiB of float64, a temporary that stays in cache
WHOLE = 1 << 18
#: share of the pilot range added on each side of the bins
DEFAULT_MARGIN = 0.25
#: held while counts and extremes are written: chunks on threads of one process
#: (:mod:`sustainsim.run.threads`) count into the same histograms; the cells are found
#: outside it
_WRITING = threading.Lock()
#: counts are int32 (half the memory of int64: 600 schools x 10 years of 4,096 bins are
#: 98 MB, not 197 MB, each page of it touched, under ``_WRITING``) until a histogram could
#: hold more values than int32 counts
_INT32_MAX = int(np.iinfo(np.int32).max)


@dataclass
class Histogram:
    """Fixed-bin histograms over the last axis, one per leading index, mergeable.

    Cells: ``0`` underflow (below ``low``), ``1..bins`` the bins, ``bins + 1``
    overflow (at or above ``low + bins * width``); ``vmin``/``vmax`` are exact.
    ``counts`` are int32 while every histogram holds fewer than 2**31 values (``n``,
    per histogram), int64 from the first count that could pass that.
    """

    low: np.ndarray
    width: np.ndarray
    bins: int
    counts: np.ndarray = field(init=False)
    vmin: np.ndarray = field(init=False)
    vmax: np.ndarray = field(init=False)
    n: np.ndarray = field(init=False)

    def __post_init__(self):
        self.low = np.asarray(self.low, dtype=float)
        self.width = np.asarray(self.width, dtype=float)
        self.counts = np.zeros((*self.low.shape, self.bins + 2), dtype=np.int32)
        self.vmin = np.full(self.low.shape, np.inf)
        self.vmax = np.full(self.low.shape, -np.inf)
        self.n = np.zeros(self.low.shape, dtype=np.int64)

    def _reserve(self, n: np.ndarray | int, where: tuple = (...,)) -> None:
        """Count ``n`` more values into the histograms ``where`` (``_WRITING`` held).

        Widens the counts to int64 first if one of them could pass int32's range; every
        write takes its view of the counts after this, under the same lock.
        """
        total = self.n[where] + n
        if self.counts.dtype != np.int64 and total.size and int(total.max()) > _INT32_MAX:
            self.counts = self.counts.astype(np.int64)
        self.n[where] = total

    @classmethod
    def from_pilot(cls, x: np.ndarray, bins: int, margin: float = DEFAULT_MARGIN) -> Histogram:
        """Bins over the range of ``x`` (values along the last axis) widened by ``margin``."""
        return cls.from_range(x.min(axis=-1), x.max(axis=-1), bins, margin)

    @classmethod
    def from_range(
        cls, lo: np.ndarray, hi: np.ndarray, bins: int, margin: float = DEFAULT_MARGIN
    ) -> Histogram:
        """Bins over ``[lo, hi]`` widened by ``margin`` times its span on each side."""
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError("non-finite values in the pilot chunk; cannot set histogram ranges")
        span = hi - lo
        pad = np.where(span > 0, margin * span, np.maximum(np.abs(hi) * 1e-6, 1.0))
        low = lo - pad
        return cls(low, (hi + pad - low) / bins, bins)

    @property
    def high(self) -> np.ndarray:
        """Upper edge of the in-range bins."""
        return self.low + self.bins * self.width

    def add(self, x: np.ndarray, where: tuple = (...,)) -> None:
        """Count the values of ``x`` (shape ``(*low[where].shape, n)``).

        ``where`` (basic indexing) selects the histograms ``x`` feeds, e.g.
        ``(slice(None), slice(2, 3))`` for entity 2 of ``(year, entity)`` histograms.
        Values are binned one leading index (a year) at a time, so the temporaries stay
        small whatever the number of schools.
        """
        if x.shape[-1] == 0:
            return
        low, width = self.low[where], self.width[where]
        xmin, xmax = x.min(axis=-1), x.max(axis=-1)
        if not (np.all(np.isfinite(xmin)) and np.all(np.isfinite(xmax))):
            raise ValueError("non-finite fund balance in a chunk; cannot summarize")
        with _WRITING:
            self._reserve(x.shape[-1], where)
        # the flat index of each histogram's first cell in counts
        first = (self.bins + 2) * np.arange(self.low.size).reshape(self.low.shape)[where]
        if x.ndim == 1 or x.size <= WHOLE:  # small (a few schools): one pass, fewer calls
            self._count(x, low, width, first, where)
        else:
            for t in range(x.shape[0]):
                self._count(x[t], low[t], width[t], first[t], where, t)
        vmin, vmax = self.vmin[where], self.vmax[where]
        with _WRITING:
            np.minimum(vmin, xmin, out=vmin)
            np.maximum(vmax, xmax, out=vmax)

    def _count(
        self,
        x: np.ndarray,
        low: np.ndarray,
        width: np.ndarray,
        first: np.ndarray,
        where: tuple,
        t: int | None = None,
    ):
        """Add ``x`` (``(*low.shape, n)``) to the histograms whose cells start at ``first``.

        ``self.counts[where]`` (then ``[t]``) are those histograms' counts, ``(*low.shape,
        bins + 2)``, looked up under the lock (:meth:`_reserve` may have widened them).
        """
        # cell = floor((x - low) / width) + 1, clipped to [0, bins + 1]: monotone in x;
        # truncation is floor once clipped to >= 0
        inv = 1.0 / width
        idx = x * inv[..., None]
        idx += (1.0 - low * inv)[..., None]
        np.clip(idx, 0, self.bins + 1, out=idx)
        cell = idx.astype(np.intp)
        if cell.size < first.size * (self.bins + 2):
            # fewer values than cells (many schools, small chunks): count in place, in
            # time with the values rather than the cells
            cell += first[..., None]
            with _WRITING:
                flat = self.counts.reshape(-1)  # a 1 of the counts' type: numpy's fast path
                np.add.at(flat, cell.reshape(-1), flat.dtype.type(1))
        else:  # count into the histograms side by side, then add them in
            # (not over the span of their flat cells: one school's years lie far apart)
            m = self.bins + 2
            cell += (m * np.arange(low.size).reshape(low.shape))[..., None]
            got = np.bincount(cell.reshape(-1), minlength=low.size * m)
            with _WRITING:
                counts = self.counts[where] if t is None else self.counts[where][t]
                counts += got.reshape(counts.shape)

    def merge(self, other: Histogram) -> None:
        """Add the counts of a histogram with the same bins."""
        if (
            other.bins != self.bins
            or not np.array_equal(other.low, self.low)
            or not np.array_equal(other.width, self.width)
        ):
            raise ValueError("cannot merge histograms with different bins")
        self.add_counts(other.counts, other.vmin, other.vmax, other.n)

    def add_counts(
        self,
        counts: np.ndarray,
        vmin: np.ndarray,
        vmax: np.ndarray,
        n: np.ndarray | None = None,
    ) -> None:
        """Add the counts and extremes of a histogram with the same bins (any integer type).

        ``n``: the values each of its histograms holds, if known (else summed from ``counts``).
        """
        if n is None:
            n = counts.sum(axis=-1, dtype=np.int64)
        with _WRITING:
            self._reserve(n)
            self.counts += counts
            np.minimum(self.vmin, vmin, out=self.vmin)
            np.maximum(self.vmax, vmax, out=self.vmax)

    def _order_statistic(
        self, cum: np.ndarray, k: int, ranked: _Ranked
    ) -> tuple[np.ndarray, np.ndarray]:
        """Estimate of the ``k``-th smallest value (0-based) and a bound on its error."""
        n = int(cum[..., -1].flat[0])
        if k <= 0:
            return self.vmin.copy(), np.zeros_like(self.vmin)
        if k >= n - 1:
            return self.vmax.copy(), np.zeros_like(self.vmax)
        c = ranked.cells_at_or_below(k)  # first cell with more than k values at or below it
        m = np.take_along_axis(self.counts, c[..., None], axis=-1)[..., 0]
        before = np.take_along_axis(cum, c[..., None], axis=-1)[..., 0] - m
        r = k - before
        low, high = self.low, self.high
        a = np.where(c == 0, self.vmin, np.where(c > self.bins, high, low + (c - 1) * self.width))
        b = np.where(c == 0, low, np.where(c > self.bins, self.vmax, low + c * self.width))
        a = np.clip(a, self.vmin, self.vmax)
        b = np.clip(b, self.vmin, self.vmax)
        est = a + (b - a) * (r + 0.5) / m
        slack = _SLACK * np.maximum(np.abs(low), np.abs(high))
        return est, (b - a) + slack

    def quantiles(self, q: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Estimated sample quantiles (linear interpolation) and error bounds.

        Returns two arrays of shape ``(len(q), *low.shape)``: the estimates and
        the guaranteed bound on ``|estimate - numpy.quantile(data, q)|``.
        """
        cum = np.cumsum(self.counts, axis=-1, dtype=np.int64)
        n = int(cum[..., -1].flat[0]) if cum.size else 0
        if n == 0:
            raise ValueError("empty histogram")
        est = np.empty((len(q), *self.low.shape))
        err = np.empty_like(est)
        ranked = _Ranked(cum, n)
        for i, qi in enumerate(q):
            if not 0 <= qi <= 1:
                raise ValueError(f"quantiles must be in [0, 1] (got {qi})")
            h = (n - 1) * float(qi)
            k = int(np.floor(h))
            f = h - k
            x0, e0 = self._order_statistic(cum, k, ranked)
            if f > 0:
                x1, e1 = self._order_statistic(cum, k + 1, ranked)
                est[i] = x0 + f * (x1 - x0)
                # + rounding of the interpolation itself (numpy's lerp rounds differently)
                err[i] = (1 - f) * e0 + f * e1 + _SLACK * np.maximum(np.abs(x0), np.abs(x1))
            else:
                est[i], err[i] = x0, e0
        return est, err


class _Ranked:
    """Cumulative counts of many histograms (each with ``n`` values), searchable at once.

    Each histogram's cumulative counts are offset by its row number times ``n + 1``, so
    the flattened rows are one non-decreasing sequence: ``searchsorted`` then finds every
    row's first cell above a rank in ``O(rows log cells)`` instead of a pass over all cells.
    """

    def __init__(self, cum: np.ndarray, n: int):
        self.shape = cum.shape[:-1]
        cells = cum.shape[-1]
        rows = cum.reshape(-1, cells)
        self.offset = np.arange(rows.shape[0], dtype=np.int64) * (n + 1)
        self.flat = (rows + self.offset[:, None]).reshape(-1)
        self.start = np.arange(rows.shape[0], dtype=np.int64) * cells

    def cells_at_or_below(self, k: int) -> np.ndarray:
        """How many cells of each row have a cumulative count ``<= k``: ``(cum <= k).sum(-1)``."""
        at = np.searchsorted(self.flat, k + self.offset, side="right")
        return (at - self.start).reshape(self.shape)
