"""The example notebooks run top to bottom in a fresh kernel, and their stories still hold.

Each notebook's source is ``notebooks/NN_name.py`` (jupytext percent format). It is read with
jupytext and executed with nbclient (kernel ``python3``, working directory ``notebooks/``, at
most 180 s per cell), as ``notebooks/execute.py`` does when it saves the notebooks; any cell
error fails the test. Every notebook ends with a "Checks" cell asserting the claims its prose
makes (e.g. that the personalized-learning school stays solvent at least as often as the
traditional one), so a change to a config or to the library that makes a story untrue fails
here too.

Beside each source is its executed pair ``NN_name.ipynb``, for reading on the web: its cells
must be the source's, and it must be saved with outputs (executed) and stay small.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import DATA, ROOT

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("jupytext")

NOTEBOOKS = ROOT / "notebooks"
MAX_BYTES = 1_000_000
CHECKS_PASSED = "all checks passed"

#: each notebook and the least number of figures it draws
FIGURES = {
    "01_quickstart": 4,
    "02_chicago_personalized_learning": 4,
    "03_grant_cliff": 5,
    "04_risk_drivers": 4,
    "05_calibration": 2,
    "06_declining_enrollment": 4,
    "07_what_it_would_take": 2,
}


def _load_execute():
    spec = importlib.util.spec_from_file_location("notebooks_execute", NOTEBOOKS / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = _load_execute()


def _execute(name: str):
    """Execute the notebook ``name`` from its ``.py`` source in a fresh kernel; return it."""
    return execute.execute(execute.read(NOTEBOOKS / f"{name}.py"))


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    return output.get("data", {}).get("text/plain", "")


def _figures(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def _check_story(nb, name: str) -> str:
    """The checks cell ran and passed, the figures are there, sustainsim did not warn."""
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    printed = "".join(_text(o) for o in last.outputs)
    assert CHECKS_PASSED in printed, f"{name}: the final checks cell did not report success"
    assert _figures(nb) >= FIGURES[name], f"{name}: expected at least {FIGURES[name]} figures"
    for o in _outputs(nb):
        if o.output_type == "stream" and o.name == "stderr":
            assert not ("sustainsim" in o.text and "Warning" in o.text), f"{name}: {o.text}"
    return printed


def test_every_notebook_is_tested_and_paired():
    sources = sorted(p.stem for p in execute.sources())
    assert sources == sorted(FIGURES)
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sources, "each .py has one .ipynb"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_and_its_story_holds(name):
    nb = _execute(name)
    printed = _check_story(nb, name)
    if name == "05_calibration":
        data = DATA / "ohio_f33_panel.csv"
        expected = "(real data)" if data.is_file() else "(synthetic panel)"
        assert expected in printed


def test_calibration_notebook_runs_without_the_data_folder(tmp_path, monkeypatch):
    # the notebook reads SUSTAINSIM_DATA (default ../../shared/data); point it nowhere
    monkeypatch.setenv("SUSTAINSIM_DATA", str(tmp_path / "absent"))
    nb = _execute("05_calibration")
    printed = _check_story(nb, "05_calibration")
    assert "(synthetic panel)" in printed
    first = "".join(_text(o) for o in nb.cells[2].outputs)
    assert "not found: using a synthetic panel" in first


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_saved_notebook_is_in_sync_executed_and_small(name):
    path = NOTEBOOKS / f"{name}.ipynb"
    saved = nbformat.read(path, as_version=4)
    source = execute.read(NOTEBOOKS / f"{name}.py")
    assert [(c.cell_type, c.source) for c in saved.cells] == [
        (c.cell_type, c.source) for c in source.cells
    ], f"{path.name} differs from {name}.py: run `python notebooks/execute.py {name[:2]}`"
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{path.name} is saved without outputs"
    assert not any(o.output_type == "error" for o in _outputs(saved))
    assert CHECKS_PASSED in "".join(_text(o) for o in code[-1].outputs)
    assert path.stat().st_size < MAX_BYTES
