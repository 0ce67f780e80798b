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
    np.testing.assert_array_equal(first_off, ds["schools.s.cost.ops.end"].values + 1)
    on = (ops > 0).values
    t = np.arange(1, len(years) + 1)
    np.testing.assert_array_equal(on, t[None, :] <= ds["schools.s.cost.ops.end"].values[:, None])
    # a drawn start: the line runs from it on
    late = ds.cost_lines.sel(cost_line="late").isel(school=0).values > 0
    np.testing.assert_array_equal(
        late, t[None, :] >= ds["schools.s.cost.late.start"].values[:, None]
    )
    assert sorted(np.unique(ds["schools.s.cost.late.start"].values)) == [2, 3, 4]


def test_drawn_windows_do_not_depend_on_the_chunk_size():
    a = _random_end(500)
    b = _random_end(500, chunk_size=64)
    np.testing.assert_array_equal(a.cost_lines.values, b.cost_lines.values)
    np.testing.assert_array_equal(
        a["schools.s.cost.ops.end"].values, b["schools.s.cost.ops.end"].values
    )


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


EVERY_KIND = """
[district.response]
trigger = "deficit"
cap = 0.05

[[schools]]
name = "s"
fund_balance = 0
[schools.enrollment]
base = 300
drift = 0.02
volatility = 0.05
grades = ["K", "1", "2"]
grade_shares = [0.34, 0.33, 0.33]

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 7000
{w}
[[schools.revenue]]
name = "cat"
kind = "categorical"
rate = 900
eligible_share = 0.3
{w}
[[schools.revenue]]
name = "fix"
kind = "fixed"
amount = 50000
{w}

[[schools.cost]]
name = "teachers"
kind = "staff"
students_per_position = 24
salary = 60000
turnover = 0.1
flexible = true
{w}
[[schools.cost]]
name = "rooms"
kind = "staff"
salary = 55000
sections = {{ bands = [{{ grades = ["K", "1", "2"], max_class_size = 25 }}] }}
{w}
[[schools.cost]]
name = "devices"
kind = "technology"
device_price = 300
refresh_every = 3
support_per_device = 50
{w}
[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 100000
flexible = true
{w}
[[schools.cost]]
name = "supplies"
kind = "per_pupil"
rate = 120
{w}
[[schools.cost]]
name = "startup"
kind = "one_time"
amount = 40000
year = 3
{w}
"""


def _input(ds, tail):
    """The one input of school ``s`` whose name ends in ``tail`` (its revenue or cost line)."""
    (name,) = [k for k in ds.inputs.names if k.startswith("schools.s.") and k.endswith("." + tail)]
    return name


@pytest.mark.parametrize(
    "window",
    ["start = 2\nend = 4", 'end = { dist = "integer_uniform", low = 2, high = 5 }'],
)
def test_every_kind_takes_a_window(window):
    def sim(w):
        spec = sustainsim.loads_config(HEAD.format(years=6) + EVERY_KIND.format(w=w))
        return sustainsim.simulate(spec, draws=200, seed=5, lines=True, progress=False)

    plain, windowed = sim(""), sim(window)
    t = np.arange(1, 7)[None, :]

    def on(name):  # (draw, year): the line's own window
        if "dist" in window:  # each line draws its end from its own stream
            end = windowed[_input(windowed, f"{name}.end")].values[:, None]
            assert sorted(np.unique(end)) == [2, 3, 4, 5]
            return np.broadcast_to(t <= end, (200, 6))
        return np.broadcast_to((t >= 2) & (t <= 4), (200, 6))

    if "dist" in window:
        ends = [windowed[_input(windowed, f"{k}.end")].values for k in ("pp", "cat", "ops")]
        assert not np.array_equal(ends[0], ends[1]) and not np.array_equal(ends[1], ends[2])
    # lines the response does not touch are the plain ones in their window, nothing outside
    for part, names in (("revenue", ["pp", "cat", "fix"]), ("cost", ["rooms", "supplies"])):
        for k in names:
            got = windowed[f"{part}_lines"].sel({f"{part}_line": k}).isel(school=0).values
            want = plain[f"{part}_lines"].sel({f"{part}_line": k}).isel(school=0).values
            np.testing.assert_allclose(got, want * on(k), rtol=1e-12)
    # the one-time cost falls in year 3: kept where its window holds it
    once = windowed.cost_lines.sel(cost_line="startup").isel(school=0, year=2).values
    np.testing.assert_allclose(once, 40000 * on("startup")[:, 2])
    # every cost line, response and all, is zero outside its window
    for k in ("teachers", "rooms", "devices", "ops", "supplies", "startup"):
        x = windowed.cost_lines.sel(cost_line=k).isel(school=0).values
        assert (x[~on(k)] == 0).all(), k
    pos = windowed.positions.sel(cost_line="teachers").isel(school=0).values
    assert (pos[~on("teachers")] == 0).all()
    # the lines add up to the totals
    np.testing.assert_allclose(
        windowed.cost_lines.sum("cost_line").values, windowed.cost.values, rtol=1e-12
    )
