"""One plan, one run core: options checked in one place, every runner the same numbers."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim.run import execute, plan_run, simulate_scenarios, simulate_until, sweep
from sustainsim.run.plan import DEFAULT_CHUNK_SIZE, RunPlan, summary_chunk_size
from sustainsim.sampling.samplers import LatinHypercube

DRAWS, SEED = 6_000, 21


@pytest.fixture(scope="module")
def plan(request) -> RunPlan:
    spec = request.getfixturevalue("ref10_spec")
    return plan_run(spec, draws=DRAWS, seed=SEED, chunk_size=1_700, progress=False)


@pytest.mark.parametrize(
    ("options", "error", "needle"),
    [
        ({"draws": 0}, ValueError, re.escape("draws must be >= 1 (got 0)")),
        ({"draws": 2.5}, TypeError, re.escape("draws must be an integer (got 2.5)")),
        ({"seed": -1}, ValueError, re.escape("seed must be >= 0 (got -1)")),
        ({"chunk_size": 0}, ValueError, re.escape("chunk_size must be >= 1 (got 0)")),
        (
            {"mode": "streaming"},
            ValueError,
            re.escape("mode must be one of 'full', 'summary' (got 'streaming')"),
        ),
        ({"mode": "summary", "lines": True}, ValueError, "lines=True .* mode='summary'"),
        ({"workers": 0}, ValueError, re.escape("workers must be >= 1 (got 0)")),
        ({"workers": True}, TypeError, re.escape("workers must be an integer (got True)")),
        (
            {"progress": "yes"},
            TypeError,
            re.escape("progress must be True, False or None (got 'yes')"),
        ),
        ({"sampler": "halton"}, ValueError, "unknown sampler 'halton'"),
        ({"sampler": "lhs", "source": LatinHypercube(1, 10)}, ValueError, "not both"),
        ({"bins": 0}, ValueError, re.escape("bins must be >= 1 (got 0)")),
        (
            {"quantiles": [0.5, 1.5]},
            ValueError,
            r"quantiles must be a number in \[0, 1\] \(got 1.5\)",
        ),
        ({"confidence": 1.0}, ValueError, "confidence must be a number strictly between 0 and 1"),
        ({"margin": -0.1}, ValueError, r"margin must be a finite number >= 0 \(got -0.1\)"),
        ({"chunks": 3}, TypeError, "unknown run option.*chunks"),
    ],
)
def test_plan_rejects_bad_values_naming_them(ref10_spec, options, error, needle):
    with pytest.raises(error, match=needle):
        plan_run(ref10_spec, **options)


def test_defaults_come_from_the_config_then_the_mode(ref10_spec):
    sim = ref10_spec.config.simulation
    full = plan_run(ref10_spec)
    assert (full.draws, full.seed) == (sim.draws, sim.seed)
    assert full.chunk_size == (sim.chunk_size or DEFAULT_CHUNK_SIZE)
    summ = full.replace(mode="summary")
    assert summ.chunk_size == (sim.chunk_size or summary_chunk_size(ref10_spec))
    assert summ.source is full.source  # same draws
    assert plan_run(ref10_spec, chunk_size=123, mode="summary").chunk_size == 123
    with pytest.raises(ValueError, match="draws and seed fix its uniform source"):
        full.replace(draws=10)
    assert plan_run(full) is full


def test_old_option_names_warn_and_map(ref10_spec):
    with pytest.warns(DeprecationWarning, match="summary_only= is deprecated"):
        p = plan_run(ref10_spec, draws=10, summary_only=True)
    assert p.mode == "summary"
    with pytest.warns(DeprecationWarning, match="num_workers= is deprecated"):
        assert plan_run(ref10_spec, draws=10, num_workers=3).workers == 3
    with warnings.catch_warnings(), pytest.raises(ValueError, match="disagree"):
        warnings.simplefilter("ignore", DeprecationWarning)
        plan_run(ref10_spec, draws=10, streaming=True, mode="full")


def test_full_and_summary_runs_of_a_plan_agree_on_p_solvent_exactly(plan):
    full = execute(plan)
    summ = execute(plan.replace(mode="summary"))
    ref = sustainsim.p_solvent(full)
    for v in ("probability", "se", "lower", "upper"):
        np.testing.assert_array_equal(summ[v].values, ref[v].values)
    assert summ.attrs["draws"] == full.sizes["draw"] == DRAWS


def test_every_runner_given_the_same_plan_gives_the_same_numbers(plan):
    pytest.importorskip("dask")
    from sustainsim.run.parallel import shutdown_pools, simulate_parallel

    ref = sustainsim.simulate(plan)
    same = [
        sustainsim.simulate(plan.spec, draws=DRAWS, seed=SEED, progress=False),
        execute(plan.replace(chunk_size=DRAWS)),
        simulate_parallel(plan.replace(scheduler="synchronous")),
        sustainsim.simulate(plan.replace(scheduler="threads", workers=2)),
    ]
    try:
        for ds in same:
            xr.testing.assert_identical(ds, ref)
    finally:
        shutdown_pools()
    # a scenario without overrides and a one-point sweep at the config's value run the plan
    spec = plan.spec.with_overrides({"scenarios.base": {}})
    scen = simulate_scenarios(plan.for_spec(spec)).sel(scenario="base", drop=True)
    np.testing.assert_array_equal(scen["fund_balance"].values, ref["fund_balance"].values)
    cuts = plan.spec.config.district.cuts.probability
    sw = sweep(plan, {"district.cuts.probability": [cuts]}).isel({"district.cuts.probability": 0})
    np.testing.assert_array_equal(
        sw["probability"].values, sustainsim.p_solvent(ref)["probability"].values
    )
    # convergence capped at the plan's draws, with a target it cannot meet
    conv, info = simulate_until(plan, target_se=1e-9, min_draws=2_000)
    assert not info.converged and info.draws == DRAWS
    np.testing.assert_array_equal(conv["fund_balance"].values, ref["fund_balance"].values)


def test_summary_plan_same_numbers_on_any_executor(plan):
    pytest.importorskip("dask")
    from sustainsim.run.parallel import shutdown_pools

    summary = plan.replace(mode="summary", chunk_size=700)
    ref = execute(summary)
    try:
        par = execute(summary.replace(scheduler="threads", workers=2))
    finally:
        shutdown_pools()
    xr.testing.assert_identical(par, ref)


def test_convergence_refuses_a_latin_hypercube(ref10_spec):
    with pytest.raises(ValueError, match="lhs cannot be used with a precision target"):
        plan_run(ref10_spec, sampler="lhs", open_ended=True)
    with pytest.raises(ValueError, match="mode='full'"):
        simulate_until(ref10_spec, target_se=0.01, mode="summary")
