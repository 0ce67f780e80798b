"""Risk drivers: which sampled inputs move an outcome, and by how much.

Two families of measures:

* **From one Monte Carlo run** (:func:`risk_drivers`, :func:`tornado_table`): the
  sampled scalar inputs of a results Dataset (variables with ``role = "input"``)
  against a per-draw outcome: Spearman rank correlation, standardized regression
  coefficients (SRC, with the R^2 of the linear fit), each input's contribution to
  the explained variance, and the mean outcome per decile of each input.
* **Variance-based (Sobol') indices**: see :mod:`sustainsim.analysis.sobol`.

Numpy kernels (``_spearman``, ``_regression``, ``_lmg``, ``_deciles``) do the work on
``(draw, input)`` and ``(draw, k)`` arrays; the public functions are thin xarray and
pandas wrappers around them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import factorial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from sustainsim.metrics.ranks import rankdata, stable_argsort
from sustainsim.metrics.solvency import DISTRICT, entity_balance, solvent
from sustainsim.results import input_names

if TYPE_CHECKING:
    pass

__all__ = [
    "MAX_LMG_INPUTS",
    "OUTCOMES",
    "outcome_array",
    "risk_drivers",
    "tornado_table",
]

#: up to this many inputs the contribution to variance is the exact LMG (Shapley) split
MAX_LMG_INPUTS = 12
#: a column whose variance left unexplained by earlier columns is below this is collinear
_COLLINEAR_TOL = 1e-9
_DECILES = 10


# --- outcomes -------------------------------------------------------------------------------


def _running_min(da: xr.DataArray) -> xr.DataArray:
    axis = da.get_axis_num("year")
    return da.copy(data=np.minimum.accumulate(da.values, axis=axis))


#: named outcomes: a path over year; ``year=None`` evaluates it at the last year
OUTCOMES: dict[str, tuple[Callable[[xr.Dataset], xr.DataArray], str]] = {
    "final_balance": (entity_balance, "ending fund balance [USD]"),
    "worst_balance": (
        lambda ds: _running_min(entity_balance(ds)),
        "lowest fund balance so far [USD]",
    ),
    "solvent": (solvent, "solvent through year (balance >= 0 every year so far)"),
    "insolvent": (lambda ds: ~solvent(ds), "insolvent by year (balance < 0 in some year so far)"),
}


def _no_scenario(ds: xr.Dataset | xr.DataArray, what: str) -> None:
    if "scenario" in ds.dims:
        raise ValueError(
            f"{what} works on one scenario at a time; select one first, e.g. "
            f"ds.sel(scenario={ds['scenario'].values[0]!r})"
        )


def _select_school(da: xr.DataArray, school: str | None) -> xr.DataArray:
    if "school" not in da.dims:
        return da
    names = [str(s) for s in da["school"].values]
    if school is None:
        if len(names) == 1:
            return da.isel(school=0, drop=True)
        if DISTRICT in names:
            return da.sel(school=DISTRICT, drop=True)
        raise ValueError(f"several schools {names}: pass school=NAME")
    if school not in names:
        raise ValueError(f"unknown school {school!r}; have {names}")
    return da.sel(school=school, drop=True)


def _select_year(da: xr.DataArray, year, *, default_last: bool) -> xr.DataArray:
    if "year" not in da.dims:
        if year not in (None, "all"):
            raise ValueError(f"the outcome has no year dim; cannot select year={year!r}")
        return da
    if year is None:
        return da.isel(year=-1, drop=True) if default_last else da
    if isinstance(year, str):
        if year != "all":
            raise ValueError(f"year must be a fiscal year, a list of them or 'all' (got {year!r})")
        return da
    years = [int(y) for y in da["year"].values]
    wanted = [int(y) for y in np.atleast_1d(year)]
    bad = [y for y in wanted if y not in years]
    if bad:
        raise ValueError(f"year {bad} not in the run's years {years[0]}..{years[-1]}")
    return da.sel(year=int(year), drop=True) if np.ndim(year) == 0 else da.sel(year=wanted)


def outcome_array(
    ds: xr.Dataset,
    outcome: str | xr.DataArray = "final_balance",
    *,
    school: str | None = None,
    year: int | Sequence[int] | str | None = None,
) -> xr.DataArray:
    """A per-draw outcome for one school (or the district), over ``draw`` [and ``year``].

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`sustainsim.simulate` (one scenario).
    outcome : str or xarray.DataArray
        A name from :data:`OUTCOMES` (``"final_balance"``, ``"worst_balance"``,
        ``"solvent"``, ``"insolvent"``), a path variable of ``ds`` (``"fund_balance"``,
        ``"surplus"``, ``"enrollment"``, ...) or a DataArray over ``draw``.
    school : str, optional
        Which school; default the only school, or the district total when there are
        several.
    year : int, list of int or "all", optional
        Fiscal year(s). Default: the horizon for the named outcomes (final balance, worst
        balance and solvency through the last year), every year for path variables.

    Returns
    -------
    xarray.DataArray
        Dims ``(draw,)`` or ``(draw, year)``; booleans as 0/1 floats with
        ``attrs["binary"] = 1``.
    """
    _no_scenario(ds, "the outcome")
    if isinstance(outcome, xr.DataArray):
        if "draw" not in outcome.dims:
            raise ValueError(f"the outcome DataArray must have a draw dim (has {outcome.dims})")
        if outcome.sizes["draw"] != ds.sizes["draw"]:
            raise ValueError(
                f"the outcome has {outcome.sizes['draw']} draws, the Dataset {ds.sizes['draw']}"
            )
        _no_scenario(outcome, "the outcome")
        da, name, default_last = outcome, str(outcome.name or "outcome"), False
        long_name = outcome.attrs.get("long_name", name)
    elif outcome in OUTCOMES:
        fn, long_name = OUTCOMES[outcome]
        da, name, default_last = fn(ds), outcome, True
    elif outcome in ds.data_vars and "draw" in ds[outcome].dims:
        da = entity_balance(ds, outcome) if "school" in ds[outcome].dims else ds[outcome]
        name, default_last = outcome, False
        long_name = ds[outcome].attrs.get("long_name", outcome)
    else:
        paths = [k for k, v in ds.data_vars.items() if "year" in v.dims]
        raise ValueError(
            f"unknown outcome {outcome!r}; use one of {sorted(OUTCOMES)}, a path variable "
            f"{paths} or a DataArray over draw"
        )
    da = _select_year(_select_school(da, school), year, default_last=default_last)
    extra = [d for d in da.dims if d not in ("draw", "year")]
    if extra:
        raise ValueError(f"the outcome has dims {extra} besides draw and year; select them first")
    binary = da.dtype == bool
    units = "1" if binary else da.attrs.get("units", "")
    out = da.astype(float).transpose("draw", ...)
    out.name = name
    out.attrs = {"long_name": long_name, "units": units, "binary": int(binary)}
    return out


# --- numpy kernels: X is (n, p), Y is (n, k) ---------------------------------------------


def _standardize(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sd = a.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (a - a.mean(axis=0)) / sd
    return np.where(sd > 0, z, np.nan), sd


def _corr(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Pearson correlations of every column of X with every column of Y, (p, k)."""
    zx, _ = _standardize(X)
    zy, _ = _standardize(Y)
    return zx.T @ zy / X.shape[0]


