"""The millage a levy needs: the tax rate at which P(solvent) reaches a target.

A levy of the millage form yields ``millage / 1000 * valuation * collection_rate`` a
year (growing with the valuation) in the years it is collected. More mills never hurt
a draw, and the election outcomes do not depend on the rate (they come from the levy's
own streams), so on common random numbers P(solvent through a year) is non-decreasing
in the millage, and the smallest millage that meets the target is found by bisection:
:func:`sustainsim.analysis.breakeven.break_even` on the line's ``millage``, with its
interval from the Wilson bounds of P.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from sustainsim.analysis.breakeven import break_even
from sustainsim.config import Spec
from sustainsim.config.lines import Levy

__all__ = ["levy_millage"]


def _levy_line(spec: Spec, line: str) -> Levy:
    """The levy at config path ``line``: ``schools.NAME.revenue.LINE`` (or district, models)."""
    cfg = spec.config
    keys = line.split(".")
    owners: dict[str, Any] = {
        **{f"schools.{s.name}": s for s in cfg.schools},
        **{f"models.{m}": model for m, model in cfg.models.items()},
        "district": cfg.district,
    }
    owner = owners.get(".".join(keys[:-2])) if len(keys) >= 3 else None
    found = None
    if owner is not None and keys[-2] == "revenue":
        found = next((x for x in owner.revenue if x.name == keys[-1]), None)
    if found is None:
        levies = [
            f"{where}.revenue.{x.name}"
            for where, o in owners.items()
            for x in o.revenue
            if isinstance(x, Levy)
        ]
        raise ValueError(
            f"{line!r} is not a revenue line of the config; its levies: "
            f"{', '.join(levies) or 'none'}"
        )
    if not isinstance(found, Levy) or found.millage is None:
        raise ValueError(
            f"{line!r} is not a levy of the millage form (millage x valuation); "
            f"its kind is {found.kind!r}"
        )
    return found


def levy_millage(
    spec: Spec,
    line: str,
    target: float = 0.9,
    *,
    low: float = 0.0,
    high: float = 50.0,
    school: str | None = None,
    year: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    confidence: float = 0.95,
    tol: float = 1e-3,
    **options: Any,
) -> xr.Dataset:
    """The smallest millage of a levy at which P(solvent) reaches ``target``.

    Parameters
    ----------
    spec : Spec
        The plan, with the levy (typically a new one, ``in_force = false``).
    line : str
        The levy's config path: ``schools.NAME.revenue.LINE`` or ``district.revenue.LINE``.
    target : float
        The required P(solvent through ``year``), in (0, 1).
    low, high : float
        Millage range searched [mills]; the target must be missed at ``low`` and met at
        ``high``.
    school, year, draws, seed, confidence, **options
        As :func:`sustainsim.analysis.breakeven.break_even` (every millage runs on the
        same draws).
    tol : float
        Precision [mills].

    Returns
    -------
    xarray.Dataset
        ``value`` (the millage), ``lower``/``upper``, ``p_low``/``p_high`` as
        :func:`~sustainsim.analysis.breakeven.break_even`, and ``annual_yield``: the
        base-year yield of ``value`` at the line's valuation and collection rate, when
        both are fixed numbers [USD]. Attrs as ``break_even`` plus ``line`` and
        ``units = "mills"``.

    Raises
    ------
    ValueError
        When ``line`` is not a levy of the millage form, or the target is met (or
        missed) across the whole range.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("ohio_levy.toml"))
    >>> new = {"kind": "levy", "name": "new_levy", "millage": 1.0, "valuation": 4e8,
    ...        "in_force": False, "election_years": [3], "pass_probability": 1.0}
    >>> spec = spec.with_overrides({"schools.valley_local.revenue": [
    ...     *spec.data["schools"][0]["revenue"], new]})
    >>> m = levy_millage(spec, "schools.valley_local.revenue.new_levy", 0.5, draws=500,
    ...                  tol=0.05)
    >>> bool(m.p_low < 0.5 <= m.p_high), m.attrs["units"]
    (True, 'mills')
    """
    levy = _levy_line(spec, line)
    if low < 0:
        raise ValueError(f"low must be >= 0 mills (got {low})")
    out = break_even(
        spec, f"{line}.millage", target, low=low, high=high, school=school, year=year,
        draws=draws, seed=seed, confidence=confidence, tol=tol, **options,
    )  # fmt: skip
    if out.attrs["direction"] != "higher is better":  # pragma: no cover - more money never hurts
        raise ValueError(f"P(solvent) falls with the millage of {line}; check the config")
    if isinstance(levy.valuation, float) and isinstance(levy.collection_rate, float):
        per_mill = levy.valuation / 1000.0 * levy.collection_rate
        out["annual_yield"] = out["value"] * per_mill
        out["annual_yield"].attrs = {"units": "USD", "long_name": "base-year yield of the levy"}
    out["value"].attrs = {"units": "mills", "long_name": "millage that meets the target"}
    out.attrs.update(line=line, units="mills")
    return out
