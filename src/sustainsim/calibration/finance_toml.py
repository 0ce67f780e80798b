"""The config fragment of a district's finances fitted from its history.

``[district.growth]`` ``funding`` and ``costs`` (new normal rates each year), their rank
correlation in ``[[correlations]]`` and, for a named district, its own money from its
last year (``[district] fund_balance``, a fixed revenue and a fixed cost line).

Config rates are i.i.d. each year, so the sd is chosen so that the variance of
``horizon``-year cumulative log growth matches the fit's, the surprises' AR(1)
``persistence`` included (as
:meth:`~sustainsim.calibration.fit.GrowthFit.to_spec` does); the Pearson correlation of
log growth ``r`` becomes the rank correlation ``(6 / pi) asin(r / 2)`` of a Gaussian copula.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sustainsim.sampling.distributions import Distribution

if TYPE_CHECKING:
    from sustainsim.calibration.finance import FinanceFit

__all__ = ["finance_toml", "growth_rates", "rank_correlation"]

#: Keys of the growth entries written for revenue and expenditure.
NAMES = {"revenue": "funding", "expenditure": "costs"}


def _num(x: float) -> str:
    return repr(float(f"{x:.4g}"))


def rank_correlation(r: float) -> float:
    """Spearman correlation of a bivariate normal with Pearson correlation ``r``.

    Examples
    --------
    >>> round(rank_correlation(0.5), 4)
    0.4826
    """
    return 6.0 / math.pi * math.asin(r / 2.0)


def _ar_sum_factor(phi: float, h: int) -> float:
    """Variance of an ``h``-year sum of a stationary AR(1) over ``h`` times its variance.

    Examples
    --------
    >>> _ar_sum_factor(0.0, 5), round(_ar_sum_factor(-0.5, 2), 3)
    (1.0, 0.5)
    """
    k = np.arange(1, h)
    return float(h + 2.0 * np.sum((h - k) * phi**k)) / h


def growth_rates(fit: FinanceFit, entity: Any = None, horizon: int = 5) -> dict[str, dict]:
    """``{"funding": {"mean", "sd"}, "costs": {...}}``: the simple annual rates of the config.

    A typical district has the mean growth with the spread of drifts across districts and
    the mean's standard error; a named one its own drift with its posterior sd.
    """
    if not (isinstance(horizon, int) and horizon >= 1):
        raise ValueError(f"horizon must be a whole number of years >= 1 (got {horizon!r})")
    row = fit._entity_row(entity) if entity is not None else None
    out = {}
    for k, comp in enumerate(fit.components[:2]):
        if row is None:
            mu, v_mu, scale = fit.mean[k], fit.drift_var[k] + fit.mean_se[k] ** 2, 1.0
        else:
            mu, v_mu = row[f"drift_{comp}"], row[f"drift_sd_{comp}"] ** 2
            v_mu += fit.mean_se[k] ** 2
            scale = float(row["scale"])
        phi = 0.0 if fit.persistence is None else float(fit.persistence[k])
        vol2 = fit.common_cov[k, k] + scale * fit.own_cov[k, k] * _ar_sum_factor(phi, horizon)
        v = vol2 + horizon * v_mu
        m1 = math.exp(mu + v / 2)
        rate = {
            "dist": "normal",
            "mean": float(_num(m1 - 1)),
            "sd": float(_num(m1 * math.sqrt(math.expm1(v)))),
        }
        Distribution.from_spec(rate)
        out[NAMES[comp]] = rate
    return out


def finance_toml(fit: FinanceFit, entity: Any = None, *, horizon: int = 5) -> str:
    """The TOML fragment (see the module docstring); comments carry the estimates."""
    rates = growth_rates(fit, entity, horizon)
    lines = [
        f"# sustainsim calibrate --kind finance: {fit.n_entities} entities, years "
        f"{fit.first_year}-{fit.last_year}, {fit.n_obs} years of growth",
        "# log growth = mean + common shock + own drift (shrunk) + own Student-t surprise",
    ]
    for name, (est, se) in fit.summary().iterrows():
        se_text = "" if not np.isfinite(se) else f"  (se {se:.4f})"
        lines.append(f"#   {name:34s} {est:+.4f}{se_text}")
    lines.append(f"# sd matched to the variance of {horizon}-year cumulative growth")
    if entity is not None:
        row = fit._entity_row(entity)
        lines += [
            f"# district {entity}: its money in {int(row['last_year'])}, own drifts and volatility",
            "[district]",
            f"fund_balance = {round(float(row['balance']))}",
        ]
    lines.append("[district.growth]")
    for key, rate in rates.items():
        inner = f'{{ dist = "normal", mean = {_num(rate["mean"])}, sd = {_num(rate["sd"])} }}'
        lines.append(f'{key} = {{ rate = {inner}, per = "year" }}')
    if entity is not None:
        row = fit._entity_row(entity)
        for table, line, amount, key in (
            ("district.revenue", "revenue", row["revenue"], "funding"),
            ("district.cost", "expenditure", row["expenditure"], "costs"),
        ):
            lines += [
                f"[[{table}]]",
                f'name = "{line}"',
                'kind = "fixed"',
                f"amount = {round(float(amount))}",
                f'growth = "{key}"',
            ]
    rho = rank_correlation(fit.correlation)
    rho = round(max(min(rho, 0.99), -0.99), 3)
    lines += [
        "[[correlations]]",
        'inputs = ["district.growth.funding", "district.growth.costs"]',
        f"matrix = [[1.0, {rho!r}], [{rho!r}, 1.0]]",
    ]
    return "\n".join(lines) + "\n"
