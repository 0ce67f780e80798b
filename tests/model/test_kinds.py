"""Every line kind of the schema has a typed line, a builder and an engine function."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pytest

import sustainsim
from sustainsim.config import lines as schema
from sustainsim.model import engine, lines
from sustainsim.model.builders import (
    COST_BUILDERS,
    REVENUE_BUILDERS,
    LineContext,
    Sampler,
    build_line,
)
from sustainsim.model.schools import SchoolInputs
from sustainsim.model.walk import school_lines
from sustainsim.sampling.streams import ChunkDraws, MonteCarlo
from tests.conftest import CONFIGS

SHIPPED = sorted(CONFIGS.rglob("*.toml"))


def schema_kinds(union) -> set[str]:
    """The ``kind`` literals of the members of a discriminated union of line schemas."""
    (members, *_) = typing.get_args(union)  # Annotated[Union[...], Field(...)]
    kinds: set[str] = set()
    for cls in typing.get_args(members):
        kinds.update(typing.get_args(cls.model_fields["kind"].annotation))
    return kinds


def typed_kinds(union) -> set[str]:
    return {cls.kind for cls in typing.get_args(union)}


PARTS = {
    "revenue": (schema.RevenueLine, REVENUE_BUILDERS, engine.REVENUE_KINDS, lines.RevenueLine),
    "cost": (schema.CostLine, COST_BUILDERS, engine.COST_KINDS, lines.CostLine),
}


@pytest.mark.parametrize("part", sorted(PARTS))
def test_every_schema_kind_has_a_builder_and_an_engine_function(part):
    union, builders, amounts, typed = PARTS[part]
    kinds = schema_kinds(union)
    assert kinds, "no kinds found in the schema union"
    assert set(builders) == kinds, f"{part} kinds without a builder: {kinds - set(builders)}"
    assert set(amounts) == kinds, f"{part} kinds without an engine function: {kinds - set(amounts)}"
    assert typed_kinds(typed) == kinds, f"{part} kinds without a typed line"


def test_the_default_categories_name_exactly_the_schema_kinds():
    kinds = {(p, k) for p, (union, *_) in PARTS.items() for k in schema_kinds(union)}
    assert set(schema.DEFAULT_CATEGORY) == kinds


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_builders_return_the_typed_line_of_their_kind(path):
    """Every line of every shipped config: built, typed, frozen, and priced by the engine."""
    cfg = sustainsim.load_config(path).config
    n, T = 3, cfg.simulation.years
    sampler = Sampler(ChunkDraws(MonteCarlo(1), 0, n))
    growth = {k: np.ones((T + 1, 1)) for k in cfg.district.growth}
    seen = set()
    for school in cfg.schools:
        ctx = LineContext(sampler, f"schools.{school.name}", growth, T, 2030)
        grades = school.enrollment.grades or []
        inp = SchoolInputs(
            school.name,
            np.full((T + 1, n), 100.0),
            0.0,
            None,
            (),
            (),
            grades=np.full((len(grades), T + 1, n), 100.0 / max(len(grades), 1)),
            grade_labels=tuple(grades),
        )
        for part, (_, _, amounts, typed) in PARTS.items():
            for placed in school_lines(cfg, school, part):
                ctx_line = dataclasses.replace(ctx, offset=placed.offset, window=placed.window)
                built = build_line(part, placed.line, ctx_line)
                assert isinstance(built, typing.get_args(typed))
                assert built.kind == placed.line.kind
                assert built.name == placed.line.name
                with pytest.raises(dataclasses.FrozenInstanceError):
                    built.name = "x"  # type: ignore[misc]
                amount = amounts[built.kind](built, inp)
                assert amount.shape[0] == T and amount.shape[-1] in (1, n)
                assert np.all(np.isfinite(amount))
                seen.add((part, built.kind))
    assert seen


def test_the_shipped_configs_use_every_kind():
    """So the digest test (every shipped config's numbers) covers every engine function."""
    seen = set()
    for path in SHIPPED:
        cfg = sustainsim.load_config(path).config
        for school in cfg.schools:
            for part in PARTS:
                seen.update((part, p.line.kind) for p in school_lines(cfg, school, part))
    assert seen == set(schema.DEFAULT_CATEGORY)
