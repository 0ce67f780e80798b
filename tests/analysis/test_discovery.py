"""PRIM scenario discovery: known boxes recovered, counts checked directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import sustainsim
from sustainsim.analysis.discovery import PrimResult, prim


def uniforms(n: int = 5000, p: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.random((n, p)), columns=[f"x{i + 1}" for i in range(p)])


def direct_counts(X: pd.DataFrame, y: np.ndarray, box: pd.DataFrame) -> tuple[float, float, float]:
    """Coverage, density and mass of a box recomputed from its limits alone."""
    inside = np.ones(len(X), bool)
    for name, r in box.iterrows():
        inside &= (X[name] >= r["lower"]).to_numpy() & (X[name] <= r["upper"]).to_numpy()
    k = int(y[inside].sum())
    return k / int(y.sum()), k / int(inside.sum()), inside.mean()


def test_recovers_a_known_box():
    X = uniforms()
    y = ((X.x1 < 0.3) & (X.x2 > 0.6)).to_numpy()
    res = prim(X, y)
    box = res.box()
    assert set(box.index) == {"x1", "x2"}
    assert box.loc["x1", "upper"] == pytest.approx(0.3, abs=0.03)
    assert box.loc["x2", "lower"] == pytest.approx(0.6, abs=0.03)
    assert box.loc["x1", "lower"] == box.loc["x1", "min"]  # one-sided restrictions
    assert box.loc["x2", "upper"] == box.loc["x2", "max"]
    t = res.trajectory
    i = res.default_box
    cov, dens, mass = direct_counts(X, y, box)
    assert t.loc[i, "coverage"] == pytest.approx(cov)
    assert t.loc[i, "density"] == pytest.approx(dens)
    assert t.loc[i, "mass"] == pytest.approx(mass)
    assert cov > 0.95 and dens > 0.9
    assert (box["quasi_p"] < 1e-10).all()
    # every box on the trajectory: counts agree with its limits
    for j in range(len(t)):
        c, d, m = direct_counts(X, y, res.box(j))
        assert (t.loc[j, "coverage"], t.loc[j, "density"], t.loc[j, "mass"]) == pytest.approx(
            (c, d, m)
        )
    text = res.describe()
    assert text.startswith("x1 <= 0.") and " AND x2 >= 0." in text
    assert f"covers {cov:.0%} of cases of interest" in text


def test_recovers_a_box_with_label_noise():
    X = uniforms(seed=1)
    rng = np.random.default_rng(2)
    truth = ((X.x1 < 0.3) & (X.x2 > 0.6)).to_numpy()
    y = truth ^ (rng.random(len(X)) < 0.05)
    box = prim(X, y).box()
    assert set(box.index) == {"x1", "x2"}
    assert box.loc["x1", "upper"] == pytest.approx(0.3, abs=0.05)
    assert box.loc["x2", "lower"] == pytest.approx(0.6, abs=0.05)


def test_discrete_inputs_get_exact_limits():
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"end": rng.integers(2, 7, n).astype(float), "z": rng.random(n)})
    res = prim(X, X.end <= 3)
    box = res.box()
    assert list(box.index) == ["end"]
    assert box.loc["end", "upper"] == 3.0
    t = res.trajectory.loc[res.default_box]
    assert t["coverage"] == 1.0 and t["density"] == 1.0
    assert res.describe().startswith("end <= 3:")
    # a single value reads as equality
    res = prim(X, X.end == 2)
    assert res.describe().startswith("end = 2:")


def test_threshold_rules_agree():
    X = uniforms(2000, 3, seed=4)
    out = X.pop("x3") - 0.5  # not an input: noise around the box
    out = out.where(~((X.x1 < 0.3) & (X.x2 > 0.6)), -1.0).rename("margin")
    a = prim(X, out)  # default rule for numbers: < 0
    b = prim(X, out, threshold_rule="< 0")
    c = prim(X, out, threshold_rule=("<", 0))
    d = prim(X, out, threshold_rule=lambda v: v < 0)
    for r in (b, c, d):
        assert np.array_equal(r.lower, a.lower) and np.array_equal(r.upper, a.upper)
    assert "draws with margin < 0" in b.describe()
    frame = X.assign(out=out)
    e = prim(frame, "out", threshold_rule="<0")
    assert e.inputs == ["x1", "x2"] and np.array_equal(e.lower, a.lower)
    with pytest.raises(ValueError, match="not understood"):
        prim(X, out, threshold_rule="below zero")


def test_pasting_only_raises_density():
    X = uniforms(3000, 3, seed=0)
    rng = np.random.default_rng(0)
    y = ((X.x1 < 0.4) & (X.x2 < 0.5)).to_numpy() ^ (rng.random(3000) < 0.1)
    with_paste = prim(X, y, paste=True, alpha=0.1)
    without = prim(X, y, paste=False, alpha=0.1)
    t, u = with_paste.trajectory, without.trajectory
    assert len(t) >= len(u)
    pd.testing.assert_frame_equal(t.iloc[: len(u)], u)
    assert (t.step == "paste").sum() == len(t) - len(u) > 0
    dens = t.density.iloc[len(u) - 1 :].to_numpy()
    assert np.all(np.diff(dens) > 0)
    assert np.all(np.diff(t.mass.iloc[len(u) - 1 :].to_numpy()) > 0)
    # a pasted box is still exactly the draws within its limits
    c, d, m = direct_counts(X, y, with_paste.box(len(t) - 1))
    assert (c, d, m) == pytest.approx(tuple(t.iloc[-1][["coverage", "density", "mass"]]))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(50, 400),
    alpha=st.sampled_from([0.05, 0.1, 0.2]),
    min_mass=st.sampled_from([0.0, 0.05, 0.2]),
)
def test_trajectory_invariants(seed, n, alpha, min_mass):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.random(n), "b": rng.integers(0, 4, n), "c": rng.normal(size=n)})
    y = (rng.random(n) < 0.2 + 0.6 * (X.a.to_numpy() > 0.7)).astype(bool)
    if not y.any():
        y[0] = True
    res = prim(X, y, alpha=alpha, min_mass=min_mass)
    t = res.trajectory
    peel = t[t.step != "paste"]
    assert t.step.iloc[0] == "start" and t.mass.iloc[0] == 1.0 and t.coverage.iloc[0] == 1.0
    assert np.all(np.diff(peel.density.to_numpy()) > 0)  # every peel raises density
    assert np.all(np.diff(peel.mass.to_numpy()) < 0)
    assert (t.mass >= min_mass - 1e-12).all()
    assert ((t.coverage >= 0) & (t.coverage <= 1) & (t.density <= 1)).all()
    assert np.array_equal(t.k, [int(y[res.in_box(i)].sum()) for i in range(len(t))])
    assert 0 <= res.default_box < len(t)


@pytest.fixture(scope="module")
def ref10_ds(ref10_spec):
    return sustainsim.simulate(ref10_spec, draws=20_000, seed=1)


def test_ref10_insolvency_box(ref10_ds):
    res = prim(ref10_ds, year=2033)
    insolvent = ~sustainsim.metrics.solvent(ref10_ds).sel(year=2033).isel(school=0).values
    assert np.array_equal(res.y, insolvent)
    box = res.box()
    active = box[~box.redundant]
    assert {"schools.ref.enrollment.change", "schools.ref.revenue.grant.end"} <= set(active.index)
    cuts = [k for k in active.index if k.startswith("district.cuts.")]
    assert len(cuts) >= 1  # cut count and depth are near-substitutes: either may be chosen
    # directions: falling enrollment, deeper cuts, an earlier grant cliff
    change = active.loc["schools.ref.enrollment.change"]
    assert change["upper"] < change["max"]
    assert all(active.loc[k, "lower"] > active.loc[k, "min"] for k in cuts)
    assert all(active.loc[k, "upper"] == active.loc[k, "max"] for k in cuts)
    assert active.loc["schools.ref.revenue.grant.end", "upper"] < 6
    t = res.trajectory.loc[res.default_box]
    base = insolvent.mean()
    assert t["density"] > base + 0.1 and t["coverage"] > 0.5
    text = res.describe()
    assert "insolvent draws" in text and "are insolvent" in text and " AND " in text
    assert "%" in text  # shares are written as percentages
    assert "PrimResult(" in repr(res)


def test_ref10_solvency_box_and_units(ref10_ds):
    res = prim(
        ref10_ds,
        "solvent",
        inputs=[
            "schools.ref.revenue.grant.last_year",
            "schools.ref.enrollment.change",
            "district.cuts.event.count",
        ],
    )
    box = res.box()
    assert box.loc["district.cuts.event.count", "upper"] == 0
    assert box.loc["schools.ref.enrollment.change", "lower"] > -0.1
    assert "district.cuts.event.count = 0" in res.describe() and "solvent draws" in res.describe()
    res = prim(ref10_ds, year=2031, inputs=["schools.ref.revenue.grant.last_year"])
    assert "FY20" in res.describe(len(res.trajectory) - 1)


def test_errors(ref10_ds):
    both = xr.concat([ref10_ds, ref10_ds], dim=pd.Index(["a", "b"], name="scenario"))
    with pytest.raises(ValueError, match="select one"):
        prim(both)
    X = uniforms(100, 2)
    with pytest.raises(ValueError, match="give outcome"):
        prim(X)
    with pytest.raises(ValueError, match="nothing to discover"):
        prim(X, np.zeros(100, bool))
    with pytest.raises(ValueError, match="path"):
        prim(ref10_ds, "fund_balance")
    with pytest.raises(ValueError, match="alpha"):
        prim(X, X.x1 < 0.5, alpha=0.7)
    with pytest.raises(IndexError):
        prim(X, X.x1 < 0.5).box(999)
    assert isinstance(prim(X, X.x1 < 0.5), PrimResult)
