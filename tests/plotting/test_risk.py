"""Tornado bars annotated with the input values at both ends; human labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sustainsim import plotting
from sustainsim.analysis.sensitivity import tornado_table


def _texts_by_row(ax):
    """{y: {x: text}} of the annotations."""
    out: dict[float, dict[float, str]] = {}
    for t in ax.texts:
        x, y = t.xy
        out.setdefault(round(float(y), 6), {})[float(x)] = t.get_text()
    return out


def test_annotations_are_tornado_table_values(two_ds, fig_ax):
    table = tornado_table(two_ds, "final_balance")
    plotting.tornado(table, labels=two_ds, ax=fig_ax)
    ticks = {
        t.get_text().replace("\n", " "): round(t.get_position()[1], 6)
        for t in fig_ax.get_yticklabels()
    }
    texts = _texts_by_row(fig_ax)
    assert len(texts) == len(table)
    for _, row in table.iterrows():
        y = ticks[plotting.input_label(two_ds, row["input"])]
        units = two_ds[row["input"]].attrs.get("units")
        # the value of the end further left at the row's left end, the other at its right
        got = texts[y]
        ends = (row["low"], row["high"], row["base"])
        first, second = ("low", "high") if row["low"] <= row["high"] else ("high", "low")
        for col, x in ((first, min(ends)), (second, max(ends))):
            want = plotting.format_input_value(row[f"{col}_value"], units)
            assert got[x] == want.replace("$", "\\$")


def test_low_value_is_the_inputs_tenth_percentile(two_ds, fig_ax):
    """Independently of tornado_table: the salary growth's 10th and 90th percentiles."""
    table = tornado_table(two_ds, "final_balance")
    plotting.tornado(table, labels=two_ds, ax=fig_ax)
    x = two_ds["district.growth.salary"].values  # uniform(0.02, 0.04) in TWO_SCHOOLS_TOML
    row = table.set_index("input").loc["district.growth.salary"]
    texts = set(t.get_text() for t in fig_ax.texts)
    assert f"{np.quantile(x, 0.1):.1%}/yr" in texts and f"{np.quantile(x, 0.9):.1%}/yr" in texts
    assert np.quantile(x, 0.1) == pytest.approx(0.022, abs=0.002)  # 2% + 10% of 2 points
    assert row["high"] < row["low"]  # higher raises, lower ending balance


def test_human_labels_from_the_dataset(two_ds, fig_ax):
    table = tornado_table(two_ds, "final_balance")
    plotting.tornado(table, labels=two_ds, ax=fig_ax)
    labels = [t.get_text().replace("\n", " ") for t in fig_ax.get_yticklabels()]
    assert "budget-cut events (number of events)" in labels  # the label of its count
    assert not [lb for lb in labels if "." in lb and " " not in lb]  # no raw dotted paths


def test_label_attr_wins(fig_ax):
    import xarray as xr

    ds = xr.Dataset({"x.y": ("draw", [0.0, 1.0], {"label": "the x input", "units": "USD"})})
    table = pd.DataFrame(
        {"input": ["x.y"], "low": [1.0], "high": [3.0], "base": [2.0],
         "low_value": [1e5], "high_value": [2.5e6]}
    )  # fmt: skip
    plotting.tornado(table, labels=ds, ax=fig_ax)
    assert [t.get_text() for t in fig_ax.get_yticklabels()] == ["the x input"]
    assert sorted(t.get_text() for t in fig_ax.texts) == [r"\$100K", r"\$2.5M"]
    assert fig_ax.get_title().startswith("The x input matters most")


def test_without_values_no_annotations(fig_ax):
    table = pd.DataFrame({"input": ["a"], "low": [1.0], "high": [3.0]})
    plotting.tornado(table, ax=fig_ax)
    assert len(fig_ax.texts) == 0
