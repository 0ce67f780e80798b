"""Scenario discovery: which combinations of inputs lead to insolvency.

The Patient Rule Induction Method (PRIM; Friedman and Fisher 1999, as used for
scenario discovery by Bryant and Lempert 2010 and the EMA workbench) looks for a box
``lower <= x <= upper`` in the space of sampled inputs that holds many of the cases
of interest (coverage) and few of the others (density):

* **peeling**: starting from all draws, repeatedly cut off the ``alpha`` share of the
  box's draws with the lowest or highest value of one input, choosing the cut with
  the largest gain in density per draw removed (the EMA workbench's default
  "lenient1" objective), until no cut raises density or the box would hold less
  than ``min_mass`` of the draws;
* **pasting** (optional): widen the final box along its restricted inputs while that
  raises its density.

Every intermediate box is kept: the trajectory trades coverage for density and the
user picks a box (default: the largest ``coverage - mass``, see
:attr:`PrimResult.default_box`). Box limits are data
values and inclusive, so a box contains exactly the draws the counts refer to.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
>>> res = prim(X, (X.a < 0.3) & (X.b > 0.6))
>>> sorted(res.box().index)
['a', 'b']
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim.analysis.sensitivity import outcome_array
from sustainsim.results import input_names

__all__ = ["PrimResult", "prim"]

_OPS: dict[str, Callable] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_RULE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE_]+)\s*$")


def _rule(threshold_rule, values: np.ndarray, name: str) -> tuple[np.ndarray, str, str]:
    """Cases of interest from an outcome, with a plural label and a predicate label."""
    if values.dtype == bool and threshold_rule is None:
        if name == "outcome":
            return values, "cases of interest", "are cases of interest"
        return values, f"{name} draws", f"are {name}"
    if callable(threshold_rule):
        flags = np.asarray(threshold_rule(values), dtype=bool)
        label = f"{name} meeting the rule"
        return flags, f"draws with {label}", f"have {label}"
    rule = "< 0" if threshold_rule is None else threshold_rule
    if isinstance(rule, str):
        m = _RULE.match(rule)
        if m is None:
            raise ValueError(
                f"threshold_rule {rule!r} not understood; write e.g. '< 0' or '>= 0.5', "
                "give (op, value) or a function of the outcome array"
            )
        rule = (m.group(1), float(m.group(2).replace("_", "")))
    op, value = rule
    if op not in _OPS:
        raise ValueError(f"threshold_rule operator {op!r} not one of {list(_OPS)}")
    label = f"{name} {op} {value:g}"
    return _OPS[op](values, value), f"draws with {label}", f"have {label}"


def _fmt(value: float, units: str, integer: bool) -> str:
    if units == "fiscal year":
        return f"FY{int(round(value))}"
    if integer:
        return f"{int(round(value))}"
    if units == "USD":
        return f"${value:,.0f}"
    if units == "1":
        return f"{100 * value:.1f}%"
    return f"{value:.4g}"


@dataclass
class PrimResult:
    """A PRIM peeling (and pasting) trajectory over the sampled inputs.

    Attributes
    ----------
    inputs : list of str
        The input names (columns of ``x``).
    x : ndarray (n, p)
        The inputs; ``y`` (n,) bool the cases of interest.
    lower, upper : ndarray (boxes, p)
        Inclusive limits of every box on the trajectory.
    steps : list of str
        ``"start"``, ``"peel"`` or ``"paste"`` for every box.
    """

    inputs: list[str]
    x: np.ndarray
    y: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    steps: list[str]
    units: dict[str, str] = field(default_factory=dict)
    cases: str = "cases of interest"
    predicate: str = "are cases of interest"

    def __post_init__(self) -> None:
        self._lo0 = self.x.min(axis=0)
        self._hi0 = self.x.max(axis=0)
        self._integer = np.all(self.x == np.round(self.x), axis=0)

    def _check(self, i: int | None) -> int:
        m = self.lower.shape[0]
        if i is None:
            return self.default_box
        if not -m <= i < m:
            raise IndexError(f"box {i} out of range: the trajectory has boxes 0..{m - 1}")
        return i % m

    def _mask(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.all((self.x >= lo) & (self.x <= hi), axis=1)

    def in_box(self, i: int | None = None) -> np.ndarray:
        """Which draws are in box ``i`` (default :attr:`default_box`), bool (n,)."""
        i = self._check(i)
        return self._mask(self.lower[i], self.upper[i])

    def _restricted(self, i: int) -> np.ndarray:
        return (self.lower[i] > self._lo0) | (self.upper[i] < self._hi0)

    @property
    def trajectory(self) -> pd.DataFrame:
        """One row per box: ``coverage``, ``density``, ``mass``, ``n_restricted``, counts."""
        return self._trajectory.copy()

    @cached_property
    def _trajectory(self) -> pd.DataFrame:
        total = int(self.y.sum())
        rows = []
        for i in range(self.lower.shape[0]):
            m = self.in_box(i)
            n_box, k_box = int(m.sum()), int(self.y[m].sum())
            rows.append(
                {
                    "coverage": k_box / total if total else np.nan,
                    "density": k_box / n_box if n_box else np.nan,
                    "mass": n_box / len(self.y),
                    "n_restricted": int(self._restricted(i).sum()),
                    "n": n_box,
                    "k": k_box,
                    "step": self.steps[i],
                }
            )
        df = pd.DataFrame(rows)
        df.index.name = "box"
        return df

    @property
    def default_box(self) -> int:
        """The box with the largest ``coverage - mass`` (earliest if tied).

        That is the weighted relative accuracy of subgroup discovery, proportional to
        ``mass * (density - base density)``: the cases of interest the box holds beyond
        what a random box of the same size would. Unlike the harmonic mean of coverage
        and density it never settles on the whole space when cases are common.
        """
        t = self._trajectory
        score = (t["coverage"] - t["mass"]).to_numpy()
        return int(np.argmax(np.round(score, 12)))

    def box(self, i: int | None = None) -> pd.DataFrame:
        """The restricted inputs of box ``i`` with their limits.

        Returns
        -------
        pandas.DataFrame
            Index ``input``; columns ``lower``, ``upper`` (inclusive limits), ``min``,
            ``max`` (the input's range over all draws), ``density_without`` (the
            box's density with this restriction dropped), ``quasi_p`` (one-sided
            binomial test that the restriction raises density; Bryant and Lempert
            2010) and ``redundant`` (dropping it leaves the same draws in the box:
            other restrictions imply it). Ordered by ``density_without``, the most
            important first.
        """
        from scipy.stats import binom  # on first use: scipy.stats takes a quarter second

        i = self._check(i)
        m = self.in_box(i)
        n_box, k_box = int(m.sum()), int(self.y[m].sum())
        rows = []
        for j in np.flatnonzero(self._restricted(i)):
            lo, hi = self.lower[i].copy(), self.upper[i].copy()
            lo[j], hi[j] = self._lo0[j], self._hi0[j]
            mj = self._mask(lo, hi)
            dens = self.y[mj].mean()
            same = int(mj.sum()) == n_box
            qp = binom.sf(k_box - 1, n_box, dens) if n_box else np.nan
            rows.append(
                {
                    "input": self.inputs[j],
                    "lower": self.lower[i, j],
                    "upper": self.upper[i, j],
                    "min": self._lo0[j],
                    "max": self._hi0[j],
                    "density_without": dens,
                    "quasi_p": float(qp),
                    "redundant": same,
                }
            )
        cols = ["lower", "upper", "min", "max", "density_without", "quasi_p", "redundant"]
        df = pd.DataFrame(rows, columns=["input", *cols]).set_index("input")
        return df.sort_values("density_without", kind="stable")

    def describe(self, i: int | None = None) -> str:
        """Box ``i`` in words: its conditions (redundant ones left out), coverage and density."""
        i = self._check(i)
        t = self._trajectory.iloc[i]
        b = self.box(i)
        b = b[~b["redundant"]]
        parts = []
        for name, r in b.iterrows():
            j = self.inputs.index(name)
            u, integer = self.units.get(name, ""), bool(self._integer[j])
            lo_on, hi_on = r["lower"] > r["min"], r["upper"] < r["max"]
            lo, hi = _fmt(r["lower"], u, integer), _fmt(r["upper"], u, integer)
            if r["lower"] == r["upper"]:
                parts.append(f"{name} = {lo}")
            elif lo_on and hi_on:
                parts.append(f"{name} from {lo} to {hi}")
            elif lo_on:
                parts.append(f"{name} >= {lo}")
            else:
                parts.append(f"{name} <= {hi}")
        where = " AND ".join(parts) if parts else "all draws"
        return (
            f"{where}: covers {t['coverage']:.0%} of {self.cases}, "
            f"{t['density']:.0%} of draws in the box {self.predicate} "
            f"(the box holds {t['mass']:.0%} of all draws)"
        )

    def __repr__(self) -> str:
        t = self.trajectory
        return (
            f"PrimResult({len(self.inputs)} inputs, {len(self.y)} draws, "
            f"{int(self.y.sum())} {self.cases}, {len(t)} boxes; "
            f"default box {self.default_box}: {self.describe()})"
        )


# --- the algorithm (numpy) ------------------------------------------------------------------


def _peel(x, y, lo, hi, inbox, alpha, min_n, restricted):
    """One peel: the best cut of the current box, or None."""
    idx = np.flatnonzero(inbox)
    xb, yb = x[idx], y[idx]
    n_old = idx.size
    mean_old = yb.mean()
    k = max(1, int(alpha * n_old))
    best = None
    for j in range(x.shape[1]):
        col = xb[:, j]
        for side in (0, 1):
            if side == 0:
                cut = np.partition(col, k - 1)[k - 1]
                keep = col > cut
            else:
                cut = np.partition(col, n_old - k)[n_old - k]
                keep = col < cut
            n_new = int(keep.sum())
            if n_new < min_n or n_new == 0:
                continue
            obj = (yb[keep].mean() - mean_old) / (n_old - n_new)
            # prefer cutting an input that is already restricted (simpler boxes)
            score = (obj, -int(not restricted[j]))
            if obj > 0 and (best is None or score > best[0]):
                best = (score, j, side, idx[keep], col[keep])
    if best is None:
        return None
    _, j, side, keep_idx, kept = best
    lo, hi = lo.copy(), hi.copy()
    if side == 0:
        lo[j] = kept.min()
    else:
        hi[j] = kept.max()
    mask = np.zeros_like(inbox)
    mask[keep_idx] = True
    return lo, hi, mask, j


def _paste(x, y, lo, hi, inbox, alpha, lo0, hi0):
    """One paste: the best widening of a restricted limit that raises density, or None."""
    n_old = int(inbox.sum())
    mean_old = y[inbox].mean()
    k = max(1, int(alpha * n_old))
    best = None
    for j in range(x.shape[1]):
        for side in (0, 1):
            if (side == 0 and lo[j] <= lo0[j]) or (side == 1 and hi[j] >= hi0[j]):
                continue
            others = np.ones(len(y), bool)
            for jj in range(x.shape[1]):
                if jj != j:
                    others &= (x[:, jj] >= lo[jj]) & (x[:, jj] <= hi[jj])
            col = x[:, j]
            out = others & ((col < lo[j]) if side == 0 else (col > hi[j]))
            cand = col[out]
            if cand.size == 0:
                continue
            kk = min(k, cand.size)
            if side == 0:
                limit = np.partition(cand, cand.size - kk)[cand.size - kk]
                new = others & (col >= limit) & (col <= hi[j])
            else:
                limit = np.partition(cand, kk - 1)[kk - 1]
                new = others & (col >= lo[j]) & (col <= limit)
            n_new = int(new.sum())
            obj = (y[new].mean() - mean_old) / (n_new - n_old)
            if obj > 0 and (best is None or obj > best[0]):
                best = (obj, j, side, limit, new)
    if best is None:
        return None
    _, j, side, limit, new = best
    lo, hi = lo.copy(), hi.copy()
    if side == 0:
        lo[j] = limit
    else:
        hi[j] = limit
    return lo, hi, new


def _prim(
    x: np.ndarray, y: np.ndarray, alpha: float, min_mass: float, paste: bool, paste_alpha: float
):
    n = len(y)
    lo0, hi0 = x.min(axis=0), x.max(axis=0)
    lo, hi, inbox = lo0.copy(), hi0.copy(), np.ones(n, bool)
    restricted = np.zeros(x.shape[1], bool)
    lowers, uppers, steps = [lo], [hi], ["start"]
    min_n = max(1, int(np.ceil(min_mass * n)))
    while True:
        step = _peel(x, y, lo, hi, inbox, alpha, min_n, restricted)
        if step is None:
            break
        lo, hi, inbox, j = step
        restricted[j] = True
        lowers.append(lo)
        uppers.append(hi)
        steps.append("peel")
    while paste:
        step = _paste(x, y, lo, hi, inbox, paste_alpha, lo0, hi0)
        if step is None:
            break
        lo, hi, inbox = step
        lowers.append(lo)
        uppers.append(hi)
        steps.append("paste")
    return np.array(lowers), np.array(uppers), steps


def _dataset_inputs(data, outcome, school, year, inputs):
    """``(inputs table, units, outcome values, outcome name)`` of a simulated Dataset."""
    if "scenario" in data.dims:
        raise ValueError(
            "prim works on one scenario at a time; select one first, e.g. "
            f"ds.sel(scenario={data['scenario'].values[0]!r})"
        )
    names = input_names(data) if inputs is None else list(inputs)
    bad = [k for k in names if k not in data.data_vars]
    if bad:
        raise ValueError(f"not sampled inputs of this Dataset: {bad}")
    frame = pd.DataFrame({k: data[k].values for k in names})
    units = {k: data[k].attrs.get("units", "") for k in names}
    if outcome is not None and not isinstance(outcome, str | xr.DataArray):
        raise TypeError(
            "with a Dataset, outcome is a name or a DataArray over draw "
            f"(got {type(outcome).__name__})"
        )
    y_da = outcome_array(
        data, "insolvent" if outcome is None else outcome, school=school, year=year
    )
    if "year" in y_da.dims:
        raise ValueError("the outcome is a path; pass year=FISCAL_YEAR")
    values = y_da.values.astype(bool) if y_da.attrs.get("binary") else y_da.values
    return frame, units, values, str(y_da.name)


def _table_inputs(data, outcome, inputs):
    """``(inputs table, outcome values, outcome name)`` of a table, one row per draw."""
    if outcome is None:
        raise ValueError("with a DataFrame, give outcome: a column name or one value per row")
    frame = data
    if isinstance(outcome, str):
        if outcome not in data.columns:
            raise ValueError(f"no column {outcome!r}; have {list(data.columns)}")
        values, name = data[outcome].to_numpy(), outcome
        frame = data.drop(columns=outcome)
    else:
        values = np.asarray(outcome)
        name = str(getattr(outcome, "name", None) or "outcome")
    if inputs is not None:
        frame = frame[list(inputs)]
    if len(values) != len(frame):
        raise ValueError(f"outcome has {len(values)} values for {len(frame)} rows")
    return frame, values, name


def prim(
    data: xr.Dataset | pd.DataFrame,
    outcome: str | xr.DataArray | np.ndarray | pd.Series | None = None,
    *,
    school: str | None = None,
    year: int | None = None,
    threshold_rule: str | tuple[str, float] | Callable[[np.ndarray], np.ndarray] | None = None,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    paste: bool = True,
    paste_alpha: float = 0.05,
    inputs: Sequence[str] | None = None,
) -> PrimResult:
    """Find boxes of inputs where the cases of interest (default: insolvency) concentrate.

    Parameters
    ----------
    data : xarray.Dataset or pandas.DataFrame
        Results of :func:`sustainsim.simulate` (one scenario; its sampled inputs that
        vary are the box dimensions) or a table of inputs, one row per draw.
    outcome : str, DataArray, array or Series, optional
        For a Dataset: a name or DataArray as in
        :func:`sustainsim.analysis.sensitivity.outcome_array`; default ``"insolvent"``
        (fund balance below zero in some year through the horizon, or through
        ``year``). For a DataFrame: a column name (that column is then not an input)
        or one value per row.
    school : str, optional
        Which school; default the only one or the district total.
    year : int, optional
        Evaluate the outcome at (through) this fiscal year; default the horizon.
    threshold_rule : str, (op, value) or callable, optional
        Turns a numeric outcome into cases of interest, e.g. ``"< 0"`` (the default
        for numbers), ``(">=", 0.5)`` or ``lambda y: y < -1e5``. Boolean outcomes
        are used as they are (True is a case of interest).
    alpha : float
        Share of the box's draws cut off by one peel.
    min_mass : float
        Smallest share of all draws a box may hold.
    paste : bool
        Widen the last peeled box while that raises density.
    paste_alpha : float
        Share of the box's draws added by one paste.
    inputs : list of str, optional
        Box dimensions; default every varying input.

    Returns
    -------
    PrimResult
        ``.trajectory``, ``.box(i)``, ``.describe(i)``, ``.in_box(i)``.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> res = prim(sustainsim.simulate(spec, draws=2_000, seed=1))
    >>> res.trajectory[["coverage", "density", "mass"]].iloc[-1].round(2).tolist()
    [0.75, 1.0, 0.74]
    >>> print(res.describe())  # doctest: +NORMALIZE_WHITESPACE
    schools.ref.enrollment.change <= -2.8%: covers 75% of insolvent draws, 100% of draws in
    the box are insolvent (the box holds 74% of all draws)
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5) (got {alpha})")
    if not 0 < paste_alpha < 1:
        raise ValueError(f"paste_alpha must be in (0, 1) (got {paste_alpha})")
    if not 0 <= min_mass < 1:
        raise ValueError(f"min_mass must be in [0, 1) (got {min_mass})")
    units: dict[str, str] = {}
    if isinstance(data, xr.Dataset):
        frame, units, values, name = _dataset_inputs(data, outcome, school, year, inputs)
    elif isinstance(data, pd.DataFrame):
        frame, values, name = _table_inputs(data, outcome, inputs)
    else:
        raise TypeError(f"data must be an xarray.Dataset or a pandas.DataFrame (got {type(data)})")
    flags, cases, predicate = _rule(threshold_rule, values, name)

    frame = frame.astype(float)
    frame = frame.loc[:, frame.nunique() > 1]
    x = frame.to_numpy()
    y = np.asarray(flags, dtype=bool)
    if not np.isfinite(x).all():
        raise ValueError("inputs have non-finite values")
    if x.shape[1] == 0:
        raise ValueError("no input varies across draws: nothing to box")
    if not y.any():
        raise ValueError(f"no {cases}: nothing to discover")
    lower, upper, steps = _prim(x, y, alpha, min_mass, paste, paste_alpha)
    return PrimResult(list(frame.columns), x, y, lower, upper, steps, units, cases, predicate)
