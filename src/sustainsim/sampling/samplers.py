"""Samplers: plain Monte Carlo, Latin hypercube and scrambled Sobol uniforms by name.

Every sampler implements the :class:`~sustainsim.sampling.UniformSource` protocol,
``uniforms(name, start, stop, index=0, out=None) -> ndarray (stop - start,)`` in
``[U_MIN, U_MAX]`` (written into ``out`` when given), so the whole model runs
unchanged on any of them. A *stream* ``(name, index)`` is one dimension of the
design: a per-draw input has one stream (``index = 0``), a per-year input one stream
per projected year (``index = 1..T``).
Pick a sampler by name with :func:`make_source` (table :data:`SAMPLERS`).

What each sampler guarantees
----------------------------
=====================  ==================  ===================  ======================
property               ``monte_carlo``     ``lhs``              ``sobol``
=====================  ==================  ===================  ======================
any chunking, same     yes                 yes                  yes
numbers
other inputs' draws    yes                 yes                  only with a fixed
unchanged when an                                               ``streams`` list (new
input is added                                                  streams appended)
first draws unchanged  yes                 no: the strata are   yes (the sequence is
when draws grow                            over the whole run   extensible)
each input stratified  no                  yes: one draw per    yes: every prefix of
                                           1/N of (0, 1)        2^m draws balanced
joint design           independent         independent          one Sobol sequence,
                                           permutations         a dimension per stream
largest ``draws``      unlimited           2**62                2**32
=====================  ==================  ===================  ======================

Latin hypercube (:class:`LatinHypercube`)
    Draw ``d`` of stream ``s`` is ``(pi_s(d) + j_s(d)) / N`` with ``pi_s`` a keyed
    pseudo-random permutation of ``0..N-1`` and ``j_s(d)`` a uniform jitter. Both are
    keyed by the stream's name and the seed only: the jitter is the stream's plain
    Monte Carlo uniform (:class:`~sustainsim.sampling.MonteCarlo`) and the
    permutation's round keys come from a Philox generator keyed by
    :func:`~sustainsim.sampling.stream_key` of the same stream. The permutation is a
    Feistel network on ``ceil(log2 N)`` bits with cycle walking, evaluated pointwise,
    so a chunk costs O(chunk) time and memory whatever ``N`` (no O(N) permutation is
    ever stored, so there is no memory limit on ``draws``).

Sobol (:class:`Sobol`)
    One Sobol sequence (Joe-Kuo direction numbers, from :class:`scipy.stats.qmc.Sobol`)
    whose dimensions are assigned to streams in the order they are first requested
    (or in the order of a given ``streams`` list). :func:`sustainsim.model.inputs.sample_inputs`
    requests the same streams in the same order in every chunk, so the assignment is
    deterministic for a spec whichever chunk a process sees first;
    :func:`discover_streams` lists it up front (pass it to every worker of a
    distributed run to be safe). Each dimension is scrambled independently by a
    random linear matrix scramble plus a digital shift (the scheme of scipy's
    ``scramble=True``) keyed by the stream's Philox key, so the points are uniform
    marginally, the estimates are unbiased and the (t, m, s)-net structure of the
    joint design is kept. Point ``i`` is computed directly from the Gray code of
    ``i`` (the point ``fast_forward(i)`` reaches, in O(log i) instead of O(i)),
    so chunks are exact slices of the sequence. The 32 Sobol digits are completed to
    53 random bits by the digital shift. Use ``draws`` a power of two for the full
    balance properties.

Independent scrambles of one 1-D sequence per stream would *not* do: every stream
would be a function of the same digits of the draw index, so streams would be
strongly dependent (with a digital shift alone, the leading digits of two streams are
equal in every point, or opposite in every point). That is why Sobol here is one
multi-dimensional sequence with a dimension per stream.

Examples
--------
>>> src = make_source("lhs", seed=1, draws=8)
>>> u = src.uniforms("x", 0, 8)
>>> sorted(np.floor(u * 8).astype(int).tolist())
[0, 1, 2, 3, 4, 5, 6, 7]
>>> bool(np.array_equal(u, np.concatenate([src.uniforms("x", 0, 3), src.uniforms("x", 3, 8)])))
True
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from sustainsim.sampling.distributions import U_MAX, U_MIN
from sustainsim.sampling.streams import MonteCarlo, UniformSource, stream_key

__all__ = [
    "LHS_MAX_DRAWS",
    "SAMPLERS",
    "SOBOL_MAX_DRAWS",
    "LatinHypercube",
    "Sobol",
    "make_source",
]

Stream = tuple[str, int]

#: Philox counter regions (word 1 of the 256-bit counter) for keys other than the
#: plain uniforms, which use word 0 only and never reach word 1
_REGION_LHS = 1
_REGION_SOBOL = 2

LHS_MAX_DRAWS = 2**62
_FEISTEL_ROUNDS = 8

SOBOL_BITS = 32
#: the largest Sobol dimension scipy has direction numbers for (``scipy.stats.qmc.Sobol.MAXDIM``)
SOBOL_MAXDIM = 21201
SOBOL_MAX_DRAWS = 2**SOBOL_BITS
_FILL_BITS = 53 - SOBOL_BITS
#: held while a Sobol stream is given its dimension (chunks may run on threads)
_ASSIGNING = threading.Lock()
_U53 = 2.0**-53


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer (got {seed!r})")
    if seed < 0:
        raise ValueError(f"seed must be >= 0 (got {seed})")
    return int(seed)


def _check_draws(draws: Any, largest: int, sampler: str) -> int:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer):
        raise TypeError(f"draws must be an integer (got {draws!r})")
    if not 1 <= draws <= largest:
        raise ValueError(f"{sampler}: draws must be in 1..{largest} (got {draws})")
    return int(draws)


def _check_range(start: int, stop: int, draws: int | None, sampler: str) -> None:
    if start < 0 or stop < start:
        raise ValueError(f"{sampler}: need 0 <= start <= stop (got start={start}, stop={stop})")
    if draws is not None and stop > draws:
        raise ValueError(
            f"{sampler}: the design has {draws} draws, draw {stop - 1} does not exist; "
            "make the source with the run's number of draws"
        )


def _key_words(seed: int, name: str, index: int, region: int, n: int) -> np.ndarray:
    """``n`` random 64-bit words from stream ``(name, index)``'s key, counter region ``region``."""
    bitgen = np.random.Philox(
        key=stream_key(seed, name, index), counter=np.array([0, region, 0, 0], np.uint64)
    )
    return bitgen.random_raw(n).astype(np.uint64)


