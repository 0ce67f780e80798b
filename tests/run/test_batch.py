"""Batches: outputs, manifest, resume after a real killed process, combined summary."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sustainsim
from sustainsim import ConfigError
from sustainsim.cli.batch import add_arguments, run
from sustainsim.io import MARKER
from sustainsim.run.batch import MANIFEST, read_manifest, run_batch
from tests.conftest import REF10

PROBS = ["0.10", "0.15", "0.20", "0.25"]
# per-run draws: long enough (~0.3 s a run) that a kill lands inside the batch
KILL_DRAWS = {"full": 80_000, "streaming": 300_000}


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> list[str]:
    d = tmp_path_factory.mktemp("configs")
    text = REF10.read_text()
    assert "probability = 0.15" in text
    paths = []
    for p in PROBS:
        path = d / f"ref_p{p}.toml"
        path.write_text(text.replace("probability = 0.15", f"probability = {p}"))
        paths.append(str(path))
    return paths


def _file_stats(out: Path, entries) -> dict:
    return {
        str(f): (f.stat().st_ino, f.stat().st_mtime_ns)
        for e in entries
        for f in sorted((out / e["run_dir"]).iterdir())
    }


def test_batch_outputs_and_table(configs, tmp_path):
    out = tmp_path / "b"
    table = run_batch(configs[:2], out, draws=3_000, seed=5, progress=False)
    entries = read_manifest(out)
    assert [e["config"] for e in entries] == configs[:2]
    for e, cfg in zip(entries, configs[:2], strict=True):
        spec = sustainsim.load_config(cfg)
        assert e["config_sha256"] == spec.sha256
        assert (e["seed"], e["draws"], e["mode"]) == (5, 3_000, "full")
        assert e["finished_at"].endswith("+00:00")
        run_dir = out / e["run_dir"]
        names = {p.name for p in run_dir.iterdir()}
        assert names == {MARKER, "results.nc", "summary.nc", "summary.json"}
        ds = sustainsim.open_results(run_dir / "results.nc")
        expected = sustainsim.simulate(spec, draws=3_000, seed=5)
        xr.testing.assert_equal(ds, expected)
        p = sustainsim.p_solvent(expected).isel(year=-1)
        row = table[table["config"] == cfg].iloc[0]
        assert row["p_solvent"] == float(p["probability"].item())
        assert row["lower"] == float(p["lower"].item())
        fq = sustainsim.metrics.balance_quantiles(expected).isel(year=-1)
        assert row["final_balance_q0.5"] == float(fq.sel(quantile=0.5).item())
    assert list(table["school"]) == ["ref", "ref"]
    on_disk = pd.read_csv(out / "summary.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(on_disk, table, check_dtype=False)
    nc = xr.open_dataset(out / "summary.nc", engine="h5netcdf").load()
    np.testing.assert_array_equal(nc["p_solvent"].values, table["p_solvent"].values)
    # the cut probability lowers P(solvent) (common seed): rows differ and are ordered
    assert table["p_solvent"].iloc[0] > table["p_solvent"].iloc[1]


def test_resume_skips_finished_runs_and_rerun_recomputes(configs, tmp_path):
    out = tmp_path / "b"
    first = run_batch(configs[:2], out, draws=2_000, mode="summary", progress=False)
    entries = read_manifest(out)
    stats = _file_stats(out, entries)
    again = run_batch(configs[:2], out, draws=2_000, mode="summary", resume=True, progress=False)
    assert read_manifest(out) == entries  # nothing re-recorded
    assert _file_stats(out, entries) == stats  # nothing rewritten
    pd.testing.assert_frame_equal(first, again)
    # another draw count is another run; without resume everything is recomputed
    run_batch(configs[:1], out, draws=2_500, mode="summary", resume=True, progress=False)
    assert len(read_manifest(out)) == 3
    run_batch(configs[:2], out, draws=2_000, mode="summary", progress=False)
    assert len(read_manifest(out)) == 2
    assert all(_file_stats(out, entries)[k] != v for k, v in stats.items())


def _batch_code(configs, out: Path, mode: str) -> str:
    """``sustainsim batch`` in a new process: the command records a signal, so a SIGINT that
    h5py swallows during a NetCDF write still stops the batch (a bare ``run_batch`` call,
    with Python's default handler, may go on to the end)."""
    argv = ["batch", *configs, "--out", str(out), "--draws", str(KILL_DRAWS[mode])]
    argv += ["--no-progress"] + (["--summary"] if mode == "streaming" else [])
    return f"import sys\nfrom sustainsim.cli import main\nsys.exit(main({argv!r}))\n"


@pytest.mark.parametrize(
    ("sig", "mode"),
    [(signal.SIGINT, "full"), (signal.SIGKILL, "streaming")],
    ids=["SIGINT", "SIGKILL"],
)
def test_killed_batch_resumes_without_recomputing(configs, tmp_path, sig, mode):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", _batch_code(configs, out, mode)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not read_manifest(out):
            if proc.poll() is not None:
                pytest.fail(f"batch exited early: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no run finished within 60 s")
            time.sleep(0.005)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0  # it was interrupted, not finished
    before = read_manifest(out)
    assert 1 <= len(before) < len(configs), "the kill must land mid-batch"
    stats = _file_stats(out, before)
    assert not (out / "summary.csv").exists()

    table = run_batch(
        configs,
        out,
        draws=KILL_DRAWS[mode],
        mode="summary" if mode == "streaming" else "full",
        resume=True,
        progress=False,
    )

    after = read_manifest(out)
    keys = [(e["config_sha256"], e["seed"], e["draws"], e["mode"]) for e in after]
    assert len(keys) == len(set(keys)) == len(configs)  # each run recorded once
    assert after[: len(before)] == before  # finished runs kept their entries (finish times)
    assert {k: v for k, v in _file_stats(out, after).items() if k in stats} == stats
    assert not list(out.rglob("*.tmp"))  # no partial files left behind

    reference_dir = tmp_path / "uninterrupted"
    reference = run_batch(
        configs,
        reference_dir,
        draws=KILL_DRAWS[mode],
        mode="summary" if mode == "streaming" else "full",
        progress=False,
    )
    pd.testing.assert_frame_equal(table, reference)
    assert (out / "summary.csv").read_text() == (reference_dir / "summary.csv").read_text()


def test_bad_config_fails_before_writing(configs, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulation]\nyears = 0\n")
    out = tmp_path / "b"
    with pytest.raises(ConfigError, match="years"):
        run_batch([configs[0], str(bad)], out, draws=100)
    assert not out.exists()
    with pytest.raises(ConfigError, match="not found"):
        run_batch([str(tmp_path / "missing.toml")], out, draws=100)
    with pytest.raises(ConfigError):
        run_batch([], out)


def test_cli_functions(configs, tmp_path, capsys):
    p = argparse.ArgumentParser()
    add_arguments(p)
    out = tmp_path / "cli"
    args = p.parse_args(
        [
            *configs[:2],
            "--out",
            str(out),
            "--draws",
            "1500",
            "--seed",
            "2",
            "--summary",
            "--no-progress",
        ]
    )
    assert run(args) == 0
    assert len(read_manifest(out)) == 2
    assert "P(solvent)" in capsys.readouterr().out
    manifest = [json.loads(x) for x in (out / MANIFEST).read_text().splitlines()]
    assert {m["mode"] for m in manifest} == {"streaming"}
    args = p.parse_args(
        [
            *configs[:2],
            "--out",
            str(out),
            "--draws",
            "1500",
            "--seed",
            "2",
            "--streaming",
            "--resume",
            "--no-progress",
        ]
    )
    assert run(args) == 0


def test_config_with_scenarios(tmp_path):
    cfg = tmp_path / "scen.toml"
    cfg.write_text(
        REF10.read_text()
        + '\n[scenarios.base]\n\n[scenarios.harsh]\n"district.cuts.probability" = 0.4\n'
    )
    spec = sustainsim.load_config(cfg)
    ds = sustainsim.simulate_scenarios(spec, draws=3_000, seed=4)
    expected = sustainsim.p_solvent(ds)["probability"].isel(year=-1).sel(school="ref")
    for streaming in (False, True):
        table = run_batch(
            [cfg],
            tmp_path / f"out{streaming}",
            draws=3_000,
            seed=4,
            mode="summary" if streaming else "full",
            progress=False,
        )
        assert list(table["scenario"]) == ["base", "harsh"]
        for name in ("base", "harsh"):
            got = table.loc[table["scenario"] == name, "p_solvent"].item()
            assert got == float(expected.sel(scenario=name))
        assert table["p_solvent"].iloc[0] > table["p_solvent"].iloc[1]
