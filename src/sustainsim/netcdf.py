"""Writing a Dataset to NetCDF-4 (h5netcdf) a slab of draws at a time: the same file, less memory.

A run's path variables are ``(draw, year, school)`` views of arrays laid out with draws
fastest, and HDF5 writes C order. Given a whole variable, h5py first copies it into a
C-ordered temporary of the variable's size (80 MB for one variable of 1e6 draws of ref10,
800 MB at 1e7 draws), freshly mapped for every variable: memory that costs more than the
copy where touching fresh pages is dear (a virtual machine hands them back to its host).
:func:`write_dataset` gives xarray's encoder a writer that hands each such variable to
HDF5 in slabs of :data:`SLAB_BYTES` along its first dim, whose temporaries stay on the
heap. The file is byte for byte what ``Dataset.to_netcdf(engine="h5netcdf")`` writes.
A file stored in HDF5 chunks (compressed, or with an unlimited dim) or a Dataset of dask
arrays is left to ``to_netcdf`` itself: slabs across HDF5 chunks would rewrite them, and
dask arrays are stored a block at a time already.

It also passes xarray a lock of its own: ``to_netcdf`` asks dask's scheduler which lock
a write needs, which imports distributed (0.16-0.26 s in a new process) even when no
array is a dask array. (dask itself xarray imports wherever it is installed.)
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["SLAB_BYTES", "write_dataset"]

#: about this many bytes of a variable are handed to HDF5 at a time (below glibc's mmap
#: threshold as sustainsim.run.heap sets it, so the temporaries are reused)
SLAB_BYTES = 8 * 2**20
#: what an attribute may hold in a NetCDF file (what xarray's to_netcdf accepts)
_ATTR_TYPES = (str, Number, np.ndarray, np.number, list, tuple, bytes)


class _Slabs:
    """The writer xarray's encoder hands each variable to: ``add(source, target)``.

    A C-ordered or small source is written whole, as xarray writes it; any other in
    slabs along its first dim.
    """

    def add(self, source: Any, target: Any, region: Any = None) -> None:
        if region is not None:  # pragma: no cover - xarray passes regions only to appends
            target[region] = source
            return
        if (
            not isinstance(source, np.ndarray)
            or source.ndim == 0
            or source.flags.c_contiguous
            or source.nbytes <= SLAB_BYTES
        ):
            target[...] = source
            return
        step = max(1, SLAB_BYTES * source.shape[0] // source.nbytes)
        for start in range(0, source.shape[0], step):
            target[start : start + step] = source[start : start + step]


def _check_attrs(ds: xr.Dataset) -> None:
    """Attributes a NetCDF file can hold, else TypeError naming the attribute and value."""
    owners: list[tuple[str, Mapping[Hashable, Any]]] = [("the Dataset", ds.attrs)]
    owners += [(f"variable {k!r}", v.attrs) for k, v in ds.variables.items()]
    for owner, attrs in owners:
        for key, value in attrs.items():
            if not isinstance(key, str) or not isinstance(value, _ATTR_TYPES):
                raise TypeError(
                    f"attribute {key!r} of {owner}: {value!r} cannot be stored in NetCDF; "
                    "allowed: str, a number, an array, a list or tuple of them, bytes"
                )


def _whole(ds: xr.Dataset, encoding: Mapping[Hashable, Mapping[str, Any]]) -> bool:
    """Whether ``to_netcdf`` writes ``ds`` itself: dask arrays, or variables in chunks."""
    if ds.encoding.get("unlimited_dims"):
        return True
    for k, v in ds.variables.items():
        enc = {**v.encoding, **encoding.get(k, {})}
        if v.chunks is not None or any(enc.get(e) for e in ("chunksizes", "compression", "zlib")):
            return True
    return False


def write_dataset(
    ds: xr.Dataset, path: str | Path, encoding: Mapping[Hashable, Mapping[str, Any]]
) -> None:
    """Write ``ds`` to a new NetCDF-4 file at ``path`` with xarray's h5netcdf backend.

    ``encoding`` is ``to_netcdf``'s (per-variable ``dtype``, ``compression``, ...). Not
    atomic: :func:`sustainsim.io.write_netcdf` writes through it into a temporary path.
    """
    from xarray.backends import H5NetCDFStore

    if _whole(ds, encoding):
        ds.to_netcdf(path, engine="h5netcdf", encoding=dict(encoding))
        return
    _check_attrs(ds)
    store = H5NetCDFStore.open(str(path), mode="w", lock=threading.Lock())
    try:
        ds.dump_to_store(store, writer=_Slabs(), encoding=dict(encoding))
    finally:
        store.close()
