"""Reading a config file, and saying what is wrong with it.

:class:`ConfigError` carries one line per problem, ``field.path: what is wrong (got value)``;
a misspelt key gets the closest field name as a hint. The CLI turns it into exit code 2.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sustainsim.config.fields import _Model

__all__ = ["ConfigError", "format_validation_error", "parse_toml", "read_config_text"]


class ConfigError(ValueError):
    """A config file is missing, unreadable or invalid.

    ``errors`` holds one line per problem: ``field.path: what is wrong (got value)``.
    """

    def __init__(self, errors: list[str], source: str | None = None):
        self.errors = list(errors)
        self.source = source
        head = f"invalid config {source}" if source else "invalid config"
        super().__init__(head + ":\n  " + "\n  ".join(self.errors))


def read_config_text(path: str | Path) -> str:
    """The text of a config file; :class:`ConfigError` if it is missing or unreadable."""
    p = Path(path)
    if not p.exists():
        raise ConfigError([f"file not found: {str(p)!r}"], source=str(p))
    if p.is_dir():
        raise ConfigError([f"{str(p)!r} is a directory, not a config file"], source=str(p))
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {str(p)!r}: {exc}"], source=str(p)) from None


def parse_toml(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse TOML text; syntax errors become :class:`ConfigError` with line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML syntax error: {exc}"], source=source) from None
    except RecursionError:
        raise ConfigError(
            ["TOML nested too deeply to read (arrays or tables inside each other)"],
            source=source,
        ) from None


def _loc_path(loc: tuple, data: Mapping[str, Any]) -> str:
    """Turn a pydantic error location into ``schools.ref.revenue.grant.end``."""
    out: list[str] = []
    node: Any = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            label = item.get("name") if isinstance(item, Mapping) else None
            out.append(str(label) if isinstance(label, str) and label else f"[{key}]")
            node = item
            # a discriminated union inserts the tag after the index: skip it
            if i + 1 < len(loc) and isinstance(node, Mapping) and loc[i + 1] == node.get("kind"):
                i += 1
        else:
            out.append(str(key))
            node = node.get(key) if isinstance(node, Mapping) else None
        i += 1
    return ".".join(out).replace(".[", "[")


def _all_field_names() -> list[str]:
    names: set[str] = set()
    stack: list[type] = [_Model]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names.update(getattr(cls, "model_fields", {}))
    return sorted(names)


def format_validation_error(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    """One line per pydantic error: the field path, what is wrong, the value given."""
    lines = []
    for err in exc.errors(include_url=False):
        path = _loc_path(tuple(err["loc"]), data)
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        typ = err["type"]
        if typ == "extra_forbidden":
            parent = path.rsplit(".", 1)[0] if "." in path else "top level"
            key = str(err["loc"][-1])
            msg = f"unknown key (not allowed in {parent}; check the spelling)"
            close = difflib.get_close_matches(key, _all_field_names(), n=1)
            if close:
                msg = f"unknown key (not allowed in {parent}); did you mean {close[0]!r}?"
            lines.append(f"{path}: {msg}")
            continue
        if typ == "union_tag_invalid":
            ctx = err.get("ctx", {})
            msg = f"unknown kind {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}"
        if typ == "missing":
            lines.append(f"{path}: required field is missing")
            continue
        inp = err.get("input")
        shown = "" if isinstance(inp, Mapping | list) or "got " in msg else f" (got {inp!r})"
        prefix = f"{path}: " if path else ""
        lines.append(f"{prefix}{msg}{shown}")
    return lines
