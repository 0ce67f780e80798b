"""Probability distributions, mapped from uniforms through their inverse CDF.

Every stochastic input of sustainsim is a :class:`Distribution` evaluated at uniforms
``u`` in (0, 1) with :meth:`Distribution.ppf`. Keeping the uniform step separate is
what lets plain Monte Carlo, Latin hypercube, Sobol and copula correlation share one
code path.

Named distributions live in the table :data:`DISTRIBUTIONS`; any other name is looked
up in :mod:`scipy.stats` and takes that distribution's shape parameters plus ``loc``
and ``scale``.

Examples
--------
>>> import numpy as np
>>> d = Distribution.from_spec({"dist": "uniform", "low": 0.03, "high": 0.10})
>>> d.ppf(np.array([0.0, 0.5, 1.0]))
array([0.03 , 0.065, 0.1  ])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

__all__ = ["DISTRIBUTIONS", "U_MAX", "U_MIN", "Distribution", "DistributionError", "DistKind"]

#: the smallest and largest uniforms any sampler of sustainsim produces
U_MIN = 2.0**-54
U_MAX = 1.0 - 2.0**-53


class DistributionError(ValueError):
    """A distribution spec names an unknown distribution or impossible parameters."""


def _check(cond: bool, msg: str, errors: list[str]) -> None:
    if not cond:
        errors.append(msg)


# --- inverse CDFs of the built-in distributions -------------------------------------------


def _ppf_normal(u, mean, sd):
    return mean + sd * special.ndtri(u)


def _ppf_lognormal(u, mu, sigma):
    return np.exp(mu + sigma * special.ndtri(u))


def _ppf_uniform(u, low, high):
    return low + (high - low) * u


def _ppf_triangular(u, low, mode, high):
    u = np.asarray(u, dtype=float)
    width = high - low
    if width == 0:
        return np.full_like(u, low)
    fc = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1.0 - u) * width * (high - mode))
    return np.where(u < fc, left, right)


def _ppf_beta(u, a, b, low=0.0, high=1.0):
    return low + (high - low) * special.betaincinv(a, b, u)


def _ppf_integer_uniform(u, low, high):
    n = high - low + 1
    k = np.floor(np.asarray(u, dtype=float) * n)
    return low + np.minimum(k, n - 1)


def _ppf_bernoulli(u, p):
    return (np.asarray(u) >= 1.0 - p).astype(float)


def _ppf_truncated_normal(u, mean, sd, low=-math.inf, high=math.inf):
    if sd == 0:
        return np.full_like(np.asarray(u, dtype=float), min(max(mean, low), high))
    a = special.ndtr((low - mean) / sd)
    b = special.ndtr((high - mean) / sd)
    # a + (b - a) u rounds to exactly 0 or 1 at the extreme uniforms of an unbounded
    # side, where ndtri is infinite: keep it inside (0, 1)
    p = np.clip(a + (b - a) * np.asarray(u), np.finfo(float).tiny, U_MAX)
    return mean + sd * special.ndtri(p)


def _ppf_fixed(u, value):
    return np.full_like(np.asarray(u, dtype=float), value)


# --- parameter checks --------------------------------------------------------------------


def _chk_normal(p, e):
    _check(p["sd"] >= 0, f"sd must be >= 0 (got {p['sd']})", e)


def _chk_lognormal(p, e):
    _check(p["sigma"] >= 0, f"sigma must be >= 0 (got {p['sigma']})", e)


def _chk_uniform(p, e):
    _check(p["low"] <= p["high"], f"low must be <= high (got low={p['low']}, high={p['high']})", e)


def _chk_triangular(p, e):
    _check(
        p["low"] <= p["mode"] <= p["high"],
        f"need low <= mode <= high (got low={p['low']}, mode={p['mode']}, high={p['high']})",
        e,
    )


def _chk_beta(p, e):
    _check(p["a"] > 0, f"a must be > 0 (got {p['a']})", e)
    _check(p["b"] > 0, f"b must be > 0 (got {p['b']})", e)
    _check(p["low"] < p["high"], f"low must be < high (got low={p['low']}, high={p['high']})", e)


def _chk_integer_uniform(p, e):
    for k in ("low", "high"):
        _check(float(p[k]).is_integer(), f"{k} must be a whole number (got {p[k]})", e)
    _check(p["low"] <= p["high"], f"low must be <= high (got low={p['low']}, high={p['high']})", e)


def _chk_bernoulli(p, e):
    _check(0 <= p["p"] <= 1, f"p must be a probability in [0, 1] (got {p['p']})", e)


def _chk_truncated_normal(p, e):
    _chk_normal(p, e)
    _check(p["low"] < p["high"], f"low must be < high (got low={p['low']}, high={p['high']})", e)


def _chk_none(p, e):
    return None


@dataclass(frozen=True)
class DistKind:
    """One entry of :data:`DISTRIBUTIONS`: parameter names, defaults, checks, inverse CDF."""

    required: tuple[str, ...]
    ppf: Callable[..., np.ndarray]
    check: Callable[[dict[str, float], list[str]], None] = _chk_none
    optional: Mapping[str, float] = field(default_factory=dict)
    integer: bool = False
    doc: str = ""
    #: parameters that may be infinite (an open side of a truncation)
    infinite_ok: tuple[str, ...] = ()


DISTRIBUTIONS: dict[str, DistKind] = {
    "normal": DistKind(("mean", "sd"), _ppf_normal, _chk_normal, doc="Normal(mean, sd)"),
    "lognormal": DistKind(
        ("mu", "sigma"), _ppf_lognormal, _chk_lognormal, doc="exp(Normal(mu, sigma))"
    ),
    "uniform": DistKind(("low", "high"), _ppf_uniform, _chk_uniform, doc="Uniform(low, high)"),
    "triangular": DistKind(
        ("low", "mode", "high"), _ppf_triangular, _chk_triangular, doc="Triangular(low, mode, high)"
    ),
    "beta": DistKind(
        ("a", "b"),
        _ppf_beta,
        _chk_beta,
        optional={"low": 0.0, "high": 1.0},
        doc="Beta(a, b) scaled to [low, high]",
    ),
    "integer_uniform": DistKind(
        ("low", "high"),
        _ppf_integer_uniform,
        _chk_integer_uniform,
        integer=True,
        doc="whole numbers low..high, both included, equally likely",
    ),
    "bernoulli": DistKind(("p",), _ppf_bernoulli, _chk_bernoulli, integer=True, doc="1 with p"),
    "truncated_normal": DistKind(
        ("mean", "sd"),
        _ppf_truncated_normal,
        _chk_truncated_normal,
        optional={"low": -math.inf, "high": math.inf},
        doc="Normal(mean, sd) restricted to [low, high]",
        infinite_ok=("low", "high"),
    ),
    "fixed": DistKind(("value",), _ppf_fixed, doc="always value"),
}


def _scipy_dist(name: str):
    from scipy import stats  # on first use: importing scipy.stats takes a quarter second

    obj = getattr(stats, name, None)
    if isinstance(obj, stats.rv_continuous | stats.rv_discrete):
        return obj
    return None


def _known_names() -> str:
    return ", ".join(sorted(DISTRIBUTIONS)) + ", or any scipy.stats distribution name"


@dataclass(frozen=True)
class Distribution:
    """A named distribution with its parameters.

    Parameters
    ----------
    name : str
        A key of :data:`DISTRIBUTIONS` or the name of a :mod:`scipy.stats` distribution.
    params : mapping of str to float
        The parameters, by name.
    """

    name: str
    params: Mapping[str, float]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Distribution:
        """Build and check a distribution from ``{"dist": name, **params}``.

        Raises
        ------
        DistributionError
            If the name is unknown or a parameter is missing, unknown or out of range;
            the message says what is allowed.
        """
        spec = dict(spec)
        name = spec.pop("dist", None)
        if not isinstance(name, str):
            raise DistributionError(f"'dist' must name a distribution ({_known_names()})")
        params: dict[str, float] = {}
        for k, v in spec.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise DistributionError(f"parameter {k!r} of {name!r} must be a number (got {v!r})")
            params[k] = float(v)
        kind = DISTRIBUTIONS.get(name)
        open_sides = kind.infinite_ok if kind is not None else ()
        for k, v in params.items():
            if math.isnan(v) or (math.isinf(v) and k not in open_sides):
                raise DistributionError(
                    f"parameter {k!r} of {name!r} must be a finite number (got {v!r})"
                )
        if kind is not None:
            allowed = set(kind.required) | set(kind.optional)
            missing = [k for k in kind.required if k not in params]
            unknown = sorted(set(params) - allowed)
            if missing or unknown:
                parts = []
                if missing:
                    parts.append(f"missing {', '.join(missing)}")
                if unknown:
                    parts.append(f"unknown {', '.join(unknown)}")
                raise DistributionError(
                    f"{name!r} takes parameters {_fmt_allowed(kind)}; {'; '.join(parts)}"
                )
            full = {**kind.optional, **params}
            errors: list[str] = []
            kind.check(full, errors)
            if errors:
                raise DistributionError(f"{name}: " + "; ".join(errors))
            return cls(name, full)
        sp = _scipy_dist(name)
        if sp is None:
            raise DistributionError(f"unknown distribution {name!r}; allowed: {_known_names()}")
        shapes = [s.strip() for s in (sp.shapes or "").split(",") if s.strip()]
        allowed = set(shapes) | {"loc", "scale"}
        unknown = sorted(set(params) - allowed)
        missing = [s for s in shapes if s not in params]
        if unknown or missing:
            raise DistributionError(
                f"scipy.stats.{name} takes {', '.join(shapes + ['loc', 'scale'])} "
                f"(shapes required); got {', '.join(sorted(params)) or 'nothing'}"
            )
        frozen = sp(**params)
        try:
            ok = bool(np.all(np.isfinite(frozen.ppf([0.25, 0.5, 0.75]))))
        except Exception as exc:  # scipy raises a variety of errors on bad shapes
            raise DistributionError(f"scipy.stats.{name}{params}: {exc}") from None
        if not ok:
            raise DistributionError(f"scipy.stats.{name} with {params} has invalid parameters")
        return cls(name, params)

    @property
    def is_integer(self) -> bool:
        """Whether the distribution takes whole-number values only."""
        kind = DISTRIBUTIONS.get(self.name)
        if kind is not None:
            return kind.integer
        from scipy import stats

        return isinstance(_scipy_dist(self.name), stats.rv_discrete)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at uniforms ``u`` in (0, 1); float64 array of the same shape."""
        kind = DISTRIBUTIONS.get(self.name)
        if kind is not None:
            return np.asarray(kind.ppf(u, **self.params), dtype=np.float64)
        return np.asarray(_scipy_dist(self.name).ppf(u, **self.params), dtype=np.float64)

    def median(self) -> float:
        """The value at u = 0.5."""
        return float(self.ppf(np.array([0.5]))[0])

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest values sustainsim can draw (may be infinite).

        Uniforms are drawn in [2**-54, 1 - 2**-53] (see :mod:`sustainsim.sampling`),
        so a normal growth rate has finite bounds about 8.3 sd from its mean.
        """
        lo, hi = self.ppf(np.array([U_MIN, U_MAX]))
        return float(lo), float(hi)

    def to_spec(self) -> dict[str, Any]:
        """The ``{"dist": name, **params}`` form, as in a config file."""
        return {"dist": self.name, **dict(self.params)}

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _fmt_allowed(kind: DistKind) -> str:
    req = ", ".join(kind.required)
    if kind.optional:
        opt = ", ".join(f"{k}={v:g}" for k, v in kind.optional.items())
        return f"{req} (optional {opt})"
    return req
