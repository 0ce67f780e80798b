"""Recessions that move everything, and replayed history: by hand and in closed form."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.config import ConfigError
from sustainsim.model.drivers.cuts import cut_factors
from sustainsim.model.drivers.growth import replay_rates
from sustainsim.model.drivers.regime import stationary_share
from tests.handcalc import HEAD, cents, line, run

SCHOOL = """
[[schools]]
name = "a"
fund_balance = 0

[schools.enrollment]
base = 400
"""

# funding grows 2% a year except FY2031-FY2032, replayed as -5% and +3%:
#   F = 1.02, 1.02 * 0.95 = 0.969, 0.969 * 1.03 = 0.99807, 0.99807 * 1.02 = 1.0180314
#   aid = 1,000,000 * F = 1,020,000.00  969,000.00  998,070.00  1,018,031.40
REPLAY = (
    """
[district.growth]
funding = {{ rate = {rate}, path = [-0.05, 0.03], path_start = 2031 }}
"""
    + SCHOOL
    + """
[[schools.revenue]]
name = "aid"
kind = "fixed"
amount = 1000000
growth = "funding"
"""
)


def test_a_replayed_growth_path_by_hand():
    ds = run(REPLAY.format(rate="0.02"), years=4)
    cents(line(ds, "revenue", "aid"), [1_020_000.00, 969_000.00, 998_070.00, 1_018_031.40])


def test_a_replayed_path_replaces_a_random_rate_in_its_years_only():
    rate = '{ dist = "normal", mean = 0.02, sd = 0.01 }'
    ds = run(REPLAY.format(rate=rate), years=4)
    aid = ds.revenue_lines.sel(revenue_line="aid").isel(school=0).values  # (draw, year)
    g = ds["district.growth.funding"].values  # the sampled rate of each draw
    f = aid / 1_000_000
    np.testing.assert_allclose(f[:, 0], 1 + g)
    np.testing.assert_allclose(f[:, 1] / f[:, 0], 0.95)
    np.testing.assert_allclose(f[:, 2] / f[:, 1], 1.03)
    np.testing.assert_allclose(f[:, 3] / f[:, 2], 1 + g)
    assert np.ptp(g) > 0


# Cuts of 10% every year, half of past cuts restored each year, FY2031-FY2032 replayed
# as factors 0.90 and 0.80 of the base year:
#   2030: 1 * 0.9 = 0.90 (an event); 2031: 0.90 (replayed); 2032: 0.80 (replayed)
#   2033: recovery 1 - 0.2 * 0.5 = 0.90, then the event: 0.9 * 0.9 = 0.81
#   exposed aid 1,000,000 * c = 900,000  900,000  800,000  810,000; two sampled events
CUT_REPLAY = (
    """
[district.cuts]
probability = 1.0
magnitude = 0.10
recovery = 0.5
factor_path = [0.90, 0.80]
path_start = 2031
"""
    + SCHOOL
    + """
[[schools.revenue]]
name = "aid"
kind = "fixed"
amount = 1000000
exposed_to_cuts = true
"""
)


def test_a_replayed_cut_factor_by_hand():
    ds = run(CUT_REPLAY, years=4)
    cents(line(ds, "revenue", "aid"), [900_000.0, 900_000.0, 800_000.0, 810_000.0])
    assert ds["district.cuts.event.count"].values.tolist() == [2.0, 2.0, 2.0]


def test_the_replay_drivers():
    np.testing.assert_array_equal(
        replay_rates(np.array([0.01, 0.02]), [0.5], 1, 2), [[0.5, 0.5], [0.01, 0.02]]
    )
    fixed = np.array([np.nan, 0.5, np.nan])
    c = cut_factors(np.ones((3, 1), bool), np.full((3, 1), 0.1), fixed=fixed, mid_year=True)
    np.testing.assert_allclose(c.ravel(), [1.0, 0.95, 0.5, 0.5 * 0.95])
    with pytest.raises(ValueError, match="does not fit"):
        replay_rates(0.0, [0.1, 0.2], 2, 2)


# One chain drives every front. p_enter = 0.2, p_exit = 0.3: a recession share of
# pi = 0.2 / 0.5 = 0.4; every recession year (and no normal year) has a 10% cut that
# lasts the year (recovery = 1), funding grows 3% - 4% = -1% instead of 3%, and
# enrollment's log growth is -2% (no other randomness). So the mean funding growth is
# 0.03 + 0.4 * (-0.04) = 0.014.
COUPLED = (
    """
[district.growth]
funding = 0.03

[district.cuts]
recovery = 1.0

[district.cuts.regime]
p_enter = 0.2
p_exit = 0.3
normal = { probability = 0.0, magnitude = 0.1 }
recession = { probability = 1.0, magnitude = 0.1 }

[district.cuts.regime.coupling]
funding = -0.04
enrollment = -0.02
"""
    + SCHOOL
    + """
[[schools.revenue]]
name = "aid"
kind = "fixed"
amount = 1000000
growth = "funding"

