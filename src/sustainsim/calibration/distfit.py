"""Fit scipy.stats distributions to data by maximum likelihood and rank them (AIC/BIC)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sustainsim.sampling.distributions import Distribution

__all__ = ["best_distribution_spec", "fit_distribution"]

# -------------------------------------------------------------------------- distributions


@dataclass(frozen=True)
class _Family:
    scipy_name: str
    fixed: Mapping[str, float]  # parameters held fixed in the fit, e.g. floc
    to_spec: Callable[[dict[str, float]], dict[str, Any]]


_FAMILIES: dict[str, _Family] = {
    "normal": _Family("norm", {}, lambda p: {"dist": "normal", "mean": p["loc"], "sd": p["scale"]}),
    "lognormal": _Family(
        "lognorm",
        {"floc": 0.0},
        lambda p: {"dist": "lognormal", "mu": math.log(p["scale"]), "sigma": p["s"]},
    ),
    "uniform": _Family(
        "uniform", {}, lambda p: {"dist": "uniform", "low": p["loc"], "high": p["loc"] + p["scale"]}
    ),
    "triangular": _Family(
        "triang",
        {},
        lambda p: {
            "dist": "triangular",
            "low": p["loc"],
            "mode": p["loc"] + p["c"] * p["scale"],
            "high": p["loc"] + p["scale"],
        },
    ),
    "beta": _Family(
        "beta",
        {},
        lambda p: {
            "dist": "beta",
            "a": p["a"],
            "b": p["b"],
            "low": p["loc"],
            "high": p["loc"] + p["scale"],
        },
    ),
}


def _family(name: str, x: np.ndarray) -> _Family:
    fam = _FAMILIES.get(name)
    if fam is not None:
        return fam
    if not isinstance(getattr(stats, name, None), stats.rv_continuous):
        raise ValueError(
            f"unknown candidate {name!r}; allowed: {', '.join(_FAMILIES)} "
            "or any continuous scipy.stats distribution name"
        )
    dist = getattr(stats, name)
    positive = dist.a == 0 and np.isinf(dist.b) and x.min() > 0  # support [0, inf): loc = 0
    return _Family(name, {"floc": 0.0} if positive else {}, lambda p: {"dist": name, **p})


def fit_distribution(
    x: Sequence[float] | np.ndarray,
    candidates: Sequence[str] = ("normal", "lognormal", "gamma", "t", "logistic", "laplace"),
    criterion: str = "aic",
) -> pd.DataFrame:
    """Fit candidate families by maximum likelihood and rank them by AIC or BIC.

    Parameters
    ----------
    x : array-like
        The sample (NaNs dropped).
    candidates : sequence of str
        Config names (normal, lognormal, uniform, triangular, beta) or continuous
        :mod:`scipy.stats` names; families with support ``[0, inf)`` get ``loc = 0`` when
        the sample is positive.
    criterion : {"aic", "bic"}

    Returns
    -------
    DataFrame
        Indexed by family, best first: ``k`` (free parameters), ``loglik``, ``aic``, ``bic``,
        ``delta`` and ``weight`` (Akaike or Schwarz weights), ``spec`` (the config
        distribution spec) and ``error`` (why a family could not be fitted).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(3.0, 0.5, 2000)
    >>> fit_distribution(x, ["normal", "laplace"], "bic").index[0]
    'normal'
    """
    if criterion not in ("aic", "bic"):
        raise ValueError(f"criterion must be 'aic' or 'bic' (got {criterion!r})")
    arr = np.asarray(x, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size < 3 or not np.isfinite(arr).all():
        raise ValueError(f"need at least 3 finite values to fit a distribution (got {arr.size})")
    rows = []
    for name in candidates:
        fam = _family(name, arr)
        dist = getattr(stats, fam.scipy_name)
        row = {"family": name, "k": np.nan, "loglik": np.nan, "spec": None, "error": ""}
        try:
            with np.errstate(all="ignore"):
                theta = dist.fit(arr, **fam.fixed)
                ll = float(np.sum(dist.logpdf(arr, *theta)))
            shapes = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
            keys = [*shapes, "loc", "scale"]
            if not np.isfinite(ll):
                raise ValueError("log-likelihood is not finite on the sample")
            spec = fam.to_spec({k: float(v) for k, v in zip(keys, theta, strict=True)})
            Distribution.from_spec(spec)
            row.update(k=len(keys) - len(fam.fixed), loglik=ll, spec=spec)
        except Exception as exc:  # scipy's fitters raise many kinds of errors
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    df = pd.DataFrame(rows).set_index("family")
    df["aic"] = 2 * df["k"] - 2 * df["loglik"]
    df["bic"] = df["k"] * math.log(arr.size) - 2 * df["loglik"]
    df["delta"] = df[criterion] - df[criterion].min()
    w = np.exp(-0.5 * df["delta"].fillna(np.inf))
    df["weight"] = w / w.sum()
    df = df.sort_values(criterion, na_position="last")
    return df[["k", "loglik", "aic", "bic", "delta", "weight", "spec", "error"]]


def best_distribution_spec(
    x: Sequence[float] | np.ndarray,
    candidates: Sequence[str] = ("normal", "lognormal", "gamma", "t", "logistic", "laplace"),
    criterion: str = "aic",
) -> dict[str, Any]:
    """The best family of :func:`fit_distribution` as a config spec ``{"dist": ..., ...}``."""
    ranked = fit_distribution(x, candidates, criterion)
    if ranked["spec"].isna().all():
        raise ValueError("no candidate family could be fitted: " + "; ".join(ranked["error"]))
    spec = dict(ranked["spec"].iloc[0])
    Distribution.from_spec(spec)
    return spec
