"""Dotted-path overrides of a parsed config: sweeps, scenarios and notebook what-ifs."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sustainsim.config.errors import ConfigError

__all__ = ["apply_overrides"]


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with values set at dotted paths.

    Lists of named tables are addressed by name: ``schools.ref.enrollment.drift`` or
    ``schools.ref.revenue.grant.end``; ``*`` stands for every entry of such a list
    (``schools.*.enrollment.common_loading``, the path ``spec.inputs()`` gives the
    district-wide enrollment shock).

    Examples
    --------
    >>> d = {"district": {"cuts": {"probability": 0.1}}, "schools": [{"name": "a"}]}
    >>> apply_overrides(d, {"district.cuts.probability": 0.2, "schools.a.fund_balance": 5})
    {'district': {'cuts': {'probability': 0.2}}, 'schools': [{'name': 'a', 'fund_balance': 5}]}
    >>> apply_overrides(d, {"schools.*.fund_balance": 7})["schools"]
    [{'name': 'a', 'fund_balance': 7}]
    """
    out = copy.deepcopy(dict(data))
    for path, value in _expanded(out, overrides).items():
        keys = path.split(".")
        node: Any = out
        for j, key in enumerate(keys[:-1]):
            nxt = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, list):
                nxt = next((x for x in node if isinstance(x, dict) and x.get("name") == key), None)
                if nxt is None:
                    names = [x.get("name") for x in node if isinstance(x, dict)]
                    raise ConfigError(
                        [f"{path}: no entry named {key!r} at {'.'.join(keys[:j])}; have {names}"]
                    )
            elif nxt is None:
                nxt = {}
                node[key] = nxt
            node = nxt
        last = keys[-1]
        if isinstance(node, list):
            raise ConfigError([f"{path}: cannot set a whole list entry; name a field inside it"])
        node[last] = value
    return out


def _expanded(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` with each ``*`` replaced by every name of the list it stands in."""
    out: dict[str, Any] = {}
    for path, value in overrides.items():
        keys = path.split(".")
        if "*" not in keys:
            out[path] = value
            continue
        j = keys.index("*")
        node: Any = data
        for key in keys[:j]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, list):
            raise ConfigError([f"{path}: '*' stands for the entries of a list of named tables"])
        names = [x.get("name") for x in node if isinstance(x, dict)]
        rest = ".".join(keys[j + 1 :])
        out.update(_expanded(data, {f"{'.'.join(keys[:j])}.{n}.{rest}": value for n in names}))
    return out
