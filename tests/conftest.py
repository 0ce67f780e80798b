"""Shared fixtures: paths, small configs, and a helper to build configs from dicts.

Test modules import the paths from here (``from tests.conftest import CONFIGS, REF10``)
rather than recomputing them from their own depth in the tree.
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path

import pytest

import sustainsim
from sustainsim.config.schema import parse_config
from sustainsim.config.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
REF10 = CONFIGS / "reference" / "ref10.toml"
# the shared data folder beside the repo (../shared/data), or the folder named by SUSTAINSIM_DATA
DATA = Path(os.environ.get("SUSTAINSIM_DATA") or ROOT.parent / "shared" / "data")


def ohio_path() -> Path:
    """The Ohio F-33 enrollment panel in :data:`DATA`; skips the test when it is absent."""
    path = DATA / "ohio_f33_panel.csv"
    if not path.is_file():
        pytest.skip(f"Ohio F-33 panel not found at {path} (set SUSTAINSIM_DATA to its folder)")
    return path


SMALL_TOML = """
[simulation]
years = 5
first_year = 2030
draws = 2000
seed = 7

[district.growth]
funding = 0.02
salary = { dist = "uniform", low = 0.02, high = 0.04 }

[district.cuts]
probability = 0.2
magnitude = { dist = "uniform", low = 0.02, high = 0.08 }

[[schools]]
name = "a"
fund_balance = 200000

[schools.enrollment]
base = 400
drift = -0.01
volatility = 0.05
common_loading = 0.5

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 9000
growth = "funding"

[[schools.revenue]]
name = "grant"
kind = "grant"
amount = 150000
end = { dist = "integer_uniform", low = 1, high = 3 }

[[schools.cost]]
name = "teachers"
kind = "staff"
students_per_position = 25
salary = 60000
benefits_rate = 0.4
growth = "salary"

[[schools.cost]]
name = "ops"
kind = "fixed"
amount = 1400000
growth = 0.025
"""


def spec_from_dict(data: dict, text: str = "") -> Spec:
    """A Spec from nested dicts (as parsed TOML)."""
    return Spec(parse_config(data), copy.deepcopy(data), text)


@pytest.fixture
def small_data() -> dict:
    return tomllib.loads(SMALL_TOML)


@pytest.fixture
def small_spec() -> Spec:
    return sustainsim.loads_config(SMALL_TOML, source="small.toml")


@pytest.fixture(scope="session")
def ref10_spec() -> Spec:
    return sustainsim.load_config(REF10)
