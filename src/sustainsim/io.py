"""Files and folders: atomic writes, output folders as transactions, the lock, signals.

Every file is written to a temporary name in its target directory and moved into
place with :func:`os.replace`, so a reader never sees a partial file. A whole output
folder (``sustainsim run --out DIR`` and the other commands' ``--out``, and each run
folder of a batch) is one transaction, :func:`output_folder`: the command writes
into a hidden sibling ``.DIR.staging-*`` and the finished folder is renamed onto
``DIR``, so ``DIR`` holds either the previous run or the new one, never a mix. A lock
file ``.DIR.lock`` beside it refuses a second command on the same folder, and a
folder that holds files sustainsim did not write is never replaced.

A command-line run records SIGINT and SIGTERM here (:func:`note_signal`); a file
or folder is never committed after one arrived, even where a library swallowed the
``KeyboardInterrupt`` (h5py does, in a weakref callback, during a NetCDF write).
Large files can be written on threads beside the command (:func:`background_writes`),
each still atomic; the folder is committed only once every one of them has finished.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sustainsim import netcdf
from sustainsim._version import __version__

__all__ = [
    "FAULT_ENV",
    "MARKER",
    "Interrupted",
    "OutputError",
    "atomic_path",
    "background_writes",
    "check_interrupted",
    "clean_stale",
    "fault_point",
    "json_text",
    "lock_folder",
    "netcdf_nbytes",
    "note_signal",
    "open_results",
    "output_folder",
    "read_marker",
    "write_json",
    "write_netcdf",
    "write_text",
]

#: the record of an output folder, written last into the staging folder
MARKER = ".sustainsim.json"
#: names sustainsim writes into an output folder (a folder holding only these, or
#: :data:`MARKER`, is one sustainsim may replace)
_OUTPUT_NAMES = frozenset(
    {
        "results.nc",
        "summary.json",
        "summary.nc",
        "report.html",
        "compare.nc",
        "compare.json",
        "p_solvent.csv",
        "forecast.xlsx",
    }
    | {"sweep.nc", "sweep.csv", "p_solvent.csv"}
)
#: environment variable naming a point where the process signals itself (fault tests)
FAULT_ENV = "SUSTAINSIM_FAULT"


class OutputError(ValueError):
    """An output folder cannot be used: not a folder, not sustainsim's, or locked."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the command stops, nothing is committed."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")


# --- signals and fault points --------------------------------------------------------------

_received: list[int] = []
_fault_hits: dict[str, int] = {}


def note_signal(signum: int | None) -> int | None:
    """Record that ``signum`` arrived (None: forget every signal); the first one recorded."""
    if signum is None:
        _received.clear()
        _fault_hits.clear()
    else:
        _received.append(int(signum))
    return _received[0] if _received else None


def check_interrupted() -> None:
    """Raise :class:`Interrupted` if a signal was recorded (also one a library swallowed)."""
    if _received:
        raise Interrupted(_received[0])


