"""One walk over a school's lines: the inputs and the run's line bookkeeping agree."""

from __future__ import annotations

import numpy as np

import sustainsim
from sustainsim.model.inputs import sample_inputs
from sustainsim.model.walk import school_lines
from sustainsim.run import chunk
from sustainsim.sampling.streams import ChunkDraws, MonteCarlo

CONVERTING = """
[simulation]
years = 6
first_year = 2030
draws = 2
seed = 1

[models.traditional]
cost = [
  { name = "aides", kind = "fixed", amount = 50000 },
  { name = "coaches", kind = "per_pupil", rate = 10 },
]

[models.personalized]
revenue = [{ name = "launch", kind = "grant", amount = 100000, start = 0, end = 1 }]
cost = [
  { name = "coaches", kind = "fixed", amount = 80000 },
  { name = "devices", kind = "one_time", amount = 30000, year = 0 },
]

[[schools]]
name = "a"
model = "personalized"
previous_model = "traditional"
conversion_year = 3
fund_balance = 0

[schools.enrollment]
base = 300

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 9000

[[schools.cost]]
name = "tutoring"
kind = "per_pupil"
rate = 10

[[schools]]
name = "b"
fund_balance = 0

[schools.enrollment]
base = 200

[[schools.cost]]
name = "rent"
kind = "fixed"
amount = 1000
"""


def spec():
    return sustainsim.loads_config(CONVERTING)


def test_previous_model_then_model_offset_to_conversion_then_own_lines():
    cfg = spec().config
    got = [(p.line.name, p.offset, p.window) for p in school_lines(cfg, cfg.schools[0], "cost")]
    assert got == [
        ("aides", 0, (1, 2)),
        ("coaches", 0, (1, 2)),
        ("coaches", 2, (3, 6)),
        ("devices", 2, (3, 6)),
        ("tutoring", 0, None),
    ]
    got = [(p.line.name, p.offset, p.window) for p in school_lines(cfg, cfg.schools[0], "revenue")]
    assert got == [("launch", 2, (3, 6)), ("pp", 0, None)]
    assert [p.line.name for p in school_lines(cfg, cfg.schools[1], "cost")] == ["rent"]


def test_the_typed_lines_follow_the_walk():
    cfg = spec().config
    inp = sample_inputs(cfg, ChunkDraws(MonteCarlo(1), 0, 2))
    a = inp.schools[0]
    assert [ln.name for ln in a.cost] == ["aides", "coaches", "coaches", "devices", "tutoring"]
    assert [ln.kind for ln in a.cost] == ["fixed", "per_pupil", "fixed", "one_time", "per_pupil"]
    t = np.arange(7)
    np.testing.assert_array_equal(a.cost[0].active, (t >= 1) & (t <= 2))
    np.testing.assert_array_equal(a.cost[1].active, (t >= 1) & (t <= 2))
    np.testing.assert_array_equal(a.cost[2].active, t >= 3)
    assert a.cost[3].active is None and a.cost[3].year == 2  # the planning year, shifted
    assert a.cost[4].active is None
    launch = a.revenue[0]
    assert launch.active is None  # a grant carries its own years: 0..1 after conversion
    np.testing.assert_array_equal(launch.paying[:, 0], (t >= 2) & (t <= 3))


def test_the_run_names_the_lines_the_walk_yields():
    s = spec()
    names = ["aides", "coaches", "devices", "tutoring", "rent"]
    assert chunk._line_names(s, "cost") == names
    assert chunk._line_names(s, "revenue") == ["launch", "pp"]
    categories, kinds = chunk._line_meta(s, "cost")
    assert kinds == ["fixed", "per_pupil", "one_time", "per_pupil", "fixed"]  # as first defined
    assert categories == ["operations", "operations", "startup", "operations", "operations"]
    assert "temporary_revenue" in chunk.output_names(s) and "one_time_cost" in chunk.output_names(s)
    ds = sustainsim.simulate(s, lines=True, progress=False)
    assert list(ds.cost_line.values) == names
    coaches = ds.cost_lines.sel(cost_line="coaches", school="a").isel(draw=0).values
    np.testing.assert_allclose(coaches, [3000, 3000, 80000, 80000, 80000, 80000])
