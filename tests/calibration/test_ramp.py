"""The opening ramp: its persistence recovered on a synthetic panel (within 4 standard
errors of the attenuated regression slope, derived below), and its forecast factor
computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sustainsim.calibration.fit import fit_enrollment
from sustainsim.calibration.ramp import ramp_factor


def test_ramp_persistence_is_recovered():
    # 400 mature entities and 1200 that open in 2004; mature growth -0.01 + N(0, 0.02)
    # each year (no persistence, no common shock). An opened entity's excess growth at
    # age a = 1, 2, 3 is m_a + n_a, n_a = rho n_{a-1} + s z (n_0 = 0).
    rng = np.random.default_rng(11)
    n_old, n_new, years, rho, s, e = 400, 1200, np.arange(2000, 2012), 0.6, 0.08, 0.02
    m = np.array([0.4, 0.2, 0.1])
    n = n_old + n_new
    g = -0.01 + e * rng.standard_normal((n, years.size))
    dev = np.zeros(n_new)
    for a in range(1, 4):
        dev = rho * dev + s * rng.standard_normal(n_new)
        g[n_old:, 4 + a] += m[a - 1] + dev
    level = 300 * np.exp(np.cumsum(g, axis=1))
    level[n_old:, :4] = np.nan  # opened in 2004 (year index 4)
    df = pd.DataFrame(
        {
            "entity": np.repeat(np.arange(n), years.size),
            "year": np.tile(years, n),
            "value": level.ravel(),
        }
    ).dropna()
    fit = fit_enrollment(df, se=False)
    # The slope of the excess at age a+1 on age a (pairs a = 1, 2, equally many) is
    # rho (V1 + V2) / (V1 + V2 + 2 e**2): the mature noise e**2 in each excess
    # attenuates it; V1 = s**2, V2 = s**2 (1 + rho**2).
    v1, v2 = s**2, s**2 * (1 + rho**2)
    want = rho * (v1 + v2) / (v1 + v2 + 2 * e**2)
    # se of a regression slope: sqrt(residual var / (N var x)), N = 2 n_new pairs
    var_x = (v1 + v2) / 2 + e**2
    resid = (v2 + 2 * s**2 * rho**2 + s**2) / 2 + e**2 - want**2 * var_x  # var y - b^2 var x
    se = math.sqrt(resid / (2 * n_new * var_x))
    got = fit.options["ramp_persistence"]
    assert abs(got - want) < 4 * se, (got, want, se)
    # entities opened in 2004 are past their ramp in 2011: no ramp deviation to carry
    assert (fit.entity_drift["ramp_deviation"] == 0).all()
    # fitted on years <= 2007 the opened entities are at age 3: their deviation is the
    # excess at age 3 less its mean, n_3 + mature noise (correlation with n_3 about
    # sqrt(V3 / (V3 + e**2)) = 0.98 with V3 = s**2 (1 + rho**2 + rho**4))
    early = fit_enrollment(df[df["year"] <= 2007], se=False).entity_drift
    got_dev = early.loc[[str(i) for i in range(n_old, n)], "ramp_deviation"].to_numpy()
    assert np.corrcoef(got_dev, dev)[0, 1] > 0.9
    assert (early.loc[[str(i) for i in range(n_old)], "ramp_deviation"] == 0).all()


def test_ramp_factor_by_hand():
    ramp = pd.DataFrame(
        {"excess_growth": [0.4, 0.2, 0.1], "extra_sd": [0.0, 0.0, 0.0], "n": [9, 9, 9]},
        index=pd.Index([1, 2, 3], name="age"),
    )
    age = np.array([1.0, np.nan])
    dev = np.array([0.08, 0.5])  # the second entity did not open in the data: no ramp
    out = ramp_factor(ramp, 0.5, age, dev, 4, 2, np.random.default_rng(0))
    # entity 0 passes ages 2, 3, 4, 5: m = 0.2, 0.1, 0, 0 plus 0.08 * 0.5**k
    inc = np.array([0.2 + 0.04, 0.1 + 0.02, 0.01, 0.005])
    np.testing.assert_allclose(out[:, 0, 0], np.exp(np.cumsum(inc)), rtol=1e-12)
    np.testing.assert_allclose(out[:, :, 1], 1.0)
    # no persistence, no deviation: the ramp means alone
    plain = ramp_factor(ramp, 0.0, age, np.zeros(2), 4, 1, np.random.default_rng(0))
    np.testing.assert_allclose(plain[:, 0, 0], np.exp(np.cumsum([0.2, 0.1, 0.0, 0.0])))
