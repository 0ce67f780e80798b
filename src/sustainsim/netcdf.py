"""NetCDF-4 (h5netcdf) results files: written a slab of draws at a time, read a row at a time.

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

A file whose path variables a run wrote through a map (:mod:`sustainsim.mapped`) is
completed by :func:`append_dataset`, which writes everything else with the same encoder.
Its variables are stored in rows of draws; :func:`load_dataset` reads each such variable
with one read, as the rows lie (:func:`row_offsets`), into a draw-last array.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["SLAB_BYTES", "append_dataset", "load_dataset", "row_offsets", "write_dataset"]

#: about this many bytes of a variable are handed to HDF5 at a time (below glibc's mmap
#: threshold as sustainsim.run.heap sets it, so the temporaries are reused)
SLAB_BYTES = 8 * 2**20
#: what an attribute may hold in a NetCDF file (what xarray's to_netcdf accepts)
_ATTR_TYPES = (str, Number, np.ndarray, np.number, list, tuple, bytes)


class _Slabs:
    """The writer xarray's encoder hands each variable to: ``add(source, target)``.

    A C-ordered or small source is written whole, as xarray writes it; any other in
    slabs along its first dim. The variables named in ``skip`` are not written: the file
    holds their data already (:func:`append_dataset`).
    """

    def __init__(self, skip: frozenset[str] = frozenset()) -> None:
        self.skip = skip

    def add(self, source: Any, target: Any, region: Any = None) -> None:
        if self.skip and getattr(target, "variable_name", None) in self.skip:
            return
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
    if _whole(ds, encoding):
        ds.to_netcdf(path, engine="h5netcdf", encoding=dict(encoding))
        return
    _dump(ds, path, "w", _Slabs(), encoding)


def _dump(
    ds: xr.Dataset,
    path: str | Path,
    mode: str,
    writer: _Slabs,
    encoding: Mapping[Hashable, Mapping[str, Any]],
) -> None:
    """Encode ``ds`` into the file at ``path`` (``mode`` ``"w"`` or ``"a"``) through ``writer``."""
    from xarray.backends import H5NetCDFStore

    _check_attrs(ds)
    store = H5NetCDFStore.open(str(path), mode=mode, lock=threading.Lock())
    try:
        ds.dump_to_store(store, writer=writer, encoding=dict(encoding))
    finally:
        store.close()


def append_dataset(
    ds: xr.Dataset,
    path: str | Path,
    written: frozenset[str],
    encoding: Mapping[Hashable, Mapping[str, Any]] | None = None,
) -> None:
    """Write ``ds`` into the NetCDF-4 file at ``path`` that holds the data of ``written``.

    The variables named in ``written`` exist in the file with their dims and data
    (:mod:`sustainsim.mapped` creates them); xarray's encoder gives them their
    attributes, creates the dims' coordinates and every other variable, and writes
    the other variables' data, a slab at a time. The Dataset read back is ``ds``.
    """
    _dump(ds, path, "a", _Slabs(skip=written), encoding or {})


def _chunks(dataset: object) -> list[tuple[tuple[int, ...], int, int]] | None:
    """``(chunk offset, byte offset, bytes)`` of every chunk of an h5py dataset, in order."""
    found: list[tuple[tuple[int, ...], int, int]] = []

    def add(chunk: object) -> None:
        found.append((chunk.chunk_offset, chunk.byte_offset, chunk.size))  # type: ignore[attr-defined]

    try:
        dataset.id.chunk_iter(add)  # type: ignore[attr-defined]
    except (AttributeError, NotImplementedError):  # pragma: no cover - HDF5 before 1.14
        return None
    return found


def row_offsets(path: str | Path, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int] | None:
    """Where each variable's rows of draws start in the file, if they lie one after another.

    ``shapes`` gives each variable's shape draw axis last (the file's is draw first). The
    variable must be stored in chunks of one row of draws each (``(draws, 1, ...)``),
    unfiltered, laid out in row-major order of the other dims without gaps: then its
    bytes are one draw-last array from the returned offset (as :mod:`sustainsim.mapped`
    writes them). None if any variable is not.
    """
    import h5py

    first: dict[str, int] = {}
    with h5py.File(path, "r") as f:
        for name, shape in shapes.items():
            d = f[name]
            rows = (shape[-1], *(1,) * (len(shape) - 1))
            filters = d.id.get_create_plist().get_nfilters()
            if d.chunks != rows or filters or d.dtype != "=f8":
                return None
            found = _chunks(d)
            order = [(0, *idx) for idx in np.ndindex(*shape[:-1])]
            if not found or [c[0] for c in found] != order:
                return None
            base, row = found[0][1], d.dtype.itemsize * shape[-1]
            if any(off != base + i * row or size != row for i, (_, off, size) in enumerate(found)):
                return None
            first[name] = base
    return first


def _rows(var: xr.Variable) -> tuple[int, ...] | None:
    """The draw-last shape of a loaded variable stored in rows of draws, else None.

    Float64 over ``draw`` first and something else, in chunks of one row of draws, with
    nothing for xarray to decode but a NaN fill value.
    """
    enc = var.encoding
    rows = (var.shape[0],) + (1,) * (var.ndim - 1)
    if var.ndim < 2 or var.dims[0] != "draw" or enc.get("chunksizes") != rows:
        return None
    if var.dtype != np.float64 or enc.get("dtype") != np.float64:
        return None
    fill = enc.get("_FillValue")
    if (fill is not None and not np.isnan(fill)) or {"scale_factor", "add_offset"} & set(enc):
        return None
    return (*var.shape[1:], var.shape[0])


def load_dataset(path: str | Path) -> xr.Dataset:
    """Read a NetCDF-4 file written by sustainsim fully into memory.

    What ``xr.open_dataset(path, engine="h5netcdf").load()`` gives; a variable stored in
    rows of draws (:func:`row_offsets`) is read as the rows lie in the file, one read per
    variable, into a draw-last array (as a run makes them) instead of through HDF5's
    per-element scatter into a draw-first one: 3-4 times faster.
    """
    with xr.open_dataset(path, engine="h5netcdf") as lazy:
        shapes = {
            str(k): s for k, v in lazy.data_vars.items() if (s := _rows(v.variable)) is not None
        }
        first = row_offsets(path, shapes) if shapes else None
        if not first:
            return lazy.load()
        rest = lazy.drop_vars(list(shapes)).load()
        with open(path, "rb") as fh:
            for name, shape in shapes.items():
                buf = np.empty(shape)
                fh.seek(first[name])
                if fh.readinto(buf.data.cast("B")) != buf.nbytes:
                    raise OSError(f"{path}: variable {name!r} ends before its data")
                old = lazy[name].variable
                new = xr.Variable(old.dims, np.moveaxis(buf, -1, 0), old.attrs)
                new.encoding = dict(old.encoding)
                rest[name] = new
        order = [k for k in lazy.variables if k in rest.variables]
        out = rest[[k for k in order if k in rest.data_vars]]
        out.encoding = dict(lazy.encoding)
        return out
