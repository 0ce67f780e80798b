"""The run core checks every chunk for non-finite values and names where the first one is."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import sustainsim
from sustainsim.cli.main import main
from sustainsim.model import engine
from sustainsim.run.chunk import NonFiniteError
from tests.conftest import TWO_SCHOOLS_TOML

BAD = {"draw": 105, "year_index": 3, "school": 1}  # school "b" of two_schools, FY2033
#: twelve chunks of 100 draws, on any number of threads up to 4 (a full run on threads cuts
#: its draws into a multiple of the threads)
DRAWS = 1_200


def poison(monkeypatch, cells):
    """Write ``cells`` (variable, index in the chunk's arrays, value) into the engine's outputs.

    Into the chunk of draws 100-199 (chunks of 100), whichever way it is run: all schools
    at once (``engine.run``) or a school at a time (``engine.run_schools``, a summary
    run's), and again when that chunk is run a second time.
    """
    from sustainsim.run import chunk, schoolwise

    at = threading.local()  # the chunk each thread is running (chunks may run on threads)
    for mod in (chunk, schoolwise):

        def sample(cfg, draws, _real=mod.sample_inputs):
            at.start = draws.start
            return _real(cfg, draws)

        monkeypatch.setattr(mod, "sample_inputs", sample)
    real_run, real_schools = engine.run, engine.run_schools

    def run(inp, out, **kw):
        real_run(inp, out, **kw)
        if getattr(at, "start", None) == 100:
            for k, index, value in cells:
                out[k][index] = value
        return out

    def run_schools(inp, scratch, visit, district=None):
        def poisoned_visit(j):
            if getattr(at, "start", None) == 100:
                for k, index, value in cells:
                    if len(index) == 3 and index[1] == j:  # this school's cell
                        scratch[k][index[0], 0, index[2]] = value
            visit(j)

        real_schools(inp, scratch, poisoned_visit, district)
        if getattr(at, "start", None) == 100 and district is not None:
            for k, index, value in cells:
                if len(index) == 2:  # a district total
                    district[k][index] = value

    monkeypatch.setattr(engine, "run", run)
    monkeypatch.setattr(engine, "run_schools", run_schools)


@pytest.fixture
def poisoned(monkeypatch):
    """One inf in fund_balance at draw 105 of school "b" (and a NaN in a later draw)."""
    y, j, d = BAD["year_index"], BAD["school"], BAD["draw"] - 100
    poison(
        monkeypatch, [("fund_balance", (y, j, d), np.inf), ("fund_balance", (y + 1, 0, 50), np.nan)]
    )


@pytest.mark.parametrize("mode", ["full", "summary"])
def test_a_non_finite_value_stops_the_run_naming_variable_school_year_draw(
    make_spec, poisoned, mode
):
    spec = make_spec("two_schools")
    first = spec.config.simulation.first_year
    with pytest.raises(NonFiniteError) as info:
        sustainsim.simulate(spec, draws=DRAWS, seed=1, chunk_size=100, mode=mode, progress=False)
    text = str(info.value)
    assert "'fund_balance'" in text
    assert "school 'b'" in text
    assert f"year {first + BAD['year_index']}" in text
    assert f"draw {BAD['draw']}" in text
    assert "draw 150" not in text  # the first draw is reported, not the first cell


def test_finite_runs_pass_the_check(make_spec):
    ds = sustainsim.simulate(make_spec("two_schools"), draws=DRAWS, seed=1, chunk_size=100)
    assert all(np.isfinite(ds[v].values).all() for v in ds.data_vars)


def test_the_cli_exits_2_and_writes_nothing(tmp_path, capsys, poisoned):
    cfg = tmp_path / "c.toml"
    cfg.write_text(TWO_SCHOOLS_TOML)
    out = tmp_path / "out"
    argv = ["run", str(cfg), "--draws", str(DRAWS), "--chunk-size", "100", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "non-finite" in err and "'fund_balance'" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("variable", "where"),
    [
        ("revenue", "school 'b'"),  # a moment variable: checked through its mean
        ("district_fund_balance", "the district"),  # the district part of a mean
        ("temporary_revenue", "school 'b'"),  # no moment: checked by the chunk itself
    ],
)
def test_a_summary_run_names_each_kind_of_output(make_spec, monkeypatch, variable, where):
    """Summary runs check the moment variables through their means: none slips through."""
    index = (2, 5) if variable.startswith("district_") else (2, 1, 5)
    poison(monkeypatch, [(variable, index, -np.inf)])
    spec = make_spec("two_schools")
    with pytest.raises(NonFiniteError) as info:
        sustainsim.simulate(
            spec, draws=DRAWS, seed=1, chunk_size=100, mode="summary", progress=False
        )
    text = str(info.value)
    assert f"'{variable}'" in text and where in text and "draw 105" in text
