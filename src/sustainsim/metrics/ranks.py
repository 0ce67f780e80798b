"""Ranks and orders over draws: scipy's average ranks and numpy's stable sort, faster.

The report ranks every sampled input over the draws: the risk drivers (their Spearman
correlations and rank regression share one ranking) and the bad futures' duplicate
check. scipy's
``rankdata`` sorts with a stable sort and imports :mod:`scipy.stats` (0.6 s in a new
process); ties get the mean of their ordinal ranks whatever the order among them, so any
sort gives the same ranks, and numpy's default sort is several times faster than the
stable one on floats. Ranks are integers and halves below 2**53: exact in float64, so
they are bit-identical to scipy's.

The deciles and tornado bars split ties by draw order, numpy's stable argsort (a merge
sort on floats, six times slower than the default). Where no value of a slice repeats,
every sort gives that one order: :func:`stable_argsort` sorts with the default and
sorts again stably only the slices with a tie (or a NaN).
"""

from __future__ import annotations

import numpy as np

__all__ = ["rankdata", "stable_argsort"]


def rankdata(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Average ranks (1 to n, ties the mean of theirs) along ``axis``, as scipy's.

    Parameters
    ----------
    a : numpy.ndarray
        Values; a slice along ``axis`` holding a NaN gets NaN ranks throughout (scipy's
        ``nan_policy="propagate"``).
    axis : int
        The axis ranked (default the last; ``axis=0`` ranks the draws of each column).

    Returns
    -------
    numpy.ndarray
        float64 ranks, the shape of ``a``.

    Examples
    --------
    >>> rankdata(np.array([3.0, 1.0, 3.0, 2.0])).tolist()
    [3.5, 1.0, 3.5, 2.0]
    >>> rankdata(np.array([[1.0, 5.0], [2.0, 5.0], [0.0, np.nan]]), axis=0).tolist()
    [[2.0, nan], [3.0, nan], [1.0, nan]]
    """
    x = np.ascontiguousarray(np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1))
    n = x.shape[-1]
    order = np.argsort(x, axis=-1)
    s = np.take_along_axis(x, order, axis=-1)
    starts = np.ones(s.shape, dtype=bool)  # where a run of equal values begins
    np.not_equal(s[..., 1:], s[..., :-1], out=starts[..., 1:])
    pos = np.broadcast_to(np.arange(n, dtype=np.intp), s.shape)
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    ends = np.ones(s.shape, dtype=bool)  # where a run ends
    ends[..., :-1] = starts[..., 1:]
    last = np.minimum.accumulate(np.where(ends, pos, n)[..., ::-1], axis=-1)[..., ::-1]
    # scipy's: the run's first ordinal rank plus (its length - 1) / 2
    sorted_ranks = (first + 1).astype(np.float64) + (last - first).astype(np.float64) / 2
    out = np.empty_like(sorted_ranks)
    np.put_along_axis(out, order, sorted_ranks, axis=-1)
    if n:
        out[np.isnan(s[..., -1])] = np.nan  # NaN sorts last
    return np.moveaxis(out, -1, axis)


def stable_argsort(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``np.argsort(a, axis=axis, kind="stable")``, the same indices, faster without ties.

    Parameters
    ----------
    a : numpy.ndarray
        Values (any real dtype).
    axis : int
        The axis sorted (default the last; ``axis=0`` orders the draws of each column).

    Returns
    -------
    numpy.ndarray
        The indices that sort ``a`` along ``axis``, equal values in their original order.

    Examples
    --------
    >>> stable_argsort(np.array([2.0, 1.0, 2.0, 0.5])).tolist()
    [3, 1, 0, 2]
    """
    x = np.ascontiguousarray(np.moveaxis(np.asarray(a), axis, -1))
    n = x.shape[-1]
    flat = x.reshape(-1, n)
    order = np.argsort(flat, axis=-1)
    if n > 1:
        s = np.take_along_axis(flat, order, axis=-1)
        redo = (s[:, 1:] == s[:, :-1]).any(axis=-1)  # a tie: its order is the sort's choice
        if s.dtype.kind in "fc":
            redo |= np.isnan(s[:, -1])  # NaNs sort last, among themselves in any order
        if redo.any():
            order[redo] = np.argsort(flat[redo], axis=-1, kind="stable")
    return np.moveaxis(order.reshape(x.shape), -1, axis)
