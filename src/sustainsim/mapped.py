"""A ``results.nc`` the run simulates into: the file's path variables mapped into memory.

A full run keeps every draw's paths in memory and then writes them to ``results.nc``:
the same bytes twice, in fresh memory both times (the run's arrays, then the kernel's
page cache for the file). Where fresh memory is dear (a virtual machine that hands free
memory back to its host), writing 544 MB into a new file costs 0.3-2 s of CPU, most of a
run's time. :class:`MappedResults` instead creates ``results.nc`` first, with each path
variable stored in HDF5 chunks of one row of draws (every ``(year, school)`` of it, in
the engine's own layout, draws contiguous), maps those chunks into memory and hands them
to the run as its result buffers (``simulate(..., out=...)``): the engine writes its
numbers straight into the file's pages, once. After the run, :meth:`MappedResults.write`
adds the coordinates, the sampled inputs and the attributes and moves the file into
place.

The file reads back as the Dataset :func:`sustainsim.io.write_netcdf` would have
written, with the same values, attributes and encodings; only its storage differs
(chunks of ``(draws, 1, 1)`` instead of one contiguous block per variable), which
readers do not see. Reading one year of a variable reads only that year's chunks.

Mapped files need Linux (``posix_fallocate`` reserves the file's blocks first, so a full
disk is an ``OSError`` before the run, not a SIGBUS during it; ``MADV_POPULATE_WRITE``
faults the pages in at once) and rows of draws under 4 GiB (HDF5's chunk limit, about 5e8
draws); :meth:`MappedResults.create` returns None where it cannot map, and the caller
writes the usual way.
"""

from __future__ import annotations

import errno
import mmap
import os
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import xarray as xr

from sustainsim import io, netcdf
from sustainsim.results import VARIABLE_ATTRS, variable_dims

__all__ = ["MappedResults"]

#: Linux 5.14's MADV_POPULATE_WRITE: fault a range in, writable, in one call (Python 3.13
#: names it)
_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)
#: HDF5 keeps a chunk under 4 GiB
_MAX_CHUNK_BYTES = 2**32 - 1
#: every object starts on an 8-byte boundary: the mapped float64 arrays are aligned
_ALIGNMENT = {"alignment_threshold": 1, "alignment_interval": 8}
_DTYPE = np.dtype("<f8")
#: what a file system that cannot reserve a file's blocks or map it answers
_CANNOT = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS, errno.ENODEV, errno.EACCES}


def _fill_value(name: str, dims: tuple[str, ...]) -> object:
    """The ``_FillValue`` xarray's encoder gives a float64 variable ``name`` (NaN)."""
    from xarray.conventions import encode_cf_variable

    probe = xr.Variable(dims, np.empty((1,) * len(dims)), attrs=VARIABLE_ATTRS.get(name, {}))
    return encode_cf_variable(probe, name=name).attrs.get("_FillValue")


def _create(path: Path, shapes: Mapping[str, tuple[int, ...]]) -> None:
    """A new NetCDF-4 file of ``shapes``' variables, each chunk allocated (not written)."""
    import h5netcdf
    import h5py

    with h5netcdf.File(path, "w", **_ALIGNMENT) as f:
        for name, shape in shapes.items():
            dims = variable_dims(name, len(shape))
            for dim, size in zip(dims, (shape[-1], *shape[:-1]), strict=True):
                if dim not in f.dimensions:
                    f.dimensions[dim] = size
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            f.create_variable(
                name,
                dims,
                _DTYPE,
                fillvalue=_fill_value(name, dims),
                chunks=(shape[-1],) + (1,) * (len(shape) - 1),
                dcpl=dcpl,
                fill_time="never",
            )


def _map(path: Path, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray] | None:
    """The variables' chunks of the file at ``path`` as writable arrays, or None.

    The data's blocks are reserved on disk (``posix_fallocate``: a full disk is an
    ``OSError`` now, where a write through the map would be a SIGBUS), mapped shared, and
    faulted in writable in one call (``MADV_POPULATE_WRITE``; page by page as the run
    writes on kernels without it).
    """
    first = netcdf.row_offsets(path, shapes)
    if first is None:
        return None
    ends = {k: first[k] + _DTYPE.itemsize * int(np.prod(shapes[k])) for k in shapes}
    lo = min(first.values()) // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY
    hi = max(ends.values())
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, lo, hi - lo)  # ENOSPC raised: no space for this run's file
        region = mmap.mmap(fd, hi - lo, offset=lo)
    except OSError as exc:
        if exc.errno not in _CANNOT:
            raise
        return None  # a file system that cannot reserve or map: written the usual way
    finally:
        os.close(fd)
    try:
        region.madvise(_POPULATE_WRITE)
    except OSError:  # pragma: no cover - a kernel before 5.14
        pass
    return {
        k: np.frombuffer(region, _DTYPE, int(np.prod(shape)), first[k] - lo).reshape(shape)
        for k, shape in shapes.items()
    }


