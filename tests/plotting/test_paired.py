"""The paired-difference chart draws compare()'s differences and paired intervals."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import BarContainer

from sustainsim import plotting
from sustainsim.analysis.paired import compare


def _bars(ax, label):
    (c,) = [c for c in ax.containers if isinstance(c, BarContainer) and c.get_label() == label]
    return c


def _err_segments(c):
    (lines,) = [x for x in c.errorbar.lines[2]]
    return np.array([[s[:, 0].min(), s[:, 0].max()] for s in lines.get_segments()])


@pytest.mark.parametrize("metric", ["p_solvent", "final_balance"])
def test_bars_are_compare_differences_with_paired_intervals(two_scen, fig_ax, metric):
    plotting.paired_differences(two_scen, metric=metric, ax=fig_ax)
    cmp = compare(two_scen, "base", metric=metric)
    if "year" in cmp.dims:
        cmp = cmp.isel(year=-1)
    drawn = [c.get_label() for c in fig_ax.containers if isinstance(c, BarContainer)]
    for school in drawn:
        c = _bars(fig_ax, school)
        want = cmp.sel(school=school, scenario=["cuts", "rich"])
        np.testing.assert_allclose([p.get_width() for p in c.patches], want["difference"])
        seg = _err_segments(c)
        np.testing.assert_allclose(seg[:, 0], want["lower"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(seg[:, 1], want["upper"], rtol=1e-12, atol=1e-12)
    assert "[" in fig_ax.get_xlabel() and "against base" in fig_ax.get_xlabel()
    unit = "percentage points" if metric == "p_solvent" else "USD"
    assert fig_ax.get_xlabel().endswith(f"[{unit}]")


def test_difference_is_the_mean_of_per_draw_differences(two_scen, fig_ax):
    """Independent of compare(): P(solvent through the horizon) by hand, school a."""
    plotting.paired_differences(two_scen, ax=fig_ax)
    fb = two_scen["fund_balance"].sel(school="a")
    ok = (fb >= 0).all("year")  # solvent through the last year
    by_hand = float(ok.sel(scenario="cuts").mean() - ok.sel(scenario="base").mean())
    assert _bars(fig_ax, "a").patches[0].get_width() == pytest.approx(by_hand, abs=1e-12)
    assert by_hand < 0  # more cuts, fewer solvent draws


def test_entities_no_scenario_changes_are_named_not_drawn(two_scen, fig_ax):
    # scenario 'rich' only adds central money: schools a and b are unchanged in 'rich',
    # but 'cuts' changes them; a compare result with only 'rich' leaves them out
    cmp = compare(two_scen.sel(scenario=["base", "rich"]), "base", metric="final_balance")
    plotting.paired_differences(cmp, ax=fig_ax)
    drawn = [c.get_label() for c in fig_ax.containers if isinstance(c, BarContainer)]
    assert drawn == ["district"]
    assert "not drawn): a, b" in fig_ax.get_title()
    # the central books start with $2M instead of $100K (TWO_SCHOOLS_TOML) and nothing
    # else changes: the district's ending balance is $1.9M higher in every draw
    assert _bars(fig_ax, "district").patches[0].get_width() == pytest.approx(1_900_000)


def test_title_states_the_largest_change(two_scen, fig_ax):
    plotting.paired_differences(two_scen, ax=fig_ax)
    cmp = compare(two_scen, "base").isel(year=-1)
    d = cmp["difference"]
    idx = np.unravel_index(int(np.abs(d.values).argmax()), d.shape)
    scen, school = str(d["scenario"].values[idx[0]]), str(d["school"].values[idx[1]])
    first = fig_ax.get_title().splitlines()[0]
    assert first.startswith(f"{scen}: ") and f"at {school} " in first
    assert f"{100 * float(d.values[idx]):+.0f} points" in first


def test_needs_scenarios(two_ds, fig_ax):
    with pytest.raises(ValueError, match="scenario"):
        plotting.paired_differences(two_ds, ax=fig_ax)