def fault_point(name: str) -> None:
    """Signal this process at the point ``name`` if ``SUSTAINSIM_FAULT`` asks for it.

    ``SUSTAINSIM_FAULT=POINT[#N][@SIG]``: at the ``N``-th time (default first) the run
    reaches ``POINT``, send it ``SIG`` (``KILL``, ``INT`` or ``TERM``; default
    ``KILL``). Points: ``file:NAME`` (a file written, before it is moved onto
    ``NAME``), ``commit:NAME`` (folder ``NAME`` complete, before the rename),
    ``swap:NAME`` (the old ``NAME`` moved aside, the new not yet in place),
    ``committed:NAME``. For the fault-injection tests; unset, it costs one lookup.
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, sig = spec.partition("@")
    point, _, nth = point.partition("#")
    if point != name:
        return
    _fault_hits[name] = _fault_hits.get(name, 0) + 1
    if _fault_hits[name] == int(nth or 1):
        os.kill(os.getpid(), getattr(signal, f"SIG{sig or 'KILL'}"))


# --- files ---------------------------------------------------------------------------------


def _new_temp(directory: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file with permissions from the umask (as ``open()`` would)."""
    while True:
        path = directory / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
        return path


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    On an exception, or if a signal arrived meanwhile, the temporary file is removed
    and ``path`` is untouched.

    The temporary path is no file yet: the writer creates it. It is a name beside an
    empty file created for this call (its random name reserved with ``O_EXCL``), which
    only this call uses. Writing into the reserved file itself would truncate it
    (``open(tmp, "w")``, HDF5's create), and ext4 writes a file truncated to zero back
    to disk when it is closed (auto_da_alloc): 85 ms of the writing thread for a
    results.nc of 544 MB.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    reserved = _new_temp(path.parent, f".{path.name}.", suffix + ".tmp")
    tmp = reserved.with_name(reserved.name.removesuffix(suffix + ".tmp") + f".new{suffix}.tmp")
    try:
        yield tmp
        check_interrupted()
        fault_point(f"file:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        reserved.unlink(missing_ok=True)


def _write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def _float32(v: xr.DataArray | xr.Variable) -> bool:
    """A variable ``float32=True`` stores in single precision: float64 data, not a coord."""
    return v.dtype == np.float64 and v.ndim > 0


#: a function that starts a write on a thread: ``submit(fn, *args)`` -> its Future
Submit = Callable[..., Future]


@contextmanager
def background_writes(threads: int = 2) -> Iterator[Submit]:
    """Write files on threads beside the caller; yields ``submit(fn, *args, **kwargs)``.

    ``submit`` starts ``fn`` on one of ``threads`` threads and returns its
    :class:`~concurrent.futures.Future`. The writes must be independent of each other and
    of what the caller does meanwhile (each its own files, the data only read), so the
    files are the same as written one after the other. numpy, h5py and the kernel's
    writes release the GIL, so a NetCDF write overlaps the caller's arithmetic.

    On exit every write is waited for, also after an exception or a signal in the caller
    (a staging folder is removed only once nothing writes into it); then the caller's
    exception, else the first failed write's (in the order submitted) is raised. A write
    not yet started when a signal is recorded does not run, one that finishes after it
    is not moved into place (:func:`atomic_path`); signals are handled in the main
    thread only, so no write swallows one.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with background_writes() as submit:
    ...     done = submit(write_text, "a,b", folder / "t.csv")
    ...     _ = write_text("{}", folder / "t.json")
    >>> sorted(p.name for p in folder.iterdir()), done.result().name
    (['t.csv', 't.json'], 't.csv')
    """
    futures: list[Future] = []
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sustainsim-write")

    def submit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        def job() -> Any:
            check_interrupted()  # a signal before this write started: do not start it
            return fn(*args, **kwargs)

        futures.append(pool.submit(job))
        return futures[-1]

    try:
        yield submit
    finally:
        interrupted = _wait_all(futures)
        pool.shutdown(wait=True)
    if interrupted is not None:  # a signal while waiting: raised once nothing writes
        raise interrupted
    for f in futures:
        f.result()  # the first failed write's exception, in the order submitted


def _wait_all(futures: list[Future]) -> KeyboardInterrupt | None:
    """Wait for every future, through signals; the first interrupt that arrived meanwhile."""
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            wait_futures(futures)
            return interrupted
        except KeyboardInterrupt as exc:  # the handler raised in this (main) thread: go on
            interrupted = interrupted or exc


def netcdf_nbytes(ds: xr.Dataset, *, float32: bool = False) -> int:
    """The bytes of ``ds``'s arrays as :func:`write_netcdf` stores them, uncompressed.

    Counted from the dims and dtypes (nothing is written): a lower bound of the file's
    size without ``compress`` (HDF5 adds a few kilobytes of metadata).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"x": (("draw", "year"), np.zeros((1000, 10)))})
    >>> netcdf_nbytes(ds), netcdf_nbytes(ds, float32=True)
    (80000, 40000)
    """
    total = 0
    for k, v in ds.variables.items():
        itemsize = 4 if float32 and k in ds.data_vars and _float32(v) else v.dtype.itemsize
        total += int(v.size) * int(itemsize)
    return total


def write_netcdf(
    ds: xr.Dataset, path: str | Path, *, compress: bool = False, float32: bool = False
) -> Path:
    """Write ``ds`` to NetCDF-4 (h5netcdf) atomically, a slab of draws at a time.

    The file is what ``ds.to_netcdf(engine="h5netcdf")`` writes
    (:func:`sustainsim.netcdf.write_dataset`: without its whole-variable temporaries).

    ``compress`` applies zlib (gzip level 1, shuffled): about half the size, several times
    slower to write. ``float32`` stores every float64 data variable in single precision
    (about 7 significant digits: cents up to about $100,000), half the size; it is read
    back as float32.
    """
    encoding: dict[Hashable, dict[str, Any]] = {}
    for k, v in ds.data_vars.items():
        enc: dict[str, Any] = {}
        if float32 and _float32(v):
            enc["dtype"] = "float32"
        if compress and v.dtype.kind in "fi" and v.ndim > 0:
            enc.update({"compression": "gzip", "compression_opts": 1, "shuffle": True})
        if enc:
            encoding[k] = enc
    return _write(path, lambda p: netcdf.write_dataset(ds, p, encoding))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def json_text(obj: Any) -> str:
    """``obj`` as the indented JSON :func:`write_json` writes, newline-terminated."""
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=False) + "\n"


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return write_text(json_text(obj), path)


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) atomically."""

    def writer(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    return _write(path, writer)


def open_results(path: str | Path) -> xr.Dataset:
    """Load a results file written by sustainsim fully into memory."""
    return netcdf.load_dataset(path)


# --- the lock ------------------------------------------------------------------------------


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of the open file ``fd`` without waiting; whether it was free."""
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def lock_folder(path: str | Path) -> Iterator[Path]:
    """Hold the lock file ``.NAME.lock`` beside the folder ``path``; :class:`OutputError` if taken.

    The operating system releases the lock when the process ends, however it ends
    (SIGKILL included); the file is removed on release.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        if not _try_lock(fd):
            os.close(fd)
            raise OutputError(
                f"output folder {str(path)!r} is in use by another sustainsim process "
                f"(lock {str(lock)!r}); wait for it to finish or choose another folder"
            )
        try:  # the file may have been removed by its last holder meanwhile: lock again
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


# --- output folders ------------------------------------------------------------------------


def read_marker(path: str | Path) -> dict | None:
    """The record :data:`MARKER` of an output folder, or None (absent or unreadable)."""
    try:
        record = json.loads((Path(path) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _is_ours(path: Path) -> bool:
    """An empty folder, one with a marker, or one holding only names sustainsim writes."""
    if read_marker(path) is not None:
        return True
    for p in path.iterdir():
        name = p.name
        temp = name.startswith(".") and name.endswith(".tmp")
        known = name in _OUTPUT_NAMES or name.endswith(".png")
        if not (p.is_file() and (temp or known)):
            return False
    return True


def _check_folder(path: Path, owner: str | None) -> None:
    """Refuse a file, a folder of someone else's files, or (``owner``) another config's run."""
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputError(f"--out {str(path)!r} exists and is not a directory")
    if not _is_ours(path):
        raise OutputError(
            f"--out {str(path)!r} holds files sustainsim did not write; refusing to replace "
            "it: choose a new or empty folder"
        )
    previous = (read_marker(path) or {}).get("owner")
    if owner is not None and previous is not None and previous != owner:
        raise OutputError(
            f"{str(path)!r} holds the output of {previous!r}, not {owner!r} (a config of "
            "the same name elsewhere); choose the folder with --out"
        )


def clean_stale(path: str | Path) -> list[Path]:
    """Remove what killed runs left of the folder ``path``; the paths removed.

    Call it holding the folder's lock. Staging folders ``.NAME.staging-*`` are
    removed; a previous folder moved aside as ``.NAME.old-*`` is moved back if ``NAME``
    is missing (a kill between the two renames of a commit), else removed; temporary
    files ``.*.tmp`` inside ``NAME`` are removed.
    """
    path = Path(path)
    removed: list[Path] = []
    if not path.parent.is_dir():
        return removed
    for old in sorted(path.parent.glob(f".{path.name}.old-*")):
        if not path.exists():
            os.rename(old, path)
        else:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    for stage in path.parent.glob(f".{path.name}.staging-*"):
        shutil.rmtree(stage, ignore_errors=True)
        removed.append(stage)
    if path.is_dir():
        for tmp in path.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _carry(old: Path, stage: Path, drop: Callable[[str], bool]) -> None:
    """Hard-link (or copy) the entries of ``old`` that stay into ``stage``."""
    for p in old.iterdir():
        target = stage / p.name
        if p.name == MARKER or drop(p.name) or target.exists() or p.name.endswith(".tmp"):
            continue
        if p.is_dir():
            shutil.copytree(p, target, copy_function=_link_or_copy)
        else:
            _link_or_copy(p, target)


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _commit(stage: Path, path: Path, record: dict) -> None:
    """Write the marker, then rename ``stage`` onto ``path`` (the old folder aside first)."""
    record["files"] = sorted(p.name for p in stage.iterdir())
    record["written_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_json(record, stage / MARKER)
    check_interrupted()
    fault_point(f"commit:{path.name}")
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(path, old)
        fault_point(f"swap:{path.name}")
    os.rename(stage, path)
    fault_point(f"committed:{path.name}")
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def output_folder(
    path: str | Path,
    *,
    command: str,
    owner: str | None = None,
    check_owner: bool = False,
    amend: Callable[[str], bool] | None = None,
    lock: bool = True,
) -> Iterator[Path]:
    """Write the folder ``path`` as one transaction; yields the staging folder to write into.

    Parameters
    ----------
    path : path
        The output folder. If it exists it must be a folder sustainsim wrote (its
        :data:`MARKER`, or only names sustainsim writes) or empty; else
        :class:`OutputError` before anything is written.
    command : str
        Recorded in the marker (``"run"``, ``"compare"``, ...).
    owner : str, optional
        What the output belongs to (a config's absolute path), recorded; with
        ``check_owner``, a folder recorded for another owner is refused.
    amend : callable, optional
        Keep the folder's other files: every entry of the old folder for which
        ``amend(name)`` is false is carried over (hard links). Default: the new
        folder holds only what was written into the staging folder.
    lock : bool
        Take the folder's lock (:func:`lock_folder`); False when the caller holds a
        lock on a folder above (a batch).

    On success (and if no signal arrived) the marker is written last, the old folder
    is moved aside, the staging folder renamed onto ``path`` and the old one removed.
    On an exception the staging folder is removed and ``path`` is untouched.
    """
    path = Path(path)
    _check_folder(path, owner if check_owner else None)  # before anything is written
    created = _missing_parents(path)
    try:
        yield from _transaction(path, command, owner, check_owner, lock, amend)
    except BaseException:
        for folder in created:  # folders made only for this output, if left empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _missing_parents(path: Path) -> list[Path]:
    """The parent folders of ``path`` that do not exist yet, deepest first."""
    out = []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        out.append(parent)
        parent = parent.parent
    return out


def _transaction(path, command, owner, check_owner, lock, amend) -> Iterator[Path]:
    """The body of :func:`output_folder`: lock, clean, stage, commit."""
    with lock_folder(path) if lock else _no_lock():
        clean_stale(path)
        _check_folder(path, owner if check_owner else None)  # again, under the lock
        previous = read_marker(path) if amend is not None else None
        stage = path.with_name(f".{path.name}.staging-{os.getpid()}-{secrets.token_hex(4)}")
        os.mkdir(stage)
        try:
            yield stage
            if amend is not None and path.is_dir():
                _carry(path, stage, amend)
            record = {"command": command, "owner": owner, "sustainsim_version": __version__}
            if previous is not None:
                record = {**previous, "sustainsim_version": __version__, "amended_by": command}
            _commit(stage, path, record)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise


@contextmanager
def _no_lock() -> Iterator[None]:
    yield None
