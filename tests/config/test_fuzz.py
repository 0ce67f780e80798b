"""Fuzzing the config language: generated configs run finite; mutated ones fail cleanly.

Hypothesis builds configs from the schema's own ranges (:func:`configs`): every one must
validate, run, and give finite paths and probabilities in [0, 1]. A mutation of one of
them (:func:`mutations`: a wrong type, an out-of-range or non-finite number, an unknown
key, a missing field) must raise :class:`ConfigError` naming a field path, never another
exception; a mutation that happens to stay valid must still run finite.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim.config import ConfigError, parse_config
from tests.conftest import spec_from_dict

DRAWS = 32  # a power of two: balanced Sobol points
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    database=None,
)


def _num(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _uncertain(lo: float, hi: float) -> st.SearchStrategy[Any]:
    """A number in [lo, hi], or a uniform or triangular distribution inside it."""

    def dist(xs: list[float]) -> dict[str, Any]:
        a, m, b = sorted(xs)
        if b - a < 1e-9:
            return {"dist": "fixed", "value": a}
        return {"dist": "triangular", "low": a, "mode": m, "high": b}

    def uniform(xs: list[float]) -> dict[str, Any]:
        a, b = sorted(xs)
        return {"dist": "uniform", "low": a, "high": b}

    return st.one_of(
        _num(lo, hi),
        st.lists(_num(lo, hi), min_size=3, max_size=3).map(dist),
        st.lists(_num(lo, hi), min_size=2, max_size=2).map(uniform),
    )


GROWTH_NAMES = ["funding", "salary"]
_growth_ref = st.one_of(_num(-0.5, 1.0), st.sampled_from(GROWTH_NAMES))


@st.composite
def _revenue(draw, i: int, years: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["per_pupil", "fixed", "grant", "categorical"]))
    line: dict[str, Any] = {"name": f"r{i}", "kind": kind}
    if kind == "per_pupil":
        line.update(rate=draw(_uncertain(0, 30_000)), growth=draw(_growth_ref))
        line["enrollment_basis"] = draw(st.sampled_from(["current", "prior", "max_current_prior"]))
    elif kind == "categorical":
        line.update(rate=draw(_uncertain(0, 5_000)), eligible_share=draw(_uncertain(0, 1)))
    elif kind == "fixed":
        line.update(amount=draw(_uncertain(0, 5e6)), growth=draw(_growth_ref))
    else:
        start = draw(st.integers(1, years))
        line.update(amount=draw(_uncertain(0, 1e6)), start=start)
        line["end"] = draw(st.integers(start, years + 2))
        line["renewal_probability"] = draw(_num(0, 0.99))
        line["termination_probability"] = draw(_num(0, 1))
    return line


@st.composite
def _cost(draw, i: int, years: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["fixed", "per_pupil", "staff", "technology", "one_time"]))
    line: dict[str, Any] = {"name": f"c{i}", "kind": kind, "flexible": draw(st.booleans())}
    if kind == "fixed":
        line.update(amount=draw(_uncertain(0, 5e6)), growth=draw(_growth_ref))
    elif kind == "per_pupil":
        line.update(rate=draw(_uncertain(0, 20_000)), growth=draw(_growth_ref))
    elif kind == "staff":
        line.update(salary=draw(_uncertain(0, 2e5)), benefits_rate=draw(_uncertain(0, 1)))
        line["step_rate"] = draw(_num(0, 0.2))
        if draw(st.booleans()):
            line["students_per_position"] = draw(_uncertain(1, 100))
        else:
            line["positions"] = draw(_num(0, 100))
        line["growth"] = draw(_growth_ref)
    elif kind == "technology":
        line.update(device_price=draw(_uncertain(0, 2_000)), devices_per_pupil=draw(_num(0, 2)))
        line["refresh_every"] = draw(st.integers(1, 6))
        line["support_per_device"] = draw(_uncertain(0, 200))
    else:
        line.update(amount=draw(_uncertain(0, 1e6)), year=draw(st.integers(0, years)))
    return line


@st.composite
def _school(draw, i: int, years: int) -> dict[str, Any]:
    base = draw(_num(1, 5_000))
    enrollment: dict[str, Any] = {
        "base": base,
        "drift": draw(_uncertain(-1, 1)),
        "volatility": draw(_uncertain(0, 2)),
        "persistence": draw(_num(-0.99, 0.99)),
        "common_loading": draw(_num(-1, 1)),
    }
    if draw(st.booleans()):
        enrollment["capacity"] = base * draw(_num(1, 3))
    n_rev, n_cost = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    return {
        "name": f"s{i}",
        "fund_balance": draw(_uncertain(-1e7, 1e7)),
        "enrollment": enrollment,
        "revenue": [draw(_revenue(j, years)) for j in range(n_rev)],
        "cost": [draw(_cost(j, years)) for j in range(n_cost)],
    }


@st.composite
def configs(draw) -> dict[str, Any]:
    """A valid config as parsed TOML, from the schema's ranges."""
    years = draw(st.integers(1, 6))
    district: dict[str, Any] = {
        "growth": {
            name: draw(
                st.one_of(
                    _uncertain(-0.5, 1.0),
                    st.builds(
                        lambda r, per: {"rate": r, "per": per},
                        _uncertain(-0.5, 1.0),
                        st.sampled_from(["draw", "year"]),
                    ),
                )
            )
            for name in GROWTH_NAMES
        },
        "fund_balance": draw(_uncertain(-1e8, 1e8)),
        "stress_cut": draw(_num(0, 0.99)),
    }
    if draw(st.booleans()):
        district["cuts"] = {
            "probability": draw(_uncertain(0, 1)),
            "magnitude": draw(_uncertain(0, 1)),
            "recovery": draw(_num(0, 1)),
            "scope": draw(st.sampled_from(["district", "school"])),
            "timing": draw(st.sampled_from(["start", "mid_year"])),
        }
    if draw(st.booleans()):
        district["reserve"] = {"months": draw(_num(0, 24))}
    if draw(st.booleans()):
        district["response"] = {"cap": draw(_num(0, 1)), "lag": draw(st.integers(1, 5))}
    return {
        "simulation": {
            "years": years,
            "first_year": draw(st.integers(2000, 2100)),
            "seed": draw(st.integers(0, 2**63 - 1)),
            "sampler": draw(st.sampled_from(["monte_carlo", "lhs", "sobol"])),
        },
        "district": district,
        "schools": [draw(_school(i, years)) for i in range(draw(st.integers(1, 3)))],
    }


