"""sustainsim.netcdf: the file xarray's to_netcdf writes, a slab of draws at a time."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sustainsim import io, netcdf


def _run_like(draws: int = 5_000, schools: int = 3, years: int = 4) -> xr.Dataset:
    """A Dataset laid out as a run's: (draw, year, school) views of draw-fastest arrays."""
    rng = np.random.default_rng(7)
    fastest = rng.normal(size=(schools, years, draws)) * 1e5  # draws fastest in memory
    names = [f"s{i}" for i in range(schools)]
    ds = xr.Dataset(
        {
            "fund_balance": (("draw", "year", "school"), fastest.transpose(2, 1, 0)),
            "cost": (("draw", "year", "school"), (2 * fastest).transpose(2, 1, 0)),
            "count": (("draw", "school"), rng.integers(0, 9, size=(schools, draws)).T),
            "grant_end": ("draw", rng.normal(size=draws)),
        },
        coords={"draw": np.arange(draws), "year": 2027 + np.arange(years), "school": names},
        attrs={"title": "a run", "seed": 3, "draws": draws},
    )
    ds["fund_balance"].attrs = {"units": "USD", "long_name": "ending fund balance"}
    assert not ds["fund_balance"].values.flags.c_contiguous
    return ds


def _reference(ds: xr.Dataset, path: Path, **encoding) -> bytes:
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding or None)
    return path.read_bytes()


@pytest.fixture
def small_slabs(monkeypatch):
    """Slabs of 10,000 bytes: a variable of 5,000 x 4 x 3 doubles is written in 49."""
    monkeypatch.setattr(netcdf, "SLAB_BYTES", 10_000)


def test_the_file_is_xarrays_byte_for_byte(tmp_path, small_slabs):
    ds = _run_like()
    netcdf.write_dataset(ds, tmp_path / "new.nc", {})
    assert (tmp_path / "new.nc").read_bytes() == _reference(ds, tmp_path / "ref.nc")
    back = xr.open_dataset(tmp_path / "new.nc", engine="h5netcdf").load()
    xr.testing.assert_identical(back, ds)


@pytest.mark.parametrize(
    "encoding",
    [
        {"fund_balance": {"dtype": "float32"}, "cost": {"dtype": "float32"}},
        {"fund_balance": {"compression": "gzip", "compression_opts": 1, "shuffle": True}},
    ],
    ids=["float32", "compressed"],
)
def test_encodings_give_xarrays_file(tmp_path, small_slabs, encoding):
    ds = _run_like()
    netcdf.write_dataset(ds, tmp_path / "new.nc", encoding)
    assert (tmp_path / "new.nc").read_bytes() == _reference(ds, tmp_path / "ref.nc", **encoding)


def test_a_run_with_scenarios_and_write_netcdf(tmp_path):
    """Through io.write_netcdf: a scenario dim first, float32 and compress as the CLI asks."""
    ds = xr.concat([_run_like(), _run_like() + 1], dim="scenario").assign_coords(
        scenario=["base", "cut"]
    )
    for options in ({}, {"float32": True}, {"compress": True}):
        io.write_netcdf(ds, tmp_path / "a.nc", **options)
        back = xr.open_dataset(tmp_path / "a.nc", engine="h5netcdf").load()
        if options.get("float32"):
            np.testing.assert_allclose(back.cost, ds.cost, rtol=1e-7)
        else:
            xr.testing.assert_identical(back, ds)


def test_slabs_are_written_a_slab_at_a_time(monkeypatch):
    """Every write is at most a slab of draws; the slabs tile the draws in order."""
    writes: list[tuple] = []

    class Target:
        def __setitem__(self, key, value):
            writes.append((key, np.array(value)))

    source = np.arange(3 * 10_001.0).reshape(3, 10_001).T  # (10001, 3), not C-ordered
    monkeypatch.setattr(netcdf, "SLAB_BYTES", 24 * 1_000)  # 1,000 rows of 3 doubles
    netcdf._Slabs().add(source, Target())
    starts = [k.start for k, _ in writes]
    assert starts == list(range(0, 10_001, 1_000))
    np.testing.assert_array_equal(np.concatenate([v for _, v in writes]), source)
    # C-ordered or small sources are written whole, as xarray writes them
    for src in (np.ascontiguousarray(source), source[:100]):
        writes.clear()
        netcdf._Slabs().add(src, Target())
        assert [k for k, _ in writes] == [Ellipsis]


def test_chunked_files_and_dask_arrays_are_xarrays_own_write(tmp_path, monkeypatch):
    """Compression, chunk sizes (also of a file read back), unlimited dims, dask: to_netcdf."""
    ds = _run_like(draws=200)
    calls = []
    monkeypatch.setattr(xr.Dataset, "dump_to_store", lambda *a, **k: calls.append("slabs") or None)
    cases = [
        {"cost": {"compression": "gzip"}},
        {"cost": {"chunksizes": (50, 4, 3)}},
    ]
    for encoding in cases:
        netcdf.write_dataset(ds, tmp_path / "x.nc", encoding)
    read = xr.open_dataset(tmp_path / "x.nc", engine="h5netcdf").load()
    netcdf.write_dataset(read, tmp_path / "y.nc", {})  # keeps its chunk sizes
    netcdf.write_dataset(ds.chunk({"draw": 50}), tmp_path / "z.nc", {})
    unlimited = ds.copy()
    unlimited.encoding["unlimited_dims"] = {"draw"}
    netcdf.write_dataset(unlimited, tmp_path / "u.nc", {})
    assert calls == []
    xr.testing.assert_identical(xr.open_dataset(tmp_path / "z.nc", engine="h5netcdf").load(), ds)
    netcdf.write_dataset(ds, tmp_path / "w.nc", {})
    assert calls == ["slabs"]


def test_no_temporary_the_size_of_a_variable(tmp_path):
    """xarray's own write copies each variable whole (the negative control); slabs do not."""
    ds = _run_like(draws=200_000, schools=2, years=10)  # 32 MB a path variable
    size = ds["fund_balance"].nbytes

    def peak(write) -> int:
        tracemalloc.start()
        try:
            write()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    whole = peak(lambda: ds.to_netcdf(tmp_path / "ref.nc", engine="h5netcdf"))
    slabs = peak(lambda: netcdf.write_dataset(ds, tmp_path / "new.nc", {}))
    assert whole >= size
    assert slabs < size / 2
    assert slabs <= 2 * netcdf.SLAB_BYTES + 2**20


def test_a_write_does_not_import_distributed(tmp_path):
    """to_netcdf asks dask's scheduler for a lock, importing distributed (0.16 s)."""
    src = Path(netcdf.__file__).resolve().parents[1]
    code = (
        "import sys, numpy as np, xarray as xr; from sustainsim import io; "
        "ds = xr.Dataset({'x': (('draw', 'year'), np.zeros((50, 3)))}); "
        f"io.write_netcdf(ds, {str(tmp_path / 'x.nc')!r}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'distributed'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src), "PATH": ""},
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_an_attribute_netcdf_cannot_hold(tmp_path):
    ds = _run_like(draws=10)
    ds["cost"].attrs["bad"] = {"a": 1}
    with pytest.raises(TypeError, match=r"attribute 'bad' of variable 'cost': \{'a': 1\}"):
        io.write_netcdf(ds, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()
