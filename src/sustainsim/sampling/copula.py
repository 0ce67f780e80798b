"""Correlated inputs: a rank-correlation matrix over named streams, by Gaussian copula.

:class:`CorrelatedSource` wraps any :class:`~sustainsim.sampling.UniformSource`. When
a stream of its group is asked for, it draws the base uniforms of *every* member for
the same draws and the same ``index``, maps them to standard normals, mixes them
with a factor ``A`` of the normal-copula correlation ``R`` (``A A^T = R``) and maps
back with the normal CDF::

    z = ndtri(u)           (k, n)  independent standard normals
    u' = ndtr(A z)         (k, n)  uniforms with the requested rank correlation

Each draw is transformed on its own, so the result does not depend on the chunking
and every marginal stays exactly uniform: the inputs' distributions are unchanged,
only their dependence is set. For a normal copula, Spearman's rank correlation
``rho_s`` and the normal correlation ``r`` are related by
``r = 2 sin(pi rho_s / 6)`` (and ``rho_s = (6 / pi) asin(r / 2)``), so the requested
*rank* correlations hold for any marginal distributions.

A group correlates members at the same ``index``: per-draw inputs (index 0) with each
other, or per-year inputs year by year (e.g. the enrollment innovations of two
schools). Mixing a per-draw with a per-year input in one group correlates nothing
useful; :meth:`CorrelatedSource.unrequested` reports members never asked for.

A matrix that is not positive semi-definite (after the conversion to ``r``) is
replaced by the nearest correlation matrix in the Frobenius norm (Higham 2002) with a
:class:`UserWarning` saying how much it changed, or rejected with ``strict=True``.

:func:`iman_conover` reorders whole samples instead (Iman and Conover 1982); it
needs all draws at once, so it is offered for post-hoc use, not for chunked runs.

Examples
--------
>>> from sustainsim.sampling import MonteCarlo
>>> src = CorrelatedSource(MonteCarlo(1), ["a", "b"], np.array([[1.0, 0.7], [0.7, 1.0]]))
>>> u, v = src.uniforms("a", 0, 20_000), src.uniforms("b", 0, 20_000)
>>> from scipy.stats import spearmanr
>>> round(float(spearmanr(u, v).statistic), 1)
0.7
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy import special

from sustainsim.sampling.distributions import U_MAX, U_MIN
from sustainsim.sampling.streams import UniformSource

__all__ = [
    "CorrelatedSource",
    "correlate",
    "correlation_problems",
    "iman_conover",
    "matrix_from_pairs",
    "nearest_correlation",
    "pearson_to_spearman",
    "spearman_to_pearson",
    "validate_correlation",
]

#: tolerance on symmetry and the unit diagonal of a given matrix
_TOL = 1e-9
#: smallest eigenvalue accepted as positive semi-definite (rounding)
_PSD_TOL = 1e-10


def spearman_to_pearson(rho_s):
    """Normal-copula correlation giving Spearman correlation ``rho_s``: ``2 sin(pi rho_s / 6)``.

    Examples
    --------
    >>> float(spearman_to_pearson(0.5))
    0.5176380902050415
    """
    return 2.0 * np.sin(np.pi * np.asarray(rho_s, dtype=float) / 6.0)


def pearson_to_spearman(r):
    """Spearman correlation of a normal copula with correlation ``r``: ``(6 / pi) asin(r / 2)``."""
    return 6.0 / np.pi * np.arcsin(np.asarray(r, dtype=float) / 2.0)


def _label(names: Sequence[str] | None, i: int) -> str:
    return repr(names[i]) if names is not None else str(i)


def validate_correlation(
    matrix, names: Sequence[str] | None = None, what: str = "rank_corr"
) -> np.ndarray:
    """Check a correlation matrix's form; return it as a float array.

    Checks: 2-D and square, one row per name, finite, symmetric, unit diagonal,
    entries in [-1, 1], names unique. Positive semi-definiteness is checked by
    :class:`CorrelatedSource` (which can repair it).

    Raises
    ------
    ValueError
        Naming the first offending entry and what is allowed.
    """
    if names is not None:
        names = list(names)
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"correlated input names must be unique; repeated: {', '.join(dup)}")
        if len(names) < 2:
            raise ValueError(f"a correlation group needs at least 2 inputs (got {names})")
    try:
        m = np.array(matrix, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a square matrix of numbers") from None
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{what} must be a square matrix (got shape {m.shape})")
    k = m.shape[0]
    if names is not None and k != len(names):
        raise ValueError(
            f"{what} is {k}x{k} but there are {len(names)} inputs ({', '.join(names)}); "
            "need one row and column per input"
        )
    if not np.all(np.isfinite(m)):
        i, j = np.argwhere(~np.isfinite(m))[0]
        raise ValueError(f"{what}[{i}][{j}] is not a finite number (got {m[i, j]})")
    bad = np.abs(m) > 1.0
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{what}[{i}][{j}] (between {_label(names, i)} and {_label(names, j)}) = {m[i, j]:g}; "
            "correlations must be in [-1, 1]"
        )
    asym = np.abs(m - m.T)
    if asym.max(initial=0.0) > _TOL:
        i, j = (int(x) for x in np.unravel_index(np.argmax(asym), asym.shape))
        raise ValueError(
            f"{what} must be symmetric: [{i}][{j}] = {m[i, j]:g} but [{j}][{i}] = {m[j, i]:g} "
            f"(between {_label(names, i)} and {_label(names, j)})"
        )
    diag = np.abs(np.diag(m) - 1.0)
    if diag.max(initial=0.0) > _TOL:
        i = int(np.argmax(diag))
        raise ValueError(
            f"{what} must have 1 on the diagonal: [{i}][{i}] = {m[i, i]:g} ({_label(names, i)})"
        )
    m = 0.5 * (m + m.T)
    np.fill_diagonal(m, 1.0)
    return m


def nearest_correlation(a: np.ndarray, *, tol: float = 1e-12, max_iter: int = 1000) -> np.ndarray:
    """The nearest correlation matrix to symmetric ``a`` in the Frobenius norm.

    Higham's (2002) alternating projections with Dykstra's correction: project onto
    the positive semi-definite matrices (clip negative eigenvalues) and onto the
    matrices with unit diagonal, in turn, until they agree.

    Examples
    --------
    >>> a = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    >>> bool(np.linalg.eigvalsh(nearest_correlation(a)).min() > -1e-12)
    True
    """
    a = np.asarray(a, dtype=float)
    y = 0.5 * (a + a.T)
    ds = np.zeros_like(y)
    x = y
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0.0)) @ v.T
        x = 0.5 * (x + x.T)
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        size = max(1.0, float(np.linalg.norm(y, "fro")))
        done = float(np.linalg.norm(y_new - y, "fro")) <= tol * size
        y = y_new
        if done:
            break
    # a last PSD projection and rescaling to unit diagonal: valid to rounding error
    w, v = np.linalg.eigh(y)
    x = (v * np.maximum(w, 0.0)) @ v.T
    d = 1.0 / np.sqrt(np.diag(x))
    x = x * d[:, None] * d[None, :]
    x = 0.5 * (x + x.T)
    np.fill_diagonal(x, 1.0)
    return np.clip(x, -1.0, 1.0)


def _factor(r: np.ndarray) -> np.ndarray:
    """A factor ``A`` with ``A A^T = r`` and unit row norms (Cholesky when definite)."""
    try:
        a = np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(r)
        a = v * np.sqrt(np.maximum(w, 0.0))
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def matrix_from_pairs(
    names: Sequence[str],
    pairs: Mapping[tuple[str, str], float] | Iterable[tuple[str, str, float]],
) -> np.ndarray:
    """A correlation matrix over ``names`` from pairwise entries; unlisted pairs are 0.

    Examples
    --------
    >>> matrix_from_pairs(["a", "b", "c"], [("a", "c", 0.5)])
    array([[1. , 0. , 0.5],
           [0. , 1. , 0. ],
           [0.5, 0. , 1. ]])
    """
    names = list(names)
    pos = {n: i for i, n in enumerate(names)}
    items = (
        [(a, b, v) for (a, b), v in pairs.items()] if isinstance(pairs, Mapping) else list(pairs)
    )
    m = np.eye(len(names))
    seen: dict[tuple[int, int], float] = {}
    for a, b, v in items:
        for x in (a, b):
            if x not in pos:
                raise ValueError(f"correlation pair ({a!r}, {b!r}): {x!r} is not one of {names}")
        i, j = sorted((pos[a], pos[b]))
        if i == j:
            raise ValueError(f"correlation pair ({a!r}, {b!r}) pairs an input with itself")
        if (i, j) in seen and seen[(i, j)] != v:
            raise ValueError(f"correlation pair ({a!r}, {b!r}) given twice: {seen[(i, j)]} and {v}")
        seen[(i, j)] = v
        m[i, j] = m[j, i] = v
    return m


class _Blocks(threading.local):
    """The blocks of the chunk a thread is at: ``range`` (start, stop) and index -> block."""

    def __init__(self) -> None:
        self.range: tuple[int, int] | None = None
        self.cache: dict[int, np.ndarray] = {}


class CorrelatedSource:
    """A uniform source whose streams ``names`` have rank correlation ``rank_corr``.

    Parameters
    ----------
    base : UniformSource
        Where the independent uniforms come from (any sampler).
    names : list of str
        Stream names of the group, in the order of the matrix rows.
    rank_corr : array (k, k)
        Requested Spearman rank correlations.
    strict : bool
        Reject a matrix that is not positive semi-definite (``ValueError``) instead of
        repairing it with a warning.

    Attributes
    ----------
    rank_corr : ndarray
        The rank correlations actually used (after any repair).
    pearson : ndarray
        The normal-copula correlation ``2 sin(pi rank_corr / 6)``.
    repair : dict or None
        ``{"frobenius": ..., "max_abs": ...}`` change of the rank correlations made by
        the repair, or None.

    Notes
    -----
    The group's block for ``(start, stop, index)`` is computed once and cached (per
    thread) until a different range of draws is asked for, so all members of a chunk cost one copula
    transform. With the Cholesky factor the first member's uniforms are its base
    uniforms unchanged. Other streams pass through untouched. Groups must be
    disjoint; nest wrappers (or use :func:`correlate`) for several groups.

    Examples
    --------
    >>> from sustainsim.sampling import MonteCarlo
    >>> src = CorrelatedSource(MonteCarlo(0), ["g1", "g2"], [[1, -0.5], [-0.5, 1]])
    >>> src.uniforms("g2", 0, 3).shape
    (3,)
    """

    def __init__(
        self,
        base: UniformSource,
        names: Sequence[str],
        rank_corr,
        strict: bool = False,
    ):
        names = [str(n) for n in names]
        requested = validate_correlation(rank_corr, names)
        pearson = spearman_to_pearson(requested)
        np.fill_diagonal(pearson, 1.0)
        self.repair: dict[str, float] | None = None
        w_min = float(np.linalg.eigvalsh(pearson).min())
        if w_min < -_PSD_TOL:
            fixed = nearest_correlation(pearson)
            used = pearson_to_spearman(fixed)
            np.fill_diagonal(used, 1.0)
            diff = used - requested
            i, j = np.unravel_index(np.argmax(np.abs(diff)), diff.shape)
            self.repair = {
                "frobenius": float(np.linalg.norm(diff, "fro")),
                "max_abs": float(np.abs(diff).max()),
            }
            msg = (
                f"the rank correlation matrix over {names} is not a valid correlation matrix "
                f"(smallest eigenvalue of its normal-copula form {w_min:.4g} < 0)"
            )
            if strict:
                raise ValueError(
                    msg + f"; the nearest valid one differs by {self.repair['frobenius']:.4g} "
                    f"(Frobenius norm), {self.repair['max_abs']:.4g} at most per entry "
                    f"(between {names[i]!r} and {names[j]!r}); fix the matrix or pass "
                    "strict=False to repair it"
                )
            warnings.warn(
                msg + "; using the nearest valid matrix (Higham 2002): Frobenius norm of the "
                f"change {self.repair['frobenius']:.4g}, largest entry change "
                f"{self.repair['max_abs']:.4g} (between {names[i]!r} and {names[j]!r})",
                UserWarning,
                stacklevel=2,
            )
            pearson, requested = fixed, used
        self.base = base
        self.names = names
        self.rank_corr = requested
        self.pearson = pearson
        self.factor = _factor(pearson)
        eye = np.eye(len(names))
        self._identity = [bool(np.array_equal(self.factor[i], eye[i])) for i in range(len(names))]
        self._pos = {n: i for i, n in enumerate(names)}
        self._blocks = _Blocks()
        self._requested: set[str] = set()
        self.name = f"{getattr(base, 'name', type(base).__name__)}+gaussian_copula"

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_blocks"]  # a cache, and per thread: not sent to other processes
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._blocks = _Blocks()

    def _block(self, start: int, stop: int, index: int) -> np.ndarray:
        mine = self._blocks  # this thread's: chunks on other threads cache their own
        if mine.range != (start, stop):
            mine.range = (start, stop)
            mine.cache = {}
        block = mine.cache.get(index)
        if block is None:
            k, n = len(self.names), stop - start
            u = np.empty((k, n))
            for i, nm in enumerate(self.names):
                self.base.uniforms(nm, start, stop, index, out=u[i])
            z = special.ndtri(u)
            block = np.empty((k, n))
            for i in range(k):
                if self._identity[i]:  # a unit row: the base uniforms, exactly
                    block[i] = u[i]
                    continue
                # fixed summation order, draw by draw: no dependence on the chunk size
                acc = np.zeros(n)
                for j in np.flatnonzero(self.factor[i]):
                    acc += self.factor[i, j] * z[j]
                special.ndtr(acc, out=block[i])
            np.clip(block, U_MIN, U_MAX, out=block)
            mine.cache[index] = block
        return block

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Uniforms of stream ``(name, index)``: correlated if ``name`` is in the group."""
        i = self._pos.get(name)
        if i is None:
            return self.base.uniforms(name, start, stop, index, out=out)
        self._requested.add(name)
        row = self._block(start, stop, index)[i]
        if out is None:
            return row.copy()
        out[...] = row
        return out

    def unrequested(self) -> list[str]:
        """Members never asked for so far (a misspelt or unused input name)."""
        return [n for n in self.names if n not in self._requested]

    def __repr__(self) -> str:
        return f"CorrelatedSource({self.base!r}, names={self.names})"


