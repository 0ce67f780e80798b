"""Exact quantiles over draws, faster than a full selection: the same numbers as numpy's.

:func:`quantiles_rows` returns, bit for bit, what ``np.nanquantile(row, q)`` (method
``"linear"``, the default of numpy and xarray) returns for each row of a 2-D array, but
finds the order statistics it needs without partitioning whole rows: a strided sample
brackets each one, one pass over the rows (a block of each at a time) counts the values
below each bracket and keeps those inside any, and a selection among each bracket's
values in that small remainder gives the exact order statistics (a value is below,
inside or above a bracket whatever the ties). When a bracket misses (unlucky sample,
heavy ties) the row falls back to numpy, so the result never depends on the sample. The
interpolation between the two neighbouring order statistics repeats numpy's ``_lerp``
operation by operation, so the floats are identical. :func:`quantiles_1d` is one row,
:func:`draw_quantiles` a DataArray's columns over ``draw``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["draw_quantiles", "quantiles_1d", "quantiles_rows"]

#: below this many values the whole-array selection is as fast
_MIN_SIZE = 20_000
#: at most this many values in each row's bracketing sample (at most a sixteenth of them)
_SAMPLE = 32_768
#: values compared at a time with every bracket, over all rows (a block of each row; the
#: block, its masks and its counters stay in cache)
_CELLS = 262_144
#: each thread's scratch buffers, kept between calls: fresh pages cost more than the pass
_SCRATCH = threading.local()


def _scratch(name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A thread's reusable buffer ``name`` of at least ``shape`` (its leading slice)."""
    size = math.prod(shape)
    buf = getattr(_SCRATCH, name, None)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = np.empty(size, dtype=dtype)
        setattr(_SCRATCH, name, buf)
    return buf[:size].reshape(shape)


def _sample_ranks(n: int, m: int, ks: list[int], qs: np.ndarray) -> tuple[list[int], list[int]]:
    """Each ``k``'s bracket as ranks ``(lo, hi)`` in a sorted strided sample of ``m`` of ``n``.

    The ``k``-th smallest value's rank in the sample is about binomial ``(m, q)``: the
    bracket reaches four of its standard deviations (and eight ranks) either side.
    """
    lo, hi = [], []
    for k, q in zip(ks, qs.tolist(), strict=True):
        margin = 4.0 * np.sqrt(m * q * (1.0 - q)) + 8
        j = k * (m - 1) / (n - 1)
        lo.append(max(int(j - margin), 0))
        hi.append(min(int(j + margin) + 1, m - 1))
    return lo, hi


