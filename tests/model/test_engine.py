"""The engine against a budget computed by hand, to the cent."""

from __future__ import annotations

import numpy as np
import pytest

import sustainsim
from sustainsim.model.engine import staff_positions
from tests.handcalc import HAND, ZERO_VARIANCE


def test_zero_variance_budget_to_the_cent():
    spec = sustainsim.loads_config(ZERO_VARIANCE)
    ds = sustainsim.simulate(spec, lines=True)
    for var, expected in HAND.items():
        got = ds[var].sel(school="a").values  # (draw, year): every draw equal
        np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=0, atol=0.005)
    np.testing.assert_allclose(ds.surplus.values, (ds.revenue - ds.cost).values, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ds.enrollment.values, 400.0)
    # per-line breakdowns add up to the totals
    np.testing.assert_allclose(ds.revenue_lines.sum("revenue_line"), ds.revenue, rtol=1e-12)
    np.testing.assert_allclose(ds.cost_lines.sum("cost_line"), ds.cost, rtol=1e-12)
    assert float(ds.revenue_lines.sel(revenue_line="grant", school="a").isel(draw=0, year=2)) == 0


def test_staff_positions_round_up_to_whole_positions():
    e = np.array([0.0, 1.0, 24.999, 25.0, 25.0000001, 50.0, 51.0])
    np.testing.assert_array_equal(staff_positions(e, 25.0), [0, 1, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(staff_positions(e, 25.0, minimum=2), [2, 2, 2, 2, 2, 2, 3])
    # ratios whose quotient is whole up to rounding do not add a position
    assert staff_positions(np.array([0.3 * 3]), 0.3)[0] == 3


def test_fixed_positions_and_central_case(small_spec):
    cc = sustainsim.central_case(small_spec)
    assert cc.sizes["draw"] == 1
    # the median enrollment path: drift only (median shocks are 0)
    e = cc.enrollment.sel(school="a").values.ravel()
    np.testing.assert_allclose(e, 400 * np.exp(-0.01 * np.arange(1, 6)), rtol=1e-12)
    # median uniform 0.5 > cut probability: no cut in the central case
    assert float(cc["district.cuts.event.count"][0]) == 0


@pytest.mark.parametrize("recovery", [0.0, 0.5])
def test_balance_identity_with_cuts(small_spec, recovery):
    spec = small_spec.with_overrides({"district.cuts.recovery": recovery})
    ds = sustainsim.simulate(spec, draws=500)
    b = ds.fund_balance.values
    prev = np.concatenate([ds.initial_fund_balance.values[:, None, :], b[:, :-1]], axis=1)
    np.testing.assert_allclose(b - prev, (ds.revenue - ds.cost).values, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize(
    "path",
    ["flagship.toml", "declining_enrollment.toml", "ohio_levy.toml", "teacher_leader.toml"],
)
def test_run_schools_gives_each_school_and_the_district_what_run_gives(path):
    """A school at a time into one school's buffers: run()'s slices and totals, bit for bit."""
    from sustainsim.model import engine
    from sustainsim.model.inputs import sample_inputs
    from sustainsim.run.chunk import allocate_outputs
    from sustainsim.sampling.streams import ChunkDraws, MonteCarlo
    from tests.digests import ROOT

    spec = sustainsim.load_config(ROOT / "configs" / path)
    n = 500
    inp = sample_inputs(spec.config, ChunkDraws(MonteCarlo(5), 0, n))
    assert engine.runs_school_by_school(inp)
    full = allocate_outputs(spec, n, False)
    engine.run(inp, full)
    school = {
        k: np.empty((1, n)) if v.ndim == 2 else np.empty((v.shape[0], 1, *v.shape[2:]))
        for k, v in full.items()
        if not k.startswith("district_") and k not in ("initial_fund_balance", "deflator")
        and k != "levy_in_force"
    }  # fmt: skip
    district = {k: np.empty_like(v) for k, v in full.items() if k.startswith("district_")}
    district.pop("district_levy_in_force", None)
    seen = []

    def visit(j):
        for k, v in school.items():
            want = full[k][j] if v.ndim == 2 else full[k][:, j]
            got = v[0] if v.ndim == 2 else v[:, 0]
            assert got.tobytes() == np.ascontiguousarray(want).tobytes(), (k, j)
        seen.append(j)

    engine.run_schools(inp, school, visit, district or None)
    assert seen == list(range(len(inp.schools)))
    for k, v in district.items():
        assert v.tobytes() == full[k].tobytes(), k
