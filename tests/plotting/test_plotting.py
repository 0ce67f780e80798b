"""Plots draw what the data says: artists checked against independently computed values."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

import sustainsim
from sustainsim import plotting

NO_CENTRAL_MONEY = {"district.fund_balance": 0, "district.revenue": [], "district.cost": []}


@pytest.fixture(scope="module")
def spec(make_spec):
    """Two schools without central money: the district entry is the sum over the schools."""
    return make_spec("two_schools", NO_CENTRAL_MONEY, simulation__draws=1500)


@pytest.fixture(scope="module")
def ds(spec):
    return sustainsim.simulate(spec, lines=True)


@pytest.fixture(scope="module")
def ds_scen(spec, ds):
    worse = sustainsim.simulate(spec.with_overrides({"district.cuts.probability": 0.5}))
    base = ds.drop_vars(["revenue_lines", "cost_lines", "revenue_line", "cost_line"])
    return xr.concat([base, worse], dim=pd.Index(["base", "cuts"], name="scenario"))


@pytest.fixture
def ax():
    return Figure(figsize=(6, 4), layout="constrained").add_subplot()


def _line(ax, label):
    found = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(found) == 1, [ln.get_label() for ln in ax.get_lines()]
    return found[0]


def _band_limits(coll, xs):
    """Lowest and highest y of a fill_between polygon at each x."""
    verts = np.concatenate([p.vertices for p in coll.get_paths()])
    lo = [verts[np.isclose(verts[:, 0], x), 1].min() for x in xs]
    hi = [verts[np.isclose(verts[:, 0], x), 1].max() for x in xs]
    return np.array(lo), np.array(hi)


# --------------------------------------------------------------------------- format
@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        (1_234_567, 1, "$1.2M"),
        (-300_000, 1, "-$300K"),
        (999_960, 1, "$1M"),
        (0, 1, "$0"),
        (950, 1, "$950"),
        (4.5e9, 1, "$4.5B"),
        (-0.01, 1, "$0"),
        (1_250_000, 2, "$1.25M"),
        (-2_000_000, 0, "-$2M"),
        (float("nan"), 1, "n/a"),
    ],
)
def test_format_usd(x, digits, text):
    assert plotting.format_usd(x, digits) == text


def test_usd_formatter_uses_exact_common_digits():
    fmt = plotting.UsdFormatter()
    ticks = [-250_000, 0, 250_000, 500_000, 1_000_000, 1_250_000]
    assert fmt.format_ticks(ticks) == ["-$250K", "$0", "$250K", "$500K", "$1M", "$1.25M"]
    assert fmt.format_ticks([0, 2e6, 4e6]) == ["$0", "$2M", "$4M"]


_UNIT = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


@given(st.floats(min_value=-1e14, max_value=1e14, allow_nan=False))
def test_format_usd_round_trips_within_rounding(x):
    text = plotting.format_usd(x, 3)
    m = re.fullmatch(r"(-?)\$(\d+(?:\.\d+)?)([KMBT]?)", text)
    assert m, text
    unit = _UNIT[m.group(3)]
    value = float(m.group(2)) * unit * (-1 if m.group(1) else 1)
    assert abs(value - x) <= 0.0005 * unit * (1 + 1e-9)
    assert float(m.group(2)) < 1000 or m.group(3) == "T"
    if m.group(3):
        assert float(m.group(2)) >= 1


# --------------------------------------------------------------------------- fan chart
def test_fan_chart_median_and_bands_are_the_quantiles(ds, ax):
    plotting.fan_chart(ds, school="a", ax=ax)
    data = ds["fund_balance"].sel(school="a").values  # (draw, year)
    years = ds["year"].values
    med = _line(ax, "median")
    np.testing.assert_array_equal(med.get_xdata(), years)
    np.testing.assert_allclose(med.get_ydata(), np.quantile(data, 0.5, axis=0), rtol=1e-12)
    (outer,) = [c for c in ax.collections if c.get_label() == "5%-95% of draws"]
    lo, hi = _band_limits(outer, years)
    np.testing.assert_allclose(lo, np.quantile(data, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(hi, np.quantile(data, 0.95, axis=0), rtol=1e-12)
    np.testing.assert_array_equal(_line(ax, "zero").get_ydata(), [0, 0])
    assert isinstance(ax.yaxis.get_major_formatter(), plotting.UsdFormatter)
    assert "[USD]" in ax.get_ylabel()


def test_fan_chart_defaults_to_district_total(ds, ax):
    plotting.fan_chart(ds, ax=ax)
    total = ds["fund_balance"].values.sum(axis=2)
    np.testing.assert_allclose(
        _line(ax, "median").get_ydata(), np.quantile(total, 0.5, axis=0), rtol=1e-12
    )
    assert "district" in ax.get_title()


def test_fan_chart_enrollment_has_no_zero_line_nor_dollars(ds, ax):
    plotting.fan_chart(ds, "enrollment", school="b", quantiles=(0.1, 0.5, 0.9), ax=ax)
    assert "zero" not in [ln.get_label() for ln in ax.get_lines()]
    assert not isinstance(ax.yaxis.get_major_formatter(), plotting.UsdFormatter)
    assert "[students]" in ax.get_ylabel()
    np.testing.assert_allclose(
        _line(ax, "median").get_ydata(),
        np.quantile(ds["enrollment"].sel(school="b").values, 0.5, axis=0),
    )


def test_fan_chart_scenario(ds_scen, ax):
    plotting.fan_chart(ds_scen, school="a", scenario="cuts", ax=ax)
    data = ds_scen["fund_balance"].sel(school="a", scenario="cuts").values
    np.testing.assert_allclose(_line(ax, "median").get_ydata(), np.quantile(data, 0.5, axis=0))
    with pytest.raises(ValueError, match="scenario 'nope'"):
        plotting.fan_chart(ds_scen, scenario="nope", ax=ax)


def test_fan_chart_with_pyplot_when_no_ax(ds):
    import matplotlib.pyplot as plt

    ax = plotting.fan_chart(ds, school="b")
    try:
        assert ax.figure in [plt.figure(n) for n in plt.get_fignums()]
    finally:
        plt.close(ax.figure)


# --------------------------------------------------------------------------- solvency
def test_solvency_curve_is_p_solvent(ds, ax):
    ps = sustainsim.p_solvent(ds)
    plotting.solvency_curve(ds, ax=ax)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["a", "b", "district"]
    years = ds["year"].values
    for i, name in enumerate(labels):
        p = ps.sel(school=name)
        np.testing.assert_array_equal(_line(ax, name).get_ydata(), p["probability"].values)
        lo, hi = _band_limits(ax.collections[i], years)
        np.testing.assert_allclose(lo, p["lower"].values)
        np.testing.assert_allclose(hi, p["upper"].values)
    # independent check of one curve: balance of school a never negative so far
    ok = np.cumprod(ds["fund_balance"].sel(school="a").values >= 0, axis=1).mean(axis=0)
    np.testing.assert_allclose(_line(ax, "a").get_ydata(), ok)


def test_solvency_curve_accepts_p_solvent_result(ds, ax):
    ps = sustainsim.p_solvent(ds)
    plotting.solvency_curve(ps, ax=ax)
    np.testing.assert_array_equal(
        _line(ax, "district").get_ydata(), ps["probability"].sel(school="district").values
    )
    with pytest.raises(ValueError, match="no 'scenario' dim"):
        plotting.solvency_curve(ps, by="scenario", ax=ax)


def test_solvency_curve_by_scenario(ds_scen, ax):
    ps = sustainsim.p_solvent(ds_scen)
    plotting.solvency_curve(ds_scen, school="b", ax=ax)  # default by="scenario"
    assert [ln.get_label() for ln in ax.get_lines()] == ["base", "cuts"]
    for s in ("base", "cuts"):
        np.testing.assert_array_equal(
            _line(ax, s).get_ydata(), ps["probability"].sel(school="b", scenario=s).values
        )
    # scenarios share draws and "cuts" has more cuts: never more solvent
    assert np.all(_line(ax, "cuts").get_ydata() <= _line(ax, "base").get_ydata())


def test_solvency_curve_by_school_within_scenario(ds_scen, ax):
    plotting.solvency_curve(ds_scen, by="school", scenario="cuts", ax=ax)
    ps = sustainsim.p_solvent(ds_scen).sel(scenario="cuts")
    np.testing.assert_array_equal(
        _line(ax, "a").get_ydata(), ps["probability"].sel(school="a").values
    )


# --------------------------------------------------------------------------- distribution
@pytest.mark.parametrize("which", ["final", "worst"])
def test_balance_distribution_histogram_and_ecdf(ds, ax, which):
    plotting.balance_distribution(ds, which, school="a", bins=30, ax=ax)
    fb = ds["fund_balance"].sel(school="a").values
    values = fb[:, -1] if which == "final" else fb.min(axis=1)
    n = values.size
    heights, edges = np.histogram(values, bins=30, weights=np.full(n, 1 / n))
    np.testing.assert_allclose([p.get_height() for p in ax.patches], heights)
    np.testing.assert_allclose([p.get_x() for p in ax.patches], edges[:-1])
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(1)
    (twin,) = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    (ecdf,) = twin.get_lines()
    np.testing.assert_array_equal(ecdf.get_xdata(), np.sort(values))
    np.testing.assert_allclose(ecdf.get_ydata(), np.arange(1, n + 1) / n)
    assert f"{np.mean(values < 0):.1%}" in _line(ax, ax.get_lines()[0].get_label()).get_label()
    with pytest.raises(ValueError, match="which"):
        plotting.balance_distribution(ds, "median", ax=ax)


def test_balance_distribution_thins_large_ecdf_exactly(ax):
    rng = np.random.default_rng(5)
    fb = rng.normal(1e5, 3e5, size=(20_000, 3, 1))
    ds = xr.Dataset(
        {"fund_balance": (("draw", "year", "school"), fb, {"units": "USD"})},
        coords={"year": [2030, 2031, 2032], "school": ["s"]},
    )
    plotting.balance_distribution(ds, "final", ax=ax)
    (twin,) = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    (ecdf,) = twin.get_lines()
    x, y = ecdf.get_xdata(), ecdf.get_ydata()
    srt = np.sort(fb[:, -1, 0])
    assert 1000 < len(x) <= 4000
    assert x[0] == srt[0] and x[-1] == srt[-1] and y[-1] == 1
    idx = np.searchsorted(srt, x)  # positions of the plotted points among all draws
    np.testing.assert_allclose(y, (idx + 1) / srt.size)


# --------------------------------------------------------------------------- tornado
def _bars(ax, label):
    (c,) = [c for c in ax.containers if c.get_label() == label]
    return c


def test_tornado_range_table(ax):
    table = pd.DataFrame(
        {
            "input": ["grant.end", "cuts.count", "salary", "enrollment"],
            "low": [90.0, 200.0, -100.0, 80.0],
            "high": [150.0, -500.0, 300.0, 130.0],
            "base": 100.0,
        }
    )
    table.attrs = {"units": "USD", "long_name": "final fund balance"}
    plotting.tornado(table, ax=ax)
    # top to bottom: decreasing |high - low|: cuts 700, salary 400, grant 60, enrollment 50
    order = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    names = ["cuts.count", "salary", "grant.end", "enrollment"]
    assert order == ["cuts: count", "salary", "grant: end", "enrollment"]  # names in words
    ordered = table.set_index("input").loc[names]
    low = _bars(ax, "input at its low value (P10)")
    high = _bars(ax, "input at its high value (P90)")
    by_y = lambda c: sorted(c.patches, key=lambda p: -p.get_y())  # noqa: E731
    np.testing.assert_allclose([p.get_width() for p in by_y(low)], ordered["low"] - 100)
    np.testing.assert_allclose([p.get_width() for p in by_y(high)], ordered["high"] - 100)
    np.testing.assert_allclose([p.get_x() for p in by_y(high)], 100)
    assert isinstance(ax.xaxis.get_major_formatter(), plotting.UsdFormatter)
    assert ax.get_xlabel() == "final fund balance [USD]"


def test_tornado_xarray_dataset_same_as_frame():
    table = pd.DataFrame({"low": [1.0, -3.0], "high": [2.0, 4.0]}, index=["x", "y"])
    table.index.name = "input"
    a1 = plotting.tornado(table, ax=Figure().add_subplot())
    a2 = plotting.tornado(xr.Dataset.from_dataframe(table), ax=Figure().add_subplot())
    for a in (a1, a2):
        widths = [p.get_width() for c in a.containers for p in c.patches]
        assert widths == [-3.0, 1.0, 4.0, 2.0]  # y first (|7| > |1|), base 0


def test_tornado_signed_scores(ax):
    scores = pd.Series({"a": 0.3, "b": -0.6, "c": 0.1, "d": -0.05})
    plotting.tornado(scores, ax=ax)
    order = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    assert order == ["b", "a", "c", "d"]
    widths = {
        round(p.get_y() + p.get_height() / 2): p.get_width() for c in ax.containers for p in c
    }
    assert [widths[y] for y in (3, 2, 1, 0)] == [-0.6, 0.3, 0.1, -0.05]
    assert (
        _bars(ax, "negative").patches[0].get_hatch() != _bars(ax, "positive").patches[0].get_hatch()
    )


def test_tornado_rejects_bad_tables(ax):
    with pytest.raises(ValueError, match="high"):
        plotting.tornado(pd.DataFrame({"input": ["a"], "low": [1.0]}), ax=ax)
    with pytest.raises(TypeError):
        plotting.tornado([1, 2], ax=ax)


# --------------------------------------------------------------------------- scenarios
def test_scenario_comparison_bars_and_intervals(ds_scen, ax):
    ps = sustainsim.p_solvent(ds_scen)
    year = int(ds_scen["year"].values[-2])
    plotting.scenario_comparison(ds_scen, year=year, ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["base", "cuts"]
    for school in ("a", "b", "district"):
        c = _bars(ax, school)
        p = ps.sel(year=year, school=school, scenario=["base", "cuts"])
        np.testing.assert_allclose([r.get_height() for r in c.patches], p["probability"].values)
        (seg,) = [x for x in c.errorbar.lines[2] if isinstance(x, LineCollection)]
        ys = np.array([[s[:, 1].min(), s[:, 1].max()] for s in seg.get_segments()])
        np.testing.assert_allclose(ys[:, 0], p["lower"].values)
        np.testing.assert_allclose(ys[:, 1], p["upper"].values)
    assert f"FY{year}" in ax.get_ylabel()


def test_scenario_comparison_without_scenarios_is_by_school(ds, ax):
    plotting.scenario_comparison(ds, school="b", ax=ax)
    p = sustainsim.p_solvent(ds).probability.sel(school="b").isel(year=-1)
    assert _bars(ax, "b").patches[0].get_height() == pytest.approx(float(p))


# --------------------------------------------------------------------------- heatmap
def test_heatmap_cells_are_the_input(ax):
    values = np.array([[0.91, 0.7, 0.52], [0.6, np.nan, 0.05]])
    p = xr.DataArray(
        values,
        coords={"cut_probability": [0.1, 0.3], "grant_years": [1, 2, 3]},
        dims=("cut_probability", "grant_years"),
        name="p_solvent",
    ).expand_dims(extra=["x"])  # a size-1 dim is dropped
    plotting.heatmap(p, ax=ax)
    arr = ax.images[0].get_array()
    np.testing.assert_array_equal(arr.filled(np.nan), values)
    assert arr.mask[1, 1]
    texts = {(t.get_position()): t.get_text() for t in ax.texts}
    assert texts[(0, 0)] == "91%" and texts[(2, 0)] == "52%" and texts[(2, 1)] == "5%"
    assert texts[(1, 1)] == "-"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.1", "0.3"]
    assert ax.get_xlabel() == "grant_years" and ax.get_ylabel() == "cut_probability"
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert ax.images[0].colorbar is not None


def test_heatmap_needs_2d(ax):
    with pytest.raises(ValueError, match="2-D"):
        plotting.heatmap(xr.DataArray(np.zeros(3), dims="x"), ax=ax)


def test_tornado_of_sensitivity_tornado_table(ds, ax):
    sensitivity = pytest.importorskip("sustainsim.analysis.sensitivity")
    table = sensitivity.tornado_table(ds, "final_balance")
    plotting.tornado(table, ax=ax)
    order = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    order = [t.replace("\n", " ") for t in order]  # long labels wrap
    assert order == list(table["label"])[: len(order)]  # the inputs' labels, not their names
    assert isinstance(ax.xaxis.get_major_formatter(), plotting.UsdFormatter)
    labels = {c.get_label() for c in ax.containers}
    assert labels == {"input in its lowest 10%", "input in its highest 10%"}
