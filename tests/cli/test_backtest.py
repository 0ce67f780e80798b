"""``sustainsim backtest``: the JSON interface, the baseline against a brute-force
computation, closures scored as outcomes, exit code 2 on bad input, the PIT histogram."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd

from sustainsim.calibration.baseline import baseline_scores, pooled_changes, scored_log
from sustainsim.calibration.evaluate import backtest
from sustainsim.calibration.scores import crps_sample
from sustainsim.cli.main import main
from sustainsim.plotting.diagnostics import plot_pit

matplotlib.use("Agg")


def _panel(n=40, years=9, seed=0, closures=True):
    rng = np.random.default_rng(seed)
    lev = np.exp(rng.normal(6, 0.5, (n, 1)) + np.cumsum(rng.normal(-0.01, 0.05, (n, years)), 1))
    if closures:
        lev[:4, 6:] = np.nan  # four entities close after their 6th year
    df = pd.DataFrame(
        {
            "sid": np.repeat([f"s{i}" for i in range(n)], years),
            "yr": np.tile(np.arange(2010, 2010 + years), n),
            "enr": lev.ravel(),
            "kind": np.repeat(np.where(np.arange(n) % 2 == 0, "a", "b"), years),
        }
    )
    return df.dropna()


def test_json_has_the_interface_keys(tmp_path, capsys):
    path = tmp_path / "p.csv"
    _panel().to_csv(path, index=False)
    argv = ["backtest", str(path), "--entity", "sid", "--year", "yr", "--value", "enr"]
    code = main(argv + ["--horizon", "3", "--levels", "0.5,0.8", "--draws", "60", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"model", "horizons", "levels", "cells", "coverage", "crps_log", "baseline"}
    assert out["model"] == "aggregate" and out["horizons"] == [1, 2, 3]
    assert out["levels"] == [0.5, 0.8] and set(out["coverage"]) == {"0.5", "0.8"}
    assert set(out["baseline"]) == {"coverage", "crps_log"}
    assert set(out["baseline"]["coverage"]) == {"0.5", "0.8"}
    assert all(len(v) == 3 for v in out["coverage"].values()) and len(out["crps_log"]) == 3
    # cells, counted independently: entities observed in the origin with an outcome h
    # years later (observed, or closed: never seen again), origins with >= 4 data years
    df = _panel()
    last = df.groupby("sid")["yr"].max()
    want = []
    for h in (1, 2, 3):
        n = 0
        for o in range(2013, 2018):
            if o + h > 2018:
                continue
            seen = df.loc[df["yr"] == o, "sid"]
            n += len(seen)  # observed later, or closed (last year < o + h): all scored
        want.append(n)
    assert out["cells"] == want
    assert int((last < 2018).sum()) == 4
    # the filter keeps half of the entities
    code = main(argv + ["--horizon", "1", "--draws", "20", "--filter", "kind=a", "--json"])
    assert json.loads(capsys.readouterr().out)["cells"][0] == sum(
        (df["kind"] == "a") & df["yr"].between(2013, 2017)
    )
    # the text table
    assert main(argv + ["--horizon", "2", "--draws", "20"]) == 0
    text = capsys.readouterr().out
    assert "cov 0.8" in text and "model (baseline)" in text


def test_baseline_against_brute_force():
    df = _panel(n=12, years=7, seed=3)
    order = [f"s{i}" for i in range(12)]
    wide = df.pivot(index="sid", columns="yr", values="enr").loc[order]
    lev = wide.to_numpy()
    y = scored_log(lev)
    # closed entities: 0 after their last year, observed log values elsewhere
    assert np.all(y[:4, 6:] == 0) and np.allclose(y[4:], np.log(lev[4:]))
    h = 2
    brute = [
        y[i, t + h] - y[i, t]
        for i in range(lev.shape[0])
        for t in range(lev.shape[1] - h)
        if np.isfinite(lev[i, t]) and np.isfinite(y[i, t + h])
    ]
    np.testing.assert_allclose(np.sort(pooled_changes(lev, h)), np.sort(brute))
    ch, y0 = np.array(brute), y[:, 2]
    hits, crps, pit = baseline_scores(ch, y0, y[:, 4], [0.8])
    lo, hi = np.quantile(ch, [0.1, 0.9])
    np.testing.assert_array_equal(hits[0], (lo <= y[:, 4] - y0) & (y[:, 4] - y0 <= hi))
    np.testing.assert_allclose(crps, crps_sample(y0[None] + ch[:, None], y[:, 4]), atol=1e-12)
    assert np.all((pit >= 0) & (pit <= 1))


def test_closures_are_scored_not_dropped():
    df = _panel(n=30, years=8, seed=4)
    res = backtest(df, entity="sid", year="yr", value="enr", horizon=2, draws=200, rng=1)
    # entities s0..s3 are last seen in 2015: their 2016 and 2017 outcomes are scored
    pit = res["pit"].sel(entity=["s0", "s1", "s2", "s3"], origin=2015, horizon=1)
    assert np.all(np.isfinite(pit.values))
    assert np.all(pit.values < 0.1)  # nothing closes in a model fitted without closures


def test_bad_input_exits_2_and_names_it(tmp_path, capsys):
    path = tmp_path / "p.csv"
    _panel().to_csv(path, index=False)
    base = ["backtest", str(path), "--entity", "sid", "--year", "yr"]
    assert main(base + ["--value", "pupils"]) == 2
    assert "column 'pupils' not found" in capsys.readouterr().err
    assert main(base + ["--value", "enr", "--levels", "50,80"]) == 2
    assert "--levels" in capsys.readouterr().err
    assert main(base + ["--value", "enr", "--model", "cohort"]) == 2
    assert "grade column" in capsys.readouterr().err
    assert main(base + ["--value", "enr", "--model", "trend"]) == 2
    assert (
        main(
            ["backtest", str(tmp_path / "none.csv"), "--entity", "a", "--year", "b", "--value", "c"]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


def test_suppressed_and_zero_cells_are_missing():
    df = _panel(n=20, years=8, seed=5, closures=False)
    df.loc[df.index[::17], "enr"] = 0  # zero / suppressed cells
    df.loc[df.index[5::19], "enr"] = -9
    res = backtest(df, entity="sid", year="yr", value="enr", horizon=1, draws=50)
    assert np.isfinite(res["crps"].values).all()


def test_pit_histogram_counts():
    import matplotlib.pyplot as plt

    res = backtest(_panel(), entity="sid", year="yr", value="enr", horizon=2, draws=80)
    ax = plot_pit(res, bins=5)
    v = res["pit"].values.ravel()
    v = v[np.isfinite(v)]
    want = np.histogram(v, bins=np.linspace(0, 1, 6))[0] / v.size * 5
    np.testing.assert_allclose([p.get_height() for p in ax.patches], want)
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["baseline", "calibrated", "model"] or set(labels) == {
        "model",
        "baseline",
        "calibrated",
    }
    plt.close("all")