def correlate(
    base: UniformSource,
    groups: Iterable[tuple],
    strict: bool = False,
) -> UniformSource:
    """Wrap ``base`` in one :class:`CorrelatedSource` per group.

    Parameters
    ----------
    groups : iterable of ``(names, rank_corr)`` or ``(names, rank_corr, strict)``
        Disjoint groups of stream names with their rank-correlation matrices; a
        group's own ``strict`` overrides the argument.

    Raises
    ------
    ValueError
        If an input is in two groups (merge them into one matrix instead).
    """
    seen: dict[str, int] = {}
    src = base
    for g, group in enumerate(groups):
        names, matrix = group[0], group[1]
        group_strict = bool(group[2]) if len(group) > 2 else strict
        for n in names:
            if n in seen:
                raise ValueError(
                    f"input {n!r} is in correlation groups {seen[n]} and {g}; an input may be "
                    "in one group only (merge the groups into one matrix)"
                )
            seen[n] = g
        src = CorrelatedSource(src, names, matrix, strict=group_strict)
    return src


def correlation_problems(
    groups: Iterable[Sequence[str]], streams: Iterable[tuple[str, int]]
) -> list[str]:
    """What is wrong with correlation groups for a spec's streams; empty if nothing.

    ``streams`` is :func:`sustainsim.run.source.discover_streams` of the spec. Checks that
    every input is a random input of the spec (with the closest names as a hint), that
    no input is in two groups, and that a group's inputs are all drawn once per draw or
    all once per year (a group correlates inputs at the same index).

    Examples
    --------
    >>> streams = [("district.growth.funding", 0), ("schools.a.enrollment.innovation", 1)]
    >>> for p in correlation_problems([["district.growth.fundng"]], streams):
    ...     print(p.split(": ", 1)[1])
    'district.growth.fundng' is not a random input of this config (did you mean \
'district.growth.funding'?)
    """
    import difflib

    indices: dict[str, set[int]] = {}
    for name, index in streams:
        indices.setdefault(name, set()).add(int(index))
    known = sorted(indices)
    problems: list[str] = []
    seen: dict[str, int] = {}
    for g, names in enumerate(groups):
        for n in names:
            if n in seen:
                problems.append(
                    f"correlations[{g}]: {n!r} is also in correlations[{seen[n]}]; an input may be "
                    "in one group only"
                )
            seen.setdefault(n, g)
            sub = [k for k in known if k.startswith(n + ".")]
            if n not in indices and sub:
                problems.append(
                    f"correlations[{g}]: {n!r} is a process drawing from several streams "
                    f"({', '.join(sub)}); correlate one of them"
                )
            elif n not in indices:
                close = difflib.get_close_matches(n, known, n=3)
                hint = (
                    f" (did you mean {' or '.join(map(repr, close))}?)"
                    if close
                    else (f"; random inputs: {', '.join(known)}")
                )
                problems.append(
                    f"correlations[{g}]: {n!r} is not a random input of this config" + hint
                )
        kinds = {
            n: ("per draw" if indices[n] == {0} else "per year") for n in names if n in indices
        }
        if len(set(kinds.values())) > 1:
            listed = ", ".join(f"{n!r} ({k})" for n, k in kinds.items())
            problems.append(
                f"correlations[{g}]: mixes inputs drawn per draw and per year ({listed}); a group "
                "must be all per-draw or all per-year inputs"
            )
    return problems