[[schools.revenue]]
name = "exposed"
kind = "fixed"
amount = 1000000
exposed_to_cuts = true
"""
)


def test_a_recession_is_bad_on_every_front_at_once():
    T, n = 12, 20_000
    body = COUPLED.replace("draws = 3", "")
    spec = sustainsim.loads_config(HEAD.format(years=T).replace("draws = 3", f"draws = {n}") + body)
    ds = sustainsim.simulate(spec, lines=True, progress=False)
    a = ds.isel(school=0)
    aid = a.revenue_lines.sel(revenue_line="aid").values
    prev = np.concatenate([np.full((n, 1), 1_000_000.0), aid[:, :-1]], axis=1)
    rate = aid / prev - 1
    from_funding = np.isclose(rate, -0.01)
    assert (from_funding | np.isclose(rate, 0.03)).all()
    e = a.enrollment.values
    log_growth = np.diff(np.log(np.concatenate([np.full((n, 1), 400.0), e], axis=1)), axis=1)
    from_enrollment = np.isclose(log_growth, -0.02)
    assert (from_enrollment | np.isclose(log_growth, 0.0)).all()
    from_cuts = np.isclose(a.revenue_lines.sel(revenue_line="exposed").values, 900_000.0)
    np.testing.assert_array_equal(from_funding, from_enrollment)
    np.testing.assert_array_equal(from_funding, from_cuts)
    np.testing.assert_array_equal(
        from_funding.sum(axis=1), ds["district.cuts.recession_years"].values
    )
    pi = stationary_share(0.2, 0.3)
    share = from_funding.mean(axis=1)  # per draw: the years are correlated, the draws not
    se = share.std(ddof=1) / np.sqrt(n)
    assert abs(share.mean() - pi) < 4 * se, (share.mean(), pi, se)
    growth = rate.mean(axis=1)
    se_g = growth.std(ddof=1) / np.sqrt(n)
    assert abs(growth.mean() - (0.03 + pi * -0.04)) < 4 * se_g
    # each year on its own is a recession with probability pi (a stationary start)
    per_year = from_funding.mean(axis=0)
    assert (abs(per_year - pi) < 4 * np.sqrt(pi * (1 - pi) / n)).all()


def test_without_a_coupling_the_chain_leaves_growth_alone():
    body = COUPLED.replace("funding = -0.04\n", "").replace("enrollment = -0.02\n", "")
    ds = run(body, years=6)
    cents(line(ds, "revenue", "aid"), 1_000_000 * 1.03 ** np.arange(1, 7))
    cents(ds.enrollment.values, 400.0)


def _error(body: str, years: int = 4) -> str:
    with pytest.raises(ConfigError) as exc:
        sustainsim.loads_config(HEAD.format(years=years) + body)
    return str(exc.value)


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (
            ("path_start = 2031", "path_start = 2033"),
            ["district.growth.funding", "past the horizon"],
        ),
        (("path_start = 2031", "path_start = 2029"), ["path_start", "2029", "2030..2033"]),
        (("[-0.05, 0.03]", "[-1.5, 0.03]"), ["path", "-1.5"]),
        ((", path_start = 2031", ", path = [], path_start = 2031"), ["path"]),
    ],
)
def test_bad_growth_paths_are_rejected(edit, needles):
    msg = _error(REPLAY.format(rate="0.02").replace(*edit))
    for needle in needles:
        assert needle in msg, msg


def test_a_path_start_without_a_path_is_rejected():
    msg = _error("[district.growth]\nfunding = { rate = 0.02, path_start = 2031 }\n" + SCHOOL)
    assert "path_start goes with path" in msg


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (("[0.90, 0.80]", "[0.9, 0.8, 0.7, 0.6]"), ["district.cuts", "past the horizon"]),
        (("[0.90, 0.80]", "[0.9, 1.2]"), ["factor_path", "1.2"]),
        (("factor_path = [0.90, 0.80]\n", ""), ["path_start goes with factor_path"]),
    ],
)
def test_bad_cut_paths_are_rejected(edit, needles):
    msg = _error(CUT_REPLAY.replace(*edit))
    for needle in needles:
        assert needle in msg, msg


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (
            ("funding = -0.04", "fundng = -0.04"),
            ["coupling.fundng", "unknown channel", "funding, enrollment"],
        ),
        (("recovery = 1.0", 'recovery = 1.0\nscope = "school"'), ["scope", "district-wide"]),
        (("funding = 0.03", "funding = -0.97"), ["coupling.funding", "<= -1"]),
        (("funding = -0.04", "funding = -1.5"), ["coupling.funding", "-1.5"]),
    ],
)
def test_bad_couplings_are_rejected(edit, needles):
    msg = _error(COUPLED.replace(*edit))
    for needle in needles:
        assert needle in msg, msg


def test_a_growth_index_named_enrollment_cannot_be_coupled():
    body = COUPLED.replace("funding = 0.03", "funding = 0.03\nenrollment = 0.01")
    assert "both a growth index and the enrollment channel" in _error(body)
