"""What a full run outputs: the lines the schools run and the engine outputs the spec needs.

The run itself (:func:`sustainsim.simulate`) lives in :mod:`sustainsim.run.core`, its unit
of work (:func:`~sustainsim.run.chunk.run_chunk`) in :mod:`sustainsim.run.chunk`; their
old names here keep working.
"""

from __future__ import annotations

from typing import Any

from sustainsim.config.spec import Spec
from sustainsim.model import engine

__all__ = ["output_names"]

#: names that moved, and where to: ``from sustainsim.run.full import simulate`` keeps working
_MOVED = {
    "simulate": "core",
    "central_case": "core",
    "DEFAULT_CHUNK_SIZE": "plan",
    "ChunkResult": "chunk",
    "allocate_outputs": "chunk",
    "assemble": "chunk",
    "has_district_totals": "chunk",
    "run_attrs": "chunk",
    "run_chunk": "chunk",
}


def _school_lines(spec: Spec, part: str):
    """Every (school name, line) the schools run: model lines and their own."""
    cfg = spec.config
    for s in cfg.schools:
        for attr in ("previous_model", "model"):
            m = cfg.models.get(getattr(s, attr) or "")
            if m is not None:
                for line in getattr(m, part):
                    yield s.name, line
        for line in getattr(s, part):
            yield s.name, line


def _line_names(spec: Spec, part: str) -> list[str]:
    names: list[str] = []
    for _, line in _school_lines(spec, part):
        if line.name not in names:
            names.append(line.name)
    return names


def _line_meta(spec: Spec, part: str) -> tuple[list[str], list[str]]:
    """Category and kind of each line name (as first defined)."""
    from sustainsim.config.lines import line_category

    meta: dict[str, tuple[str, str]] = {}
    for _, line in _school_lines(spec, part):
        meta.setdefault(line.name, (line_category(part, line), line.kind))
    names = _line_names(spec, part)
    return [meta[k][0] for k in names], [meta[k][1] for k in names]


def output_names(spec: Spec) -> list[str]:
    """The engine outputs this spec produces: the core five plus what its lines need."""
    cfg = spec.config
    kinds = {(p, ln.kind) for p in ("revenue", "cost") for _, ln in _school_lines(spec, p)}
    names = list(engine.OUTPUTS)
    if ("revenue", "grant") in kinds:
        names.append("temporary_revenue")
    if ("cost", "one_time") in kinds:
        names.append("one_time_cost")
    if cfg.district.response is not None or any(sc.response for sc in cfg.schools):
        names.append("trimmed")
    return names


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module 'sustainsim.run.full' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"sustainsim.run.{module}"), name)
