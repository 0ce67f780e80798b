"""The run core checks every chunk for non-finite values and names where the first one is."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.cli.main import main
from sustainsim.model import engine
from sustainsim.run.chunk import NonFiniteError
from tests.conftest import TWO_SCHOOLS_TOML

BAD = {"draw": 105, "year_index": 3, "school": 1}  # school "b" of two_schools, FY2033


@pytest.fixture
def poisoned(monkeypatch):
    """The engine writes one inf into fund_balance at draw 105 (and NaN later on)."""
    real = engine.run

    def run(inp, out, **kw):
        real(inp, out, **kw)
        # the engine does not know its chunk's offset: the second call of a run in chunks
        # of 100 draws is draws 100-199
        if out["fund_balance"].shape[-1] == 100 and run.calls == 1:
            out["fund_balance"][BAD["year_index"], BAD["school"], BAD["draw"] - 100] = np.inf
            out["fund_balance"][BAD["year_index"] + 1, 0, 50] = np.nan  # a later draw
        run.calls += 1

    run.calls = 0
    monkeypatch.setattr(engine, "run", run)
    return run


@pytest.mark.parametrize("mode", ["full", "summary"])
def test_a_non_finite_value_stops_the_run_naming_variable_school_year_draw(
    make_spec, poisoned, mode
):
    spec = make_spec("two_schools")
    first = spec.config.simulation.first_year
    with pytest.raises(NonFiniteError) as info:
        sustainsim.simulate(spec, draws=300, seed=1, chunk_size=100, mode=mode, progress=False)
    text = str(info.value)
    assert "'fund_balance'" in text
    assert "school 'b'" in text
    assert f"year {first + BAD['year_index']}" in text
    assert f"draw {BAD['draw']}" in text
    assert "draw 150" not in text  # the first draw is reported, not the first cell


def test_finite_runs_pass_the_check(make_spec):
    ds = sustainsim.simulate(make_spec("two_schools"), draws=300, seed=1, chunk_size=100)
    assert all(np.isfinite(ds[v].values).all() for v in ds.data_vars)


def test_the_cli_exits_2_and_writes_nothing(tmp_path, capsys, poisoned):
    cfg = tmp_path / "c.toml"
    cfg.write_text(TWO_SCHOOLS_TOML)
    out = tmp_path / "out"
    argv = ["run", str(cfg), "--draws", "300", "--chunk-size", "100", "--out", str(out)]
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
    real = engine.run

    def run(inp, out, **kw):
        real(inp, out, **kw)
        if out[variable].shape[-1] == 100 and run.calls == 1:
            out[variable][(2, 1, 5) if out[variable].ndim == 3 else (2, 5)] = -np.inf
        run.calls += 1

    run.calls = 0
    monkeypatch.setattr(engine, "run", run)
    spec = make_spec("two_schools")
    with pytest.raises(NonFiniteError) as info:
        sustainsim.simulate(spec, draws=300, seed=1, chunk_size=100, mode="summary", progress=False)
    text = str(info.value)
    assert f"'{variable}'" in text and where in text and "draw 105" in text
