"""``sustainsim backtest --balance ...`` and ``sustainsim calibrate --kind finance``: the JSON
keys, valid TOML on stdout, exit code 2 naming a missing column and the columns present."""

from __future__ import annotations

import json
import tomllib

import pytest

from sustainsim.cli.main import main
from tests.calibration.test_finance import synthetic_panel

MONEY = ["--balance", "b", "--revenue", "r", "--expenditure", "x"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("fin") / "fin.csv"
    synthetic_panel(n=60, years=7, seed=1).to_csv(path, index=False)
    return path


def test_backtest_json_keys(csv, capsys):
    argv = ["backtest", str(csv), "--entity", "d", "--year", "y", *MONEY]
    assert main(argv + ["--draws", "40", "--levels", "0.5,0.8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "finance" and out["horizons"] == [1, 2, 3]
    assert set(out) >= {"coverage", "crps", "brier", "baseline", "cells"}
    assert set(out["baseline"]) == {"coverage", "crps", "brier"}
    # origins 2002..2005 (>= 3 data years, a later year): 60 districts each, fewer at h > 1
    assert out["cells"] == [4 * 60, 3 * 60, 2 * 60]
    assert main(argv + ["--draws", "20"]) == 0
    assert "Brier" in capsys.readouterr().out


def test_calibrate_finance_prints_valid_toml(csv, capsys):
    argv = ["calibrate", str(csv), "--kind", "finance", "--entity", "d", "--year", "y"]
    assert main(argv + MONEY) == 0
    cap = capsys.readouterr()
    frag = tomllib.loads(cap.out)  # stdout is TOML only
    assert set(frag["district"]["growth"]) == {"funding", "costs"}
    assert "correlation" in cap.err and "innovation_df" in cap.err
    assert main(argv + MONEY + ["--for-entity", "e3"]) == 0
    frag = tomllib.loads(capsys.readouterr().out)
    assert frag["district"]["revenue"][0]["growth"] == "funding"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--balance", "cash", "--revenue", "r", "--expenditure", "x"], "column 'cash' not found"),
        (["--balance", "b", "--revenue", "r"], "missing: expenditure column"),
        (MONEY + ["--value", "r"], "takes no value"),
    ],
)
def test_backtest_bad_input_exits_2(csv, capsys, args, message):
    assert main(["backtest", str(csv), "--entity", "d", "--year", "y", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    if "not found" in message:
        assert "available columns: d, y, r, x, b" in err


def test_bad_input_exits_2(csv, tmp_path, capsys):
    base = ["--entity", "d", "--year", "y"]
    assert main(["backtest", str(tmp_path / "none.csv"), *base, *MONEY]) == 2
    assert "does not exist" in capsys.readouterr().err
    short = tmp_path / "short.csv"
    synthetic_panel(n=20, years=2).to_csv(short, index=False)
    assert main(["backtest", str(short), *base, *MONEY]) == 2
    assert "too few years" in capsys.readouterr().err
    assert main(["calibrate", str(short), "--kind", "finance", *base, *MONEY]) == 2
    assert "too few years" in capsys.readouterr().err
    cal = ["calibrate", str(csv), "--kind", "finance", *base]
    assert main(cal + ["--revenue", "r"]) == 2
    assert "--expenditure" in capsys.readouterr().err
    assert main(cal + ["--revenue", "r", "--expenditure", "spend"]) == 2
    err = capsys.readouterr().err
    assert "column 'spend' not found" in err and "available columns" in err
    assert main(["calibrate", str(csv), *base, "--value", "r", "--balance", "b"]) == 2
    assert "--kind finance only" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.csv"]