def _spearman(RX: np.ndarray, RY: np.ndarray, confidence: float) -> tuple[np.ndarray, ...]:
    """Spearman's rho with a p-value and a Fisher-z interval, from the draws' ranks.

    ``RX`` and ``RY`` are the ranks of the inputs and outcomes over the draws
    (:func:`~sustainsim.metrics.ranks.rankdata`, ``axis=0``). The two-sided p-value uses
    the t approximation (as scipy.stats.spearmanr; ``stdtr`` is what scipy.stats.t's
    survival function evaluates), the interval Fieller's variance 1.06 / (n - 3).
    """
    n = RX.shape[0]
    rho = _corr(RX, RY)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt((n - 2) / np.clip((1 - rho) * (1 + rho), 0, None))
        pvalue = 2 * special.stdtr(n - 2, -np.abs(t))
        z = np.arctanh(np.clip(rho, -1, 1))
    half = special.ndtri(0.5 + confidence / 2) * np.sqrt(1.06 / max(n - 3, 1))
    return rho, pvalue, np.tanh(z - half), np.tanh(z + half)


def _independent(C: np.ndarray, tol: float = _COLLINEAR_TOL) -> tuple[np.ndarray, list[list[int]]]:
    """Greedy, in column order: keep a column unless earlier kept ones explain it exactly.

    Returns the keep mask and, for each dropped column, the kept columns it is a
    combination of.
    """
    p = C.shape[0]
    keep = np.zeros(p, bool)
    partners: list[list[int]] = [[] for _ in range(p)]
    for j in range(p):
        K = np.flatnonzero(keep)
        if K.size:
            coef = np.linalg.lstsq(C[np.ix_(K, K)], C[K, j], rcond=None)[0]
            resid = 1.0 - C[j, K] @ coef
            if resid < tol:
                partners[j] = [int(k) for k, c in zip(K, coef, strict=True) if abs(c) > 1e-6]
                continue
        keep[j] = True
    return keep, partners


