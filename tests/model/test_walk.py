"""One walk over a school's lines: the inputs and the run's line bookkeeping agree."""

from __future__ import annotations

import numpy as np

import sustainsim
from sustainsim.model.walk import school_lines
from sustainsim.run import full

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


def test_the_run_names_the_lines_the_walk_yields():
    s = spec()
    names = ["aides", "coaches", "devices", "tutoring", "rent"]
    assert full._line_names(s, "cost") == names
    assert full._line_names(s, "revenue") == ["launch", "pp"]
    categories, kinds = full._line_meta(s, "cost")
    assert kinds == ["fixed", "per_pupil", "one_time", "per_pupil", "fixed"]  # as first defined
    assert categories == ["operations", "operations", "startup", "operations", "operations"]
    assert "temporary_revenue" in full.output_names(s) and "one_time_cost" in full.output_names(s)
    ds = sustainsim.simulate(s, lines=True, progress=False)
    assert list(ds.cost_line.values) == names
    coaches = ds.cost_lines.sel(cost_line="coaches", school="a").isel(draw=0).values
    np.testing.assert_allclose(coaches, [3000, 3000, 80000, 80000, 80000, 80000])
