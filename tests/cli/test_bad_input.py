"""Bad input to every subcommand: exit 2, a message naming the field or file, no traceback,
nothing written (issue 15).

One table, one test: each row is a command line (with ``{placeholders}`` for the files
the fixture makes) and a piece of text its error message must contain.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sustainsim.cli.main import main
from tests.conftest import CONFIGS, REF10, SMALL_TOML

DEEP = "a = " + "[" * 3000 + "]" * 3000 + "\n"


def _edit(old: str, new: str) -> str:
    assert old in SMALL_TOML, old
    return SMALL_TOML.replace(old, new, 1)


#: file name -> text, made in the test's folder
FILES = {
    "good.toml": SMALL_TOML,
    "inf_balance.toml": _edit("fund_balance = 200000", "fund_balance = inf"),
    "nan_drift.toml": _edit("drift = -0.01", "drift = nan"),
    "huge_drift.toml": _edit("drift = -0.01", "drift = 1000"),
    "huge_growth.toml": _edit("funding = 0.02", "funding = 1e300"),
    "inf_rate.toml": _edit("rate = 9000", "rate = inf"),
    "big_seed.toml": _edit("seed = 7", "seed = 1000000000000000000000000000000"),
    "zero_chunk.toml": _edit("seed = 7", "seed = 7\nchunk_size = 0"),
    "low_capacity.toml": _edit("common_loading = 0.5", "common_loading = 0.5\ncapacity = 100"),
    "unknown_key.toml": _edit("seed = 7", "seed = 7\nsede = 3"),
    "missing_years.toml": _edit("years = 5\n", ""),
    "wrong_type.toml": _edit("base = 400", 'base = "four hundred"'),
    "syntax.toml": "[simulation\nyears = 5\n",
    "deep.toml": DEEP,
    "not_utf8.toml": "\udcff",  # written as bytes below
    "no_scenarios.toml": SMALL_TOML,
    "notes.txt": "not a config\n",
    "fake.nc": "this is text, not NetCDF\n",
    "history.csv": "year,value\n" + "".join(f"{2010 + i},{500 - 3 * i}\n" for i in range(10)),
    "bad_rows.csv": "year,value\n2010,500\n2011,49O\n2012,480\n2013,470\n2014,460\n2015,455\n",
    "few.csv": "year,value\n2010,500\n2011,490\n",
    "negative.csv": "year,value\n2010,500\n2011,-490\n2012,480\n2013,470\n2014,460\n",
    "exists.toml": "# a fragment written before\n",
    "afile": "a regular file\n",
    "lever_typo.toml": SMALL_TOML
    + '[levers.typo]\npath = "schools.a.fund_balanse"\nvalues = [1]\n',
    "lever_ok.toml": SMALL_TOML + '[levers.ok]\npath = "schools.a.fund_balance"\nvalues = [1]\n',
}

LEAP = str(CONFIGS / "leap_chicago.toml")

#: (id, command line, text the error must contain)
CASES = [
    # --- run ---------------------------------------------------------------------------------
    ("run-missing-file", "run {d}/nope.toml", "nope.toml"),
    ("run-directory", "run {d}", "is a directory"),
    ("run-syntax", "run {d}/syntax.toml", "TOML syntax error"),
    ("run-deep-nesting", "run {d}/deep.toml", "nested too deeply"),
    ("run-not-utf8", "run {d}/not_utf8.toml", "not_utf8.toml"),
    ("run-inf-balance", "run {d}/inf_balance.toml", "schools.a.fund_balance"),
    ("run-nan-drift", "run {d}/nan_drift.toml", "schools.a.enrollment.drift"),
    ("run-huge-drift", "run {d}/huge_drift.toml", "schools.a.enrollment.drift"),
    ("run-huge-growth", "run {d}/huge_growth.toml", "district.growth.funding"),
    ("run-inf-rate", "run {d}/inf_rate.toml", "schools.a.revenue.pp.rate"),
    ("run-config-seed", "run {d}/big_seed.toml", "simulation.seed"),
    ("run-config-chunk", "run {d}/zero_chunk.toml", "simulation.chunk_size"),
    ("run-low-capacity", "run {d}/low_capacity.toml", "capacity"),
    ("run-unknown-key", "run {d}/unknown_key.toml", "simulation.sede"),
    ("run-missing-field", "run {d}/missing_years.toml", "simulation.years"),
    ("run-wrong-type", "run {d}/wrong_type.toml", "schools.a.enrollment.base"),
    ("run-draws-zero", "run {d}/good.toml --draws 0", "--draws"),
    ("run-draws-text", "run {d}/good.toml --draws many", "--draws"),
    ("run-draws-float", "run {d}/good.toml --draws 2.5", "--draws"),
    ("run-abbreviated-flag", "run {d}/good.toml --draw 5", "--draw"),
    ("run-abbreviated-seed", "run {d}/good.toml --se 5", "--se"),
    ("run-seed-negative", "run {d}/good.toml --seed -1", "--seed"),
    ("run-seed-huge", "run {d}/good.toml --seed 1000000000000000000000000000000", "seed"),
    ("run-chunk-zero", "run {d}/good.toml --chunk-size 0", "--chunk-size"),
    ("run-sampler", "run {d}/good.toml --sampler random", "--sampler"),
    ("run-workers", "run {d}/good.toml --workers 0", "--workers"),
    ("run-threads", "run {d}/good.toml --threads 0", "--threads"),
    ("run-threads-and-workers", "run {d}/good.toml --threads 2 --workers 2", "--threads"),
    ("run-out-is-file", "run {d}/good.toml --out {d}/afile", "afile"),
    ("run-out-under-file", "run {d}/good.toml --out {d}/afile/sub", "afile"),
    ("run-memory-budget", "run {d}/good.toml --draws 100000000 --max-memory 1GB", "--summary"),
    ("run-max-memory-text", "run {d}/good.toml --max-memory lots", "--max-memory"),
    ("run-max-memory-zero", "run {d}/good.toml --max-memory 0", "--max-memory"),
    ("run-target-nan", "run {d}/good.toml --target-se nan", "--target-se"),
    ("run-target-inf", "run {d}/good.toml --target-rel inf", "--target-rel"),
    ("run-target-and-draws", "run {d}/good.toml --target-se 0.01 --draws 10", "--draws"),
    ("run-max-draws-alone", "run {d}/good.toml --max-draws 10", "--max-draws"),
    ("run-lines-summary", "run {d}/good.toml --lines --summary", "--lines"),
    ("run-unknown-flag", "run {d}/good.toml --colour", "--colour"),
    ("run-zarr-is-file", "run {d}/good.toml --zarr {d}/afile", "afile"),
    ("run-zarr-scenarios", "run " + LEAP + " --zarr {d}/z", "--zarr"),
    ("run-no-config", "run", "config"),
    ("run-years-text", "run {d}/good.toml --years soon", "--years"),
    ("run-years-backwards", "run {d}/good.toml --years 2034-2030", "backwards"),
    ("run-years-outside", "run {d}/good.toml --years 2020", "--years 2020"),
    ("run-entity-unknown", "run {d}/good.toml --entity nobody", "'nobody'"),
    ("run-float32-summary", "run {d}/good.toml --float32 --summary", "--float32"),
    ("run-draws-negative-float", "run {d}/good.toml --draws -2e3", "--draws"),
    ("run-abbreviated-quiet", "run {d}/good.toml --qui", "--qui"),
    # --- validate ----------------------------------------------------------------------------
    ("validate-missing", "validate {d}/nope.toml", "nope.toml"),
    ("validate-inf", "validate {d}/inf_balance.toml", "schools.a.fund_balance"),
    ("validate-nan", "validate {d}/nan_drift.toml", "schools.a.enrollment.drift"),
    ("validate-drift", "validate {d}/huge_drift.toml", "<= 1"),
    ("validate-growth", "validate {d}/huge_growth.toml", "district.growth.funding"),
    ("validate-seed", "validate {d}/big_seed.toml", "simulation.seed"),
    ("validate-capacity", "validate {d}/low_capacity.toml", "capacity"),
    ("validate-deep", "validate {d}/deep.toml", "nested too deeply"),
    ("validate-text-file", "validate {d}/notes.txt", "notes.txt"),
    ("validate-one-bad-of-two", "validate {d}/good.toml {d}/unknown_key.toml", "sede"),
    # --- compare -----------------------------------------------------------------------------
    ("compare-no-scenarios", "compare {d}/no_scenarios.toml", "scenarios"),
    ("compare-text-as-nc", "compare {d}/fake.nc", "fake.nc"),
    ("compare-missing-nc", "compare {d}/nope.nc", "nope.nc"),
    ("compare-out-is-file", "compare " + LEAP + " --draws 100 --out {d}/afile", "afile"),
    ("compare-out-under-file", "compare " + LEAP + " --out {d}/afile/x", "afile"),
    ("compare-baseline", "compare " + LEAP + " --baseline nope", "--baseline"),
    ("compare-draws", "compare " + LEAP + " --draws -3", "--draws"),
    ("compare-inf", "compare {d}/inf_balance.toml", "schools.a.fund_balance"),
    ("compare-abbrev", "compare " + LEAP + " --base expected", "--base"),
    ("compare-years", "compare " + LEAP + " --years 20x0", "--years"),
    # --- stress ------------------------------------------------------------------------------
    ("stress-missing", "stress {d}/nope.toml", "nope.toml"),
    ("stress-inf", "stress {d}/inf_balance.toml", "schools.a.fund_balance"),
    ("stress-draws", "stress {d}/good.toml --draws 0", "--draws"),
    ("stress-target-text", "stress {d}/good.toml --target high", "--target"),
    ("stress-abbrev", "stress {d}/good.toml --tar 0.5", "--tar"),
    ("stress-target-range", "stress {d}/good.toml --target 1.5", "--target"),
    ("stress-target-nan", "stress {d}/good.toml --target nan", "--target"),
    ("stress-compare-one", "stress {d}/good.toml --compare a", "--compare"),
    ("stress-compare-three", "stress {d}/good.toml --compare a,b,c", "--compare"),
    ("stress-compare-no-models", "stress {d}/good.toml --compare a,b", "'a' is not a [models.NAME]"),
    ("stress-compare-unknown", f"stress {LEAP} --compare personalized,nope", "'nope'"),
    ("stress-compare-same", f"stress {LEAP} --compare traditional,traditional", "two different"),
    # --- backtest ----------------------------------------------------------------------------
    ("backtest-missing", "backtest {d}/nope.csv --entity id --year year --value value", "nope.csv"),
    ("backtest-no-entity-col", "backtest {d}/history.csv --entity id --year year --value value", "id"),
    ("backtest-horizon", "backtest {d}/history.csv --entity year --year year --value value --horizon 0", "--horizon"),
    ("backtest-levels", "backtest {d}/history.csv --entity year --year year --value value --levels 1.5", "--levels"),
    ("backtest-cohort-no-grade", "backtest {d}/history.csv --entity year --year year --value value --model cohort", "grade column"),
    ("backtest-abbrev", "backtest {d}/history.csv --ent id --year year --value value", "--ent"),
    # --- levers ------------------------------------------------------------------------------
    ("levers-missing", "levers {d}/nope.toml", "nope.toml"),
    ("levers-none", "levers {d}/good.toml", "defines no [levers.NAME]"),
    ("levers-inf", "levers {d}/inf_balance.toml", "schools.a.fund_balance"),
    ("levers-bad-path", "levers {d}/lever_typo.toml", "levers.typo"),
    ("levers-unknown", "levers {d}/lever_ok.toml --lever nope", "'nope'"),
    ("levers-draws", "levers {d}/lever_ok.toml --draws 0", "--draws"),
    ("levers-abbrev", "levers {d}/lever_ok.toml --pai", "--pai"),
    # --- sweep -------------------------------------------------------------------------------
    (
        "sweep-threads-and-scheduler",
        "sweep {d}/good.toml --grid district.cuts.probability=0.1,0.2 --threads 2 "
        "--scheduler threads",
        "threads=2",
    ),
    ("sweep-no-equals", "sweep {d}/good.toml --grid district.cuts.probability", "--grid"),
    ("sweep-empty-value", "sweep {d}/good.toml --grid district.cuts.probability=0.1,", "--grid"),
    ("sweep-bad-path", "sweep {d}/good.toml --grid district.nope=1,2", "district.nope"),
    ("sweep-bad-value", "sweep {d}/good.toml --grid district.cuts.probability=0.1,2", "probability"),
    ("sweep-inf-value", "sweep {d}/good.toml --grid schools.a.fund_balance=1,inf", "fund_balance"),
    ("sweep-huge-drift", "sweep {d}/good.toml --grid schools.a.enrollment.drift=0,50", "drift"),
    ("sweep-seed-path", "sweep {d}/good.toml --grid simulation.seed=1,2", "simulation.seed"),
    ("sweep-repeated", "sweep {d}/good.toml --grid district.cuts.probability=0.1,0.1", "repeated"),
    ("sweep-no-grid", "sweep {d}/good.toml", "--grid"),
    ("sweep-keep-summary", "sweep {d}/good.toml --grid district.cuts.probability=0.1 --keep-draws --summary", "--keep-draws"),
    ("sweep-memory", "sweep {d}/good.toml --grid district.cuts.probability=0.1,0.2 --draws 100000000 --max-memory 1GB", "--summary"),
    ("sweep-out-is-file", "sweep {d}/good.toml --grid district.cuts.probability=0.1 --out {d}/afile", "afile"),
    ("sweep-inf-config", "sweep {d}/inf_balance.toml --grid district.cuts.probability=0.1", "fund_balance"),
    # --- batch -------------------------------------------------------------------------------
    ("batch-missing", "batch {d}/nope.toml --out {d}/b", "nope.toml"),
    ("batch-one-bad", "batch {d}/good.toml {d}/inf_balance.toml --out {d}/b", "fund_balance"),
    ("batch-no-out", "batch {d}/good.toml", "--out"),
    ("batch-seed", "batch {d}/good.toml --out {d}/b --seed 1000000000000000000000000000000", "seed"),
    ("batch-memory", "batch {d}/good.toml --out {d}/b --draws 100000000 --max-memory 1GB", "--summary"),
    ("batch-max-memory-text", "batch {d}/good.toml --out {d}/b --max-memory 4XB", "--max-memory"),
    ("batch-abbrev", "batch {d}/good.toml --out {d}/b --res", "--res"),
    # --- report ------------------------------------------------------------------------------
    ("report-missing", "report {d}/nope.nc", "nope.nc"),
    ("report-text-as-nc", "report {d}/fake.nc", "fake.nc"),
    ("report-directory", "report {d}", "{d}"),
    # --- calibrate ---------------------------------------------------------------------------
    ("calibrate-missing", "calibrate {d}/nope.csv", "nope.csv"),
    ("calibrate-bad-rows", "calibrate {d}/bad_rows.csv", "non-numeric"),
    ("calibrate-few-years", "calibrate {d}/few.csv", "too few years"),
    ("calibrate-negative", "calibrate {d}/negative.csv", "positive"),
    ("calibrate-column", "calibrate {d}/history.csv --value enrollment", "enrollment"),
    ("calibrate-growth-nan", "calibrate {d}/history.csv --max-abs-growth nan", "--max-abs-growth"),
    ("calibrate-growth-negative", "calibrate {d}/history.csv --max-abs-growth -1", "--max-abs-growth"),
    ("calibrate-growth-inf", "calibrate {d}/history.csv --max-abs-growth inf", "--max-abs-growth"),
    ("calibrate-out-dir", "calibrate {d}/history.csv --out {d}", "is a directory"),
    ("calibrate-out-exists", "calibrate {d}/history.csv --out {d}/exists.toml", "--force"),
    ("calibrate-out-no-folder", "calibrate {d}/history.csv --out {d}/no/such/x.toml", "does not exist"),
    ("calibrate-kind", "calibrate {d}/history.csv --kind revenue", "--kind"),
    ("calibrate-filter", "calibrate {d}/history.csv --filter region", "--filter"),
    ("calibrate-text-file", "calibrate {d}/deep.toml", "deep.toml"),
    ("calibrate-abbrev", "calibrate {d}/history.csv --max 0.2", "--max"),
    # --- the command itself ------------------------------------------------------------------
    ("no-command", "", "COMMAND"),
    ("unknown-command", "simulate {d}/good.toml", "simulate"),
    ("abbreviated-command", "valid {d}/good.toml", "valid"),
]  # fmt: skip


@pytest.fixture
def folder(tmp_path) -> Path:
    for name, text in FILES.items():
        if name == "not_utf8.toml":
            (tmp_path / name).write_bytes(b"[simulation]\nyears = \xff\n")
        else:
            (tmp_path / name).write_text(text)
    return tmp_path


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")}


def test_the_table_covers_every_subcommand_and_sixty_kinds():
    from sustainsim.cli.main import COMMANDS

    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)
    used = {c[1].split()[0] for c in CASES if c[1]}
    assert set(COMMANDS) <= used


@pytest.mark.parametrize(("argv", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_names_the_problem_and_writes_nothing(
    folder, monkeypatch, capsys, argv, needle
):
    monkeypatch.chdir(folder)  # default outputs (out/STEM) would land here
    before = _tree(folder)
    code = main(argv.format(d=folder).split())
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert needle.format(d=folder) in err, err
    assert "Traceback" not in err + out
    assert _tree(folder) == before  # nothing written, nothing changed


def test_compare_checks_out_before_simulating(folder, monkeypatch, capsys):
    from sustainsim.cli import compare

    monkeypatch.setattr(compare, "simulate_scenarios", lambda *a, **k: pytest.fail("simulated"))
    assert main(["compare", LEAP, "--out", str(folder / "afile")]) == 2
    assert "afile" in capsys.readouterr().err


def test_calibrate_out_force_replaces(folder, capsys):
    target = folder / "exists.toml"
    argv = ["calibrate", str(folder / "history.csv"), "--out", str(target), "--force"]
    assert main(argv) == 0
    assert "drift" in target.read_text() and "written before" not in target.read_text()


@pytest.mark.parametrize(
    ("where", "flags"),
    [
        ("write_netcdf", ["--float32"]),  # written after the run
        ("create", []),  # created before the run, mapped (sustainsim.mapped)
        ("write", []),  # the mapped file's coordinates and inputs after the run
    ],
)
def test_a_permission_error_is_exit_2_without_traceback(folder, monkeypatch, capsys, where, flags):
    from sustainsim import io
    from sustainsim.mapped import MappedResults

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(folder / "out" / "results.nc"))

    monkeypatch.setattr(io if where == "write_netcdf" else MappedResults, where, refuse)
    out = folder / "out"
    code = main(["run", str(folder / "good.toml"), "--draws", "50", "--out", str(out), *flags])
    err = capsys.readouterr().err
    assert code == 2 and "Permission denied" in err and "results.nc" in err
    assert "Traceback" not in err
    assert not out.exists() and not list(folder.glob(".out*"))  # nothing written


def test_a_read_only_place_is_refused_up_front(folder, capsys):
    # /sys refuses new files even to root: the probe of check_out_dir sees it
    if not Path("/sys").is_dir():
        pytest.skip("no /sys")
    code = main(["compare", LEAP, "--out", "/sys/sustainsim-test"])
    assert code == 2 and "/sys" in capsys.readouterr().err


def test_good_input_still_runs(folder, capsys):
    out = folder / "out"
    assert main(["run", str(folder / "good.toml"), "--draws", "200", "--out", str(out)]) == 0
    assert (out / "results.nc").is_file()
    shutil.rmtree(out)
    assert (
        main(["run", str(REF10), "--draws", "200", "--out", str(out), "--max-memory", "2GB"]) == 0
    )


def test_a_permission_error_on_the_csv_is_exit_2(folder, monkeypatch, capsys):
    import pandas as pd

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(folder / "history.csv"))

    monkeypatch.setattr(pd, "read_csv", refuse)
    assert main(["calibrate", str(folder / "history.csv")]) == 2
    err = capsys.readouterr().err
    assert "history.csv" in err and "Permission denied" in err and "Traceback" not in err
