"""What a full run outputs: the lines the schools run and the engine outputs the spec needs.

The run itself (:func:`sustainsim.simulate`) lives in :mod:`sustainsim.run.core`, its unit
of work (:func:`~sustainsim.run.chunk.run_chunk`) in :mod:`sustainsim.run.chunk`; their
old names here keep working.
"""

from __future__ import annotations

from typing import Any

from sustainsim.config.lines import line_category
from sustainsim.config.spec import Spec
from sustainsim.model import engine
from sustainsim.model.walk import school_lines

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
    """Every config line the schools run, in order (:func:`sustainsim.model.walk.school_lines`)."""
    cfg = spec.config
    for s in cfg.schools:
        for placed in school_lines(cfg, s, part):
            yield placed.line


def _line_names(spec: Spec, part: str) -> list[str]:
    """The schools' line names, each once, in the order first run."""
    return list(dict.fromkeys(line.name for line in _school_lines(spec, part)))


def _line_meta(spec: Spec, part: str) -> tuple[list[str], list[str]]:
    """Category and kind of each line name (as first defined)."""
    meta: dict[str, tuple[str, str]] = {}
    for line in _school_lines(spec, part):
        meta.setdefault(line.name, (line_category(part, line), line.kind))
    return [c for c, _ in meta.values()], [k for _, k in meta.values()]


def output_names(spec: Spec) -> list[str]:
    """The engine outputs this spec produces: the core five plus what its lines need."""
    cfg = spec.config
    kinds = {(p, ln.kind) for p in ("revenue", "cost") for ln in _school_lines(spec, p)}
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
