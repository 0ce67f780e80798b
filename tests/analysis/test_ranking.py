"""risk_drivers returns a ranked table: the input that explains the most variance first."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sustainsim.analysis import risk_drivers


def test_risk_drivers_are_ranked_by_explained_variance():
    rng = np.random.default_rng(0)
    n = 4_000
    x = {k: rng.normal(size=n) for k in ("weak", "strong", "middle", "none")}
    y = 3 * x["strong"] + 1.5 * x["middle"] + 0.5 * x["weak"] + rng.normal(size=n)
    ds = xr.Dataset({k: ("draw", v, {"role": "input"}) for k, v in x.items()})
    rd = risk_drivers(ds, xr.DataArray(y, dims="draw"))
    assert rd.input.values.tolist() == ["strong", "middle", "weak", "none"]
    assert rd["rank"].values.tolist() == [1, 2, 3, 4]
    assert np.all(np.diff(rd.contribution.values) <= 0)
