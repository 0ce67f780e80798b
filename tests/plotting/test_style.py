"""The house style, value formats and human labels."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from sustainsim import plotting
from sustainsim.plotting.style import COLORS, HOUSE_RC


def test_house_style_applies_inside_the_context_only():
    with plotting.house_style():
        ax = Figure().add_subplot()
        ax.set_title("x")
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.title.get_text() == "" and ax._left_title.get_text() == "x"  # left-aligned
    (line,) = ax.plot([0, 1])
    assert line.get_color() == COLORS[0] == "#0072B2"  # Okabe-Ito blue first
    outside = Figure().add_subplot()
    assert outside.spines["top"].get_visible()
    assert HOUSE_RC["legend.frameon"] is False


@pytest.mark.parametrize(
    ("value", "units", "text"),
    [
        (0.0421, "1/yr", "4.2%/yr"),
        (-0.01, "1/yr", "-1.0%/yr"),
        (280_000.0, "USD", "$280K"),
        (2029.0, "fiscal year", "FY2029"),
        (3.0, "1", "3"),
        (-0.125, "1", "-12.5%"),
        (0.07, "1", "7.0%"),
        (2.5, "students", "2.5 students"),
        (float("nan"), "USD", "n/a"),
    ],
)
def test_format_input_value(value, units, text):
    assert plotting.format_input_value(value, units) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [(918_234, "$918K"), (-81_512, "-$81.5K"), (1_834_000, "$1.8M"), (724_174, "$724K"),
     (99_960, "$100K"), (950, "$950"), (0, "$0"), (-2.6e6, "-$2.6M")],
)  # fmt: skip
def test_short_usd(x, text):
    assert plotting.style.short_usd(x) == text


def test_input_label_prefers_label_attr_then_clean_long_name():
    ds = xr.Dataset(
        {
            "growth.salary": ("draw", np.zeros(2), {"label": "salary growth", "long_name": "x"}),
            "a.enrollment.change": ("draw", np.zeros(2), {"long_name": "enrollment change"}),
            "a.grant.amount": ("draw", np.zeros(2), {"long_name": "sampled a.grant ~ uniform(1)"}),
        },
        coords={"school": ["a", "b"]},
    )
    assert plotting.input_label(ds, "growth.salary") == "salary growth"
    assert plotting.input_label(ds, "a.enrollment.change") == "a: enrollment change"
    assert plotting.input_label(ds, "a.grant.amount") == "a: grant amount"  # generated: words
    one = ds.sel(school=["a"])
    assert plotting.input_label(one, "a.enrollment.change") == "enrollment change"
    assert plotting.input_label(one, "a.grant.amount") == "grant amount"
    assert plotting.input_label({"x.y": "Why"}, "x.y") == "Why"
    assert plotting.input_label(None, "district.cuts.probability") == "district cuts probability"


def test_headline_escapes_dollars(fig_ax):
    plotting.style._headline(fig_ax, "from $1M to $2M")
    assert fig_ax.get_title() == r"from \$1M to \$2M"  # drawn literally, not as mathtext
