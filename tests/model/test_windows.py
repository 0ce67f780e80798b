"""A line's own start/end window: budgets by hand to the cent, a drawn end year against its closed form."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.config import ConfigError
from tests.handcalc import HEAD, cents, line, run

WINDOWS = """
[[schools]]
name = "s"
fund_balance = 10000
[schools.enrollment]
base = 200

[[schools.revenue]]
name = "base"
kind = "fixed"
amount = 1000000
[[schools.revenue]]
name = "extra"            # per pupil, projected years 2..4 only
kind = "per_pupil"
rate = 500
growth = 0.02
start = 2
end = 4

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 900000
[[schools.cost]]
name = "coach"            # fixed, from year 3 on
kind = "fixed"
amount = 80000
growth = 0.03
start = 3
"""


def test_start_and_end_on_a_per_pupil_revenue_and_a_fixed_cost():
    ds = run(WINDOWS, years=5)
    # extra = 500 * 1.02^t * 200 in years 2..4:
    #   y2 500 * 1.0404 * 200 = 104,040.00; y3 500 * 1.061208 * 200 = 106,120.80
    #   y4 500 * 1.08243216 * 200 = 108,243.216
    cents(line(ds, "revenue", "extra"), [0.0, 104_040.00, 106_120.80, 108_243.216, 0.0])
    # coach = 80,000 * 1.03^t from year 3: y3 87,418.16; y4 90,040.7048; y5 92,741.925944
    cents(line(ds, "cost", "coach"), [0.0, 0.0, 87_418.16, 90_040.7048, 92_741.925944])
    # balance from 10,000:
    #   y1 +1,000,000 - 900,000 = +100,000.00           -> 110,000.00
    #   y2 +1,104,040.00 - 900,000 = +204,040.00        -> 314,040.00
    #   y3 +1,106,120.80 - 987,418.16 = +118,702.64     -> 432,742.64
    #   y4 +1,108,243.216 - 990,040.7048 = +118,202.5112 -> 550,945.1512
    #   y5 +1,000,000 - 992,741.925944 = +7,258.074056  -> 558,203.225256
    balance = ds.fund_balance.isel(draw=0, school=0).values
    cents(balance, [110_000.00, 314_040.00, 432_742.64, 550_945.1512, 558_203.225256])


def test_a_models_window_counts_from_the_conversion():
    ds = run(
        """
[models.old]
[models.pl]
[[models.pl.cost]]
name = "coach"
kind = "fixed"
amount = 1000
start = 1                 # the launch year ...
end = 2                   # ... and the one after: projected years 3 and 4

[[schools]]
name = "s"
model = "pl"
previous_model = "old"
conversion_year = 3
[schools.enrollment]
base = 100
""",
        years=5,
    )
    cents(line(ds, "cost", "coach"), [0, 0, 1000, 1000, 0])


def test_no_window_and_fixed_windows_draw_no_random_number():
    ds = run(WINDOWS, years=5)
    assert not [k for k in ds.data_vars if k.endswith((".start", ".end"))]


RANDOM_END = """
[[schools]]
name = "s"
[schools.enrollment]
base = 100
[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 1000
end = { dist = "integer_uniform", low = 2, high = 6 }
[[schools.cost]]
name = "late"
kind = "fixed"
amount = 10
start = { dist = "integer_uniform", low = 2, high = 4 }
"""


def _random_end(draws: int, **kw):
    spec = sustainsim.loads_config(HEAD.format(years=8) + RANDOM_END)
    return sustainsim.simulate(spec, draws=draws, seed=11, lines=True, progress=False, **kw)


def test_a_drawn_end_year_matches_its_closed_form():
    n = 20_000
    ds = _random_end(n)
    ops = ds.cost_lines.sel(cost_line="ops").isel(school=0)
    years = ds.year.values
    # the first projected year (1-based) in which the line no longer runs
    first_off = np.argmax((ops == 0).values, axis=1) + 1
    # closed form: end ~ U{2..6}, so the first inactive year end + 1 is U{3..7}: 1/5 each
    for k in range(3, 8):
        p_hat = np.mean(first_off == k)
        se = np.sqrt(0.2 * 0.8 / n)
        assert abs(p_hat - 0.2) < 4 * se, (k, p_hat)
    # draw by draw, the window is exactly the sampled end year (recorded as an input)
    np.testing.assert_array_equal(first_off, ds["s.ops.end"].values + 1)
    on = (ops > 0).values
    t = np.arange(1, len(years) + 1)
    np.testing.assert_array_equal(on, t[None, :] <= ds["s.ops.end"].values[:, None])
    # a drawn start: the line runs from it on
    late = ds.cost_lines.sel(cost_line="late").isel(school=0).values > 0
    np.testing.assert_array_equal(late, t[None, :] >= ds["s.late.start"].values[:, None])
    assert sorted(np.unique(ds["s.late.start"].values)) == [2, 3, 4]


def test_drawn_windows_do_not_depend_on_the_chunk_size():
    a = _random_end(500)
    b = _random_end(500, chunk_size=64)
    np.testing.assert_array_equal(a.cost_lines.values, b.cost_lines.values)
    np.testing.assert_array_equal(a["s.ops.end"].values, b["s.ops.end"].values)


def _load(body: str):
    return sustainsim.loads_config(HEAD.format(years=5) + body)


SCHOOL = """
[[schools]]
name = "s"
[schools.enrollment]
base = 100
"""


@pytest.mark.parametrize(
    ("line_toml", "message"),
    [
        (
            'kind = "fixed"\namount = 1\nstart = 3\nend = 2',
            r"end year \(2\) is before start year \(3\); end must be >= start",
        ),
        (
            'kind = "fixed"\namount = 1\nstart = 1\nend = { dist = "integer_uniform", low = 0, high = 4 }',
            r"end year .* is before start year \(1\)",
        ),
        ('kind = "per_pupil"\nrate = 1\nstart = 1.5', r"start.*must be a whole number \(got 1.5\)"),
        ('kind = "fixed"\namount = 1\nend = -1', r"end.*must be >= 0 \(got -1\)"),
        (
            'kind = "fixed"\namount = 1\nend = { dist = "uniform", low = 1, high = 3 }',
            r"end.*not whole-numbered",
        ),
    ],
)
def test_bad_windows_are_refused(line_toml, message):
    with pytest.raises(ConfigError, match=message):
        _load(SCHOOL + '[[schools.cost]]\nname = "x"\n' + line_toml + "\n")


def test_a_revenue_window_is_checked_too():
    with pytest.raises(ConfigError, match=r"schools.*revenue.*end year \(1\) is before start"):
        _load(
            SCHOOL
            + '[[schools.revenue]]\nname = "x"\nkind = "fixed"\namount = 1\nstart = 2\nend = 1\n'
        )
