"""Shared runs of the plotting tests: two schools with district money, with scenarios."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

import sustainsim


@pytest.fixture(scope="session")
def two_spec(make_spec):
    """Two schools (a with a grant, b without) and central district money."""
    return make_spec("two_schools", simulation__draws=2000)


@pytest.fixture(scope="session")
def two_ds(two_spec):
    return sustainsim.simulate(two_spec, lines=True)


@pytest.fixture(scope="session")
def two_scen(two_spec):
    """Scenarios ``base``, ``cuts`` (more cuts) and ``rich`` (more money centrally), same draws."""
    runs = [
        sustainsim.simulate(two_spec),
        sustainsim.simulate(two_spec.with_overrides({"district.cuts.probability": 0.5})),
        sustainsim.simulate(two_spec.with_overrides({"district.fund_balance": 2_000_000})),
    ]
    return xr.concat(runs, dim=pd.Index(["base", "cuts", "rich"], name="scenario"))


@pytest.fixture
def fig_ax():
    return Figure(figsize=(7, 4), layout="constrained").add_subplot()
