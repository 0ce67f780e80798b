"""sustainsim.mapped: a results.nc the run simulates into, read back as the run's Dataset."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim import io, mapped, netcdf
from sustainsim.mapped import MappedResults
from sustainsim.run.chunk import output_shapes
from sustainsim.run.plan import plan_run


def _same(a, b) -> bool:
    """Equal encoding values, NaN equal to NaN (a float fill value)."""
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return bool(a == b or (np.isnan(a) and np.isnan(b)))
    return bool(a == b)


def _mapped_run(spec, path, draws=3_000, lines=False, **options):
    """A run simulated into a mapped results.nc at ``path``: the MappedResults, the Dataset."""
    plan = plan_run(spec, draws=draws, seed=11, lines=lines, progress=False, **options)
    m = MappedResults.create(path, output_shapes(spec, draws, lines))
    assert m is not None
    return m, sustainsim.simulate(plan, out=m.arrays)


@pytest.mark.parametrize(("base", "lines"), [("small", False), ("two_schools", True)])
def test_the_file_reads_back_as_the_run_and_as_write_netcdfs(make_spec, tmp_path, base, lines):
    spec = make_spec(base)
    m, ds = _mapped_run(spec, tmp_path / "results.nc", lines=lines)
    assert m.write(ds) == tmp_path / "results.nc"
    plain = sustainsim.simulate(spec, draws=3_000, seed=11, lines=lines, progress=False)
    xr.testing.assert_identical(ds, plain)  # the same numbers as a run into new arrays
    io.write_netcdf(plain, tmp_path / "plain.nc")
    back = xr.open_dataset(tmp_path / "results.nc", engine="h5netcdf").load()
    ref = xr.open_dataset(tmp_path / "plain.nc", engine="h5netcdf").load()
    xr.testing.assert_identical(back, ref)
    xr.testing.assert_identical(back, plain)
    assert list(back.variables) == list(ref.variables)
    for k in ref.variables:  # the same encodings, but the storage
        storage = {"chunksizes", "contiguous", "preferred_chunks", "source"}
        want = {e: v for e, v in ref[k].encoding.items() if e not in storage}
        got = {e: v for e, v in back[k].encoding.items() if e not in storage}
        assert got.keys() == want.keys(), k
        assert all(_same(got[e], want[e]) for e in want), k
    rows = back["fund_balance"].encoding["chunksizes"]
    assert rows == (3_000, 1, 1)
    assert not list(tmp_path.glob(".*"))  # no temporary left


def test_the_buffers_are_zero_filled_views_of_the_file(make_spec, tmp_path):
    shapes = output_shapes(make_spec("two_schools"), 500, True)
    m = MappedResults.create(tmp_path / "results.nc", shapes)
    assert m is not None and set(m.arrays) == set(shapes)
    for k, a in m.arrays.items():
        assert a.shape == shapes[k] and a.dtype == np.float64 and a.flags.writeable
        assert a.flags.aligned and not a.any()
    m.discard()
    assert not list(tmp_path.iterdir())


def test_write_refuses_a_dataset_not_simulated_into_it(make_spec, tmp_path):
    spec = make_spec("small")
    m, ds = _mapped_run(spec, tmp_path / "results.nc", draws=1_000)
    copy = ds.copy(deep=True)
    with pytest.raises(ValueError, match="not the mapped buffer"):
        m.write(copy)
    assert not list(tmp_path.iterdir())  # the temporary removed, nothing at the path


def test_rows_it_cannot_map_return_none_and_leave_nothing(make_spec, tmp_path, monkeypatch):
    shapes = output_shapes(make_spec("small"), 1_000, False)
    assert MappedResults.create(tmp_path / "a.nc", {**shapes, "x": (0, 1_000)}) is None
    monkeypatch.setattr(mapped, "_MAX_CHUNK_BYTES", 7_999)  # a row of 1,000 doubles too big
    assert MappedResults.create(tmp_path / "b.nc", shapes) is None
    monkeypatch.undo()
    monkeypatch.setattr(netcdf, "row_offsets", lambda *a: None)  # chunks out of order
    assert MappedResults.create(tmp_path / "c.nc", shapes) is None
    assert not list(tmp_path.iterdir())


def test_the_same_numbers_whatever_the_chunks_and_threads(make_spec, tmp_path):
    spec = make_spec("two_schools")
    _, a = _mapped_run(spec, tmp_path / "a.nc", draws=2_500, chunk_size=333, threads=1)
    _, b = _mapped_run(spec, tmp_path / "b.nc", draws=2_500, threads=2)
    xr.testing.assert_identical(a, b)


def test_out_is_checked_before_the_run(make_spec):
    spec = make_spec("small")
    plan = plan_run(spec, draws=100, progress=False)
    good = {k: np.zeros(s) for k, s in output_shapes(spec, 100, False).items()}
    with pytest.raises(ValueError, match="missing or unknown.*'fund_balance'"):
        sustainsim.simulate(plan, out={k: v for k, v in good.items() if k != "fund_balance"})
    with pytest.raises(ValueError, match=r"out\['cost'\]: a float64 array of shape \(3, 1, 100\)"):
        sustainsim.simulate(plan, out={**good, "cost": np.zeros((3, 1, 100))})
    frozen = good["revenue"].copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        sustainsim.simulate(plan, out={**good, "revenue": frozen})
    summary = plan_run(spec, draws=100, mode="summary", progress=False)
    with pytest.raises(ValueError, match="full run's buffers"):
        sustainsim.simulate(summary, out=good)


def test_out_buffers_are_the_datasets_memory(make_spec):
    spec = make_spec("small")
    out = {k: np.zeros(s) for k, s in output_shapes(spec, 200, False).items()}
    ds = sustainsim.simulate(spec, draws=200, seed=2, out=out, progress=False)
    assert np.shares_memory(ds["fund_balance"].values, out["fund_balance"])
    xr.testing.assert_identical(ds, sustainsim.simulate(spec, draws=200, seed=2, progress=False))


def test_open_results_reads_rows_as_the_run_laid_them_out(make_spec, tmp_path):
    spec = make_spec("two_schools")
    m, ds = _mapped_run(spec, tmp_path / "results.nc", lines=True)
    m.write(ds)
    fast = io.open_results(tmp_path / "results.nc")
    slow = xr.open_dataset(tmp_path / "results.nc", engine="h5netcdf").load()
    xr.testing.assert_identical(fast, slow)
    assert list(fast.variables) == list(slow.variables)
    assert fast["fund_balance"].values.strides[0] == 8  # draws contiguous, as a run's
    assert (
        fast["fund_balance"].encoding["chunksizes"] == slow["fund_balance"].encoding["chunksizes"]
    )


def test_open_results_reads_other_storage_through_xarray(make_spec, tmp_path):
    ds = sustainsim.simulate(make_spec("small"), draws=2_000, seed=3, progress=False)
    rows = {"chunksizes": (2_000, 1, 1)}
    encodings = {
        "contiguous": {},
        "rows_compressed": {"fund_balance": {**rows, "compression": "gzip"}},
        "rows_float32": {"fund_balance": {**rows, "dtype": "float32"}},
    }
    for name, encoding in encodings.items():
        ds.to_netcdf(tmp_path / f"{name}.nc", engine="h5netcdf", encoding=encoding)
        back = io.open_results(tmp_path / f"{name}.nc")
        ref = xr.open_dataset(tmp_path / f"{name}.nc", engine="h5netcdf").load()
        xr.testing.assert_identical(back, ref)
    assert (
        netcdf.row_offsets(tmp_path / "rows_compressed.nc", {"fund_balance": (4, 1, 2_000)}) is None
    )


def test_a_file_system_that_cannot_reserve_falls_back_a_full_disk_fails(
    make_spec, tmp_path, monkeypatch
):
    import errno
    import os

    shapes = output_shapes(make_spec("small"), 1_000, False)

    def refuse(code):
        def fallocate(fd, offset, length):
            raise OSError(code, os.strerror(code))

        return fallocate

    monkeypatch.setattr(os, "posix_fallocate", refuse(errno.EOPNOTSUPP))
    assert MappedResults.create(tmp_path / "a.nc", shapes) is None
    monkeypatch.setattr(os, "posix_fallocate", refuse(errno.ENOSPC))
    with pytest.raises(OSError, match="No space left"):
        MappedResults.create(tmp_path / "b.nc", shapes)
    assert not list(tmp_path.iterdir())
