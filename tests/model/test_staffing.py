"""Staff lines against budgets computed by hand to the cent: class sections, steps, benefits, stipends."""

from __future__ import annotations

import numpy as np

from sustainsim.model.engine import class_sections
from tests.handcalc import cents, line, run


def test_class_sections_combine_small_grades():
    # K and 1 have their own sections; grades 2 and 3 are below the minimum: one multi-age pool
    n = np.array([60.0, 29.0, 12.0, 9.0])
    assert class_sections(n, 28, 15) == 3 + 2 + 1
    assert class_sections(n, 28, 0) == 3 + 2 + 1 + 1
    assert class_sections(np.array([28.0, 28.001]), 28) == 1 + 2
    # a count that is whole up to rounding error does not open a section
    assert class_sections(np.array([0.1 * 3 * 280]), 28) == 3


def test_sections_steps_cola_benefit_growth_and_stipend():
    ds = run("""
[district.growth]
salary = 0.02
health = 0.06

[[schools]]
name = "s"
[schools.enrollment]
base = 200
grades = ["K", "1", "2", "3"]
grade_shares = [0.3, 0.3, 0.3, 0.1]        # 60, 60, 60, 20

[[schools.cost]]
name = "teachers"
kind = "staff"
salary = 60000
step_rate = 0.02
benefits_rate = 0.3
benefits_growth = "health"
stipend = 1000
growth = "salary"
sections = { bands = [ { grades = ["K", "1"], max_class_size = 28, min_class_size = 20 },
                       { grades = ["2", "3"], max_class_size = 28, min_class_size = 25 } ] }
""")
    # sections: K 3, grade 1 3; grade 2 (60 >= 25) 3; grade 3 (20 < 25) pooled: 1 -> 10 positions
    # year 1 per position: 60000*1.02*1.02 = 62,424.00 + 18000*1.06 = 19,080.00 + 1000*1.02 = 1,020.00
    # year 2 per position: 60000*1.02^4 = 64,945.9296 + 18000*1.1236 = 20,224.80 + 1,040.40
    cents(line(ds, "cost", "teachers"), [825_240.00, 862_111.296])
