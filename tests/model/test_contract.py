"""The engine's inputs are plain typed data: the modules below the builders import numpy only."""

from __future__ import annotations

import sys

import pytest

grimp = pytest.importorskip("grimp")

TYPED = {"sustainsim.model.lines", "sustainsim.model.schools"}
# the engine and its numpy-only parts (the response, staffing, the grant cliff)
ENGINE = {
    "sustainsim.model.engine",
    "sustainsim.model.cliff",
    "sustainsim.model.response",
    "sustainsim.model.staffing",
    "sustainsim.model.compensation",
    "sustainsim.model.flows",
}
ALLOWED = TYPED | ENGINE | {"numpy"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("sustainsim", include_external_packages=True)


@pytest.mark.parametrize("module", sorted(TYPED | ENGINE))
def test_imports_only_numpy_and_the_typed_inputs(graph, module):
    direct = graph.find_modules_directly_imported_by(module)
    other = {m for m in direct if m not in ALLOWED and m not in sys.stdlib_module_names}
    assert not other, f"{module} imports {sorted(other)}"


@pytest.mark.parametrize("forbidden", ["pydantic", "sustainsim.config", "sustainsim.sampling"])
@pytest.mark.parametrize("module", sorted(TYPED | ENGINE))
def test_no_chain_to_config_pydantic_or_sampling(graph, module, forbidden):
    chain = graph.find_shortest_chain(importer=module, imported=forbidden)
    assert chain is None, f"{' -> '.join(chain)}"
