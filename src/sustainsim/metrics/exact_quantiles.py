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


def _order_stat_pairs(
    x: np.ndarray, ks: list[int], sample: np.ndarray
) -> list[tuple[float, float]] | None:
    """The ``k``-th and ``k+1``-th smallest of NaN-free ``x`` for each ``k``; None on a miss.

    Each ``k`` gets a bracket ``[lo, hi]`` from the sorted ``sample``: one pass counts the
    values below it and marks those inside, and the pair is selected among those.
    """
    n, m = x.size, sample.size
    margin = 4.0 * np.sqrt(m * 0.25) + 8  # four sd of a sample rank, and some
    below = np.empty(n, dtype=bool)
    inside = np.empty(n, dtype=bool)
    out = []
    for k in ks:
        j = k * (m - 1) / (n - 1)
        lo = sample[max(int(j - margin), 0)]
        hi = sample[min(int(j + margin) + 1, m - 1)]
        np.less(x, lo, out=below)
        np.less_equal(x, hi, out=inside)
        np.not_equal(inside, below, out=inside)  # lo <= x <= hi (x < lo implies x <= hi)
        r = k - int(np.count_nonzero(below))
        if lo == hi:  # a lump (a constant line): the pair is lo if it lies inside
            if r < 0 or r + 1 >= np.count_nonzero(inside):
                return None
            out.append((float(lo), float(lo)))
            continue
        cand = x[inside]
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
        or np.isnan(x).any()
    ):
        return np.nanquantile(x, qs)
    virtual = (n - 1) * qs
    if (virtual >= n - 1).any():
        return np.nanquantile(x, qs)
    prev = np.floor(virtual).astype(np.intp)
    x = np.ascontiguousarray(x)
    sample = np.sort(x[:: max(n // _SAMPLE, 16)])
    pairs = _order_stat_pairs(x, prev.tolist(), sample)
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
