"""``sustainsim run --real``: summary and tables in real dollars, results.nc nominal."""

from __future__ import annotations

import json

import xarray as xr

from sustainsim.cli.main import main
from tests.handcalc import HEAD
from tests.metrics.test_views import DEFLATED


def _config(tmp_path, deflator: str = "0.05"):
    path = tmp_path / "real.toml"
    path.write_text(HEAD.format(years=3) + DEFLATED.format(deflator=deflator))
    return path


def test_run_real_reports_base_year_dollars(tmp_path, capsys):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-report", "--real"]) == 0
    summ = json.loads((out / "summary.json").read_text())
    assert summ["dollar_basis"] == "real (FY2029 dollars)"
    # the balance of every year is 210,000 base-year dollars (tests/metrics/test_views.py)
    final = summ["entities"]["a"]["final_balance_quantiles"]
    assert all(abs(v - 210_000.0) < 0.005 for v in final.values()), final
    with xr.open_dataset(out / "results.nc") as ds:  # nominal, with the price level
        assert abs(float(ds.fund_balance.isel(draw=0, year=-1, school=0)) - 243_101.25) < 0.005
        assert "deflator" in ds


def test_run_nominal_by_default(tmp_path):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-report"]) == 0
    summ = json.loads((out / "summary.json").read_text())
    assert "dollar_basis" not in summ
    final = summ["entities"]["a"]["final_balance_quantiles"]
    assert all(abs(v - 243_101.25) < 0.005 for v in final.values()), final


def test_real_needs_a_deflator_and_per_draw_results(tmp_path, capsys):
    cfg = tmp_path / "prices.toml"
    cfg.write_text(HEAD.format(years=3) + DEFLATED.format(deflator="0.05").replace("deflator", "p"))
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--real"]) == 2
    assert "--real needs a growth index named 'deflator'" in capsys.readouterr().err
    assert not out.exists()
    assert main(["run", str(_config(tmp_path)), "--out", str(out), "--real", "--summary"]) == 2
    assert "--real needs per-draw results" in capsys.readouterr().err
    assert not out.exists()
