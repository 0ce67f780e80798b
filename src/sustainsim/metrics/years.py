"""Flags along ``year``: "in every year so far" and "the first year it happened".

A run's flags are ``(draw, year, school)`` views of arrays laid out with draws fastest.
numpy's ``logical_and.accumulate`` and ``argmax`` along such a year axis walk the years
of one draw at a time (a stride of a whole year between neighbours); a loop over the
years instead combines one year's contiguous draws with the next's, a few passes of
cheap operations: 2 ms against 28 ms for ref10's 1e6 draws. Booleans and indices are the
same whichever way they are computed. Lazy (dask-backed) flags take xarray's own
operations.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["every_year_so_far", "first_true"]


def every_year_so_far(flags: xr.DataArray, dim: str = "year") -> xr.DataArray:
    """Whether ``flags`` held in every year up to and including each year (bool).

    Examples
    --------
    >>> f = xr.DataArray([[True, False, True], [True, True, True]], dims=("draw", "year"))
    >>> every_year_so_far(f).values.tolist()
    [[True, False, False], [True, True, True]]
    """
    if not isinstance(flags.data, np.ndarray):
        return flags.astype(np.int8).cumprod(dim).astype(bool)
    axis = flags.get_axis_num(dim)
    data = np.asarray(flags.data, dtype=bool)
    out = np.empty_like(data)  # the layout of the flags: a year's draws contiguous
    src, dst = np.moveaxis(data, axis, 0), np.moveaxis(out, axis, 0)
    if src.shape[0]:
        dst[0] = src[0]
    for j in range(1, src.shape[0]):
        np.logical_and(dst[j - 1], src[j], out=dst[j])
    return flags.copy(data=out)


def first_true(flags: xr.DataArray, dim: str = "year") -> tuple[np.ndarray, np.ndarray]:
    """The index along ``dim`` of the first True of each cell, and whether there is one.

    The index is 0 where there is none (as ``argmax`` gives); the dims are those of
    ``flags`` without ``dim``, in order.

    Examples
    --------
    >>> f = xr.DataArray([[False, True, True], [False, False, False]], dims=("draw", "year"))
    >>> first, seen = first_true(f)
    >>> first.tolist(), seen.tolist()
    ([1, 0], [True, False])
    """
    if not isinstance(flags.data, np.ndarray):
        return np.asarray(flags.argmax(dim).values), np.asarray(flags.any(dim).values)
    axis = flags.get_axis_num(dim)
    src = np.moveaxis(np.asarray(flags.data, dtype=bool), axis, 0)
    seen = np.zeros(src.shape[1:], dtype=bool)
    unseen = np.empty_like(seen)
    before = np.zeros(src.shape[1:], dtype=np.intp)  # years before the first True
    for j in range(src.shape[0]):
        np.logical_or(seen, src[j], out=seen)
        np.logical_not(seen, out=unseen)
        np.add(before, unseen, out=before)
    np.multiply(before, seen, out=before)  # none: index 0
    return before, seen