def _check_runs_finite(data: dict[str, Any]) -> None:
    spec = spec_from_dict(data)
    ds = sustainsim.simulate(spec, draws=DRAWS, progress=False)
    for name, var in ds.data_vars.items():
        if np.issubdtype(var.dtype, np.number):
            assert np.isfinite(var.values).all(), name
    p = sustainsim.p_solvent(ds)
    for k in ("probability", "lower", "upper"):
        assert ((p[k] >= 0) & (p[k] <= 1)).all(), k


@FUZZ
@given(configs())
def test_generated_configs_run_and_give_finite_results(data):
    _check_runs_finite(data)


# --- mutations ---------------------------------------------------------------------------------


def _leaves(node: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(node, list) and node and isinstance(node[0], dict):
        return [leaf for i, v in enumerate(node) for leaf in _leaves(v, (*path, i))]
    return [(path, node)]


def _tables(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if isinstance(node, dict) else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _tables(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _tables(v, (*path, i))
    return out


def _get(data: Any, path: tuple) -> Any:
    for k in path:
        data = data[k]
    return data


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "12"
    if isinstance(value, str):
        return 3.5
    return "x"


#: fields that have no default: deleting one must be an error
REQUIRED = {"years", "first_year", "name", "kind", "enrollment", "base", "end", "salary"}
REQUIRED_BY_KIND = {"rate": ("per_pupil", "categorical"), "amount": ("fixed", "grant", "one_time")}


@st.composite
def mutations(draw) -> tuple[str, dict[str, Any], bool]:
    """A generated config with one thing broken: (what, the data, whether it must fail)."""
    data = copy.deepcopy(draw(configs()))
    what = draw(st.sampled_from(["non_finite", "wrong_type", "out_of_range", "unknown", "missing"]))
    if what == "unknown":
        path = draw(st.sampled_from(_tables(data)))
        _get(data, path)["bogus_key"] = "bogus"  # also not a growth entry, nor a parameter
        return what, data, True
    leaves = _leaves(data)
    path, value = draw(st.sampled_from(leaves))
    parent = _get(data, path[:-1])
    key = path[-1]
    if what == "missing":
        kind = parent.get("kind") if isinstance(parent, dict) else None
        required = key in REQUIRED or kind in REQUIRED_BY_KIND.get(str(key), ())
        in_dist = isinstance(parent, dict) and "dist" in parent
        del parent[key]
        return what, data, required or in_dist
    if what == "wrong_type":
        parent[key] = _wrong_type(value)
        return what, data, True
    if not isinstance(value, int | float) or isinstance(value, bool):
        # a text or boolean leaf: a number where text is meant is a wrong type too
        parent[key] = 1e300
        return what, data, True
    if what == "non_finite":
        parent[key] = draw(st.sampled_from([math.inf, -math.inf, math.nan]))
    else:
        parent[key] = draw(st.sampled_from([1e300, -1e300, 1e20, -1e20]))
    return what, data, True


PATH_LINE = re.compile(r"^[A-Za-z_][\w\-]*(\.[\w\-]+|\[\d+\])*: \S")


@settings(FUZZ, max_examples=120)
@given(mutations())
def test_mutated_configs_fail_with_a_field_path_or_still_run_finite(case):
    what, data, must_fail = case
    try:
        parse_config(data)
    except ConfigError as exc:
        assert exc.errors, what
        for line in exc.errors:
            first = line.split("\n")[0]
            assert PATH_LINE.match(first), (what, line)
        return
    assert not must_fail, f"{what}: accepted {data}"
    _check_runs_finite(data)