def _rows(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` (increasing) of ``x``: a view where they follow each other, else a copy."""
    if idx.size and idx[-1] - idx[0] + 1 == idx.size:
        return x[idx[0] : idx[-1] + 1]
    return x[idx]


def _brackets(
    x: np.ndarray, idx: np.ndarray, ks: list[int], qs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``idx``' brackets ``lo, hi`` (rows x ks), order statistics of a strided sample."""
    n = x.shape[1]
    step = max(-(-n // _SAMPLE), 16)
    m = len(range(0, n, step))
    rlo, rhi = _sample_ranks(n, m, ks, qs)
    kth = sorted(set(rlo + rhi))
    lo, hi = np.empty((idx.size, len(ks))), np.empty((idx.size, len(ks)))
    sample = _scratch("sample", (m,), np.float64)
    for s, i in enumerate(idx.tolist()):
        np.copyto(sample, x[i, ::step])
        sample.partition(kth)
        lo[s], hi[s] = sample[rlo], sample[rhi]
    return lo, hi


def _pass(rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """One pass over ``rows``: each bracket's count below it, each row's values inside any.

    A block of every row at a time is compared with all its brackets: ``x < lo`` is
    counted (in ``uint8`` counters, added up every 255 blocks) and ``lo <= x <= hi``
    (``x <= hi`` and not ``x < lo``) kept, the union of a row's brackets in one gather.
    """
    n_rows, n = rows.shape
    nb = lo.shape[1]
    width = max(1024, _CELLS // (n_rows * nb) // 64 * 64)
    below_buf = _scratch("below", (n_rows, nb, width), np.bool_)
    inside_buf = _scratch("inside", (n_rows, nb, width), np.bool_)
    any_buf = _scratch("any", (n_rows, width), np.bool_)
    counts = _scratch("counts", (n_rows, nb, width), np.uint8)
    counts[...] = 0
    below = np.zeros((n_rows, nb), dtype=np.int64)
    lo3, hi3 = lo[:, :, None], hi[:, :, None]
    kept: list[list[np.ndarray]] = [[] for _ in range(n_rows)]
    for block, start in enumerate(range(0, n, width)):
        xb = rows[:, start : start + width]
        w = xb.shape[1]
        b, ins, union = below_buf[:, :, :w], inside_buf[:, :, :w], any_buf[:, :w]
        np.less(xb[:, None, :], lo3, out=b)
        np.less_equal(xb[:, None, :], hi3, out=ins)
        np.not_equal(ins, b, out=ins)  # lo <= x <= hi (x < lo implies x <= hi)
        c = counts[:, :, :w]
        np.add(c, b.view(np.uint8), out=c)
        if block % 255 == 254:
            below += counts.sum(axis=2, dtype=np.int64)
            counts[...] = 0
        np.copyto(union, ins[:, 0])
        for j in range(1, nb):
            np.logical_or(union, ins[:, j], out=union)
        for s in range(n_rows):
            kept[s].append(np.compress(union[s], xb[s]))
    below += counts.sum(axis=2, dtype=np.int64)
    return below, [np.concatenate(k) for k in kept]


def _pairs(
    row: np.ndarray,
    ks: list[int],
    lo: np.ndarray,
    hi: np.ndarray,
    below: np.ndarray | None,
    kept: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``k``-th and ``k+1``-th smallest of ``row`` for each ``k``; None on a miss.

    ``kept`` holds every value inside some bracket, so the values inside bracket ``j``
    are those of ``kept`` inside it: the pair is selected among them. A bracket of one
    value (a lump: a constant line) keeps nothing (its ``hi`` is below its ``lo`` in the
    pass): its value is counted on ``row``, once per value (``below`` and ``kept`` are
    None when every bracket is one).
    """
    a, b = np.empty(len(ks)), np.empty(len(ks))
    lumps: dict[float, tuple[int, int]] = {}
    for j, k in enumerate(ks):
        v = float(lo[j])
        if v == hi[j]:  # the pair is the lump's value if it lies inside
            if v not in lumps:
                lumps[v] = (int(np.count_nonzero(row < v)), int(np.count_nonzero(row <= v)))
            under, upto = lumps[v]
            if k < under or k + 1 >= upto:
                return None
            a[j] = b[j] = lo[j]
            continue
        assert below is not None and kept is not None  # a row with a bracket went through _pass
        r = k - int(below[j])
        cand = np.compress((kept >= lo[j]) & (kept <= hi[j]), kept)
        if r < 0 or r + 1 >= cand.size:
            return None
        cand.partition([r, r + 1])
        a[j], b[j] = cand[r], cand[r + 1]
    return a, b


def quantiles_rows(x: np.ndarray, q: Sequence[float] | np.ndarray) -> np.ndarray:
    """``np.nanquantile(row, q)`` (linear) of each row of ``x``, bit-identical, in one pass.

    Parameters
    ----------
    x : numpy.ndarray
        Two-dimensional float values, a row per series (a variable over draws, by year);
        rows with NaN are computed by numpy (:func:`numpy.nanquantile` skips them).
    q : sequence of float or numpy.ndarray
        Quantiles.

    Returns
    -------
    numpy.ndarray
        ``(rows, len(q))`` values.

    Examples
    --------
    >>> x = np.random.default_rng(1).normal(size=(2, 100_000))
    >>> bool((quantiles_rows(x, [0.1, 0.9]) == np.quantile(x, [0.1, 0.9], axis=1).T).all())
    True
    """
    x = np.asarray(x)
    qs = np.asarray(q, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"quantiles_rows takes a 2-D array (rows of draws); got {x.ndim}-D")
    n = x.shape[1]
    out = np.empty((x.shape[0], qs.size))
    virtual = (n - 1) * qs
    fast = (
        qs.size > 0
        and x.dtype == np.float64
        and n >= _MIN_SIZE
        and bool(((qs > 0) & (qs < 1)).all())
        and not (virtual >= n - 1).any()
    )
    # min is NaN where any value is
    ok = [fast and not np.isnan(row.min()) for row in x]
    for i in np.flatnonzero(~np.array(ok, dtype=bool)).tolist():
        out[i] = np.nanquantile(x[i], qs)
    if not any(ok):
        return out
    take = np.flatnonzero(ok)  # the rows selected here, indexed in x (no copy of them)
    prev = np.floor(virtual).astype(np.intp)
    ks = prev.tolist()
    lo, hi = _brackets(x, take, ks, qs)
    lump = lo == hi  # a lump's bracket keeps nothing: its hi just below its lo
    scan = np.flatnonzero(~lump.all(axis=1))  # rows of lumps only are counted, not scanned
    below: list[np.ndarray | None] = [None] * take.size
    kept: list[np.ndarray | None] = [None] * take.size
    hi_pass = np.where(lump, np.nextafter(lo, -np.inf), hi)
    group = max(1, _CELLS // (1024 * len(ks)))  # rows a pass: its buffers stay small
    for start in range(0, scan.size, group):
        part = scan[start : start + group]
        counted, values = _pass(_rows(x, take[part]), lo[part], hi_pass[part])
        for i, r in enumerate(part.tolist()):
            below[r], kept[r] = counted[i], values[i]
    for s, t in enumerate(take.tolist()):
        pairs = _pairs(x[t], ks, lo[s], hi[s], below[s], kept[s])
        out[t] = np.nanquantile(x[t], qs) if pairs is None else _lerp(virtual, prev, *pairs)
    return out


def _lerp(virtual: np.ndarray, prev: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The interpolation of numpy's ``_get_gamma`` and ``_lerp`` ("linear"), op by op."""
    gamma = np.asanyarray(virtual - prev, dtype=virtual.dtype)
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def quantiles_1d(x: np.ndarray, q: Sequence[float] | np.ndarray) -> np.ndarray:
    """``np.nanquantile(x, q)`` (linear), bit-identical, by bracketed selection.

    Parameters
    ----------
    x : numpy.ndarray
        One-dimensional float values (a variable over draws); NaN values are skipped as
        :func:`numpy.nanquantile` skips them (numpy computes those cases).
    q : sequence of float or numpy.ndarray
        Quantiles.

    Returns
    -------
    numpy.ndarray
        ``len(q)`` values.

    Examples
    --------
    >>> x = np.random.default_rng(1).normal(size=100_000)
    >>> bool((quantiles_1d(x, [0.1, 0.5, 0.9]) == np.quantile(x, [0.1, 0.5, 0.9])).all())
    True
    """
    x = np.asarray(x)
    if x.ndim != 1:
        return np.nanquantile(x, q)
    return quantiles_rows(x[None, :], q)[0]


def draw_quantiles(da: xr.DataArray, q: float | Sequence[float], dim: str = "draw") -> xr.DataArray:
    """``da.quantile(q, dim=dim)`` (xarray's default linear, NaN skipped), bit-identical.

    The columns over ``dim`` go through :func:`quantiles_rows` together, in place (no
    copy of ``da`` where its memory holds ``dim`` first or last). The result has
    ``quantile`` first and the other dims in order, with their coordinates; a scalar
    ``q`` gives a scalar ``quantile`` coordinate, as xarray does.

    Examples
    --------
    >>> da = xr.DataArray(np.arange(10.0).reshape(5, 2), dims=("draw", "school"))
    >>> draw_quantiles(da, [0.5]).values.tolist()
    [[4.0, 5.0]]
    """
    scalar = np.ndim(q) == 0
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    moved = da.transpose(..., dim)
    values = np.asarray(moved.values)
    rest = values.shape[:-1]
    # a view where the layout allows (draw-last or draw-first memory), else numpy's copy
    rows = values.reshape(math.prod(rest), values.shape[-1])
    out = np.moveaxis(quantiles_rows(rows, qs).reshape(*rest, qs.size), -1, 0)
    dims = moved.dims[:-1]
    coords = {k: c for k, c in da.coords.items() if dim not in c.dims}
    if scalar:
        return xr.DataArray(
            out[0],
            dims=dims,
            coords={**coords, "quantile": qs[0]},
            name=da.name,
            attrs=dict(da.attrs),
        )
    return xr.DataArray(
        out,
        dims=("quantile", *dims),
        coords={**coords, "quantile": qs},
        name=da.name,
        attrs=dict(da.attrs),
    )