def iman_conover(samples: np.ndarray, rank_corr, rng: np.random.Generator) -> np.ndarray:
    """Reorder the columns of ``samples`` so their rank correlation is about ``rank_corr``.

    Iman and Conover (1982) with van der Waerden scores: each column keeps exactly its
    values (the marginal sample is unchanged), only their pairing changes. It needs
    the whole sample, so it does not chunk; use :class:`CorrelatedSource` in runs.

    Parameters
    ----------
    samples : ndarray (n, k)
        One column per input.
    rank_corr : array (k, k)
        Target Spearman correlations (repaired to the nearest valid matrix if needed).
    rng : numpy.random.Generator
        For the random initial pairing.

    Returns
    -------
    ndarray (n, k)
    """
    x = np.asarray(samples, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"samples must be 2-D (n, k) (got shape {x.shape})")
    n, k = x.shape
    target = spearman_to_pearson(validate_correlation(rank_corr))
    np.fill_diagonal(target, 1.0)
    if target.shape[0] != k:
        raise ValueError(f"rank_corr is {target.shape[0]}x{target.shape[0]} for {k} columns")
    if np.linalg.eigvalsh(target).min() < -_PSD_TOL:
        target = nearest_correlation(target)
    scores = special.ndtri(np.arange(1, n + 1) / (n + 1))
    s = np.column_stack([rng.permutation(scores) for _ in range(k)])
    e = np.corrcoef(s, rowvar=False)
    t = s @ np.linalg.inv(_factor(e)).T @ _factor(target).T
    out = np.empty_like(x)
    for j in range(k):
        ranks = np.argsort(np.argsort(t[:, j], kind="stable"), kind="stable")
        out[:, j] = np.sort(x[:, j])[ranks]
    return out
