"""Levers: the ranking equals a brute-force sweep on the same draws; paired SEs are smaller."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.analysis.levers import levers
from sustainsim.cli.main import main
from sustainsim.run.grid import sweep
from tests.conftest import SMALL_TOML

LEVERS = """
[levers.rate]
path = "schools.a.revenue.pp.rate"
values = [7_000, 7_500, 8_000]
cost = 0

[levers.reserve]
path = "schools.a.fund_balance"
range = { low = 100_000, high = 400_000, steps = 3 }
cost = 12_000
"""


@pytest.fixture(scope="module")
def spec():
    return sustainsim.loads_config(SMALL_TOML + LEVERS)


def test_ranking_equals_a_brute_force_sweep_on_the_same_draws(spec):
    draws, seed = 3_000, 5
    out = levers(spec, draws=draws, seed=seed)
    assert out.sizes["option"] == 6
    brute = {}
    for name, lever in spec.config.levers.items():
        res = sweep(spec, {lever.path: lever.candidates()}, draws=draws, seed=seed)
        p = res.probability.isel(year=-1).sel(school="a")
        for v in lever.candidates():
            brute[f"{name}={v!r}"] = float(p.sel({lever.path: v}))
    got = dict(zip(out.option.values.tolist(), out.p_solvent.values.tolist(), strict=True))
    assert got.keys() == brute.keys()
    for k, v in brute.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    # same order: by P(solvent) (ties broken by the other outcomes)
    ps = out.p_solvent.values
    assert np.all(np.diff(ps) <= 1e-12)
    base = sustainsim.p_solvent(sustainsim.simulate(spec, draws=draws, seed=seed))
    p_base = float(base.probability.isel(year=-1, school=0))
    assert out.attrs["base_p_solvent"] == pytest.approx(p_base)
    np.testing.assert_allclose(out.p_solvent_effect, ps - out.attrs["base_p_solvent"], atol=1e-12)


def test_paired_standard_errors_are_smaller_where_the_outcome_is_uncertain(spec):
    # a plan whose own P(solvent) is uncertain (about 0.78 at a rate of 7,500)
    out = levers(spec.with_overrides({"schools.a.revenue.pp.rate": 7_500}), draws=3_000, seed=5)
    p, base = out.p_solvent.values, out.attrs["base_p_solvent"]
    assert 0.05 < base < 0.95
    mid = (p > 0.05) & (p < 0.95) & (np.abs(out.p_solvent_effect.values) > 0)
    assert mid.sum() >= 3
    assert np.all(out.p_solvent_se.values[mid] < out.p_solvent_se_unpaired.values[mid])
    moved = np.abs(out.median_final_balance_effect.values) > 0
    assert np.all(
        out.median_final_balance_se.values[moved]
        < out.median_final_balance_se_unpaired.values[moved]
    )


def test_pairs_of_levers_and_costs(spec):
    out = levers(spec, pairs=True, draws=500, seed=1)
    assert out.sizes["option"] == 6 + 3 * 3
    both = out.sel(option="rate=8000 & reserve=400000.0")
    assert float(both.cost) == 12_000
    assert str(both.lever.values) == "rate & reserve"


def test_bad_levers_are_config_errors():
    with pytest.raises(sustainsim.ConfigError, match=r"levers.typo.*yeers|unknown key"):
        sustainsim.loads_config(
            SMALL_TOML + '[levers.typo]\npath = "simulation.yeers"\nvalues = [3]\n'
        )
    with pytest.raises(sustainsim.ConfigError, match="exactly one of values"):
        sustainsim.loads_config(
            SMALL_TOML
            + '[levers.both]\npath = "schools.a.fund_balance"\nvalues = [1]\n'
            + "range = { low = 0, high = 1 }\n"
        )
    with pytest.raises(sustainsim.ConfigError, match=r"levers.neg.*volatility.*>= 0"):
        sustainsim.loads_config(
            SMALL_TOML + '[levers.neg]\npath = "schools.a.enrollment.volatility"\nvalues = [-1]\n'
        )


def test_cli_levers(tmp_path, capsys, spec):
    cfg = tmp_path / "c.toml"
    cfg.write_text(SMALL_TOML + LEVERS)
    assert main(["levers", str(cfg), "--draws", "500", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "rate=8000" in text and "reserve=100000.0" in text and "95% paired interval" in text
    bare = tmp_path / "bare.toml"
    bare.write_text(SMALL_TOML)
    assert main(["levers", str(bare)]) == 2
    assert "defines no [levers.NAME]" in capsys.readouterr().err
