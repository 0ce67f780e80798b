"""PRIM trade-off and box, Sobol' bars and sweep charts draw their inputs' numbers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.container import BarContainer

from sustainsim import plotting
from sustainsim.analysis.discovery import prim
from sustainsim.run.grid import sweep


@pytest.fixture(scope="module")
def prim_result(two_ds):
    return prim(two_ds, school="a")


def test_prim_tradeoff_points_are_the_trajectory(prim_result, fig_ax):
    plotting.prim_tradeoff(prim_result, ax=fig_ax)
    t = prim_result.trajectory
    pts = fig_ax.collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], t["coverage"])
    np.testing.assert_allclose(pts[:, 1], t["density"])
    (chosen,) = [ln for ln in fig_ax.get_lines() if ln.get_label() == "chosen box"]
    k = prim_result.default_box
    assert chosen.get_xdata()[0] == t["coverage"].iloc[k]
    assert fig_ax.get_xlabel().endswith("[%]") and fig_ax.get_ylabel().endswith("[%]")


def test_prim_box_bars_are_the_scaled_limits(prim_result, two_ds, fig_ax):
    plotting.prim_box(prim_result, labels=two_ds, ax=fig_ax)
    b = prim_result.box()
    b = b[~b["redundant"]]
    bars = [c for c in fig_ax.containers if isinstance(c, BarContainer)][1]
    span = b["max"] - b["min"]
    np.testing.assert_allclose([p.get_x() for p in bars], (b["lower"] - b["min"]) / span)
    np.testing.assert_allclose(
        [p.get_x() + p.get_width() for p in bars], (b["upper"] - b["min"]) / span
    )
    assert len(fig_ax.texts) == 2 * len(b)


def test_sobol_bars_sorted_by_total_with_intervals(fig_ax):
    s = xr.Dataset(
        {
            "S1": ("input", [0.1, 0.5, 0.2]),
            "ST": ("input", [0.15, 0.7, 0.3]),
            "S1_conf": ("input", [0.01, 0.02, 0.03]),
            "ST_conf": ("input", [0.04, 0.05, 0.06]),
        },
        coords={"input": ["district.cuts.probability", "district.growth.salary", "x.y"]},
        attrs={"outcome": "P(solvent through FY2036)"},
    )
    plotting.sobol_bars(s, ax=fig_ax)
    bars = {c.get_label(): c for c in fig_ax.containers if isinstance(c, BarContainer)}
    order = [1, 2, 0]  # by ST: 0.7, 0.3, 0.15, top to bottom
    by_y = lambda c: sorted(c.patches, key=lambda p: -p.get_y())  # noqa: E731
    np.testing.assert_allclose([p.get_width() for p in by_y(bars["total ST"])], s.ST[order])
    np.testing.assert_allclose([p.get_width() for p in by_y(bars["first order S1"])], s.S1[order])
    assert fig_ax.get_xlabel() == "share of the variance of P(solvent through FY2036) [%]"
    assert "." not in fig_ax.get_yticklabels()[0].get_text()


def test_sweep_chart_points_and_intervals(two_spec, fig_ax):
    res = sweep(two_spec, {"district.cuts.probability": [0.0, 0.3, 0.6]}, draws=500)
    plotting.sweep_chart(res, school="a", ax=fig_ax)
    (bars,) = fig_ax.containers
    line = bars.lines[0]
    p = res.sel(school="a").isel(year=-1)
    np.testing.assert_allclose(line.get_xdata(), [0.0, 0.3, 0.6])
    np.testing.assert_allclose(line.get_ydata(), p["probability"])
    (seg,) = bars.lines[2]
    ys = np.array([[s[:, 1].min(), s[:, 1].max()] for s in seg.get_segments()])
    np.testing.assert_allclose(ys[:, 0], p["lower"])
    np.testing.assert_allclose(ys[:, 1], p["upper"])
    assert np.all(np.diff(line.get_ydata()) <= 0)  # more cuts, never more solvent (same draws)
    assert fig_ax.get_ylabel().endswith("[%]")


def test_sweep_chart_two_paths_one_line_per_level(two_spec, fig_ax):
    grid = {"district.cuts.probability": [0.0, 0.5], "district.fund_balance": [0, 1e6, 2e6]}
    res = sweep(two_spec, grid, draws=300)
    plotting.sweep_chart(res, "district.fund_balance", ax=fig_ax)
    lines = [c.lines[0] for c in fig_ax.containers]
    assert len(lines) == 2
    for ln, cut in zip(lines, [0.0, 0.5], strict=True):
        # the swept cut probability sets an uncertain input: its dim is the input's name
        want = res["probability"].sel(school="district", **{"district.cuts.event": cut})
        np.testing.assert_allclose(ln.get_ydata(), want.isel(year=-1).values)
