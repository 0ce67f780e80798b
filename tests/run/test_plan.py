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
    sw = sweep(plan, {"district.cuts.probability": [cuts]}).isel({"district.cuts.event": 0})
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


# --- seeds, chunk sizes and the memory budget (issue 15) --------------------------------------


def test_a_seed_past_64_bits_is_refused_before_simulating(ref10_spec, monkeypatch):
    from sustainsim.run import chunk

    monkeypatch.setattr(chunk, "sample_inputs", lambda *a, **k: pytest.fail("simulated"))
    with pytest.raises(ValueError, match=re.escape("seed must be <= 2**63 - 1")):
        sustainsim.simulate(ref10_spec, draws=10, seed=10**30)
    with pytest.raises(ValueError, match="seed must be <= 2"):
        plan_run(ref10_spec, draws=10, seed=2**63)
    assert plan_run(ref10_spec, draws=10, seed=2**63 - 1).seed == 2**63 - 1


def test_the_largest_seed_is_written_and_read_back(ref10_spec, tmp_path):
    ds = sustainsim.simulate(ref10_spec, draws=20, seed=2**63 - 1, progress=False)
    sustainsim.write_netcdf(ds, tmp_path / "r.nc")
    assert int(sustainsim.open_results(tmp_path / "r.nc").attrs["seed"]) == 2**63 - 1


def test_a_plan_built_by_hand_is_checked_too(plan):
    import dataclasses

    for field, bad in (("chunk_size", 0), ("draws", 0), ("seed", -1), ("seed", 10**30)):
        with pytest.raises(ValueError, match=field):
            dataclasses.replace(plan, **{field: bad})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4GB", 4 * 10**9),
        ("4gb", 4 * 10**9),
        ("512MiB", 512 * 2**20),
        ("1.5GiB", 3 * 2**29),
        ("2 G", 2 * 10**9),
        ("100k", 100_000),
        ("1_000_000", 10**6),
        (123, 123),
    ],
)
def test_parse_bytes(text, value):
    from sustainsim.run.plan import parse_bytes

    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "GB", "4XB", "-1GB", "0", "nan", "infGB", "1e400", True, 2.5])
def test_parse_bytes_refuses_nonsense(text):
    from sustainsim.run.plan import parse_bytes

    with pytest.raises((ValueError, TypeError), match="max_memory"):
        parse_bytes(text)


def test_a_run_over_its_memory_budget_is_refused_before_it_starts(ref10_spec, monkeypatch):
    from sustainsim.run import chunk
    from sustainsim.run.plan import MemoryBudgetError

    monkeypatch.setattr(chunk, "sample_inputs", lambda *a, **k: pytest.fail("simulated"))
    # 10**8 draws x 10 years x (5 outputs + the district's) x 8 bytes: far above 1 GB
    with pytest.raises(MemoryBudgetError) as info:
        sustainsim.simulate(ref10_spec, draws=10**8, max_memory="1GB")
    text = str(info.value)
    assert "100,000,000 draws" in text and "summary" in text and "Zarr" in text
    assert info.value.need >= 10**8 * 10 * 5 * 8 and info.value.budget == 10**9


def test_summary_mode_fits_where_a_full_run_does_not(ref10_spec):
    from sustainsim.run.core import estimate_memory

    full = plan_run(ref10_spec, draws=10**8)
    summ = plan_run(ref10_spec, draws=10**8, mode="summary")
    assert estimate_memory(summ) < 2**30 < estimate_memory(full)


def test_the_estimate_covers_the_arrays_a_full_run_keeps(ref10_spec, make_spec):
    from sustainsim.run.core import estimate_memory

    for spec in (ref10_spec, make_spec("two_schools")):
        ds = sustainsim.simulate(spec, draws=5_000, seed=1, progress=False)
        need = estimate_memory(plan_run(spec, draws=5_000))
        assert ds.nbytes <= need <= 4 * ds.nbytes + 50 * 2**20


def test_the_default_budget_is_half_the_available_memory(ref10_spec, monkeypatch):
    from sustainsim.run import plan as plan_mod
    from sustainsim.run.plan import MemoryBudgetError, memory_budget

    monkeypatch.setattr(plan_mod, "_available_memory", lambda: 2 * 10**9)
    assert memory_budget()[0] == 10**9
    with pytest.raises(MemoryBudgetError, match="half of the available memory"):
        sustainsim.simulate(ref10_spec, draws=10**8)
    monkeypatch.setattr(plan_mod, "_available_memory", lambda: None)
    assert memory_budget()[0] == plan_mod.FALLBACK_BUDGET
    assert memory_budget("3GB")[0] == 3 * 10**9


def test_available_memory_is_read(monkeypatch):
    from sustainsim.run.plan import _available_memory

    avail = _available_memory()
    assert avail is None or avail > 0


def test_scenarios_count_every_scenario_kept(monkeypatch):
    from sustainsim.run.plan import MemoryBudgetError

    spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    from sustainsim.run.core import estimate_memory

    one = estimate_memory(plan_run(spec, draws=50_000))
    # one scenario fits, the two scenarios (and their concatenation) do not
    sustainsim.run.core.check_memory(plan_run(spec, draws=50_000, max_memory=2 * one))
    with pytest.raises(MemoryBudgetError, match="kept"):
        simulate_scenarios(spec, draws=50_000, max_memory=2 * one)


def test_a_huge_sweep_is_refused_before_its_points_are_validated(ref10_spec, monkeypatch):
    from sustainsim.config.spec import Spec
    from sustainsim.run.plan import MemoryBudgetError

    monkeypatch.setattr(Spec, "with_overrides", lambda *a, **k: pytest.fail("validated a point"))
    grid = {
        "district.cuts.probability": [i / 1000 for i in range(1000)],
        "schools.ref.enrollment.drift": [-0.05 + i / 10000 for i in range(1000)],
    }
    with pytest.raises(MemoryBudgetError, match="1,000,000 points"):
        sweep(ref10_spec, grid, draws=100, max_memory="1GB")


def test_sweep_validation_keeps_no_spec(ref10_spec):
    import tracemalloc

    from sustainsim.run.grid import check_sweep

    grid = {"district.cuts.probability": [i / 2500 for i in range(2500)]}
    tracemalloc.start()
    try:
        assert check_sweep(ref10_spec, grid, draws=100) == 2500
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # plan_sweep keeps 2500 specs: about 30 MB
