"""Exact quantiles over draws, faster than a full selection: the same numbers as numpy's.

:func:`quantiles_1d` returns, bit for bit, what ``np.nanquantile(x, q)`` (method
``"linear"``, the default of numpy and xarray) returns, but finds the order statistics it
needs without partitioning the whole array: a strided sample brackets each one, one pass
counts the values below the bracket and keeps those inside it, and a selection on that
small remainder gives the exact order statistic (a value is below, inside or above a
bracket whatever the ties). When a bracket misses (unlucky sample, heavy ties) the
function falls back to numpy, so the result never depends on the sample. The
interpolation between the two neighbouring order statistics repeats numpy's ``_lerp``
operation by operation, so the floats are identical.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["draw_quantiles", "quantiles_1d"]

#: below this many values the whole-array selection is as fast
_MIN_SIZE = 20_000
#: about this many values in the bracketing sample (at most a sixteenth of them)
_SAMPLE = 65_536
#: values compared at a time with every bracket (the blocks and their masks stay in cache)
_BLOCK = 32_768


def _brackets(
    n: int, ks: list[int], qs: np.ndarray, sample: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each ``k``'s bracket ``[lo, hi]`` from the sorted ``sample`` of ``n`` values.

    The ``k``-th smallest value's rank in a sample of ``m`` is about binomial ``(m, q)``:
    the bracket reaches four of its standard deviations (and eight ranks) either side.
    """
    m = sample.size
    lo, hi = np.empty(len(ks)), np.empty(len(ks))
    for i, (k, q) in enumerate(zip(ks, qs.tolist(), strict=True)):
        margin = 4.0 * np.sqrt(m * q * (1.0 - q)) + 8
        j = k * (m - 1) / (n - 1)
        lo[i] = sample[max(int(j - margin), 0)]
        hi[i] = sample[min(int(j + margin) + 1, m - 1)]
    return lo, hi


def _order_stat_pairs(
    x: np.ndarray, ks: list[int], lo: np.ndarray, hi: np.ndarray
) -> list[tuple[float, float]] | None:
    """The ``k``-th and ``k+1``-th smallest of NaN-free ``x`` for each ``k``; None on a miss.

    One pass over ``x``, a block of :data:`_BLOCK` values at a time (in cache for all the
    brackets), counts the values below each bracket and keeps those inside it; the pair
    is then selected among those kept. A bracket of one value (a lump: a constant line)
    keeps nothing, only counts.
    """
    nb = len(ks)
    lo2, hi2 = lo[:, None], hi[:, None]
    lump = (lo == hi).tolist()
    below_buf = np.empty((nb, _BLOCK), dtype=bool)
    inside_buf = np.empty((nb, _BLOCK), dtype=bool)
    below, inside = [0] * nb, [0] * nb
    kept: list[list[np.ndarray]] = [[] for _ in ks]
    for start in range(0, x.size, _BLOCK):
        xb = x[start : start + _BLOCK]
        b, ins = below_buf[:, : xb.size], inside_buf[:, : xb.size]
        np.less(xb, lo2, out=b)
        np.less_equal(xb, hi2, out=ins)
        np.not_equal(ins, b, out=ins)  # lo <= x <= hi (x < lo implies x <= hi)
        for i in range(nb):
            below[i] += int(np.count_nonzero(b[i]))
            if lump[i]:
                inside[i] += int(np.count_nonzero(ins[i]))
            else:
                kept[i].append(xb[ins[i]])
    out = []
    for i, k in enumerate(ks):
        r = k - below[i]
        if lump[i]:  # the pair is the lump's value if it lies inside
            if r < 0 or r + 1 >= inside[i]:
                return None
            out.append((float(lo[i]), float(lo[i])))
            continue
        cand = np.concatenate(kept[i])
        if r < 0 or r + 1 >= cand.size:
            return None
        cand.partition([r, r + 1])
        out.append((float(cand[r]), float(cand[r + 1])))
    return out


def quantiles_1d(x: np.ndarray, q: Sequence[float] | np.ndarray) -> np.ndarray:
    """``np.nanquantile(x, q)`` (linear), bit-identical, by bracketed selection.

    Parameters
    ----------
    x : numpy.ndarray
        One-dimensional float values (a variable over draws); NaN values are skipped as
        :func:`numpy.nanquantile` skips them (numpy computes those cases).
    q : sequence of float or numpy.ndarray
        Quantiles strictly between 0 and 1.

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
    qs = np.asarray(q, dtype=np.float64)
    n = x.size
    if (
        x.ndim != 1
        or x.dtype != np.float64
        or n < _MIN_SIZE
        or not ((qs > 0) & (qs < 1)).all()
        or np.isnan(x.min())  # min is NaN where any value is
    ):
        return np.nanquantile(x, qs)
    virtual = (n - 1) * qs
    if (virtual >= n - 1).any():
        return np.nanquantile(x, qs)
    prev = np.floor(virtual).astype(np.intp)
    x = np.ascontiguousarray(x)
    sample = np.sort(x[:: max(n // _SAMPLE, 16)])
    ks = prev.tolist()
    pairs = _order_stat_pairs(x, ks, *_brackets(n, ks, qs, sample))
    if pairs is None:
        return np.nanquantile(x, qs)
    a = np.array([p for p, _ in pairs])
    b = np.array([p for _, p in pairs])
    # numpy's _get_gamma and _lerp for method "linear", operation by operation
    gamma = np.asanyarray(virtual - prev, dtype=virtual.dtype)
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def draw_quantiles(da: xr.DataArray, q: float | Sequence[float], dim: str = "draw") -> xr.DataArray:
    """``da.quantile(q, dim=dim)`` (xarray's default linear, NaN skipped), bit-identical.

    Each column over ``dim`` goes through :func:`quantiles_1d` in place (no copy of
    ``da``). The result has ``quantile`` first and the other dims in order, with their
    coordinates; a scalar ``q`` gives a scalar ``quantile`` coordinate, as xarray does.

    Examples
    --------
    >>> da = xr.DataArray(np.arange(10.0).reshape(5, 2), dims=("draw", "school"))
    >>> draw_quantiles(da, [0.5]).values.tolist()
    [[4.0, 5.0]]
    """
    scalar = np.ndim(q) == 0
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    moved = da.transpose(dim, ...)
    values = np.asarray(moved.values)
    rest = values.shape[1:]
    out = np.empty((qs.size, *rest))
    for idx in np.ndindex(*rest):
        out[(slice(None), *idx)] = quantiles_1d(values[(slice(None), *idx)], qs)
    dims = moved.dims[1:]
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
