"""The seed study of start-up costs: which year it reads."""

from __future__ import annotations

import pytest

import sustainsim
from tests.conftest import CONFIGS


def test_seed_study_year_is_a_fiscal_year_or_a_projected_index():
    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    central = sustainsim.central_case(spec)
    a = sustainsim.metrics.seed_study(central, 2032)
    b = sustainsim.metrics.seed_study(central, projected_year=6)
    assert a.identical(b) and a.attrs["it_year"] == 2032
    with pytest.raises(ValueError, match="2027..2036"):
        sustainsim.metrics.seed_study(central, 6)
