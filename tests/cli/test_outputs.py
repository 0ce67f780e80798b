"""What the commands print and where: the base case, --json, progress, filters, formats (issue 18).

Golden-ish tests of the output's structure, not of numbers the code produced: the base
case is in every output of a config with scenarios and equals a plain run of the config
as written; ``--json`` parses and equals ``summary.json``; ``--draws 2e6`` is
``--draws 2000000``; abbreviations exit 2; each error says its kind; calibrate's stdout
is TOML; ``compare | head`` leaves its files; float32 results round-trip.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sustainsim
from sustainsim.cli import options
from sustainsim.cli.main import COMMANDS, _build_parser, main
from tests.conftest import CONFIGS, REF10, ROOT, SMALL_TOML

LEAP = CONFIGS / "leap_chicago.toml"
SCEN_TOML = SMALL_TOML + '\n[scenarios.low]\n"schools.a.fund_balance" = 1000\n'


def _run(tmp_path, config, *extra, name="r"):
    out = tmp_path / name
    argv = ["run", str(config), "--draws", "400", "--seed", "3", "--out", str(out), *extra]
    return main(argv), out


# ------------------------------------------------------------------ the base case
def test_base_is_in_every_output_and_is_the_config_as_written(tmp_path, capsys):
    cfg = tmp_path / "scen.toml"
    cfg.write_text(SCEN_TOML)
    code, out = _run(tmp_path, cfg, "--no-report")
    assert code == 0
    text = capsys.readouterr().out
    ds = sustainsim.open_results(out / "results.nc")
    assert ds["scenario"].values.tolist() == ["base", "low"]
    summ = json.loads((out / "summary.json").read_text())
    assert list(summ["scenarios"]) == ["base", "low"]
    assert set(summ["paired_differences"]["scenarios"]) == {"low"}
    assert summ["paired_differences"]["baseline"] == "base"
    table = pd.read_csv(out / "p_solvent.csv")
    assert sorted(set(table["scenario"])) == ["base", "low"]
    assert "scenario: base (the config as written)" in text
    assert "Paired differences against 'base'" in text
    # independent: base is a plain run of the config as written, on the same draws
    plain = sustainsim.simulate(sustainsim.load_config(cfg), draws=400, seed=3)
    np.testing.assert_array_equal(
        ds["fund_balance"].sel(scenario="base").values, plain["fund_balance"].values
    )
    # and 'low' is the scenario as simulate_scenarios ran it before the base was added
    old = sustainsim.simulate_scenarios(sustainsim.load_config(cfg), draws=400, seed=3)
    np.testing.assert_array_equal(
        ds["fund_balance"].sel(scenario="low").values,
        old["fund_balance"].sel(scenario="low").values,
    )


def test_a_scenario_named_base(tmp_path, capsys):
    empty = tmp_path / "empty_base.toml"
    empty.write_text(SCEN_TOML + "\n[scenarios.base]\n")
    code, out = _run(tmp_path, empty, "--no-report")
    assert code == 0  # an empty [scenarios.base] is the config as written: run once
    ds = sustainsim.open_results(out / "results.nc")
    assert ds["scenario"].values.tolist() == ["base", "low"]
    capsys.readouterr()
    taken = tmp_path / "taken.toml"
    taken.write_text(SCEN_TOML + '\n[scenarios.base]\n"schools.a.fund_balance" = 5\n')
    code, never = _run(tmp_path, taken, name="never")
    err = capsys.readouterr().err
    assert code == 2 and "scenarios.base" in err and "rename" in err
    assert not never.exists()


# ------------------------------------------------------------------ --json, -q, phases
def test_json_is_the_summary_and_everything_else_goes_to_stderr(tmp_path, capsys):
    code, out = _run(tmp_path, REF10, "--json", "--no-report")
    assert code == 0
    stdout, stderr = capsys.readouterr()
    assert json.loads(stdout) == json.loads((out / "summary.json").read_text())
    assert "writing results.nc" in stderr and "wrote" in stderr


def test_quiet_prints_nothing(tmp_path, capsys):
    code, out = _run(tmp_path, REF10, "-q", "--no-report")
    assert code == 0 and (out / "results.nc").is_file()
    assert capsys.readouterr() == ("", "")


def test_phases_are_reported_on_stderr_in_order(tmp_path, capsys):
    code, out = _run(tmp_path, REF10)
    assert code == 0
    stdout, stderr = capsys.readouterr()
    assert "P(solvent through year)" in stdout and "figure 1 of" not in stdout
    lines = stderr.splitlines()
    n = len([p for p in out.glob("*.png")])
    figures = [ln for ln in lines if ln.startswith("figure ")]
    assert figures == [
        ln for ln in figures if ln.endswith(tuple(p.stem for p in out.glob("*.png")))
    ]
    assert [f.split(":")[0] for f in figures] == [f"figure {i} of {n}" for i in range(1, n + 1)]
    assert any(
        ln.startswith("wrote results.nc: ") and ln.split(": ")[1][0].isdigit() for ln in lines
    )
    order = [next(i for i, ln in enumerate(lines) if ln.startswith(k)) for k in
             ("writing results.nc", "figure 1 of", "wrote report.html")]  # fmt: skip
    assert order == sorted(order)


def test_the_summary_does_not_wait_for_results_nc(tmp_path, monkeypatch, capsys):
    """results.nc is written beside the summary: the summary is printed while it is written."""
    import threading

    from sustainsim import io
    from sustainsim.cli import run as cli_run
    from sustainsim.mapped import MappedResults

    printed = threading.Event()
    seen = {}
    real_emit, real_write, real_mapped = cli_run.emit, io.write_netcdf, MappedResults.write

    def emit(text):
        real_emit(text)
        printed.set()

    def write(ds, path, **kw):  # held until the summary is out (not if it waited for this)
        seen["printed"] = printed.wait(timeout=30)
        return real_write(ds, path, **kw)

    def mapped(self, ds):  # the mapped file's coordinates and inputs, held the same way
        seen["mapped printed"] = printed.wait(timeout=30)
        return real_mapped(self, ds)

    monkeypatch.setattr(cli_run, "emit", emit)
    monkeypatch.setattr(io, "write_netcdf", write)
    monkeypatch.setattr(MappedResults, "write", mapped)
    assert _run(tmp_path, REF10, "--no-report")[0] == 0
    assert seen == {"mapped printed": True}
    printed.clear()
    assert _run(tmp_path, REF10, "--no-report", "--float32")[0] == 0
    assert seen == {"mapped printed": True, "printed": True}
    assert "P(solvent through year)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "rows"),
    [([], True), (["--workers", "2"], True), (["--float32"], False), (["--compress"], False)],
)
def test_results_nc_is_simulated_into_unless_converted(tmp_path, flags, rows):
    """The default run's results.nc is the mapped one (rows of draws); the same Dataset."""
    code, out = _run(tmp_path, REF10, "--no-report", "-q", *flags)
    assert code == 0
    back = xr.open_dataset(out / "results.nc", engine="h5netcdf").load()
    assert (back["fund_balance"].encoding.get("chunksizes") == (400, 1, 1)) is rows
    ref = sustainsim.simulate(sustainsim.load_config(REF10), draws=400, seed=3, progress=False)
    if "--float32" in flags:
        ref = ref.astype({k: "float32" for k, v in ref.data_vars.items() if v.dtype == float})
    xr.testing.assert_equal(back, ref)
    xr.testing.assert_identical(sustainsim.open_results(out / "results.nc"), back)


