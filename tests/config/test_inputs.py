"""``spec.inputs()``: every uncertain input, by the name its random stream has."""

from __future__ import annotations

import pytest

import sustainsim
from sustainsim.config import ConfigError
from sustainsim.config.inputs import InputInfo, describe, uncertain_inputs
from sustainsim.run.source import discover_streams
from tests.conftest import CONFIGS, REF10

SHIPPED = sorted(CONFIGS.glob("*.toml")) + [REF10]


def _covers(name: str, stream: str) -> bool:
    return stream == name or stream.startswith(name + ".")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_stream_is_an_input_and_every_input_a_stream(path):
    spec = sustainsim.load_config(path)
    names = [r.name for r in uncertain_inputs(spec.config)]
    streams = {s for s, _ in discover_streams(spec)}
    # every random stream the run draws from belongs to one listed input ...
    orphans = sorted(s for s in streams if not any(_covers(n, s) for n in names))
    assert orphans == []
    # ... and every listed input draws from a stream of that name (or its sub-streams)
    idle = sorted(n for n in names if not any(_covers(n, s) for s in streams))
    assert idle == []
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_path_is_an_override_that_sets_the_central_value(path):
    spec = sustainsim.load_config(path)
    table = spec.inputs()
    for name, row in table.iterrows():
        if row["distribution"] in ("events", "markov chain") or "*" in row["path"]:
            continue
        if row["path"] != name:  # a process: its path is the parameter that scales it
            continue
        fixed = spec.with_overrides({row["path"]: float(row["central"])})
        assert name not in fixed.inputs().index  # now a number, no longer uncertain


def test_table_columns_and_central_values():
    spec = sustainsim.load_config(CONFIGS / "flagship.toml")
    t = spec.inputs()
    assert list(t.columns) == [
        "path",
        "distribution",
        "parameters",
        "per",
        "central",
        "label",
        "unit",
    ]
    row = t.loc["district.growth.salary"]  # triangular(0.02, 0.03, 0.05): median by hand
    # the triangle's median: left part holds (0.03-0.02)/(0.05-0.02) = 1/3 < 1/2, so the
    # median m solves (0.05-m)^2 / ((0.05-0.02)(0.05-0.03)) = 1/2 -> m = 0.05 - sqrt(0.0003)
    assert row["central"] == pytest.approx(0.05 - 0.0003**0.5, abs=1e-12)
    assert row["per"] == "draw" and row["unit"] == "%"


def test_labels_from_the_config_and_unknown_labels_refused():
    text = (REF10).read_text()
    spec = sustainsim.loads_config(
        text + '\n[labels]\n"schools.ref.enrollment.innovation" = "Enrollment surprise"\n'
    )
    assert spec.inputs().loc["schools.ref.enrollment.innovation", "label"] == "Enrollment surprise"
    with pytest.raises(ConfigError, match=r"labels\.district\.growth\.salry.*not an uncertain"):
        sustainsim.loads_config(text + '\n[labels]\n"district.growth.salry" = "x"\n')


@pytest.mark.parametrize(
    ("row", "said"),
    [
        (
            InputInfo("g", "g", "normal", {"mean": 0.025, "sd": 0.015}, "year", unit="%"),
            "normal, mean 2.5%, sd 1.5%, a new value each year",
        ),
        (
            InputInfo("b", "b", "uniform", {"low": 400, "high": 450}, "draw", unit="pupils"),
            "uniform, low 400, high 450, one value per draw",
        ),
        (
            InputInfo("c", "c", "events", {"probability": 0.1, "magnitude": 0.05}, "year"),
            "chance 10% a year, each cutting 5% of exposed revenue",
        ),
        (
            InputInfo("x.renewal", "p", "events", {"probability": 0.25}, "year"),
            "chance 25% at the end of each term",
        ),
    ],
)
def test_plain_language(row, said):
    assert describe(row) == said