def _regression(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Standardized regression coefficients (p, k), R^2 (k,), keep mask and partners.

    Solved from the correlation matrices; exactly collinear columns are dropped
    (coefficient NaN) since their coefficients are not identified.
    """
    Cxx = _corr(X, X)
    cxy = _corr(X, Y)
    keep, partners = _independent(Cxx)
    beta = np.full(cxy.shape, np.nan)
    K = np.flatnonzero(keep)
    with np.errstate(invalid="ignore"):
        beta[K] = np.linalg.solve(Cxx[np.ix_(K, K)], cxy[K]) if K.size else beta[K]
        r2 = np.einsum("pk,pk->k", beta[K], cxy[K])
    return beta, r2, keep, partners


def _lmg(Cxx: np.ndarray, cxy: np.ndarray) -> np.ndarray:
    """LMG / Shapley decomposition of R^2.

    The average gain in R^2 from adding each input, over all orders of entry. Exact
    (2^p regressions on the correlation matrix).
    """
    p, k = cxy.shape
    masks = np.arange(1 << p)
    r2 = np.zeros((masks.size, k))
    for m in masks[1:]:
        S = [j for j in range(p) if m >> j & 1]
        c = cxy[S]
        r2[m] = np.einsum(
            "sk,sk->k", c, np.linalg.pinv(Cxx[np.ix_(S, S)], rtol=1e-10, hermitian=True) @ c
        )
    size = np.array([bin(m).count("1") for m in masks])
    weight = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) for s in range(p)])
    out = np.zeros((p, k))
    for j in range(p):
        without = masks[(masks >> j & 1) == 0]
        out[j] = weight[size[without]] @ (r2[without | (1 << j)] - r2[without])
    return out


def _deciles(X: np.ndarray, Y: np.ndarray, bins: int = _DECILES):
    """Mean of Y within each of ``bins`` equal-count groups of each input.

    Draws are ordered by the input with ties broken by draw order (draws are i.i.d.,
    so this is a random split of a tie), so every group holds n / bins draws even for
    discrete inputs. Returns means (p, bins, k) and the input's range per group
    (p, bins) twice.
    """
    n, p = X.shape
    starts = (np.arange(bins) * n) // bins
    stops = np.append(starts[1:], n)
    counts = (stops - starts)[:, None]
    order = stable_argsort(X, axis=0)
    means = np.empty((p, bins, Y.shape[1]))
    lo = np.empty((p, bins))
    hi = np.empty((p, bins))
    for j in range(p):
        o = order[:, j]
        means[j] = np.add.reduceat(Y[o], starts, axis=0) / counts
        xs = X[o, j]
        lo[j], hi[j] = xs[starts], xs[stops - 1]
    return means, lo, hi


# --- risk drivers ---------------------------------------------------------------------------


def _inputs(ds: xr.Dataset, inputs: Sequence[str] | None) -> pd.DataFrame:
    names = input_names(ds)
    if inputs is not None:
        bad = [k for k in inputs if k not in names]
        if bad:
            raise ValueError(f"not sampled inputs of this Dataset: {bad}; have {names}")
        names = list(inputs)
    frame = pd.DataFrame({k: ds[k].values for k in names if np.ptp(ds[k].values) > 0})
    if frame.shape[1] == 0:
        raise ValueError("no sampled input varies across draws: nothing to attribute the risk to")
    return frame


def _prepare(ds, outcome, school, year, inputs):
    y = outcome_array(ds, outcome, school=school, year=year)
    X = _inputs(ds, inputs)
    Y = y.values.reshape(y.sizes["draw"], -1)
    ok = np.isfinite(Y).all(axis=1) & np.isfinite(X.to_numpy()).all(axis=1)
    if ok.sum() < _DECILES:
        raise ValueError(f"only {int(ok.sum())} draws with a finite outcome and inputs")
    X = X[ok]
    X = X.loc[:, np.ptp(X.to_numpy(), axis=0) > 0]
    return y, X, X.to_numpy(), Y[ok]


def risk_drivers(
    ds: xr.Dataset,
    outcome: str | xr.DataArray = "final_balance",
    school: str | None = None,
    year: int | Sequence[int] | str | None = None,
    *,
    inputs: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> xr.Dataset:
    """How strongly each sampled input drives an outcome, across the draws of one run.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`sustainsim.simulate`. With a ``scenario`` dim every
        scenario is analysed on its own.
    outcome, school, year
        The outcome, see :func:`outcome_array`: ``"final_balance"`` (default),
        ``"worst_balance"``, ``"solvent"``, ``"insolvent"``, a path variable
        (year by year) or a DataArray over ``draw``.
    inputs : list of str, optional
        Which sampled inputs; default all that vary.
    confidence : float
        Level of the Spearman intervals.

    Returns
    -------
    xarray.Dataset
        A ranked table: ``input`` (the variables' canonical names, see
        :mod:`sustainsim.model.names`) sorted by importance (the share of variance each
        explains, then the absolute rank correlation), most important first, with
        coordinates ``rank`` (1, 2, ...), ``label`` (for display), ``canonical_input``
        (the ``spec.inputs()`` name each belongs to) and ``path`` (the config path that
        sets it). Dims ``input`` [, ``year``], ``decile``:

        - ``spearman``, ``spearman_pvalue``, ``spearman_lower``, ``spearman_upper``:
          rank correlation, a two-sided test of zero, and its interval;
        - ``src``: standardized regression coefficients of the linear fit of the
          outcome on all inputs (``b_i sd(x_i) / sd(y)``), ``r2`` its R^2: SRCs are
          trustworthy where ``r2`` is high (say > 0.7); ``srrc`` and ``rank_r2``: the
          same on ranks (for monotone, non-linear effects);
        - ``contribution``: each input's share of the variance of the outcome
          explained by the linear fit; sums to ``r2``. It is the LMG (Shapley)
          decomposition of R^2 for up to :data:`MAX_LMG_INPUTS` inputs and Pratt's
          measure ``src * pearson`` above; both equal ``src ** 2`` when inputs are
          uncorrelated. Unlike squared SRCs they still add up to R^2 when inputs are
          correlated (e.g. ``district.cuts.event.count`` and
          ``district.cuts.cumulative``); LMG also never goes negative and splits evenly
          between exactly collinear inputs;
        - ``decile_mean``: mean outcome per decile of each input (P(outcome) for a
          yes/no outcome), ``decile_lower``/``decile_upper`` the input's range in each
          decile, ``decile_swing``: top minus bottom decile mean;
        - ``redundant_with``: for an input that is an exact linear function of
          earlier ones (its SRC is NaN), their names.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> rd = risk_drivers(sustainsim.simulate(spec, draws=2_000, seed=1), "solvent")
    >>> str(rd.input[0].values), int(rd["rank"][0]), round(float(rd.spearman[0]), 2)
    ('schools.ref.enrollment.change', 1, 0.2)
    >>> str(rd.canonical_input[0].values)
    'schools.ref.enrollment.innovation'
    >>> str(rd.label[0].values)
    'ref: enrollment shock (enrollment change over the horizon)'
    """
    if "scenario" in ds.dims:
        parts = [
            risk_drivers(
                ds.sel(scenario=s), outcome, school, year, inputs=inputs, confidence=confidence
            )
            for s in ds["scenario"].values
        ]
        return xr.concat(
            parts,
            dim=pd.Index(ds["scenario"].values, name="scenario"),
            join="outer",
            combine_attrs="override",
        )
    y, frame, X, Y = _prepare(ds, outcome, school, year, inputs)
    names = list(frame.columns)
    n, p = X.shape
    RX, RY = rankdata(X, axis=0), rankdata(Y, axis=0)
    rho, pval, lo, hi = _spearman(RX, RY, confidence)
    src, r2, keep, partners = _regression(X, Y)
    srrc, rank_r2, _, _ = _regression(RX, RY)
    K = np.flatnonzero(keep)
    contrib = np.zeros_like(src)
    Cxx, cxy = _corr(X, X), _corr(X, Y)
    if p <= MAX_LMG_INPUTS:
        method = "lmg"
        contrib = _lmg(Cxx, cxy)
    else:
        method = "pratt"
        contrib[K] = src[K] * cxy[K]
    means, dlo, dhi = _deciles(X, Y)

    path = "year" in y.dims
    tail = ("year",) if path else ()

    def shape(a: np.ndarray) -> np.ndarray:
        return a if path else a[..., 0]

    coords: dict[str, Any] = {"input": names, "decile": np.arange(1, _DECILES + 1)}
    if path:
        coords["year"] = y["year"].values
    di, dd, c = ("input", *tail), ("input", "decile", *tail), f"{confidence:.0%} interval"
    table = {  # name: (dims, values, long name)
        "spearman": (di, rho, "Spearman rank correlation with the outcome"),
        "spearman_pvalue": (di, pval, "two-sided p-value of zero rank correlation"),
        "spearman_lower": (di, lo, f"lower bound, {c} of the rank correlation"),
        "spearman_upper": (di, hi, f"upper bound, {c} of the rank correlation"),
        "src": (di, src, "standardized regression coefficient"),
        "r2": (tail, r2, "R^2 of the linear fit on all inputs"),
        "srrc": (di, srrc, "standardized rank regression coefficient"),
        "rank_r2": (tail, rank_r2, "R^2 of the linear fit on ranks"),
        "contribution": (di, contrib, f"share of variance explained ({method}); sums to r2"),
        "decile_mean": (dd, means, "mean outcome per decile of the input"),
        "decile_swing": (di, means[:, -1] - means[:, 0], "top minus bottom decile mean"),
    }
    out = xr.Dataset(
        {k: (d, shape(v), {"long_name": ln}) for k, (d, v, ln) in table.items()}, coords=coords
    )
    for k in ("spearman", "spearman_pvalue", "src", "r2", "srrc", "rank_r2", "contribution"):
        out[k].attrs["units"] = "1"
    out["decile_lower"] = (("input", "decile"), dlo, {"long_name": "smallest input in decile"})
    out["decile_upper"] = (("input", "decile"), dhi, {"long_name": "largest input in decile"})
    out["redundant_with"] = ("input", [", ".join(names[k] for k in pr) for pr in partners])
    out["redundant_with"].attrs["long_name"] = "inputs this one is an exact linear function of"
    out = out.assign_coords(_input_coords(ds, names))
    out.attrs = {
        "outcome": y.name,
        "outcome_long_name": y.attrs["long_name"],
        "outcome_units": y.attrs["units"],
        "binary_outcome": y.attrs["binary"],
        "school": "" if school is None else school,
        "draws": n,
        "contribution_method": method,
        "confidence": confidence,
    }
    return _ranked(out)


def _input_coords(ds: xr.Dataset, names: Sequence[str]) -> dict[str, tuple]:
    """``label``, ``canonical_input`` and ``path`` of each input, from its attrs."""
    return {
        coord: ("input", [str(ds[k].attrs.get(attr, k if attr == "label" else "")) for k in names])
        for coord, attr in (("label", "label"), ("canonical_input", "input"), ("path", "path"))
    }


def _ranked(out: xr.Dataset) -> xr.Dataset:
    """The table sorted by importance, most important input first, with its ``rank``.

    Importance is the share of variance explained (``contribution``; over years its
    largest), ties and unexplained inputs broken by the absolute rank correlation.
    """
    other = [d for d in out["contribution"].dims if d != "input"]
    share = np.nan_to_num(
        abs(out["contribution"]).max(other).values if other else abs(out["contribution"]).values
    )
    corr = np.nan_to_num(
        abs(out["spearman"]).max(other).values if other else abs(out["spearman"]).values
    )
    order = np.lexsort((-corr, -share))
    out = out.isel(input=order)
    out = out.assign_coords(rank=("input", np.arange(1, out.sizes["input"] + 1)))
    out["rank"].attrs["long_name"] = "importance rank (1 = explains the most variance)"
    out.attrs["ranked_by"] = "contribution, then |spearman|"
    return out


def tornado_table(
    ds: xr.Dataset,
    outcome: str | xr.DataArray = "final_balance",
    school: str | None = None,
    low: float = 0.1,
    high: float = 0.9,
    *,
    year: int | None = None,
    inputs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean outcome with each input in its bottom vs top tail, for a tornado chart.

    Parameters
    ----------
    ds, outcome, school, year
        As in :func:`risk_drivers`; the outcome must be one number per draw.
    low, high : float
        The tails: draws whose input is among the lowest ``low`` share and the highest
        ``1 - high`` share (by rank, ties split in draw order).

    Returns
    -------
    pandas.DataFrame
        Columns ``input``, ``label``, ``low``, ``high`` (mean outcome in the bottom and top tail),
        ``base`` (mean over all draws), ``low_value`` and ``high_value`` (the input's
        ``low`` and ``high`` quantiles), sorted by ``|high - low|``, largest first.
        Inputs that order the draws exactly like an earlier input (e.g. a grant's end
        and its last fiscal year) would draw the same bar and are left out; their names
        are in ``attrs["duplicates"]``. ``attrs`` also hold the outcome's ``long_name``
        and ``units`` (``"1"`` for a yes/no outcome, whose means are probabilities).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> table = tornado_table(sustainsim.simulate(spec, draws=2_000, seed=1), "solvent")
    >>> table.set_index("input")[["low", "high"]].round(2).iloc[:2].to_dict("index")
    {'schools.ref.enrollment.change': {'low': 0.0, 'high': 0.12}, \
'district.cuts.event.count': {'low': 0.06, 'high': 0.0}}
    >>> table.attrs["duplicates"]
    {'schools.ref.revenue.grant.last_year': 'schools.ref.revenue.grant.end'}
    """
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1 (got low={low}, high={high})")
    _no_scenario(ds, "tornado_table")
    y, frame, X, Y = _prepare(ds, outcome, school, year, inputs)
    if Y.shape[1] != 1:
        raise ValueError("tornado_table needs one number per draw; pass year=FISCAL_YEAR")
    n = X.shape[0]
    n_lo, n_hi = max(1, round(low * n)), max(1, round((1 - high) * n))
    order = stable_argsort(X, axis=0)
    rows: list[dict] = []
    seen: list[tuple[str, np.ndarray]] = []
    dups: dict[str, str] = {}
    for j, name in enumerate(frame.columns):
        o = order[:, j]
        twin = next(
            (k for k, oo in seen if np.array_equal(oo, o) or np.array_equal(oo, o[::-1])), None
        )
        if twin is not None:
            dups[name] = twin
            continue
        seen.append((name, o))
        rows.append(
            {
                "input": name,
                "label": str(ds[name].attrs.get("label", name)),
                "low": float(Y[o[:n_lo], 0].mean()),
                "high": float(Y[o[n - n_hi :], 0].mean()),
                "base": float(Y[:, 0].mean()),
                "low_value": float(np.quantile(X[:, j], low)),
                "high_value": float(np.quantile(X[:, j], high)),
            }
        )
    df = pd.DataFrame(rows)
    df = df.iloc[np.argsort(-np.abs(df["high"] - df["low"]).to_numpy(), kind="stable")]
    df = df.reset_index(drop=True)
    df.attrs.update(
        {
            "outcome": y.name,
            "long_name": y.attrs["long_name"],
            "units": y.attrs["units"],
            "low": low,
            "high": high,
            "duplicates": dups,
        }
    )
    return df