# ------------------------------------------------------------------ filters, width, numbers
def test_years_and_entity_filter_the_printed_tables(tmp_path, capsys):
    code, _ = _run(tmp_path, LEAP, "--no-report", "--years", "2030-2031", "--entity", "pl_k8")
    assert code == 0
    text = capsys.readouterr().out
    rows = [ln.split()[0] for ln in text.splitlines() if ln[:4].isdigit()]
    assert set(rows) == {"2030", "2031"}
    assert "trad_k8" not in text and "pl_k8" in text


@pytest.mark.parametrize("flag", [["--years", "1999"], ["--entity", "nobody"]])
def test_filters_outside_the_config_are_refused(tmp_path, capsys, flag):
    code, out = _run(tmp_path, REF10, *flag)
    err = capsys.readouterr().err
    assert code == 2 and "invalid arguments" in err and flag[1] in err
    assert not out.exists()


def test_tables_wrap_to_the_terminal_width(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    cfg = CONFIGS / "ngsi_grant_cliff.toml"  # six schools and the district
    assert main(["run", str(cfg), "--draws", "200", "--summary", "--out", str(tmp_path / "w")]) == 0
    text = capsys.readouterr().out
    table = [ln for ln in text.splitlines() if ln[:4].isdigit() or ln.startswith("year")]
    assert table and max(len(ln) for ln in table) <= 60


def test_one_number_format():
    from sustainsim.cli.numbers import estimate, pct, pp, usd

    assert pct(0.5) == "50.0%" and pp(-0.25) == "-25.0 pp"
    assert [usd(x) for x in (-4_695_000, 12_300, 999, 1e9)] == [
        "-$4.70M",
        "$12.3K",
        "$999",
        "$1.00B",
    ]
    assert estimate(0.5, 0.25, 0.75) == "50.0% [25.0%, 75.0%]"
    assert "None" not in pct(None) + usd(float("nan"))


def test_threads_change_no_output(tmp_path, capsys):
    """``--threads 1`` and ``--threads 3`` write the same numbers (chunks of 500 draws)."""
    kw = ("--chunk-size", "500", "--no-report", "-q")
    many = _run(tmp_path, LEAP, "--threads", "3", *kw, "--draws", "3000", name="many")[1]
    one = _run(tmp_path, LEAP, "--threads", "1", *kw, "--draws", "3000", name="one")[1]
    assert (one / "p_solvent.csv").read_bytes() == (many / "p_solvent.csv").read_bytes()
    with xr.open_dataset(one / "results.nc") as a, xr.open_dataset(many / "results.nc") as b:
        xr.testing.assert_identical(a.load(), b.load())
    s1 = json.loads((one / "summary.json").read_text())
    s3 = json.loads((many / "summary.json").read_text())
    s1.pop("simulate_seconds"), s3.pop("simulate_seconds")
    assert s1 == s3


# ------------------------------------------------------------------ arguments
def test_draws_in_float_notation_equals_the_integer():
    for text in ("2e6", "2_000_000", "2.0e6", "2000000"):
        assert options.positive_int(text) == 2_000_000
    for text, needle in (("2.5", "whole number"), ("-3", ">= 1"), ("1e-3", "whole number")):
        with pytest.raises(argparse.ArgumentTypeError, match=needle):
            options.positive_int(text)
    parse = _build_parser().parse_args
    a = parse(["run", str(REF10), "--draws", "2e6"])
    b = parse(["run", str(REF10), "--draws", "2000000"])
    assert a.draws == b.draws == 2_000_000


def _long_options(parser):
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def _subparsers():
    parser = _build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


@pytest.mark.parametrize("command", list(COMMANDS))
def test_abbreviated_options_exit_2_in_every_subcommand(command, capsys):
    sub = _subparsers()[command]
    assert sub.allow_abbrev is False
    flag = max(_long_options(sub), key=len)
    assert main([command, "x", flag[:-2]]) == 2
    assert flag[:-2] in capsys.readouterr().err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_has_examples_and_defaults(command, capsys):
    with pytest.raises(SystemExit):
        _build_parser().parse_args([command, "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and f"sustainsim {command}" in text
    if len(_long_options(_subparsers()[command])) > 1:  # options besides --help
        assert "default" in text


# ------------------------------------------------------------------ error kinds
def test_errors_say_their_kind(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL_TOML.replace("years = 5", "yeers = 5"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    fake = tmp_path / "fake.nc"
    fake.write_text("not netcdf")
    csv = tmp_path / "panel.csv"
    csv.write_text("id,y,v\na,2020,100\na,2021,101\n")
    cases = [
        (["run", str(bad)], "error: invalid config"),
        (["run", str(REF10), "--out", str(afile)], "error: cannot write --out"),
        (["compare", str(LEAP), "--out", str(afile / "x")], "error: cannot write --out"),
        (["compare", str(fake)], "error: cannot read"),
        (["run", str(REF10), "--draws", "5", "--target-se", "0.1"], "error: invalid arguments"),
        (
            [
                "backtest",
                str(tmp_path / "none.csv"),
                "--entity",
                "a",
                "--year",
                "y",
                "--value",
                "v",
            ],
            "error: cannot read: data file",
        ),
        (
            ["calibrate", str(csv), "--entity", "nope", "--year", "y", "--value", "v"],
            "error: invalid data: column 'nope' not found",
        ),
    ]
    for argv, kind in cases:
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith(kind), argv


# ------------------------------------------------------------------ validate, stress, calibrate
def test_validate_lists_models_scenarios_and_inputs_and_never_none(capsys):
    configs = [str(p) for p in sorted(CONFIGS.rglob("*.toml"))]
    assert main(["validate", *configs]) == 0
    text = capsys.readouterr().out
    assert "None" not in text
    assert "model personalized" in text and "scenarios (run beside 'base'" in text
    assert "uncertain inputs" in text and "regime chain" in text and "recession: p " in text


def test_validate_describes_cohort_enrollment(make_spec):
    from sustainsim.cli.validate import describe

    spec = make_spec(
        "small",
        {
            "schools.a.enrollment": {
                "model": "cohort",
                "by_grade": [100.0, 90.0, 80.0],
                "grades": ["K", "1", "2"],
                "progression": 0.95,
            }
        },
    )
    text = describe(spec)
    assert "None" not in text and "cohort enrollment (grades K-2, 270 students by grade)" in text


def test_stress_says_when_the_target_cannot_be_met(capsys):
    assert main(["stress", str(REF10), "--draws", "300", "--target", "0.999"]) == 0
    text = capsys.readouterr().out
    assert "target not met even with no cut" in text and "0.0% [0.0%, 0.0%]" not in text


def test_calibrate_stdout_is_valid_toml(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [
        {"id": e, "year": y, "value": 500 * np.exp(0.03 * rng.standard_normal())}
        for e in range(20)
        for y in range(2010, 2020)
    ]
    csv = tmp_path / "panel.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    assert main(["calibrate", str(csv), "--entity", "id"]) == 0
    out, err = capsys.readouterr()
    assert "enrollment" in tomllib.loads(out)["schools"]
    assert "estimate" in err and "estimate" not in out


# ------------------------------------------------------------------ compare | head
def test_compare_into_a_closed_pipe_still_writes_its_files(tmp_path):
    out = tmp_path / "cmp"
    code = (
        "import sys\n"
        "from sustainsim.cli.main import main\n"
        f"sys.exit(main(['compare', {str(LEAP)!r}, '--draws', '200', '--out', {str(out)!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    proc.stdout.close()  # like `| head -0`: the reader is gone before anything is printed
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert (out / "compare.json").is_file() and (out / "compare.nc").is_file()
    assert json.loads((out / "compare.json").read_text())["baseline"] == "base"


# ------------------------------------------------------------------ large runs
def test_float32_round_trips_and_is_about_half_the_size(tmp_path):
    a = main(
        ["run", str(REF10), "--draws", "2000", "-q", "--no-report", "--out", str(tmp_path / "a")]
    )
    b = main(["run", str(REF10), "--draws", "2000", "-q", "--no-report", "--float32", "--out",
              str(tmp_path / "b")])  # fmt: skip
    assert a == b == 0
    full = sustainsim.open_results(tmp_path / "a" / "results.nc")
    half = sustainsim.open_results(tmp_path / "b" / "results.nc")
    assert half["fund_balance"].dtype == np.float32
    np.testing.assert_array_equal(
        half["fund_balance"].values, full["fund_balance"].values.astype(np.float32)
    )
    ratio = (tmp_path / "b" / "results.nc").stat().st_size / (
        tmp_path / "a" / "results.nc"
    ).stat().st_size
    assert 0.45 < ratio < 0.6


def test_compress_is_smaller_and_lossless(tmp_path):
    from sustainsim import io

    ds = sustainsim.simulate(sustainsim.load_config(REF10), draws=2000, seed=1)
    plain = io.write_netcdf(ds, tmp_path / "plain.nc")
    packed = io.write_netcdf(ds, tmp_path / "packed.nc", compress=True)
    assert packed.stat().st_size < plain.stat().st_size
    back = xr.open_dataset(packed, engine="h5netcdf").load()
    np.testing.assert_array_equal(back["fund_balance"].values, ds["fund_balance"].values)


def test_the_size_estimate_is_dims_times_dtype(tmp_path):
    from sustainsim import io

    ds = sustainsim.simulate(sustainsim.load_config(REF10), draws=1000, seed=1)
    est = io.netcdf_nbytes(ds)
    size = io.write_netcdf(ds, tmp_path / "r.nc").stat().st_size
    assert est <= size < est * 1.1 + 200_000  # HDF5 metadata on top of the arrays
    fb = ds["fund_balance"]
    assert io.netcdf_nbytes(ds[["fund_balance"]]) >= fb.size * 8
    assert io.netcdf_nbytes(ds[["fund_balance"]], float32=True) < io.netcdf_nbytes(
        ds[["fund_balance"]]
    )


def test_a_large_results_file_is_announced_before_it_is_written(tmp_path, monkeypatch, capsys):
    from sustainsim.cli import run as run_mod

    monkeypatch.setattr(run_mod, "LARGE_RESULTS", 1_000)  # every results.nc is "large"
    code, _ = _run(tmp_path, REF10, "-q", "--no-report")
    err = capsys.readouterr().err
    assert code == 0 and "warning: results.nc will be about" in err and "--summary" in err
    monkeypatch.setattr(run_mod, "LARGE_RESULTS", 10**12)
    _run(tmp_path, REF10, "-q", "--no-report", name="small")
    assert "warning" not in capsys.readouterr().err
