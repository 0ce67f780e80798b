"""simulate_until: stops at the target precision, never changes the first draws."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim.cli.format import format_convergence
from sustainsim.plotting.diagnostics import plot_convergence
from sustainsim.run.convergence import (
    draws_for_se,
    simulate_until,
)
from sustainsim.sampling.samplers import LatinHypercube, make_source

matplotlib.use("Agg")


def test_draws_for_se_closed_form():
    assert draws_for_se(0.5, 0.002) == 62_500  # 0.25 / 0.002**2
    assert draws_for_se([0.1, 0.3, 0.95], 0.01) == 2100  # max p(1-p) = 0.21
    with pytest.raises(ValueError, match="se must be > 0"):
        draws_for_se(0.5, 0)


def test_stops_at_target_and_equals_a_plain_run(ref10_spec):
    target = 0.006
    ds, info = simulate_until(ref10_spec, target_se=target, seed=4, progress=False)
    assert info.converged and info.stopped_by == "target"
    ps = sustainsim.p_solvent(ds)
    assert float(ps.se.max()) == pytest.approx(info.max_se) and info.max_se <= target
    assert info.draws == ds.sizes["draw"] == ds.attrs["draws"]
    # the prediction p(1-p)/se^2 is what it jumps to: not far past it, in a few steps
    need = draws_for_se(ps.probability.values, target)
    assert need <= info.draws <= 1.5 * need
    assert info.trajectory.sizes["checkpoint"] <= 4
    assert np.all(np.diff(info.trajectory["draws"].values) > 0)
    # exactly the run simulate() gives with as many draws: the first draws never change
    plain = sustainsim.simulate(
        ref10_spec, draws=info.draws, seed=4, chunk_size=999, progress=False
    )
    xr.testing.assert_equal(ds.drop_attrs(), plain.drop_attrs())
    assert ds.attrs["convergence_target_se"] == target and ds.attrs["convergence_converged"] == 1
    assert info.worst["school"] == "ref" and "year" in info.worst
    text = format_convergence(info)
    assert text.startswith(f"converged after {info.draws:,} draws") and "binding: year=" in text
    json.dumps(info.to_dict())


def test_stops_at_max_draws(ref10_spec):
    ds, info = simulate_until(
        ref10_spec, target_se=1e-4, max_draws=2500, min_draws=1000, progress=False
    )
    assert not info.converged and info.stopped_by == "max_draws"
    assert info.draws == ds.sizes["draw"] == 2500
    assert info.max_se > 1e-4
    assert format_convergence(info).startswith("NOT converged: stopped at max_draws = 2,500")


def test_relative_target(ref10_spec):
    _, info = simulate_until(ref10_spec, target_rel=0.1, progress=False)
    traj = info.trajectory.isel(checkpoint=-1)
    p, se = traj.probability.values, traj.se.values
    m = np.minimum(p, 1 - p)
    assert info.converged and np.all(se[m > 0] <= 0.1 * m[m > 0])
    assert info.max_rel <= 0.1


def test_sobol_steps_are_powers_of_two(ref10_spec):
    ds, info = simulate_until(ref10_spec, target_se=0.01, sampler="sobol", progress=False)
    draws = info.trajectory["draws"].values
    assert all(int(d) & (int(d) - 1) == 0 for d in draws)
    assert info.converged and ds.attrs["sampler"] == "sobol"
    plain = sustainsim.simulate(
        ref10_spec,
        draws=info.draws,
        progress=False,
        source=make_source("sobol", ref10_spec.config.simulation.seed),
    )
    xr.testing.assert_equal(ds.drop_attrs(), plain.drop_attrs())


def test_bad_arguments(ref10_spec):
    with pytest.raises(ValueError, match="give target_se and/or target_rel"):
        simulate_until(ref10_spec)
    with pytest.raises(ValueError, match="target_se must be a positive number"):
        simulate_until(ref10_spec, target_se=-1)
    with pytest.raises(ValueError, match="lhs cannot be used with a precision target"):
        simulate_until(ref10_spec, target_se=0.01, sampler="lhs")
    with pytest.raises(ValueError, match="cannot be extended"):
        simulate_until(ref10_spec, target_se=0.01, source=LatinHypercube(1, 1000))
    with pytest.raises(ValueError, match="unknown sampler"):
        simulate_until(ref10_spec, target_se=0.01, sampler="halton")


def test_plot_convergence(ref10_spec):
    _, info = simulate_until(ref10_spec, target_se=0.01, progress=False)
    ax = plot_convergence(info)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "draws"
    assert "converged" in ax.get_title()
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), info.trajectory["draws"].values)
    year = int(info.trajectory["year"].values[-1])
    ax2 = plot_convergence(info, entry={"year": year, "school": "ref"})
    assert f"year={year}" in ax2.get_title()
    matplotlib.pyplot.close("all")


def test_ref10_to_se_0002(ref10_spec):
    # the figure of the issue: P(solvent) to a standard error of 0.002 in every year
    ds, info = simulate_until(ref10_spec, target_se=0.002, progress=False)
    assert info.converged and info.max_se <= 0.002
    p = sustainsim.p_solvent(ds).probability.values
    need = draws_for_se(p, 0.002)  # ~60,000: p nearest 0.5 is about 0.40 (FY2032)
    assert 50_000 < need <= info.draws <= 1.5 * need
