"""Composition: lines grouped by category; the groups sum to the totals; the net surplus."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

import sustainsim
from sustainsim import plotting
from tests.conftest import CONFIGS


def _axes():
    fig = Figure(figsize=(8, 6), layout="constrained")
    return fig.subplots(2, 1, sharex=True)


def _stacks(ax, part):
    """Per x position: (sum of segment heights, top of the highest, bottom of the lowest)."""
    out: dict[float, list] = {}
    for c in ax.containers:
        if c.get_label().startswith(part + ":"):
            for r in c.patches:
                out.setdefault(round(r.get_x() + r.get_width() / 2, 6), []).append(r)
    xs = sorted(out)
    sums = np.array([sum(r.get_height() for r in out[x]) for x in xs])
    tops = np.array([max(r.get_y() + r.get_height() for r in out[x]) for x in xs])
    bottoms = np.array(
        [min(min(r.get_y(), r.get_y() + r.get_height()) for r in out[x]) for x in xs]
    )
    return sums, tops, bottoms


def test_line_groups_of_leap_chicago():
    """By hand from configs/leap_chicago.toml: kinds one_time are start-up, whatever their
    category; staff by category; devices (kind technology) technology; the rest other."""
    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    groups = plotting.line_groups(sustainsim.central_case(spec), "cost")
    assert groups == {
        "staff": [
            "homeroom_teachers",
            "teacher_leader_stipends",
            "allocated_positions",
            "specials_and_aides",
        ],
        "technology": ["devices"],
        "start-up": [
            "startup_technology",
            "startup_pd",
            "startup_pd_launch",
            "startup_planning",
            "startup_furniture",
        ],
        "other": ["professional_development", "instructional_supplies", "operations"],
    }
    rev = plotting.line_groups(sustainsim.central_case(spec), "revenue")
    assert rev["grants"] == ["startup_grant"]
    assert rev["other revenue"] == ["position_allocations", "discretionary"]


@pytest.mark.parametrize("school", ["a", "b"])
def test_groups_sum_to_the_school_totals(two_spec, school):
    central = sustainsim.central_case(two_spec)
    top, bottom = _axes()
    plotting.composition(central, school, ax=top, surplus_ax=bottom)
    rev = central["revenue"].sel(school=school).isel(draw=0).values
    cost = central["cost"].sel(school=school).isel(draw=0).values
    for part, total in (("revenue", rev), ("cost", cost)):
        sums, tops, bottoms = _stacks(top, part)
        np.testing.assert_allclose(sums, total, rtol=1e-12)
        np.testing.assert_allclose(tops, total, rtol=1e-12)
        np.testing.assert_allclose(bottoms, 0, atol=1e-6)
    (net,) = [ln for ln in bottom.get_lines() if ln.get_label() == "net surplus"]
    np.testing.assert_allclose(net.get_ydata(), rev - cost, rtol=1e-9, atol=1e-6)


def test_district_groups_include_the_central_books(two_spec):
    """The district entity: schools' lines plus the central books sum to the district totals
    (the fan chart's district), not just to the sum over the schools."""
    central = sustainsim.central_case(two_spec)
    top, bottom = _axes()
    plotting.composition(central, ax=top, surplus_ax=bottom)
    rev = central["district_revenue"].isel(draw=0).values
    cost = central["district_cost"].isel(draw=0).values
    assert not np.allclose(rev, central["revenue"].sum("school").isel(draw=0).values)
    for part, total in (("revenue", rev), ("cost", cost)):
        np.testing.assert_allclose(_stacks(top, part)[0], total, rtol=1e-12)
    labels = {c.get_label() for c in top.containers}
    assert {"revenue: district central", "cost: district central"} <= labels
    (net,) = [ln for ln in bottom.get_lines() if ln.get_label() == "net surplus"]
    np.testing.assert_allclose(net.get_ydata(), rev - cost, rtol=1e-9, atol=1e-6)


def test_human_labels_and_few_groups(two_spec):
    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    top, bottom = _axes()
    plotting.composition(sustainsim.central_case(spec), "pl_k8", ax=top, surplus_ax=bottom)
    labels = [c.get_label() for c in top.containers]
    assert all("_" not in lb for lb in labels), labels
    assert {lb for lb in labels if lb.startswith("cost:")} == {
        "cost: staff",
        "cost: technology",
        "cost: start-up",
        "cost: other",
    }
    assert len(labels) <= 9
    assert top.get_ylabel().endswith("[USD]") and bottom.get_ylabel().endswith("[USD]")
    assert isinstance(bottom.yaxis.get_major_formatter(), plotting.UsdFormatter)


def test_surplus_axis_shows_the_gap(two_spec):
    """The net-surplus axis spans the surplus (and zero), not $0 to the budget's size."""
    central = sustainsim.central_case(two_spec)
    top, bottom = _axes()
    plotting.composition(central, "a", ax=top, surplus_ax=bottom)
    net = (central["revenue"] - central["cost"]).sel(school="a").isel(draw=0).values
    lo, hi = bottom.get_ylim()
    assert lo <= min(net.min(), 0) and hi >= max(net.max(), 0)
    assert hi - lo < 2 * (max(net.max(), 0) - min(net.min(), 0))  # no wasted span
    assert hi - lo < 0.2 * top.get_ylim()[1]


def test_one_axes_puts_the_surplus_on_a_twin(two_ds, fig_ax):
    plotting.composition(two_ds, school="b", ax=fig_ax)
    sums, _, _ = _stacks(fig_ax, "cost")
    np.testing.assert_allclose(sums, two_ds["cost"].sel(school="b").mean("draw").values)
    (twin,) = [a for a in fig_ax.get_shared_x_axes().get_siblings(fig_ax) if a is not fig_ax]
    (net,) = [ln for ln in twin.get_lines() if ln.get_label() == "net surplus"]
    want = (two_ds["revenue"] - two_ds["cost"]).sel(school="b").mean("draw").values
    np.testing.assert_allclose(net.get_ydata(), want, rtol=1e-9)


def test_negative_lines_stack_downward(fig_ax):
    years = [2030, 2031]
    rl = xr.DataArray(
        [[[[5.0, -2.0, 1.0]], [[4.0, 3.0, -1.0]]]],
        dims=("draw", "year", "school", "revenue_line"),
        coords={
            "year": years,
            "school": ["s"],
            "revenue_line": ["x", "y", "z"],
            "revenue_category": ("revenue_line", ["formula", "levy", "fees"]),
        },
    )
    cl = xr.DataArray(
        [[[[2.0]], [[2.0]]]],
        dims=("draw", "year", "school", "cost_line"),
        coords={"year": years, "school": ["s"], "cost_line": ["c"]},
    )
    plotting.composition(xr.Dataset({"revenue_lines": rl, "cost_lines": cl}), ax=fig_ax)
    sums, tops, bottoms = _stacks(fig_ax, "revenue")
    np.testing.assert_allclose(sums, [4.0, 6.0])  # net totals
    np.testing.assert_allclose(tops, [6.0, 7.0])  # positives stacked up
    np.testing.assert_allclose(bottoms, [-2.0, -1.0])  # negatives stacked down
    labels = [c.get_label() for c in fig_ax.containers]
    assert labels[:3] == ["revenue: formula funding", "revenue: levy", "revenue: other revenue"]
    assert "cost: other" in labels  # no category coords: other


def test_needs_lines(two_scen, fig_ax):
    with pytest.raises(ValueError, match="central_case"):
        plotting.composition(two_scen, ax=fig_ax)
