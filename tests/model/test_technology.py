"""Technology lines against budgets computed by hand to the cent: device refresh cycles, licenses, support."""

from __future__ import annotations

from tests.handcalc import cents, line, run

TECH = """
[[schools]]
name = "s"
[schools.enrollment]
base = 200
drift = 0.09531017980432493      # log(1.1): 220, 242, 266.2

[[schools.cost]]
name = "devices"
kind = "technology"
devices_per_pupil = 1
device_price = 300
price_growth = -0.05
{refresh}
license_per_pupil = 20
support_per_device = 100
growth = 0.03
"""


def test_technology_cohort_refresh():
    ds = run(TECH.format(refresh="refresh_every = 3\nlast_purchase = 0"), years=3)
    # y1: 20 new * 285 = 5,700 + support 100*1.03*220 = 22,660 + licenses 20*1.03*220 = 4,532
    # y2: 22 new * 270.75 = 5,956.50 + 100*1.0609*242 = 25,673.78 + 20*1.0609*242 = 5,134.756
    # y3: (24.2 new + 242 replaced) * 257.2125 = 68,469.9675 + 29,088.39274 + 5,817.678548
    cents(line(ds, "cost", "devices"), [32_892.00, 36_765.036, 103_376.038788])


def test_technology_share_refresh():
    ds = run(TECH.format(refresh="refresh_share = 0.25"), years=1)
    # y1: (20 new + 0.25 * 200 replaced) * 285 = 19,950 + 22,660 + 4,532
    cents(line(ds, "cost", "devices"), [47_142.00])
