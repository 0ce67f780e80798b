"""The sustainsim command through main([...]): outputs, exit codes, nothing written on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sustainsim
from sustainsim.cli.main import main
from sustainsim.io import MARKER
from tests.conftest import CONFIGS, REF10, SMALL_TOML, python_child


def test_run_writes_results_and_summary(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(REF10), "--draws", "3000", "--seed", "5", "--out", str(out)])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert {"results.nc", "summary.json", "report.html", "fan_chart.png"} <= set(names)
    assert MARKER in names  # the folder's record, written last
    assert not [n for n in names if n.startswith(".") and n != MARKER]  # no temporaries left
    ds = sustainsim.open_results(out / "results.nc")
    assert ds.sizes["draw"] == 3000 and ds.attrs["seed"] == 5
    summ = json.loads((out / "summary.json").read_text())
    p = sustainsim.p_solvent(ds).probability.sel(school="ref", year=2036)
    assert summ["entities"]["ref"]["p_solvent"]["2036"]["probability"] == pytest.approx(float(p))
    text = capsys.readouterr().out
    assert "P(solvent through year)" in text and "2036" in text and "results.nc" in text


def test_run_is_reproducible_and_seed_matters(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert (
            main(
                [
                    "run",
                    str(REF10),
                    "--draws",
                    "500",
                    "--seed",
                    str(seed),
                    "--out",
                    str(tmp_path / name),
                    "--no-progress",
                ]
            )
            == 0
        )
    a, b, c = (sustainsim.open_results(tmp_path / n / "results.nc") for n in "abc")
    assert a.identical(b)
    assert not a.fund_balance.equals(c.fund_balance)


def _bad(tmp_path, text: str):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "edit,needle",
    [
        (("years = 5", "yeers = 5"), "simulation.yeers"),
        (("volatility = 0.05", "volatility = -0.05"), "schools.a.enrollment.volatility"),
        (("probability = 0.2", "probability = 1.2"), "district.cuts.probability"),
        (('growth = "funding"', 'growth = "fundng"'), "unknown growth index"),
        (('dist = "uniform", low = 0.02', 'dist = "unifrom", low = 0.02'), "unknown distribution"),
        (("years = 5", 'years = "5"'), "simulation.years"),
        (("rate = 9000", "rate = [9000]"), "schools.a.revenue.pp.rate"),
    ],
)
def test_bad_config_exits_2_and_writes_nothing(tmp_path, capsys, edit, needle):
    old, new = edit
    assert old in SMALL_TOML
    cfg = _bad(tmp_path, SMALL_TOML.replace(old, new, 1))
    out = tmp_path / "never"
    assert main(["run", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "error:" in err
    assert not out.exists()


def test_missing_file_and_bad_arguments(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["run", str(REF10), "--draws", "0", "--out", str(out)]) == 2
    assert "must be >= 1" in capsys.readouterr().err
    assert main(["run", str(REF10), "--seed", "abc", "--out", str(out)]) == 2
    assert main(["frobnicate"]) == 2
    assert not out.exists()


def test_validate(tmp_path, capsys):
    assert main(["validate", str(REF10), str(CONFIGS / "flagship.toml")]) == 0
    text = capsys.readouterr().out
    assert "valid" in text and "school ref" in text
    bad = _bad(tmp_path, SMALL_TOML.replace("base = 400", "base = -400"))
    assert main(["validate", str(bad)]) == 2
    assert "schools.a.enrollment.base" in capsys.readouterr().err


def test_every_shipped_config_validates():
    configs = sorted(CONFIGS.rglob("*.toml"))
    assert configs
    for path in configs:
        sustainsim.load_config(path)


def test_report_and_calibrate_subcommands(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(REF10), "--draws", "300", "--out", str(out), "--no-progress"]) == 0
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "ref10" in html
    (out / "report.html").unlink()
    assert main(["report", str(out / "results.nc")]) == 0
    assert (out / "report.html").exists()
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    # calibrate: a tiny synthetic panel, fragment printed
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for e in range(30):
        level = 500.0
        for y in range(2010, 2022):
            level *= np.exp(-0.01 + 0.03 * rng.standard_normal())
            rows.append({"district": e, "fy": y, "pupils": level})
    csv = tmp_path / "panel.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    capsys.readouterr()
    assert (
        main(["calibrate", str(csv), "--entity", "district", "--year", "fy", "--value", "pupils"])
        == 0
    )
    assert "[schools.enrollment]" in capsys.readouterr().out
    assert (
        main(["calibrate", str(csv), "--entity", "nope", "--year", "fy", "--value", "pupils"]) == 2
    )
    assert "nope" in capsys.readouterr().err


def test_run_without_report(tmp_path):
    out = tmp_path / "r"
    assert main(["run", str(REF10), "--draws", "100", "--out", str(out), "--no-report"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER,
        "forecast.xlsx",
        "p_solvent.csv",
        "results.nc",
        "summary.json",
    ]


def test_sweep_batch_and_scheduler_through_main(tmp_path):
    import xarray as xr

    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                str(REF10),
                "--grid",
                "district.cuts.probability=0.1,0.3",
                "--draws",
                "500",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    sw = xr.open_dataset(out / "sweep.nc")
    assert sw["district.cuts.event"].values.tolist() == [0.1, 0.3]  # dim named by the input
    assert sw["district.cuts.event"].attrs["path"] == "district.cuts.probability"
    assert (
        main(
            ["sweep", str(REF10), "--grid", "district.cuts.nope=1", "--out", str(tmp_path / "bad")]
        )
        == 2
    )
    assert not (tmp_path / "bad").exists()
    assert (
        main(
            [
                "batch",
                str(REF10),
                str(CONFIGS / "flagship.toml"),
                "--out",
                str(tmp_path / "b"),
                "--draws",
                "300",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (tmp_path / "b" / "summary.csv").exists()
    # dask's synchronous scheduler gives the serial numbers
    for name, extra in (("serial", []), ("sync", ["--scheduler", "synchronous"])):
        assert (
            main(
                [
                    "run",
                    str(REF10),
                    "--draws",
                    "2000",
                    "--chunk-size",
                    "700",
                    "--no-report",
                    "--out",
                    str(tmp_path / name),
                    *extra,
                ]
            )
            == 0
        )
    a, b = (sustainsim.open_results(tmp_path / n / "results.nc") for n in ("serial", "sync"))
    assert a.fund_balance.equals(b.fund_balance)


def test_core_install_does_not_need_the_optional_extras():
    """import sustainsim and `run` work without dask (the extra "parallel")."""
    code = (
        "import sys; sys.modules['dask'] = None\n"
        "import sustainsim\n"
        "from sustainsim import *\n"
        "from sustainsim.run import *\n"
        "from sustainsim.cli.main import main\n"
        f"assert main(['validate', {str(REF10)!r}]) == 0\n"
        "try:\n"
        "    sustainsim.run.simulate_parallel\n"
        "except ImportError as e:\n"
        "    assert 'sustainsim[parallel]' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    python_child(code)


def test_run_summary_flag_maps_onto_the_plan(tmp_path):
    import xarray as xr

    from sustainsim.run import simulate_summary

    out = tmp_path / "s"
    argv = ["run", str(REF10), "--draws", "3000", "--seed", "4", "--no-progress", "--out"]
    assert main([*argv, str(out), "--summary", "--chunk-size", "1000"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "summary.json", "summary.nc"]
    got = xr.open_dataset(out / "summary.nc", engine="h5netcdf").load()
    ref = simulate_summary(sustainsim.load_config(REF10), draws=3000, seed=4, chunk_size=1000)
    np.testing.assert_array_equal(got["solvent_count"].values, ref["solvent_count"].values)
    # the old spelling still works; --lines needs per-draw results
    assert main([*argv, str(tmp_path / "old"), "--streaming"]) == 0
    assert (tmp_path / "old" / "summary.nc").exists()
    assert main([*argv, str(tmp_path / "bad"), "--summary", "--lines"]) == 2
    assert not (tmp_path / "bad").exists()


def _child(code: str, *argv: str) -> str:
    """The last line ``code`` prints in a new Python process."""
    return python_child(code, *argv).strip().splitlines()[-1]


def test_a_command_imports_its_own_module_only(tmp_path):
    """``sustainsim run --no-report`` imports neither the other commands, the report nor calibration."""
    code = (
        "import json, sys; from sustainsim.cli import main; "
        f"assert main(['run', {str(REF10)!r}, '--draws', '200', '--no-report', '-q', "
        f"'--out', {str(tmp_path / 'out')!r}]) == 0; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('sustainsim.cli.', "
        "'sustainsim.report', 'sustainsim.calibration', 'scipy.stats')))))"
    )
    loaded = json.loads(_child(code))
    assert "sustainsim.cli.run" in loaded
    for other in ("calibrate", "backtest", "sweep", "batch", "stress", "levers", "report"):
        assert f"sustainsim.cli.{other}" not in loaded
    assert "sustainsim.report" not in loaded
    # nor the calibration package and scipy.stats (a third of a second): a run of
    # Monte Carlo draws needs neither, and the command's error handling does not either
    assert not [m for m in loaded if m.startswith(("sustainsim.calibration", "scipy.stats"))]
    # and every command is still listed, an unknown one refused
    assert main(["--version"]) == 0
    assert main(["nonsense"]) == 2


def test_the_report_does_not_import_scipy_stats(tmp_path):
    """Figures and report.html of a run with sampled inputs rank draws without scipy.stats."""
    code = (
        "import json, sys; from sustainsim.cli import main; "
        f"assert main(['run', {str(REF10)!r}, '--draws', '2000', '-q', "
        f"'--out', {str(tmp_path / 'out')!r}]) == 0; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('scipy.stats'))))"
    )
    assert json.loads(_child(code)) == []
    assert (tmp_path / "out" / "tornado.png").is_file()  # the figures that rank inputs ran
    assert (tmp_path / "out" / "bad_futures.png").is_file()


@pytest.mark.parametrize(("argv", "want"), [(["--version"], 0), (["nonsense"], 2)])
def test_console_returns_the_code_of_main_and_freezes_the_objects(argv, want):
    """The installed command: main's exit code, every object frozen for a cheap exit."""
    code = (
        "import gc, sys; from sustainsim.cli import console; "
        "assert gc.get_freeze_count() == 0; sys.argv = ['sustainsim', *sys.argv[1:]]; "
        "code = console(); print(code, gc.get_freeze_count() > 0)"
    )
    assert _child(code, *argv) == f"{want} True"
