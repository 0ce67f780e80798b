"""The report's figures: the set drawn is the set named, every axis says its units, and
``sustainsim report results.nc`` redraws exactly what ``sustainsim run`` drew."""

from __future__ import annotations

import re

import pytest

import sustainsim
from sustainsim.cli.main import main
from sustainsim.report import figures
from tests.conftest import CONFIGS

#: axis labels that are their own unit (categories, years)
_UNITLESS = {"fiscal year", "scenario", ""}


@pytest.fixture
def captured(monkeypatch):
    """The Figures the report draws, by name, before they become PNG bytes."""
    seen: list = []
    original = figures._png

    def keep(fig):  # a snapshot: _png clears the figure
        seen.append(
            [
                {
                    "label": a.get_label(),
                    "xlabel": a.get_xlabel(),
                    "ylabel": a.get_ylabel(),
                    "title": a.get_title() or a.get_title(loc="left"),
                    "lines": [ln.get_label() for ln in a.get_lines()],
                    "ylim": a.get_ylim(),
                }
                for a in fig.axes
                if a.get_visible()
            ]
        )
        return original(fig)

    monkeypatch.setattr(figures, "_png", keep)
    return seen


def _check_units(name: str, axes: list[dict]) -> None:
    for ax in axes:
        if ax["label"] == "<colorbar>":
            continue
        labels = [ax["xlabel"], ax["ylabel"]]
        assert any(re.search(r"\[[^\]]+\]$", lb) for lb in labels), (name, labels)
        for lb in labels:
            assert lb in _UNITLESS or re.search(r"\[[^\]]+\]$", lb), (name, lb)


def test_figures_without_scenarios(two_spec, two_ds, captured):
    ds = two_ds.drop_vars(["revenue_lines", "cost_lines"])
    central = sustainsim.central_case(two_spec)
    names = figures.figure_names(ds, central)
    assert names == [
        "fan_chart", "solvency_curve", "bad_futures", "tornado",
        "balance_distribution", "composition",
    ]  # fmt: skip
    out = figures.render_figures(ds, central)
    assert list(out) == names
    assert len(captured) == len(names)
    for name, axes in zip(names, captured, strict=True):
        _check_units(name, axes)
    assert all(png.startswith(b"\x89PNG") for png in out.values())


def test_figures_with_scenarios(two_scen, captured):
    names = figures.figure_names(two_scen)
    assert names == [
        "fan_chart", "scenario_fans", "solvency_curve", "paired_differences",
        "bad_futures", "tornado", "balance_distribution",
    ]  # fmt: skip
    out = figures.render_figures(two_scen)
    assert list(out) == names
    for name, axes in zip(names, captured, strict=True):
        _check_units(name, axes)
    # the solvency figure: one panel per scenario, each with every school and the district
    solvency = captured[names.index("solvency_curve")]
    assert len(solvency) == 3
    for ax in solvency:
        assert ax["lines"] == ["a", "b", "district"]
    # small multiples of the fan chart: the schools share one y scale
    fans = captured[0]
    assert fans[0]["ylim"] == fans[1]["ylim"]


def test_no_failing_draw_no_bad_futures(make_spec):
    spec = make_spec("small", simulation__draws=200, district__fund_balance=1e9)
    ds = sustainsim.simulate(spec)
    assert "bad_futures" not in figures.figure_names(ds)
    assert "tornado" in figures.figure_names(ds)


def test_report_redraws_what_run_drew(tmp_path):
    """Scenarios, no line data in results.nc: report rebuilds the central case from the
    stored config (the composition) and draws the same figures, byte for byte."""
    run_dir, report_dir = tmp_path / "run", tmp_path / "report"
    config = str(CONFIGS / "leap_chicago.toml")
    assert main(["run", config, "--draws", "400", "--out", str(run_dir), "-q"]) == 0
    assert main(["report", str(run_dir / "results.nc"), "--out", str(report_dir)]) == 0
    drawn = sorted(p.name for p in run_dir.glob("*.png"))
    redrawn = sorted(p.name for p in report_dir.glob("*.png"))
    assert "composition.png" in drawn and "paired_differences.png" in drawn
    assert redrawn == drawn
    for name in drawn:
        assert (report_dir / name).read_bytes() == (run_dir / name).read_bytes(), name
