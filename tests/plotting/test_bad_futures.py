"""Representative bad futures: failing draws, spread over the failing tail, drawn alike."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim import plotting
from sustainsim.plotting.style import BAD_COLORS


def _district_balance(ds):
    return ds["district_fund_balance"] if "district_fund_balance" in ds else ds["fund_balance"]


def test_picked_draws_fail_and_sit_at_the_quantiles(two_ds):
    qs = (0.1, 0.5, 0.9)
    picked = plotting.bad_futures(two_ds, quantiles=qs)
    bal = _district_balance(two_ds)  # the district: schools and the central books
    failed = (bal < 0).any("year").values
    end = bal.isel(year=-1).values
    assert 0 < failed.sum() < failed.size  # the run has failing and solvent draws
    assert len(picked) == 3 and len(set(picked)) == 3
    assert all(failed[d] for d in picked)
    # brute force: each pick is a failing draw nearest its quantile of the failing endings
    tail = end[failed]
    for q, d in zip(qs, picked, strict=True):
        target = np.quantile(tail, q)
        assert abs(end[d] - target) == pytest.approx(np.abs(tail - target).min(), abs=1e-6)


def test_one_school_and_a_scenario(two_scen):
    picked = plotting.bad_futures(two_scen, "b", scenario="cuts")
    fb = two_scen["fund_balance"].sel(school="b", scenario="cuts")
    assert picked and all(bool((fb.sel(draw=d) < 0).any()) for d in picked)


def test_no_failing_draws_gives_none(make_spec):
    spec = make_spec("small", simulation__draws=300, district__fund_balance=1e9)
    ds = sustainsim.simulate(spec)
    assert not bool((ds["fund_balance"] < 0).any())
    assert plotting.bad_futures(ds) == []


def test_fan_chart_overlays_their_paths(two_ds, fig_ax):
    picked = plotting.bad_futures(two_ds)
    plotting.fan_chart(two_ds, school="a", highlight=picked, ax=fig_ax)
    for i, d in enumerate(picked):
        (line,) = [ln for ln in fig_ax.get_lines() if ln.get_label() == f"bad future {'ABC'[i]}"]
        np.testing.assert_array_equal(
            line.get_ydata(), two_ds["fund_balance"].sel(school="a", draw=d).values
        )
        assert line.get_color() == BAD_COLORS[i]


def test_drivers_are_percentiles_and_values_of_the_draws(two_ds, fig_ax):
    picked = plotting.bad_futures(two_ds)
    plotting.bad_future_drivers(two_ds, picked, ax=fig_ax)
    rows = {t.get_text(): t.get_position()[1] for t in fig_ax.get_yticklabels()}
    texts = {(round(t.get_position()[1], 6), t.get_color()): t.get_text() for t in fig_ax.texts}
    for i, d in enumerate(picked):
        (line,) = [
            ln for ln in fig_ax.get_lines() if ln.get_label().startswith(f"bad future {'ABC'[i]}")
        ]
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True):
            (name,) = [
                n
                for n in sustainsim.results.input_names(two_ds)
                if plotting.input_label(two_ds, n) in rows
                and rows[plotting.input_label(two_ds, n)] == y
            ]
            v = two_ds[name].values
            mine = v[d]
            assert x == pytest.approx(np.mean(v < mine) + 0.5 * np.mean(v == mine))
            units = two_ds[name].attrs.get("units")
            want = plotting.format_input_value(mine, units).replace("$", r"\$")
            assert texts[(round(y, 6), BAD_COLORS[i])] == want
    assert fig_ax.get_xlabel().endswith("[%]")
