"""Output folders as transactions: old run or new run, never a mix; the lock; what is kept.

Each test of a numbered defect of issue 15 failed before its fix.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import weakref
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim import io, netcdf, report
from sustainsim.analysis.paired import compare
from sustainsim.cli.main import main
from sustainsim.io import MARKER
from sustainsim.run.batch import MANIFEST, read_manifest, run_batch
from tests.conftest import CONFIGS, REF10

RUN = ["run", str(REF10), "--draws", "200", "--no-progress"]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> sha256): what 'the same folder' means."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    """Staging folders, folders moved aside, locks and temporary files under ``parent``."""
    tags = (".staging-", ".old-", ".lock", ".tmp", ".partial-")
    return [str(p) for p in parent.rglob(".*") if any(t in p.name for t in tags)]


# --- 1: stress without scenarios -------------------------------------------------------------


def test_stress_runs_a_config_without_scenarios(capsys):
    assert main(["stress", str(REF10), "--draws", "300"]) == 0
    out = capsys.readouterr().out
    assert "\nref " in out and "P with no cut" in out


# --- 2: --zarr never deletes a folder it did not write -----------------------------------------


@pytest.mark.parametrize("meta", [".zgroup", "zarr.json"])
def test_zarr_refuses_a_folder_that_merely_looks_like_a_store(tmp_path, capsys, meta):
    pytest.importorskip("dask")
    target = tmp_path / "data"
    target.mkdir()
    (target / meta).write_text("{}")
    (target / "thesis.tex").write_text("keep me")
    out = tmp_path / "out"
    code = main([*RUN, "--zarr", str(target), "--out", str(out), "--scheduler", "synchronous"])
    assert code == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == sorted([meta, "thesis.tex"])
    assert not out.exists() and not leftovers(tmp_path)


def test_zarr_inside_out_is_part_of_the_folder(tmp_path):
    pytest.importorskip("dask")
    out = tmp_path / "out"
    argv = [*RUN, "--out", str(out), "--scheduler", "synchronous"]
    assert main([*argv, "--zarr", str(out / "draws.zarr")]) == 0
    assert (out / "draws.zarr" / "zarr.json").is_file()
    ds = xr.open_zarr(out / "draws.zarr", consolidated=False)
    assert ds.sizes["draw"] == 200
    summary = xr.open_dataset(out / "summary.nc", engine="h5netcdf")
    assert summary.attrs["zarr_path"] == str(out / "draws.zarr")
    summary.close()
    assert not leftovers(tmp_path)


# --- 3 and 4: a failing run touches nothing; no mix of two runs; stale temporaries ----------------


def test_failing_run_keeps_a_concurrent_runs_files(tmp_path, monkeypatch):
    out = tmp_path / "out"

    def other_run_then_fail(ds, out_dir, **kw):
        out.mkdir(exist_ok=True)  # another process writes its results meanwhile
        (out / "results.nc").write_text("the other run's results")
        raise RuntimeError("figures failed")

    monkeypatch.setattr(report, "write_run_figures", other_run_then_fail)
    with pytest.raises(RuntimeError, match="figures failed"):
        main([*RUN, "--out", str(out)])
    assert (out / "results.nc").read_text() == "the other run's results"
    assert not leftovers(tmp_path)


def test_failed_run_leaves_the_old_run_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main([*RUN, "--seed", "1", "--out", str(out)]) == 0
    before = snapshot(out)

    def fail(*args, **kw):
        raise RuntimeError("figures failed")

    monkeypatch.setattr(report, "write_run_figures", fail)
    with pytest.raises(RuntimeError):
        main([*RUN, "--seed", "2", "--out", str(out)])
    assert snapshot(out) == before
    assert not leftovers(tmp_path)


def test_new_run_replaces_every_file_of_the_old(tmp_path):
    out = tmp_path / "out"
    assert main([*RUN, "--seed", "1", "--out", str(out)]) == 0
    assert (out / "report.html").exists()
    assert main([*RUN, "--seed", "2", "--out", str(out), "--no-report"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER,
        "forecast.xlsx",
        "p_solvent.csv",
        "results.nc",
        "summary.json",
    ]
    assert sustainsim.open_results(out / "results.nc").attrs["seed"] == 2
    record = json.loads((out / MARKER).read_text())
    assert record["command"] == "run" and record["owner"] == str(REF10.resolve())
    assert record["files"] == ["forecast.xlsx", "p_solvent.csv", "results.nc", "summary.json"]


def test_stale_temporaries_are_cleaned(tmp_path):
    out = tmp_path / "out"
    assert main([*RUN, "--out", str(out), "--no-report"]) == 0
    (out / ".results.nc.1a2b3c4d.tmp").write_bytes(b"half a file")  # as a kill leaves them
    (tmp_path / ".out.staging-99999-deadbeef").mkdir()
    (tmp_path / ".out.staging-99999-deadbeef" / "results.nc").write_bytes(b"half a run")
    assert main([*RUN, "--out", str(out), "--no-report"]) == 0
    assert not leftovers(tmp_path)


def test_a_folder_of_other_files_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main([*RUN, "--out", str(out)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert not leftovers(tmp_path)


def test_the_lock_refuses_a_concurrent_run(tmp_path, capsys):
    out = tmp_path / "out"
    with io.lock_folder(out):
        assert main([*RUN, "--out", str(out)]) == 2
        assert "in use by another sustainsim process" in capsys.readouterr().err
        with pytest.raises(io.OutputError, match="in use"):
            run_batch([str(REF10)], out, draws=100, progress=False)
    assert not out.exists()
    assert main([*RUN, "--out", str(out), "--no-report"]) == 0  # released
    assert not leftovers(tmp_path)


# --- 7: Ctrl-C swallowed inside the NetCDF write ------------------------------------------------


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("writer", "flags"), [("append_dataset", []), ("write_dataset", ["--float32"])]
)
def test_ctrl_c_swallowed_during_the_netcdf_write_still_stops_the_run(
    tmp_path, monkeypatch, writer, flags
):
    out = tmp_path / "out"
    assert main([*RUN, "--seed", "1", "--out", str(out), *flags]) == 0
    before = snapshot(out)
    original = getattr(netcdf, writer)

    def write_dataset(*args, **kwargs):
        # as h5py does: the signal handler runs inside a weakref callback, whose
        # exception Python reports as unraisable and drops
        class Obj:
            pass

        obj = Obj()
        ref = weakref.ref(obj, lambda r: signal.raise_signal(signal.SIGINT))  # noqa: F841
        del obj
        return original(*args, **kwargs)

    monkeypatch.setattr(netcdf, writer, write_dataset)
    assert main([*RUN, "--seed", "2", "--out", str(out), *flags]) == 130
    assert snapshot(out) == before
    assert not leftovers(tmp_path)


# --- 11: small promises ----------------------------------------------------------------------


def test_same_stem_configs_do_not_share_a_default_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(REF10, tmp_path / d / "ref.toml")
    argv = ["--draws", "100", "--no-report", "--no-progress"]
    assert main(["run", "a/ref.toml", *argv]) == 0
    before = snapshot(tmp_path / "out" / "ref")
    assert main(["run", "b/ref.toml", *argv]) == 2
    err = capsys.readouterr().err
    assert "a/ref.toml" in err and "--out" in err
    assert snapshot(tmp_path / "out" / "ref") == before
    assert main(["run", "a/ref.toml", *argv]) == 0  # the same config reruns in place
    assert main(["run", "b/ref.toml", *argv, "--out", "out/ref-b"]) == 0


def test_compare_out_writes_compare_json(tmp_path):
    out = tmp_path / "cmp"
    config = CONFIGS / "leap_chicago.toml"
    assert main(["compare", str(config), "--draws", "300", "--seed", "3", "--out", str(out)]) == 0
    got = json.loads((out / "compare.json").read_text())
    spec = sustainsim.load_config(config)
    # the config as written runs first, as scenario 'base', and is the default baseline
    ds = sustainsim.simulate_scenarios(
        spec, {"base": {}, **spec.config.scenarios}, draws=300, seed=3
    )
    p = compare(ds, "base")
    bal = compare(ds, "base", metric="final_balance")
    assert p.attrs["baseline"] == "base"
    assert got["baseline"] == p.attrs["baseline"] and got["draws"] == 300
    assert sorted(got["scenarios"]) == sorted(str(s) for s in p["scenario"].values)
    for sc, schools in got["scenarios"].items():
        for school, entry in schools.items():
            for year, r in entry["p_solvent"].items():
                want = p.sel(scenario=sc, school=school, year=int(year))
                assert r["difference"] == pytest.approx(float(want.difference))
                assert r["scenario"] - r["baseline"] == pytest.approx(r["difference"])
            fb = bal.sel(scenario=sc, school=school)
            assert entry["final_balance"]["se_paired"] == pytest.approx(float(fb.se_paired))
    nc = xr.open_dataset(out / "compare.nc", engine="h5netcdf").load()
    np.testing.assert_array_equal(nc["difference"].values, p["difference"].values)


def test_compare_out_refused_before_simulating(tmp_path, capsys, monkeypatch):
    target = tmp_path / "file"
    target.write_text("x")

    def boom(*a, **k):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr("sustainsim.cli.compare.simulate_scenarios", boom)
    config = str(CONFIGS / "leap_chicago.toml")
    assert main(["compare", config, "--draws", "100", "--out", str(target)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_batch_manifest_run_dir_never_points_outside(tmp_path):
    out = tmp_path / "batch"
    run_batch([str(REF10)], out, draws=100, seed=1, progress=False)
    (entry,) = read_manifest(out)
    # a hand-edited manifest points the finished run at a folder outside the batch
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(out / entry["run_dir"], elsewhere)
    shutil.rmtree(out / "runs")
    entry["run_dir"] = "../elsewhere"
    (out / MANIFEST).write_text(json.dumps(entry) + "\n")
    assert read_manifest(out) == []
    run_batch([str(REF10)], out, draws=100, seed=1, resume=True, progress=False)
    (again,) = read_manifest(out)
    assert again["run_dir"].startswith("runs/")
    assert (out / again["run_dir"] / "summary.nc").is_file()  # computed inside the batch


def test_atomic_writes_never_touch_the_process_umask(tmp_path, monkeypatch):
    import os

    old = os.umask(0o027)
    try:

        def no_umask(mask):
            raise AssertionError("os.umask called: it changes the umask of every thread")

        monkeypatch.setattr(os, "umask", no_umask)
        p = io.write_text("hi", tmp_path / "t.txt")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o640  # the umask applied, as open() would


# --- the other commands' folders -----------------------------------------------------------------


def test_sweep_out_is_one_transaction(tmp_path, monkeypatch):
    out = tmp_path / "sw"
    argv = ["sweep", str(REF10), "--grid", "district.cuts.probability=0.1,0.3"]
    argv += ["--draws", "200", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    before = snapshot(out)
    assert {"sweep.nc", "sweep.csv", MARKER} == {p.name for p in out.iterdir()}

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(io.Path, "write_text", fail)
    assert main([*argv[:-1], str(out), "--seed", "9"]) == 1  # an OS error: exit 1, no traceback
    monkeypatch.undo()
    assert snapshot(out) == before and not leftovers(tmp_path)


def test_report_replaces_its_files_and_keeps_the_runs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main([*RUN, "--out", str(out)]) == 0
    results = (out / "results.nc").read_bytes()
    (out / "fan_chart.png").unlink()
    assert main(["report", str(out / "results.nc")]) == 0
    assert (out / "fan_chart.png").is_file() and (out / "results.nc").read_bytes() == results
    assert json.loads((out / MARKER).read_text())["amended_by"] == "report"
    before = snapshot(out)

    def fail(*a, **k):
        raise RuntimeError("figures failed")

    monkeypatch.setattr("sustainsim.cli.report.write_report", fail)
    with pytest.raises(RuntimeError):
        main(["report", str(out / "results.nc")])
    assert snapshot(out) == before and not leftovers(tmp_path)


# --- 12: results.nc and the tables written on threads: the files of a sequential write --------


def test_overlapped_writes_give_the_files_of_sequential_ones(tmp_path):
    """``run`` writes results.nc and the tables beside the summary; the same files."""
    import pandas as pd

    from sustainsim.mapped import MappedResults
    from sustainsim.run.chunk import output_shapes
    from sustainsim.tables import write_tables

    out = tmp_path / "out"
    assert main([*RUN, "--seed", "5", "--out", str(out), "--no-report"]) == 0
    spec = sustainsim.load_config(REF10)
    ref = tmp_path / "sequential"
    ref.mkdir()
    mapped = MappedResults.create(ref / "results.nc", output_shapes(spec, 200, False))
    assert mapped is not None
    ds = sustainsim.simulate(spec, draws=200, seed=5, progress=False, out=mapped.arrays)
    mapped.write(ds)
    write_tables(ds, sustainsim.central_case(spec), ref)
    summ = sustainsim.summary(ds)
    for name in ("results.nc", "p_solvent.csv"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    got = json.loads((out / "summary.json").read_text())
    assert {k: v for k, v in got.items() if k not in ("config", "simulate_seconds")} == json.loads(
        io.json_text(summ)
    )
    for sheet in ("P(solvent)", "ref", "About"):  # the cells (the file carries a timestamp)
        pd.testing.assert_frame_equal(
            pd.read_excel(out / "forecast.xlsx", sheet_name=sheet, header=None),
            pd.read_excel(ref / "forecast.xlsx", sheet_name=sheet, header=None),
        )
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("flags", [[], ["--float32"]])  # mapped (sustainsim.mapped), written
def test_a_failed_background_write_fails_the_run_and_keeps_the_old(tmp_path, monkeypatch, flags):
    from sustainsim.mapped import MappedResults

    out = tmp_path / "out"
    assert main([*RUN, "--seed", "1", "--out", str(out), "--no-report"]) == 0
    before = snapshot(out)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", "results.nc")

    monkeypatch.setattr(io, "write_netcdf", full)
    monkeypatch.setattr(MappedResults, "write", full)
    assert main([*RUN, "--seed", "2", "--out", str(out), "--no-report", *flags]) == 1
    assert snapshot(out) == before
    assert not leftovers(tmp_path)
