"""Fault injection: SIGKILL (and SIGINT/SIGTERM) at several points of the write of a run and of
a batch; the output folder is then the old run or the new run, never a mix, and the next run
or ``--resume`` completes it.

The kills are real signals to real processes: one driver process imports sustainsim once and
forks a child per scenario, which signals itself at the point named by ``SUSTAINSIM_FAULT``
(:func:`sustainsim.io.fault_point`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

import sustainsim
from sustainsim.cli.main import main
from sustainsim.io import FAULT_ENV, MARKER
from sustainsim.run.batch import read_manifest, run_batch
from tests.cli.test_transactions import leftovers, snapshot
from tests.conftest import REF10

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

SRC = Path(sustainsim.__file__).resolve().parents[1]
DRIVER = """
import json, os, sys
from sustainsim.cli.main import main
import sustainsim.report, sustainsim.run.batch  # imported once, before the forks

codes = []
for env, argv in json.loads(sys.argv[1]):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.environ.update(env)
            code = main(argv)
        finally:
            os._exit(code)
    codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(codes))
"""


def drive(scenarios: list[tuple[dict, list[str]]], cwd: Path) -> list[int]:
    """Run ``sustainsim ARGV`` under each environment; the exit codes (-9: SIGKILL)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop(FAULT_ENV, None)
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(scenarios)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _new_run_matches(folder: Path, reference: Path) -> bool:
    """``folder`` holds the new run: the reference's files, results and summary."""
    if sorted(p.name for p in folder.iterdir()) != sorted(p.name for p in reference.iterdir()):
        return False
    record, want = (json.loads((d / MARKER).read_text()) for d in (folder, reference))
    if record["files"] != want["files"]:
        return False
    xr.testing.assert_identical(
        sustainsim.open_results(folder / "results.nc"),
        sustainsim.open_results(reference / "results.nc"),
    )
    got, exp = (json.loads((d / "summary.json").read_text()) for d in (folder, reference))
    got.pop("simulate_seconds"), exp.pop("simulate_seconds")
    return got == exp


# where a run is killed (POINT@SIGNAL, see sustainsim.io.fault_point) and the exit code
RUN_FAULTS = [
    ("file:results.nc", -9),  # results.nc written, not yet moved into the staging folder
    ("file:report.html", -9),  # results, summary and figures written, not the report
    ("file:.sustainsim.json", -9),  # everything but the folder's record
    ("commit:{name}", -9),  # the staging folder complete, not yet renamed
    ("committed:{name}", -9),  # the new folder in place, the old not yet removed
    ("file:summary.json@INT", 130),  # Ctrl-C
    ("file:results.nc@TERM", 143),  # a polite kill
]


def test_killed_run_leaves_the_old_run_or_the_new(tmp_path):
    argv = ["run", str(REF10), "--draws", "300", "--no-progress", "--out"]
    base = tmp_path / "old"
    assert main([*argv, str(base), "--seed", "1"]) == 0
    reference = tmp_path / "reference"
    assert main([*argv, str(reference), "--seed", "2"]) == 0
    old = snapshot(base)
    scenarios = []
    for i, (point, _) in enumerate(RUN_FAULTS):
        folder = tmp_path / f"o{i}"
        shutil.copytree(base, folder)
        fault = {FAULT_ENV: point.format(name=folder.name)}
        scenarios.append((fault, [*argv, str(folder), "--seed", "2"]))
    codes = drive(scenarios, tmp_path)
    assert codes == [code for _, code in RUN_FAULTS]
    outcomes = []
    for i, (point, _) in enumerate(RUN_FAULTS):
        folder = tmp_path / f"o{i}"
        if snapshot(folder) == old:
            outcomes.append("old")
        else:
            assert _new_run_matches(folder, reference), f"{point}: a mix of two runs"
            outcomes.append("new")
    assert outcomes == ["old"] * 4 + ["new"] + ["old"] * 2
    # the next run cleans what the kills left (staging folders, the old folder, the lock)
    # and completes: every folder is then the new run
    again = [({}, [*argv, str(tmp_path / f"o{i}"), "--seed", "2"]) for i in range(len(RUN_FAULTS))]
    assert drive(again, tmp_path) == [0] * len(RUN_FAULTS)
    for i in range(len(RUN_FAULTS)):
        assert _new_run_matches(tmp_path / f"o{i}", reference)
    assert not leftovers(tmp_path)


def test_killed_batch_resumes_to_the_uninterrupted_table(tmp_path):
    text = REF10.read_text()
    configs = []
    for p in ("0.10", "0.20", "0.30"):
        path = tmp_path / f"p{p}.toml"
        path.write_text(text.replace("probability = 0.15", f"probability = {p}"))
        configs.append(str(path))
    opts = {"draws": 300, "seed": 4, "progress": False}
    reference = run_batch(configs, tmp_path / "reference", **opts)
    second = read_manifest(tmp_path / "reference")[1]["run_dir"].split("/")[1]
    faults = [
        ("file:results.nc#2", -9),  # inside the second run's staging folder
        (f"commit:{second}", -9),  # the second run complete, not yet renamed
        (f"committed:{second}", -9),  # in place, not yet in the manifest
        ("file:manifest.jsonl#3", -9),  # the manifest entry of the second run
        ("file:summary.csv", -9),  # every run done, the table not written
        ("file:summary.nc#2@TERM", 143),
        ("file:results.nc#3@INT", 130),
    ]
    argv = ["batch", *configs, "--draws", "300", "--seed", "4", "--no-progress", "--out"]
    scenarios = [
        ({FAULT_ENV: f}, [*argv, str(tmp_path / f"b{i}")]) for i, (f, _) in enumerate(faults)
    ]
    assert drive(scenarios, tmp_path) == [code for _, code in faults]
    for i, (point, _) in enumerate(faults):
        out = tmp_path / f"b{i}"
        runs = sorted((out / "runs").iterdir()) if (out / "runs").exists() else []
        for run_dir in runs:  # every visible run folder is a whole run
            if run_dir.name.startswith("."):
                continue
            record = json.loads((run_dir / MARKER).read_text())
            assert record["files"] == sorted(p.name for p in run_dir.iterdir() if p.name != MARKER)
        assert len(read_manifest(out)) < len(configs) or point == "file:summary.csv"
        table = run_batch(configs, out, resume=True, **opts)
        pd.testing.assert_frame_equal(table, reference)
        want = (tmp_path / "reference" / "summary.csv").read_text()
        assert (out / "summary.csv").read_text() == want
        assert not leftovers(out), point
    assert not leftovers(tmp_path)