def _abort(stack: ExitStack, exc: BaseException) -> None:
    """Leave ``stack``'s :func:`~sustainsim.io.atomic_path` as on ``exc``: remove the file."""
    stack.__exit__(type(exc), exc, exc.__traceback__)


class MappedResults:
    """A new ``results.nc`` whose path variables are the run's result buffers.

    Create it with :meth:`create` before the run, give :attr:`arrays` to
    :func:`sustainsim.simulate` as ``out=``, and call :meth:`write` with the Dataset
    the run returned. Until :meth:`write` has moved it onto its path, the file is a
    temporary beside it (removed by :meth:`discard`, or with the output folder that holds
    it), as :func:`sustainsim.io.atomic_path` keeps every file of a run.

    Attributes
    ----------
    path : Path
        Where :meth:`write` puts the file.
    arrays : dict of numpy.ndarray
        The mapped buffers, draw axis last, in the shapes given; their memory is the
        file's pages, zero-filled until the run writes them.
    """

    def __init__(
        self, path: Path, tmp: Path, arrays: dict[str, np.ndarray], stack: ExitStack
    ) -> None:
        self.path = path
        self.arrays = arrays
        self._tmp = tmp
        self._stack = stack

    @classmethod
    def create(
        cls, path: str | Path, shapes: Mapping[str, tuple[int, ...]]
    ) -> MappedResults | None:
        """Create the file at a temporary beside ``path`` and map ``shapes``' variables.

        ``shapes`` maps engine outputs to their buffer shapes, draw axis last
        (:func:`sustainsim.run.chunk.output_shapes`). The file's space is reserved first,
        so a full disk fails here with ``OSError``, not while the run writes. Returns
        None, leaving nothing behind, where the variables cannot be mapped: not Linux,
        an empty variable, a row of draws of 4 GiB or more, chunks HDF5 did not lay out
        one after the other, a file system that cannot reserve blocks or map files.
        """
        path = Path(path)
        if not sys.platform.startswith("linux") or not shapes:
            return None
        if any(
            0 in shape or _DTYPE.itemsize * shape[-1] > _MAX_CHUNK_BYTES
            for shape in shapes.values()
        ):
            return None
        stack = ExitStack()
        try:
            tmp = stack.enter_context(io.atomic_path(path))
            _create(tmp, shapes)
            arrays = _map(tmp, shapes)
        except BaseException as exc:
            _abort(stack, exc)
            raise
        if arrays is None:
            _abort(stack, ValueError(f"{path.name}: chunks not laid out in order"))
            return None
        return cls(path, tmp, arrays, stack)

    def write(self, ds: xr.Dataset) -> Path:
        """Write the rest of ``ds`` into the file and move it onto :attr:`path`.

        ``ds`` is the Dataset the run wrapped around :attr:`arrays`
        (:func:`sustainsim.results.build_dataset`); everything else in it (coordinates,
        sampled inputs, attributes) is written as :func:`sustainsim.io.write_netcdf`
        writes it. On an error the temporary file is removed.

        Raises
        ------
        ValueError
            If a mapped variable of ``ds`` is not the mapped buffer (a copy, another run).
        """
        try:
            self._check(ds)
            netcdf.append_dataset(ds, self._tmp, frozenset(self.arrays))
        except BaseException as exc:
            _abort(self._stack, exc)
            raise
        self._stack.close()  # the signal check, then the rename onto the path
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (a run that failed or was not written)."""
        _abort(self._stack, RuntimeError(f"{self.path.name} discarded"))

    def _check(self, ds: xr.Dataset) -> None:
        for name, buffer in self.arrays.items():
            data = ds[name].values if name in ds else None
            view = np.moveaxis(buffer, -1, 0)
            same = (
                data is not None
                and data.__array_interface__["data"][0] == view.__array_interface__["data"][0]
                and data.strides == view.strides
                and data.shape == view.shape
            )
            if not same:
                raise ValueError(
                    f"variable {name!r} of the Dataset is not the mapped buffer of "
                    f"{self.path.name}: write() takes the Dataset simulated into its arrays"
                )
