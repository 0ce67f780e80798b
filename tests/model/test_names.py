"""One name per input: every name ``spec.inputs()`` shows round-trips, for every shipped config.

It works as a Dataset accessor (``ds.inputs[name]``, nested attributes), in risk drivers
(their ``input`` coord holds the variables' canonical names, ``label`` and
``canonical_input`` are coords), as an override via its ``path``, in a sweep (the dim
is named by it, the path kept as an attr) and in a correlation (it is a stream name).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import sustainsim
from sustainsim.accessors import InputGroup
from sustainsim.analysis.sensitivity import risk_drivers
from sustainsim.model.names import SUMMARIES, _Matcher, _matches
from sustainsim.run.grid import sweep
from sustainsim.run.source import check_correlations, discover_streams
from tests.conftest import CONFIGS, REF10

SHIPPED = sorted(CONFIGS.glob("*.toml")) + [REF10]


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda p: p.name)
def case(request):
    spec = sustainsim.load_config(request.param)
    return spec, sustainsim.simulate(spec, draws=300, seed=11, progress=False)


def _at(data: Any, path: str) -> list[Any]:
    """The values at a dotted config path (``*``: every named entry of a list)."""
    nodes = [data]
    for key in path.split("."):
        nxt = []
        for node in nodes:
            if isinstance(node, list):
                nxt += [x for x in node if key == "*" or x.get("name") == key]
            elif isinstance(node, dict) and key in node:
                nxt.append(node[key])
        nodes = nxt
    return nodes


def test_every_input_is_a_dataset_accessor_and_every_variable_an_input(case):
    spec, ds = case
    table = spec.inputs()
    for name in table.index:
        got = ds.inputs[name]
        assert isinstance(got, xr.DataArray | InputGroup), name
        members = [got.name] if isinstance(got, xr.DataArray) else list(got)
        assert members, name
        assert all(ds[m].attrs["input"] == name for m in members), name
    for var in ds.inputs.names:
        a = ds[var].attrs
        owner = a["input"]
        if owner == "":  # a summary no uncertain input moves: the same in every draw
            assert float(ds[var].std()) == 0, var
            continue
        row = table.loc[owner]
        assert a["path"] == row["path"], var
        if var == owner:  # a sampled value: its input's own name and label
            assert a["label"] == row["label"]
        else:  # a summary: <input>.<summary> or <prefix>.<summary>, the label says which
            assert var.rsplit(".", 1)[1] in SUMMARIES or var.startswith(owner + "."), var
            assert a["label"].startswith(row["label"] + " ("), var


def test_nested_attribute_access_and_table(case):
    _, ds = case
    for var in ds.inputs.names:
        node: Any = ds.inputs
        for part in var.split("."):
            node = getattr(node, part)
        xr.testing.assert_identical(node, ds[var])
    t = ds.inputs.table()
    assert list(t.columns) == ds.inputs.names and len(t) == ds.sizes["draw"]
    np.testing.assert_array_equal(t.iloc[:, 0].to_numpy(), ds[ds.inputs.names[0]].values)


def test_an_old_style_name_says_the_canonical_one(case):
    _, ds = case
    old, new = ("growth.salary", "district.growth.salary")
    if new not in ds.inputs:
        old, new = ("cuts.count", "district.cuts.event.count")
    if new not in ds.inputs:
        pytest.skip("neither a random salary growth nor cut events")
    with pytest.raises(KeyError, match=f"did you mean '{new}'"):
        ds.inputs[old]


def test_risk_drivers_name_inputs_canonically_with_labels(case):
    spec, ds = case
    rd = risk_drivers(ds, "final_balance")
    names = set(spec.inputs().index)
    assert set(rd["input"].values) <= set(ds.inputs.names)
    assert set(rd["canonical_input"].values) <= names
    for var, label in zip(rd["input"].values, rd["label"].values, strict=True):
        assert label == ds[var].attrs["label"]
    # every input that varies across draws is ranked, under its own name
    moving = {ds[v].attrs["input"] for v in ds.inputs.names if float(ds[v].std()) > 0}
    assert moving <= set(rd["canonical_input"].values)


def test_every_input_is_an_override_via_its_path(case):
    spec, _ = case
    for name, row in spec.inputs().iterrows():
        old = _at(spec.data, row["path"])
        assert old, (name, row["path"])  # the path names a value of the config
        v = old[0]
        new = 0.5 * v if isinstance(v, int | float) and not isinstance(v, bool) else v
        changed = spec.with_overrides({row["path"]: new})
        assert all(x == new for x in _at(changed.data, row["path"])), name


def test_every_input_sweeps_by_its_name(case):
    spec, _ = case
    for name, row in spec.inputs().iterrows():
        v = _at(spec.data, row["path"])[0]
        res = sweep(spec, {name: [v]}, draws=20, seed=1, progress=False)
        assert name in res.dims, name
        assert res[name].attrs["path"] == row["path"] and res[name].attrs["input"] == name


def test_every_input_correlates_by_its_name(case):
    spec, _ = case
    streams = discover_streams(spec)
    kind = {}
    for s, i in streams:
        kind.setdefault(s, set()).add(i)
    per = {s: ("draw" if k == {0} else "year") for s, k in kind.items()}
    names = list(spec.inputs().index)
    for name in names:
        if name not in per:  # a process drawing from several streams (a regime chain)
            sub = [s for s in per if s.startswith(name + ".")]
            assert sub, name
            bad = spec.with_overrides(
                {"correlations": [{"inputs": [name, sub[0]], "matrix": [[1, 0.3], [0.3, 1]]}]}
            )
            with pytest.raises(sustainsim.ConfigError, match="streams"):
                check_correlations(bad)
            continue
        partner = next(
            (s for s in per if s != name and per[s] == per[name] and s not in (name,)), None
        )
        if partner is None:
            continue
        corr = [{"inputs": [name, partner], "matrix": [[1.0, 0.5], [0.5, 1.0]]}]
        check_correlations(spec.with_overrides({"correlations": corr}))


_PART = st.sampled_from(["schools", "a", "b", "enrollment", "drift", "*", "x"])


@given(
    patterns=st.lists(st.lists(_PART, min_size=1, max_size=4).map(".".join), max_size=12),
    name=st.lists(_PART.filter(lambda p: p != "*"), min_size=1, max_size=5).map(".".join),
)
def test_matcher_finds_what_matching_one_by_one_finds(patterns, name):
    # brute force: every pattern tried in order, as annotate did before the index
    want = [p for p in patterns if _matches(p, name)]
    assert _Matcher(patterns)(name) == want
