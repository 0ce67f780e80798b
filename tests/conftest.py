"""Shared fixtures: paths, the base configs and the ``make_spec`` factory of specs.

Test modules import the paths from here (``from tests.conftest import CONFIGS, REF10``)
rather than recomputing them from their own depth in the tree, and build their configs
with ``make_spec(base, {path: value}, **overrides)`` rather than copying a base config.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import sustainsim
from sustainsim.config import Spec, parse_config

# Property tests draw the same examples on every run (no example database, no flaky CI);
# HYPOTHESIS_PROFILE=explore searches afresh each time, for a developer hunting bugs.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
REF10 = CONFIGS / "reference" / "ref10.toml"
# the shared data folder beside the repo (../shared/data), or the folder named by SUSTAINSIM_DATA
DATA = Path(os.environ.get("SUSTAINSIM_DATA") or ROOT.parent / "shared" / "data")


def python_child(code: str, *argv: str) -> str:
    """What ``python -c code *argv`` prints on stdout, in a new process on this source tree."""
    out = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    return out.stdout


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


# two schools and central district money (its own revenue, cost and fund balance): the
# district entry of every result is then the engine's own total, not a sum over schools
TWO_SCHOOLS_TOML = """
[simulation]
years = 6
first_year = 2030
draws = 3000
seed = 11

[district]
fund_balance = 100000

[district.growth]
funding = 0.02
salary = { dist = "uniform", low = 0.02, high = 0.04 }

[district.cuts]
probability = 0.2
magnitude = { dist = "uniform", low = 0.02, high = 0.08 }

[[district.revenue]]
name = "central"
kind = "fixed"
amount = 300000

[[district.cost]]
name = "office"
kind = "fixed"
amount = 330000
growth = 0.03

[[schools]]
name = "a"
fund_balance = 150000

[schools.enrollment]
base = 400
drift = -0.01
volatility = 0.06
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
amount = 2150000
growth = 0.025

[[schools]]
name = "b"
fund_balance = 80000

[schools.enrollment]
base = 300
volatility = 0.08
common_loading = 0.7

[[schools.revenue]]
name = "pp"
kind = "per_pupil"
rate = 9000
growth = "funding"

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
amount = 1620000
growth = 0.025
"""

BASES = {"small": SMALL_TOML, "two_schools": TWO_SCHOOLS_TOML}


def build_spec(
    base: str = "small", overrides: Mapping[str, Any] | None = None, /, **kw: Any
) -> Spec:
    """The spec of one of the :data:`BASES` configs, with values replaced at dotted paths.

    ``overrides`` maps dotted config paths to values; keyword arguments use ``__`` for dots,
    as :meth:`Spec.with_overrides` does (``simulation__years=5``).
    """
    if base not in BASES:
        raise ValueError(f"no base config {base!r}; have {sorted(BASES)}")
    spec = sustainsim.loads_config(BASES[base], source=f"{base}.toml")
    return spec.with_overrides(overrides, **kw) if overrides or kw else spec


def spec_from_dict(data: dict, text: str = "") -> Spec:
    """A Spec from nested dicts (as parsed TOML)."""
    return Spec(parse_config(data), copy.deepcopy(data), text)


@pytest.fixture
def small_data() -> dict:
    return tomllib.loads(SMALL_TOML)


@pytest.fixture
def small_spec() -> Spec:
    return build_spec("small")


@pytest.fixture(scope="session")
def make_spec():
    """A factory ``make(base="small", overrides=None, /, **kw)`` of specs: see :func:`build_spec`.

    ``base`` is ``"small"`` (one school, :data:`SMALL_TOML`) or ``"two_schools"`` (two schools
    and district money, :data:`TWO_SCHOOLS_TOML`); session-scoped, so module fixtures use it too.
    """
    return build_spec


@pytest.fixture(scope="session")
def ref10_spec() -> Spec:
    return sustainsim.load_config(REF10)
