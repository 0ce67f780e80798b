"""Line breakdowns add up to the totals in every draw and year, response and trims included."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from tests.conftest import CONFIGS


@pytest.mark.parametrize("config", sorted(p.name for p in CONFIGS.glob("*.toml")))
def test_cost_and_revenue_lines_add_up_to_the_totals(config):
    spec = sustainsim.load_config(CONFIGS / config)
    ds = sustainsim.simulate(spec, draws=1_000, seed=11, lines=True)
    for part in ("revenue", "cost"):
        gap = ds[part] - ds[f"{part}_lines"].sum(f"{part}_line")
        scale = max(1.0, float(abs(ds[part]).max()))
        assert float(abs(gap).max()) <= 1e-9 * scale, f"{config}: {part} lines miss the total"


def test_a_trimmed_line_shared_by_two_models_is_trimmed_once():
    # leap_chicago's schools run "devices" in the traditional and the personalized model: the
    # trim of the response used to scale that one column twice (lines fell below the total)
    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    ds = sustainsim.simulate(spec, draws=2_000, seed=1, lines=True)
    assert float(ds["trimmed"].max()) > 0  # the response trims in some draws
    np.testing.assert_allclose(ds.cost, ds.cost_lines.sum("cost_line"), rtol=0, atol=1e-6)
