"""Hand calculations shared by the tests: configs with budgets worked out by hand, and helpers.

``ZERO_VARIANCE`` is a one-school config without randomness and ``HAND`` its budget worked by
hand. ``HEAD`` is the ``[simulation]`` table of a tiny run (three draws) that the line-type
tests append a config body to; ``run`` simulates such a body with the budget lines, ``line``
reads one line of the first draw and ``cents`` compares to the cent.
"""

from __future__ import annotations

import numpy as np

import sustainsim

HEAD = """
[simulation]
years = {years}
first_year = 2030
draws = 3
seed = 1
"""


def run(body: str, years: int = 2, **kw):
    spec = sustainsim.loads_config(HEAD.format(years=years) + body)
    return sustainsim.simulate(spec, lines=True, **kw)


def line(ds, part, name, school=None):
    da = ds[f"{part}_lines"].sel({f"{part}_line": name})
    da = da.sel(school=school) if school else da.isel(school=0)
    return da.isel(draw=0).values


def cents(got, expected):
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.005)


ZERO_VARIANCE = """
[simulation]
years = 3
first_year = 2025
draws = 4
seed = 1

[district.growth]
funding = 0.02
salary = 0.03

[district.cuts]
probability = 1.0     # a 5% cut at the start of every year
magnitude = 0.05

[[schools]]
name = "a"
fund_balance = 100000

[schools.enrollment]
base = 400

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 9000
growth = "funding"
exposed_to_cuts = true

[[schools.revenue]]
name = "fixed"
kind = "fixed"
amount = 150000

[[schools.revenue]]
name = "grant"
kind = "grant"
amount = 100000
start = 1
end = 2

[[schools.cost]]
name = "teachers"
kind = "staff"
students_per_position = 25
salary = 60000
benefits_rate = 0.35
growth = "salary"

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 500000
growth = 0.025

[[schools.cost]]
name = "supplies"
kind = "per_pupil"
rate = 300
growth = 0.025
"""

# Worked by hand (see the comments): enrollment stays 400, 16 teachers (400 / 25).
# year 1: pp 9000*1.02*400*0.95 = 3,488,400.00; + fixed 150,000 + grant 100,000
#         teachers 16*60000*1.03*1.35 = 1,334,880.00; ops 512,500.00; supplies 300*1.025*400 = 123,000.00
# year 2: pp 9000*1.0404*400*0.9025 = 3,380,259.60; teachers 16*60000*1.0609*1.35 = 1,374,926.40
#         ops 525,312.50; supplies 126,075.00
# year 3: pp 9000*1.061208*400*0.857375 = 3,275,471.5524; no grant
#         teachers 16*60000*1.092727*1.35 = 1,416,174.192; ops 538,445.3125; supplies 129,226.875
HAND = {
    "revenue": [3_738_400.00, 3_630_259.60, 3_425_471.5524],
    "cost": [1_970_380.00, 2_026_313.90, 2_083_846.3795],
    "fund_balance": [1_868_020.00, 3_471_965.70, 4_813_590.8729],
}
