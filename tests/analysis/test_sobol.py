"""Sobol' indices (SALib) against the analytic Ishigami values."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim.analysis.sobol import default_sobol_inputs, sobol_analyze, sobol_indices

# --- Sobol' (the optional extra "sensitivity": SALib) ---------------------------------------

needs_salib = pytest.mark.skipif(
    importlib.util.find_spec("SALib") is None, reason='needs pip install "sustainsim[sensitivity]"'
)


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1):
    """Analytic Sobol' indices of the Ishigami function, inputs U(-pi, pi)."""
    pi4, pi8 = np.pi**4, np.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


@needs_salib
def test_sobol_matches_ishigami_within_the_confidence_interval():
    s1, st = ishigami_indices()
    assert np.allclose(s1, [0.314, 0.442, 0.0], atol=1e-3)
    assert np.allclose(st, [0.558, 0.442, 0.244], atol=1e-3)
    bounds = {k: (-np.pi, np.pi) for k in ("x1", "x2", "x3")}
    res = sobol_analyze(ishigami, bounds, n=1024, seed=4)
    assert res.attrs["evaluations"] == 1024 * 5
    assert np.all(np.abs(res.S1.values - s1) <= res.S1_conf.values)
    assert np.all(np.abs(res.ST.values - st) <= res.ST_conf.values)
    assert np.all(res.S1_conf.values < 0.1)
    again = sobol_analyze(ishigami, bounds, n=1024, seed=4)
    xr.testing.assert_identical(res, again)


@needs_salib
def test_sobol_second_order_and_validation():
    bounds = {k: (-np.pi, np.pi) for k in ("x1", "x2", "x3")}
    res = sobol_analyze(ishigami, bounds, n=512, seed=1, calc_second_order=True)
    # the only interaction is x1 x x3: S13 = V13 / V
    s13 = ishigami_indices()[1][2]
    assert abs(float(res.S2.sel(input="x1", input_b="x3")) - s13) <= float(
        res.S2_conf.sel(input="x1", input_b="x3")
    )
    with pytest.raises(ValueError, match="power of 2"):
        sobol_analyze(ishigami, bounds, n=100)
    with pytest.raises(ValueError, match="low < high"):
        sobol_analyze(ishigami, {"x1": (1.0, 0.0)}, n=64)


@needs_salib
def test_sobol_indices_of_ref10(ref10_spec):
    inputs = {
        "district.cuts.probability": (0.05, 0.3),
        "schools.ref.enrollment.drift": (-0.03, 0.01),
        "simulation.chunk_size": (50, 400),  # ints: discrete; results never depend on it
    }
    res = sobol_indices(ref10_spec, inputs, "final_balance", n=32, draws=300, seed=3)
    assert list(res.input.values) == list(inputs)
    assert res.attrs["evaluations"] == 32 * 5
    st = res.ST.to_series()
    # common random numbers + chunk-size invariance: the chunk size explains exactly nothing
    assert st["simulation.chunk_size"] == 0.0
    assert st["district.cuts.probability"] > 0.1
    assert st["schools.ref.enrollment.drift"] > 0.1
    assert np.isfinite(res.S1.values).all()


@needs_salib
def test_sobol_indices_reject_bad_paths_before_running(ref10_spec):
    with pytest.raises(sustainsim.ConfigError, match="nonsense"):
        sobol_indices(ref10_spec, {"district.cuts.nonsense": (0.0, 1.0)}, n=8, draws=10)
    with pytest.raises(sustainsim.ConfigError, match="probability"):
        sobol_indices(ref10_spec, {"district.cuts.probability": (0.5, 1.5)}, n=8, draws=10)


def test_default_sobol_inputs(ref10_spec):
    d = default_sobol_inputs(ref10_spec)
    assert d["district.cuts.probability"] == pytest.approx((0.075, 0.225))
    assert d["schools.ref.enrollment.drift"] == pytest.approx((-0.03, 0.01))
    assert d["district.growth.funding"] == pytest.approx((0.01, 0.03))
    assert "district.cuts.magnitude" not in d  # a distribution: already random


def test_missing_salib_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "SALib" or m.startswith("SALib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(ImportError, match=r"sustainsim\[sensitivity\]"):
        sobol_analyze(ishigami, {"x1": (0.0, 1.0)}, n=64)


@needs_salib
def test_sobol_additive_model_matches_analytic_shares():
    """f = 3 x1 + x2 + 0 x3 with U(0, 1) inputs: S1 = ST = (9, 1, 0) / 10 (no interactions)."""
    res = sobol_analyze(
        lambda x: 3 * x[:, 0] + x[:, 1] + 0 * x[:, 2],
        {"x1": (0.0, 1.0), "x2": (0.0, 1.0), "x3": (0.0, 1.0)},
        n=1024,
        seed=3,
    )
    truth = np.array([0.9, 0.1, 0.0])
    for k in ("S1", "ST"):
        err = np.abs(res[k].values - truth)
        assert np.all(err <= np.maximum(res[f"{k}_conf"].values, 0.01)), (k, res[k].values)
