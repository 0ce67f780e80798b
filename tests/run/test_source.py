"""The sampling options of the config language: sampler, correlations, regime-switching cuts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sustainsim
from sustainsim.cli.main import main
from sustainsim.config import ConfigError
from tests.conftest import REF10, SMALL_TOML

REGIME = SMALL_TOML.replace(
    """[district.cuts]
probability = 0.2
magnitude = { dist = "uniform", low = 0.02, high = 0.08 }""",
    """[district.cuts]
[district.cuts.regime]
p_enter = 0.2
p_exit = 0.5
[district.cuts.regime.normal]
probability = 0.05
magnitude = 0.02
[district.cuts.regime.recession]
probability = 0.6
magnitude = { dist = "uniform", low = 0.04, high = 0.10 }""",
)


def test_regime_cuts_cluster_with_the_closed_form_share():
    spec = sustainsim.loads_config(REGIME.replace("years = 5", "years = 20"))
    ds = sustainsim.simulate(spec, draws=20_000, seed=3)
    share = ds["district.cuts.recession_years"].values / 20
    truth = 0.2 / (0.2 + 0.5)  # stationary start: every year has this marginal share
    assert share.mean() == pytest.approx(truth, abs=4 * share.std() / np.sqrt(share.size))
    # expected events a year: share * 0.6 + (1 - share) * 0.05
    per_year = ds["district.cuts.count"].values / 20
    expected = truth * 0.6 + (1 - truth) * 0.05
    assert per_year.mean() == pytest.approx(
        expected, abs=4 * per_year.std() / np.sqrt(per_year.size)
    )
    # cuts cluster: more recession years, more cuts
    assert stats.spearmanr(ds["district.cuts.recession_years"], ds["district.cuts.count"])[0] > 0.5


def test_regime_and_flat_cut_fields_exclude_each_other():
    bad = REGIME.replace("[district.cuts]\n", "[district.cuts]\nprobability = 0.1\n")
    with pytest.raises(
        ConfigError, match="with a regime, give probability and magnitude per state"
    ):
        sustainsim.loads_config(bad)
    bad2 = REGIME.replace("p_exit = 0.5", "p_exit = 1.5")
    with pytest.raises(ConfigError, match=r"district.cuts.regime.p_exit: must be >= 0 and <= 1"):
        sustainsim.loads_config(bad2)


CORR = SMALL_TOML.replace(
    "[district.cuts]",
    """funding_shock = { dist = "normal", mean = 0.02, sd = 0.01 }

[[correlations]]
inputs = ["district.growth.funding_shock", "district.growth.salary"]
matrix = [[1.0, {rho}], [{rho}, 1.0]]

[district.cuts]""",
)


def test_correlated_growth_rates_have_the_requested_rank_correlation():
    spec = sustainsim.loads_config(CORR.replace("{rho}", "0.7"))
    ds = sustainsim.simulate(spec, draws=20_000, seed=5)
    rho = stats.spearmanr(ds["district.growth.funding_shock"], ds["district.growth.salary"])[0]
    assert rho == pytest.approx(0.7, abs=4 / np.sqrt(20_000) + 0.01)
    # the marginals are unchanged
    assert stats.kstest(ds["district.growth.salary"], stats.uniform(0.02, 0.02).cdf).pvalue > 1e-3
    assert ds.attrs["sampler"] == "monte_carlo+gaussian_copula"


def test_bad_correlations_are_config_errors():
    with pytest.raises(ConfigError, match="correlations"):
        sustainsim.loads_config(CORR.replace("{rho}", "1.5"))
    typo = CORR.replace("{rho}", "0.5").replace(
        '"district.growth.salary"]', '"district.growth.salry"]'
    )
    # validation never samples: the name is checked against the model's inputs when a run starts
    spec = sustainsim.loads_config(typo)
    with pytest.raises(ConfigError, match="salry"):
        sustainsim.simulate(spec, draws=10)
    three = CORR.replace("{rho}", "0.5").replace(
        'inputs = ["district.growth.funding_shock", "district.growth.salary"]\nmatrix = [[1.0, 0.5], [0.5, 1.0]]',
        'inputs = ["district.growth.funding_shock", "district.growth.salary", "schools.a.revenue.grant.end"]\n'
        "matrix = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]\nstrict = true",
    )
    with pytest.raises(ConfigError, match="positive semi-definite|not a valid correlation"):
        sustainsim.loads_config(three)


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_sampler_in_config_and_chunk_independence(sampler, make_spec):
    spec = make_spec(simulation__sampler=sampler)
    a = sustainsim.simulate(spec, draws=1024, chunk_size=100)
    b = sustainsim.simulate(spec, draws=1024, chunk_size=1024)
    assert a.identical(b)
    assert a.attrs["sampler"] == sampler


def test_cli_sampler_and_target_se(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", str(REF10), "--target-se", "0.004", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "converged after" in text
    assert (out / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ds = sustainsim.open_results(out / "results.nc")
    p = sustainsim.p_solvent(ds)
    assert float(p.se.max()) <= 0.004
    assert (
        main(
            [
                "run",
                str(REF10),
                "--sampler",
                "sobol",
                "--draws",
                "1024",
                "--out",
                str(tmp_path / "s"),
                "--no-report",
            ]
        )
        == 0
    )
    assert sustainsim.open_results(tmp_path / "s" / "results.nc").attrs["sampler"] == "sobol"
    assert main(["run", str(REF10), "--target-se", "0.01", "--draws", "100"]) == 2
    assert main(["run", str(REF10), "--target-se", "-1"]) == 2
