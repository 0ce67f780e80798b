"""Sweeps: grid shape and coordinates, equality with separate runs, common random numbers."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim import ConfigError
from sustainsim.cli.sweep import add_arguments, run
from sustainsim.run.grid import parse_grid, parse_value, sweep
from tests.conftest import REF10

CUTS = "district.cuts.probability"
CUT_DIM = "district.cuts.event"  # the dim of a swept path is named by the input it sets
DRIFT = "schools.ref.enrollment.drift"
DRAWS, SEED = 4_000, 21


@pytest.fixture(scope="module")
def grid_2x3():
    return {CUTS: [0.1, 0.3], DRIFT: [-0.02, -0.01, 0.0]}


@pytest.fixture(scope="module")
def swept(ref10_spec, grid_2x3):
    return sweep(ref10_spec, grid_2x3, draws=DRAWS, seed=SEED, keep_draws=True, progress=False)


def test_dims_and_coordinates(swept, grid_2x3):
    p = swept["probability"]
    assert p.dims == (CUT_DIM, DRIFT, "year", "school")
    assert p.shape == (2, 3, 10, 1)
    assert swept[CUT_DIM].values.tolist() == [0.1, 0.3]
    assert swept[DRIFT].values.tolist() == [-0.02, -0.01, 0.0]
    assert swept["final_balance_quantile"].dims == (CUT_DIM, DRIFT, "quantile", "school")
    assert swept["fund_balance"].dims == (CUT_DIM, DRIFT, "draw", "year", "school")
    assert swept[CUT_DIM].attrs["path"] == CUTS and swept[CUT_DIM].attrs["input"] == CUT_DIM
    assert swept[CUT_DIM].attrs["label"] == "budget-cut events (probability)"
    assert "path" not in swept[DRIFT].attrs or swept[DRIFT].attrs["path"] == DRIFT
    assert swept.attrs["seed"] == SEED and swept.attrs["draws"] == DRAWS


def test_points_equal_separate_runs(ref10_spec, swept, grid_2x3):
    for c in grid_2x3[CUTS]:
        for d in grid_2x3[DRIFT]:
            spec = ref10_spec.with_overrides({CUTS: c, DRIFT: d})
            ds = sustainsim.simulate(spec, draws=DRAWS, seed=SEED)
            point = swept.sel({CUT_DIM: c, DRIFT: d})
            ps = sustainsim.p_solvent(ds)
            for v in ("probability", "se", "lower", "upper"):
                np.testing.assert_array_equal(point[v].values, ps[v].values)
            fq = (
                sustainsim.metrics.balance_quantiles(ds)
                .isel(year=-1)
                .transpose("quantile", "school")
            )
            np.testing.assert_array_equal(point["final_balance_quantile"].values, fq.values)
            np.testing.assert_array_equal(point["fund_balance"].values, ds["fund_balance"].values)
            assert str(point["config_sha256"].values) == spec.sha256
    # the grid points really differ
    last = swept["probability"].isel(year=-1, school=0).values
    assert len(np.unique(last)) == 6


def test_common_random_numbers_monotone_draw_by_draw(ref10_spec):
    """Raising the cut probability only adds cut events on the same draws under CRN."""
    probs = [0.0, 0.05, 0.15, 0.3, 0.6]
    res = sweep(ref10_spec, {CUTS: probs}, draws=3_000, seed=4, keep_draws=True, progress=False)
    fb = res["fund_balance"].values  # (point, draw, year, school)
    assert (np.diff(fb, axis=0) <= 0).all()  # every draw, every year
    assert (np.diff(fb, axis=0) < 0).any()
    solvent = np.logical_and.accumulate(fb >= 0, axis=2)
    assert (solvent[1:] <= solvent[:-1]).all()
    p = res["probability"].values
    assert (np.diff(p, axis=0) <= 0).all()
    assert p[0, -1, 0] > p[-1, -1, 0]


@settings(max_examples=8, deadline=None)
@given(p1=st.floats(0.0, 1.0), p2=st.floats(0.0, 1.0), seed=st.integers(0, 10_000))
def test_crn_monotone_property(ref10_spec, p1, p2, seed):
    lo, hi = sorted([round(p1, 3), round(p2, 3)])
    if lo == hi:
        hi = min(1.0, lo + 0.01) if lo < 1 else lo
        lo = hi - 0.01
    res = sweep(ref10_spec, {CUTS: [lo, hi]}, draws=500, seed=seed, progress=False)
    p = res["probability"].values
    assert (p[1] <= p[0]).all()


def test_streaming_sweep(ref10_spec, swept, grid_2x3):
    s = sweep(ref10_spec, grid_2x3, draws=DRAWS, seed=SEED, mode="summary", progress=False)
    for v in ("probability", "se", "lower", "upper"):
        np.testing.assert_array_equal(s[v].values, swept[v].values)
    err = np.abs(s["final_balance_quantile"] - swept["final_balance_quantile"])
    assert (err <= s["final_balance_quantile_bound"]).all()
    assert "fund_balance" not in s
    with pytest.raises(ValueError, match="keep_draws"):
        sweep(ref10_spec, grid_2x3, draws=10, mode="summary", keep_draws=True)


def test_parse_grid_values():
    g = parse_grid([f"{CUTS}=0.1,0.2", "district.cuts.scope=district,school", "x.y=1,2e3,true"])
    assert g == {
        CUTS: [0.1, 0.2],
        "district.cuts.scope": ["district", "school"],
        "x.y": [1, 2000.0, True],
    }
    assert isinstance(g["x.y"][0], int)
    assert parse_value(" 'quoted' ") == "quoted"
    assert parse_value("nan") == "nan"  # not a usable number: kept as text, rejected by the config


@pytest.mark.parametrize(
    ("items", "needle"),
    [
        (["district.cuts.probability"], "no '=' found"),
        (["=0.1,0.2"], "empty or malformed config path"),
        (["district..probability=0.1"], "malformed config path"),
        ([f"{CUTS}=0.1,,0.2"], "empty value"),
        ([f"{CUTS}=0.1", f"{CUTS}=0.2"], "given twice"),
        ([f"{CUTS}=0.1,0.1"], "repeated value"),
        (["simulation.seed=1,2"], "cannot be swept"),
    ],
)
def test_parse_grid_errors_name_the_item(items, needle):
    with pytest.raises(ConfigError, match=needle) as exc:
        parse_grid(items)
    assert items[-1].split("=")[0] in str(exc.value) or needle in str(exc.value)


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ({"district.cuts.probabilty": [0.1]}, "district.cuts.probabilty: unknown key"),
        ({CUTS: [0.1, 1.5]}, "district.cuts.probability: must be"),
        ({"schools.nope.enrollment.drift": [0.0]}, "no entry named 'nope'"),
        ({CUTS: []}, "no values"),
        ({}, "at least one"),
    ],
)
def test_bad_paths_and_values_raise_before_running(ref10_spec, grid, needle, monkeypatch):
    def boom(*a, **k):  # nothing may run for a bad grid
        raise AssertionError("simulate called")

    monkeypatch.setattr("sustainsim.run.grid.simulate", boom)
    with pytest.raises(ConfigError, match=needle):
        sweep(ref10_spec, grid, draws=10)


def _args(argv):
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(argv)


def test_cli_run_writes_netcdf_and_csv(tmp_path, capsys):
    out = tmp_path / "sw"
    rc = run(
        _args(
            [
                str(REF10),
                "--grid",
                f"{CUTS}=0.1,0.2",
                "--grid",
                f"{DRIFT}=-0.01,0",
                "--draws",
                "2000",
                "--seed",
                "3",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
    )
    assert rc == 0
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf").load()
    assert ds["probability"].dims == (CUT_DIM, DRIFT, "year", "school")
    direct = sweep(
        sustainsim.load_config(REF10),
        {CUTS: [0.1, 0.2], DRIFT: [-0.01, 0]},
        draws=2000,
        seed=3,
        progress=False,
    )
    np.testing.assert_array_equal(ds["probability"].values, direct["probability"].values)
    csv = pd.read_csv(out / "sweep.csv")
    assert len(csv) == 2 * 2 * 10
    assert {CUT_DIM, DRIFT, "year", "school", "probability", "lower", "upper"} <= set(csv.columns)
    assert not list(out.glob(".*.tmp"))
    assert "P(solvent" in capsys.readouterr().out


def test_cli_bad_grid_writes_nothing(tmp_path):
    out = tmp_path / "sw"
    for grid in (f"{CUTS}=0.1,abc", "district.cuts.nope=1", "no_equals_sign"):
        with pytest.raises(ConfigError):
            run(_args([str(REF10), "--grid", grid, "--draws", "100", "--out", str(out)]))
        assert not out.exists()


def test_a_2x3_sweep_draws_as_a_heatmap(ref10_spec):
    import matplotlib

    matplotlib.use("Agg")
    from sustainsim import plotting

    grid = {"district.cuts.probability": [0.1, 0.3], "schools.ref.fund_balance": [0.0, 5e5, 2e6]}
    sw = sweep(ref10_spec, grid, draws=400, seed=2, progress=False)
    p = sw.probability.sel(year=2031, school="ref")
    assert p.dims == (CUT_DIM, "schools.ref.fund_balance")
    ax = plotting.heatmap(p)
    img = ax.images[0].get_array()
    np.testing.assert_allclose(np.asarray(img), p.values)
    # more money never hurts, more cuts never help (common random numbers)
    assert np.all(np.diff(p.values, axis=1) >= 0) and np.all(np.diff(p.values, axis=0) <= 0)
    matplotlib.pyplot.close("all")