#: the SplitMix64 multipliers (odd: multiplication by them is a bijection of 64-bit words)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


# --- Latin hypercube -----------------------------------------------------------------------


class _Permutation:
    """A keyed pseudo-random permutation of ``range(n)``, evaluated pointwise.

    A Feistel network on ``k = ceil(log2 n)`` bits (halves of ``k // 2`` and
    ``k - k // 2`` bits, swapping each round) is a bijection of ``[0, 2**k)``; cycle
    walking (apply it again while the result is ``>= n``) restricts it to a bijection
    of ``[0, n)``. Expected walk length < 2 because ``2**k < 2 n``.
    """

    def __init__(self, n: int, keys: np.ndarray):
        self.n = n
        k = max(0, (n - 1).bit_length())
        self.widths = (k // 2, k - k // 2)
        self.keys = keys

    def _rounds(self, x: np.ndarray) -> np.ndarray:
        x = x.copy()
        wl, wr = self.widths
        for key in self.keys:
            right = x & np.uint64((1 << wr) - 1)
            x >>= wr  # the left half
            if wl:
                # round function: multiply-xorshift hash of (right ^ key), its top wl bits
                f = right ^ key
                f *= _M1
                f ^= f >> 31
                f *= _M2
                f >>= 64 - wl
                x ^= f
            right <<= wl
            x |= right
            wl, wr = wr, wl
        return x

    def __call__(self, d: np.ndarray) -> np.ndarray:
        x = self._rounds(d)
        out = x >= self.n
        while out.any():
            idx = np.flatnonzero(out)
            x[idx] = self._rounds(x[idx])
            out[idx] = x[idx] >= self.n
        return x


class LatinHypercube:
    """Latin hypercube uniforms: each stream stratified over the whole run of ``draws``.

    Over draws ``0..draws-1`` every stream has exactly one draw in each interval
    ``[k / draws, (k + 1) / draws)``, in an order given by a keyed pseudo-random
    permutation independent across streams; within its stratum a draw is uniform.

    Guarantees: identical numbers for any chunking (draw ``d`` depends only on the
    seed, the stream and ``draws``); a stream's numbers do not depend on which other
    streams exist; every single draw is exactly uniform, so estimates are unbiased.
    *Not* guaranteed: changing ``draws`` changes every number (the strata are
    ``1/draws`` wide), so a run cannot be extended by more draws; and a chunk on its
    own is not stratified, only the whole run is.

    Memory and time are O(chunk) per stream: the permutation is evaluated pointwise
    (see :class:`_Permutation`), so any ``draws`` up to :data:`LHS_MAX_DRAWS` works.

    Parameters
    ----------
    seed : int
        The run's seed (>= 0).
    draws : int
        The number of draws of the whole run (the number of strata).

    Examples
    --------
    >>> src = LatinHypercube(seed=3, draws=4)
    >>> np.sort(np.floor(src.uniforms("a", 0, 4, index=2) * 4)).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """

    name = "lhs"

    def __init__(self, seed: int, draws: int):
        self.seed = _check_seed(seed)
        self.draws = _check_draws(draws, LHS_MAX_DRAWS, "lhs")
        self._jitter = MonteCarlo(self.seed)
        self._perms: dict[Stream, _Permutation] = {}

    def _permutation(self, name: str, index: int) -> _Permutation:
        perm = self._perms.get((name, index))
        if perm is None:
            keys = _key_words(self.seed, name, index, _REGION_LHS, _FEISTEL_ROUNDS)
            perm = self._perms[(name, index)] = _Permutation(self.draws, keys)
        return perm

    def strata(self, name: str, start: int, stop: int, index: int = 0) -> np.ndarray:
        """The stratum ``0..draws-1`` of draws ``start..stop-1`` of a stream (int64)."""
        _check_range(start, stop, self.draws, "lhs")
        d = np.arange(start, stop, dtype=np.uint64)
        return self._permutation(name, index)(d).astype(np.int64)

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Uniforms of draws ``start..stop-1`` of stream ``(name, index)``, in [U_MIN, U_MAX]."""
        strata = self.strata(name, start, stop, index)
        u = self._jitter.uniforms(name, start, stop, index, out=out)
        u += strata
        u /= self.draws
        return np.clip(u, U_MIN, U_MAX, out=u)

    def __repr__(self) -> str:
        return f"LatinHypercube(seed={self.seed}, draws={self.draws})"


# --- Sobol ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _direction_numbers() -> np.ndarray:
    """Joe-Kuo direction numbers of every dimension scipy supports, ``(21201, 32)`` uint64.

    Taken from an unscrambled :class:`scipy.stats.qmc.Sobol` with 32 bits; row ``j``,
    column ``k`` is point ``2**(k+1) - 1`` of dimension ``j`` times ``2**32`` (the
    test suite checks the sequence against scipy's public output).
    """
    from scipy.stats import qmc  # on first use: importing scipy.stats takes a quarter second

    eng = qmc.Sobol(d=qmc.Sobol.MAXDIM, scramble=False, bits=SOBOL_BITS)
    return np.asarray(eng._sv, dtype=np.uint64)  # noqa: SLF001


def _lms(v: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Apply a random lower-triangular (in digit order) binary matrix to direction numbers.

    Digit ``i`` (weight ``2**-(i+1)``) sits at bit ``31 - i``. Output digit ``i`` is the
    parity of input digits ``0..i`` selected by ``rows[i]`` with digit ``i`` itself always
    selected (unit diagonal: the scramble is invertible and keeps the net property).
    """
    out = np.zeros_like(v)
    for i in range(SOBOL_BITS):
        bit = SOBOL_BITS - 1 - i
        higher = np.uint64(((1 << SOBOL_BITS) - 1) & ~((1 << (bit + 1)) - 1))
        mask = (rows[i] & higher) | np.uint64(1 << bit)
        parity = np.bitwise_count(v & mask).astype(np.uint64) & np.uint64(1)
        out |= parity << bit
    return out


class Sobol:
    """Scrambled Sobol points: one multi-dimensional sequence, a dimension per stream.

    Streams ``(name, index)`` get dimensions 0, 1, 2, ... in the order they are first
    requested, or in the order of ``streams`` when given (streams not in the list are
    appended as they come). The first dimensions of a Sobol sequence are its best;
    :func:`sustainsim.model.inputs.sample_inputs` asks for district-wide inputs first.

    Guarantees: identical numbers for any chunking (point ``i`` is computed directly);
    increasing ``draws`` keeps the first draws (the sequence is extensible); with
    ``scramble=True`` every point is uniform on (0, 1) per stream and estimates are
    unbiased; the first ``2**m`` points of any set of dimensions form a scrambled
    (t, m, s)-net. *Not* guaranteed: that a stream keeps its numbers when the spec
    gains, loses or reorders inputs, since the dimension of a stream is its position
    (pass a fixed ``streams`` list and append new streams at its end to keep them).
    Two sources are consistent only if they assign the same dimensions: in a
    multi-process run give every worker ``streams=discover_streams(spec)``.

    Parameters
    ----------
    seed : int
        The run's seed (>= 0); keys each dimension's scramble. Unused when
        ``scramble=False``.
    draws : int, optional
        The run's number of draws, at most :data:`SOBOL_MAX_DRAWS`; used to check
        requests and to warn when it is not a power of two.
    scramble : bool
        Random linear matrix scramble and digital shift per dimension (default). The
        unscrambled sequence starts at the origin (clipped to ``U_MIN``).
    streams : iterable of (name, index), optional
        Streams in dimension order.

    Examples
    --------
    >>> src = Sobol(seed=0, draws=8)
    >>> u, v = src.uniforms("a", 0, 8), src.uniforms("b", 0, 8)
    >>> sorted(np.floor(u * 8).astype(int).tolist()) == list(range(8))
    True
    >>> sorted((np.floor(u * 4) * 2 + np.floor(v * 2)).astype(int).tolist()) == list(range(8))
    True
    """

    name = "sobol"

    def __init__(
        self,
        seed: int,
        draws: int | None = None,
        scramble: bool = True,
        streams: Iterable[Stream] | None = None,
    ):
        self.seed = _check_seed(seed)
        self.draws = None if draws is None else _check_draws(draws, SOBOL_MAX_DRAWS, "sobol")
        if self.draws is not None and self.draws & (self.draws - 1):
            nxt = 1 << (self.draws - 1).bit_length()
            warnings.warn(
                f"Sobol points are balanced for a power of two draws; got {self.draws} "
                f"(next power of two: {nxt})",
                UserWarning,
                stacklevel=2,
            )
        self.scramble = bool(scramble)
        self._dims: dict[Stream, int] = {}
        self._dirs: dict[Stream, tuple[np.ndarray, np.uint64]] = {}
        for name, index in streams or ():
            self.dimension(name, index)

    @property
    def streams(self) -> list[Stream]:
        """The streams in dimension order."""
        return list(self._dims)

    def dimension(self, name: str, index: int = 0) -> int:
        """The Sobol dimension of stream ``(name, index)``, assigned on first use."""
        key = (name, int(index))
        dim = self._dims.get(key)
        if dim is None:
            with _ASSIGNING:  # chunks on threads: a stream gets one dimension
                dim = self._dims.get(key)
                if dim is None:
                    dim = len(self._dims)
                    if dim >= SOBOL_MAXDIM:
                        raise ValueError(
                            f"sobol: more than {SOBOL_MAXDIM} streams (scipy's largest dimension)"
                        )
                    self._dims[key] = dim
        return dim

    def _directions(self, name: str, index: int) -> tuple[np.ndarray, np.uint64]:
        key = (name, int(index))
        got = self._dirs.get(key)
        if got is None:
            v = _direction_numbers()[self.dimension(name, index)].copy()
            shift = np.uint64(0)
            if self.scramble:
                words = _key_words(self.seed, name, index, _REGION_SOBOL, SOBOL_BITS + 1)
                v = _lms(v, words[:SOBOL_BITS])
                shift = words[SOBOL_BITS] >> np.uint64(64 - 53)
            got = self._dirs[key] = (v, shift)
        return got

    def uniforms(
        self, name: str, start: int, stop: int, index: int = 0, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Points ``start..stop-1`` of stream ``(name, index)``'s dimension, in [U_MIN, U_MAX]."""
        _check_range(start, stop, self.draws, "sobol")
        if stop > SOBOL_MAX_DRAWS:
            raise ValueError(f"sobol: at most {SOBOL_MAX_DRAWS} draws (asked up to {stop})")
        v, shift = self._directions(name, index)
        i = np.arange(start, stop, dtype=np.uint64)
        gray = i ^ (i >> 1)
        y = np.zeros_like(i)
        for k in range(max(1, int(stop - 1).bit_length())):  # gray(i) < 2**bit_length(i)
            y ^= ((gray >> k) & np.uint64(1)) * v[k]
        y <<= _FILL_BITS
        y ^= shift
        u = np.multiply(y, _U53, out=out, dtype=np.float64, casting="unsafe")
        return np.clip(u, U_MIN, U_MAX, out=u)

    def __repr__(self) -> str:
        return (
            f"Sobol(seed={self.seed}, draws={self.draws}, scramble={self.scramble}, "
            f"streams={len(self._dims)})"
        )


# --- the table -----------------------------------------------------------------------------


def _monte_carlo(seed: int, draws: int | None = None, **options: Any) -> UniformSource:
    if options:
        raise TypeError(f"monte_carlo takes no options (got {', '.join(options)})")
    return MonteCarlo(seed)


def _lhs(seed: int, draws: int | None = None, **options: Any) -> UniformSource:
    if draws is None:
        raise ValueError("lhs needs the run's number of draws (the strata span the whole run)")
    if options:
        raise TypeError(f"lhs takes no options (got {', '.join(options)})")
    return LatinHypercube(seed, draws)


def _sobol(seed: int, draws: int | None = None, **options: Any) -> UniformSource:
    return Sobol(seed, draws, **options)


#: sampler name -> factory ``(seed, draws, **options) -> UniformSource``
SAMPLERS: dict[str, Callable[..., UniformSource]] = {
    "monte_carlo": _monte_carlo,
    "lhs": _lhs,
    "sobol": _sobol,
}


def make_source(name: str, seed: int, draws: int | None = None, **options: Any) -> UniformSource:
    """The uniform source of sampler ``name`` for a run of ``draws`` draws.

    Parameters
    ----------
    name : {"monte_carlo", "lhs", "sobol"}
        A key of :data:`SAMPLERS`.
    seed : int
        The run's seed (>= 0).
    draws : int, optional
        Draws of the whole run; required by ``"lhs"``, checked by ``"sobol"``.
    **options
        Passed to the sampler (``scramble``, ``streams`` for Sobol).

    Examples
    --------
    >>> make_source("sobol", seed=1, draws=1024)
    Sobol(seed=1, draws=1024, scramble=True, streams=0)
    """
    factory = SAMPLERS.get(name)
    if factory is None:
        raise ValueError(f"unknown sampler {name!r}; allowed: {', '.join(SAMPLERS)}")
    return factory(seed, draws, **options)
