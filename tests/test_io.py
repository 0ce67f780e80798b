"""Atomic writes: a failure leaves neither a partial file nor a temporary one."""

from __future__ import annotations

import json
from contextlib import nullcontext

import numpy as np
import pytest

from sustainsim.io import atomic_path, write_json, write_text


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "summary.json"
    write_json({"a": 1}, target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


@pytest.mark.parametrize("fails", [False, True])
def test_the_temporary_is_created_by_the_writer(tmp_path, fails):
    """A name no file has yet, beside the reserved one; both go afterwards."""
    target = tmp_path / "results.nc"
    target.write_text("old run")
    seen = {}
    with pytest.raises(RuntimeError) if fails else nullcontext():
        with atomic_path(target) as tmp:
            seen["exists"] = tmp.exists()
            seen["names"] = sorted(p.name for p in tmp_path.iterdir())
            seen["tmp"] = tmp.name
            with open(tmp, "x") as f:  # O_EXCL: the writer creates it
                f.write("new run")
            if fails:
                raise RuntimeError("boom")
    assert seen["exists"] is False
    reserved = [n for n in seen["names"] if n != "results.nc"]
    assert len(reserved) == 1 and reserved[0] != seen["tmp"]  # the name is held meanwhile
    # both are temporaries a clean-up after a kill removes (.*.tmp)
    for name in (reserved[0], seen["tmp"]):
        assert name.startswith(".results.nc.") and name.endswith(".tmp")
    assert [p.name for p in tmp_path.iterdir()] == ["results.nc"]
    assert target.read_text() == ("old run" if fails else "new run")


def test_write_netcdf_lets_hdf5_create_its_file(tmp_path, monkeypatch):
    """HDF5 creates results.nc's temporary anew: truncating the reserved empty file instead
    makes ext4 write the whole file back to disk when HDF5 closes it (auto_da_alloc)."""
    import xarray as xr

    from sustainsim import io, netcdf

    existed = []
    write = netcdf.write_dataset

    def spy(ds, path, encoding):
        existed.append(path.exists())
        write(ds, path, encoding)

    monkeypatch.setattr(netcdf, "write_dataset", spy)
    ds = xr.Dataset({"x": (("draw",), np.arange(5.0))})
    io.write_netcdf(ds, tmp_path / "results.nc")
    assert existed == [False]
    assert [p.name for p in tmp_path.iterdir()] == ["results.nc"]
    xr.testing.assert_identical(io.open_results(tmp_path / "results.nc"), ds)


def test_json_refuses_nan_and_converts_numpy(tmp_path):
    target = tmp_path / "x.json"
    write_json({"n": np.int64(3), "x": np.float64(0.5), "a": np.arange(2)}, target)
    assert json.loads(target.read_text()) == {"n": 3, "x": 0.5, "a": [0, 1]}
    with pytest.raises(ValueError):
        write_json({"bad": float("nan")}, tmp_path / "y.json")
    assert not (tmp_path / "y.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_written_files_are_readable_by_others(tmp_path):
    p = write_text("hi", tmp_path / "t.txt")
    assert p.stat().st_mode & 0o044  # group/other read under the usual umask


def test_clean_stale_restores_a_folder_moved_aside_by_a_killed_commit(tmp_path):
    from sustainsim.io import clean_stale

    # a kill between the two renames of a commit:
    # the old folder moved aside, the complete new one not yet in place
    old = tmp_path / ".out.old-123-abcd"
    old.mkdir()
    (old / "results.nc").write_text("old run")
    stage = tmp_path / ".out.staging-123-abcd"
    stage.mkdir()
    (stage / "results.nc").write_text("new run")
    clean_stale(tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (tmp_path / "out" / "results.nc").read_text() == "old run"


def test_lock_is_exclusive_and_released(tmp_path):
    from sustainsim.io import OutputError, lock_folder

    with lock_folder(tmp_path / "out") as lock:
        assert lock.name == ".out.lock"
        with pytest.raises(OutputError, match="in use"):
            with lock_folder(tmp_path / "out"):
                pass
    assert list(tmp_path.iterdir()) == []  # the lock file goes with the lock
    with lock_folder(tmp_path / "out"):
        pass


# --- writes on threads beside the caller ----------------------------------------------------


def test_background_writes_wait_for_every_write_even_after_a_failure(tmp_path):
    import threading

    from sustainsim.io import background_writes

    release = threading.Event()

    def slow(path):
        release.wait(5)
        return write_text("late", path)

    with pytest.raises(RuntimeError, match="caller failed"):
        with background_writes() as submit:
            done = submit(slow, tmp_path / "slow.txt")
            release.set()
            raise RuntimeError("caller failed")
    # the exit waited: the write was finished (not cut off) before the exception went on
    assert done.done() and (tmp_path / "slow.txt").read_text() == "late"


def test_background_writes_raise_the_first_failed_write(tmp_path):
    from sustainsim.io import background_writes

    def fail(message):
        raise OSError(message)

    with pytest.raises(OSError, match="first"):
        with background_writes() as submit:
            submit(fail, "first")
            submit(fail, "second")
            write_text("ok", tmp_path / "a.txt")


def test_no_background_write_starts_after_a_signal(tmp_path):
    import signal

    from sustainsim.io import Interrupted, background_writes, note_signal

    note_signal(signal.SIGINT)
    try:
        with pytest.raises(Interrupted):
            with background_writes() as submit:
                submit(write_text, "never", tmp_path / "never.txt")
    finally:
        note_signal(None)
    assert not list(tmp_path.iterdir())
