"""ref10 written by hand in vectorized numpy: the yardstick for sustainsim's engine.

The same model as configs/reference/ref10.toml, with numpy's own fast generators
(no named streams, no inverse CDFs, no Dataset): what a careful analyst would write
for this one model. Returns the fund-balance paths, shape (draws, 10).
"""

from __future__ import annotations

import numpy as np


def ref10_numpy(draws: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    T = 10
    t = np.arange(1, T + 1)
    e = np.empty((T, draws))
    c = np.empty((T, draws))
    log_e = np.full(draws, np.log(500.0))
    cf = np.ones(draws)
    for k in range(T):  # loop over years, vectorized over draws
        log_e += rng.normal(-0.01, 0.04, draws)
        np.exp(log_e, out=e[k])
        hit = rng.random(draws) < 0.15
        cf = cf * (1.0 - hit * rng.uniform(0.03, 0.10, draws))
        c[k] = cf
    K = rng.integers(3, 8, draws)  # grant paid in years t < K
    grant = 400_000.0 * (t[:, None] < K)
    revenue = (10_000 * 1.02**t)[:, None] * c * e + grant
    cost = (2_000_000 * 1.03**t)[:, None] + (6_000 * 1.03**t)[:, None] * e
    balance = 500_000.0 + np.cumsum(revenue - cost, axis=0)
    return balance.T
