"""Levy risk: the chance a levy fails at the ballot and is not replaced within k tries.

Every levy line that goes to the voters (it expires, or it is new) leaves the scalar
input ``<entity>.revenue.<line>.election.passed_attempt`` in the results: the election attempt that
passed it (1 = the first), 0 when none of the attempts allowed within the horizon did
(:mod:`sustainsim.model.drivers.levy`). A levy is still unreplaced after ``k`` tries
when its first ``k`` attempts all failed, with probability ``prod_{i<k} (1 - p_i)``
(``(1 - p)**k`` at a constant pass rate ``p``).

Tries are counted, not years: whether a failed renewal leaves a year without the money
depends on the calendar (``levy_in_force`` says which years are collected).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from sustainsim.metrics.solvency import probability

__all__ = ["levy_attempts", "levy_lapse", "levy_names", "p_levy_lapse"]

_SUFFIX = ".election.passed_attempt"


def levy_names(ds: xr.Dataset) -> list[str]:
    """The levies of a run that go to the voters, ``<entity>.revenue.<line>``, in order."""
    return [
        str(k)[: -len(_SUFFIX)]
        for k, v in ds.data_vars.items()
        if str(k).endswith(_SUFFIX) and "levy_elections" in v.attrs
    ]


def levy_attempts(ds: xr.Dataset) -> xr.DataArray:
    """The attempt that passed each levy, by draw and ``levy`` (0: none did).

    Attrs of the result's ``elections`` and ``more_after_horizon`` coordinates: the
    attempts allowed within the horizon, and whether more would follow beyond it.

    Raises
    ------
    ValueError
        When the run has no levy that goes to the voters.
    """
    names = levy_names(ds)
    if not names:
        raise ValueError(
            "the results hold no levy that goes to the voters (a levy line with expires, "
            "or in_force = false); a permanent levy never lapses"
        )
    cols = [ds[f"{k}{_SUFFIX}"] for k in names]
    out = xr.concat(cols, dim="levy", coords="minimal", compat="override").assign_coords(
        levy=names,
        elections=("levy", [int(c.attrs["levy_elections"]) for c in cols]),
        more_after_horizon=(
            "levy",
            [c.attrs.get("levy_more_after_horizon", "0") == "1" for c in cols],
        ),
    )
    out.attrs = {"units": "1", "long_name": "election attempt that passed the levy (0: none)"}
    return out.transpose("draw", "levy")


def levy_lapse(ds: xr.Dataset, k: int) -> xr.DataArray:
    """Whether each levy's first ``k`` attempts all failed, by draw and ``levy`` (bool).

    Where fewer than ``k`` attempts fall within the horizon and more would follow
    beyond it, the outcome is unknown: NaN (float result then).
    """
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k (election tries) must be a whole number >= 1 (got {k!r})")
    att = levy_attempts(ds)
    lapsed = (att == 0) | (att > k)
    known = ~((att.elections < k) & att.more_after_horizon)
    out = lapsed.where(known) if not bool(known.all()) else lapsed
    out.attrs = {"long_name": f"levy failed and not replaced within {int(k)} tries"}
    return out


def p_levy_lapse(ds: xr.Dataset, k: int | Sequence[int] = 1, confidence: float = 0.95):
    """P(a levy fails and is not replaced within ``k`` tries), by ``levy``.

    Parameters
    ----------
    ds : xarray.Dataset
        A full run (the levies' ``passed_attempt`` inputs).
    k : int or sequence of int
        Election tries; a sequence gives a ``tries`` dimension.
    confidence : float
        Level of the Wilson interval.

    Returns
    -------
    xarray.Dataset
        ``probability``, ``se``, ``lower``, ``upper`` over ``levy`` (and ``tries``);
        NaN where the horizon holds fewer than ``k`` tries and more would follow.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("ohio_levy.toml"))
    >>> ds = sustainsim.simulate(spec, draws=500, progress=False)
    >>> p = p_levy_lapse(ds, [1, 2])
    >>> p.probability.dims, bool((p.probability.diff("tries") <= 0).all())
    (('tries', 'levy'), True)
    """
    if np.ndim(k) == 0:
        return _p_one(ds, k, confidence)  # type: ignore[arg-type]
    ks = list(k)  # type: ignore[arg-type]
    parts = [_p_one(ds, x, confidence) for x in ks]
    return xr.concat(parts, dim=xr.DataArray(ks, dims="tries", name="tries"))


def _p_one(ds: xr.Dataset, k: int, confidence: float) -> xr.Dataset:
    flags = levy_lapse(ds, k)
    k = int(k)
    unknown = flags.isnull().any("draw")
    out = probability(flags.fillna(False).astype(bool), confidence=confidence)
    out = out.where(~unknown)
    out["probability"].attrs["long_name"] = f"P(levy failed and not replaced within {k} tries)"
    out.attrs["tries"] = k
    return out
