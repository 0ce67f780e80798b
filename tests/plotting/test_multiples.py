"""Small multiples share their y-axis; every school and the district appear."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

import sustainsim
from sustainsim import plotting


def _axes(n):
    return list(Figure(figsize=(4 * n, 3), layout="constrained").subplots(1, n))


def _median(ax):
    (ln,) = [ln for ln in ax.get_lines() if ln.get_label() == "median"]
    return ln.get_ydata()


def test_school_panels_share_y_limits_and_show_their_own_data(two_ds):
    axes = _axes(3)
    panels = [("a", None), ("b", None), ("district", None)]
    plotting.fan_multiples(two_ds, axes, panels)
    assert axes[0].get_ylim() == axes[1].get_ylim()
    # the shared limits hold both schools' 5%-95% bands
    lo, hi = axes[0].get_ylim()
    for school in ("a", "b"):
        fb = two_ds["fund_balance"].sel(school=school).values
        assert (
            lo <= np.quantile(fb, 0.05, axis=0).min() and hi >= np.quantile(fb, 0.95, axis=0).max()
        )
        i = ["a", "b"].index(school)
        np.testing.assert_allclose(_median(axes[i]), np.quantile(fb, 0.5, axis=0))
    assert "own scale" in axes[2].get_title()
    assert axes[0].get_legend() is not None and axes[1].get_legend() is None
    assert all(a.get_ylabel().endswith("[USD]") for a in axes)


def test_scenario_panels_share_y_limits(two_scen):
    axes = _axes(3)
    panels = [("district", s) for s in ("base", "cuts", "rich")]
    plotting.fan_multiples(two_scen, axes, panels, highlight=plotting.bad_futures(two_scen))
    assert axes[0].get_ylim() == axes[1].get_ylim() == axes[2].get_ylim()
    assert [a.get_title().split(":")[0] for a in axes] == ["base", "cuts", "rich"]
    # the same bad futures in every panel: the same draws' district paths in each scenario
    picked = plotting.bad_futures(two_scen)
    bal = two_scen["district_fund_balance"]
    for a, s in zip(axes, ("base", "cuts", "rich"), strict=True):
        (line,) = [ln for ln in a.get_lines() if ln.get_label() == "bad future A"]
        np.testing.assert_array_equal(line.get_ydata(), bal.sel(scenario=s, draw=picked[0]).values)


def test_solvency_multiples_show_every_school_and_the_district(two_scen):
    axes = _axes(3)
    plotting.solvency_multiples(two_scen, axes, ["base", "cuts", "rich"])
    ps = sustainsim.p_solvent(two_scen)
    assert axes[0].get_ylim() == axes[1].get_ylim() == axes[2].get_ylim()
    for a, s in zip(axes, ("base", "cuts", "rich"), strict=True):
        labels = [ln.get_label() for ln in a.get_lines()]
        assert labels == ["a", "b", "district"]
        for ln in a.get_lines():
            want = ps["probability"].sel(scenario=s, school=ln.get_label()).values
            np.testing.assert_array_equal(ln.get_ydata(), want)
        end = ps["probability"].sel(scenario=s).isel(year=-1)
        assert a.get_title() == f"{s}: " + ", ".join(
            f"{e} {float(end.sel(school=e)):.0%}" for e in ("a", "b", "district")
        )
        assert a.get_ylabel().endswith("[%]")


def test_share_y_is_the_union():
    axes = _axes(2)
    axes[0].plot([0, 1], [0, 5])
    axes[1].plot([0, 1], [-3, 2])
    lo, hi = plotting.share_y(axes)
    assert axes[0].get_ylim() == axes[1].get_ylim() == (lo, hi)
    assert lo <= -3 and hi >= 5
