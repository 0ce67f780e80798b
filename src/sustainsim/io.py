"""Files: atomic writes of results, summaries and text; reading results back.

Every file is written to a temporary name in its target directory and moved into
place with :func:`os.replace`, so a reader never sees a partial file and an
interrupted run never leaves one behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["atomic_path", "open_results", "write_json", "write_netcdf", "write_text"]


@contextmanager
def atomic_path(path: str | Path, suffix: str = ""):
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_netcdf(ds: xr.Dataset, path: str | Path, *, compress: bool = False) -> Path:
    """Write ``ds`` to NetCDF-4 (h5netcdf) atomically.

    ``compress`` applies gzip (level 1, shuffled): about half the size, several times
    slower to write.
    """
    encoding = {}
    if compress:
        for k, v in ds.data_vars.items():
            if v.dtype.kind in "fi" and v.ndim > 0:
                encoding[k] = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
    return _write(path, lambda p: ds.to_netcdf(p, engine="h5netcdf", encoding=encoding))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    text = json.dumps(obj, indent=2, default=_json_default, allow_nan=False)
    return write_text(text + "\n", path)


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) atomically."""

    def writer(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    return _write(path, writer)


def open_results(path: str | Path) -> xr.Dataset:
    """Load a results file written by sustainsim fully into memory."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
