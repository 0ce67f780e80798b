"""Levers: decisions a district controls, evaluated and ranked on common random numbers.

A lever (``[levers.NAME]`` in a config: a dotted config ``path``, candidate ``values`` or
a ``range``, an optional yearly ``cost``) is a decision variable: a class-size cap, a
conversion year, a stipend, a device ratio, a reserve floor, a levy millage. Every
candidate value, and the plan as written, runs on the same draws, so each effect is a
paired difference whose standard error is far smaller than the unpaired one wherever
the outcome is uncertain: the ranking reflects the decision, not the noise.

The outcomes (for one entity, in the horizon year unless ``year`` is given):
P(solvent through the year) (fund balance never below zero), P(no operating deficit in
the year) (surplus >= 0 that year), and the median ending fund balance.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from sustainsim.config import ConfigError, Spec
from sustainsim.metrics.solvency import DISTRICT, entity_balance, solvent
from sustainsim.run.core import simulate

__all__ = ["OUTCOMES", "levers"]

#: outcome -> long name; each gets ``<outcome>``, ``<outcome>_effect``, ``<outcome>_se``
#: (paired) and ``<outcome>_se_unpaired``
OUTCOMES = {
    "p_solvent": "P(fund balance >= 0 in every year through the year)",
    "p_no_operating_deficit": "P(surplus >= 0 in the year)",
    "median_final_balance": "median fund balance at the end of the year [USD]",
}
_BOOTSTRAP = 200


def _per_draw(ds: xr.Dataset, entity: str, year: Any) -> dict[str, np.ndarray]:
    """The per-draw outcomes of one run: 0/1 indicators and the ending balance."""
    pick = {"school": entity}
    sol = solvent(ds).sel(pick)
    bal = entity_balance(ds).sel(pick)
    sur = entity_balance(ds, "surplus").sel(pick)
    sel = (lambda a: a.sel(year=year)) if year is not None else (lambda a: a.isel(year=-1))
    return {
        "p_solvent": sel(sol).values.astype(float),
        "p_no_operating_deficit": (sel(sur) >= 0).values.astype(float),
        "median_final_balance": sel(bal).values.astype(float),
    }


def _median_ses(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, float]:
    """Bootstrap SEs of median(b) - median(a): resampling draws jointly, then separately."""
    rng = np.random.default_rng(seed)
    n = a.size
    idx = rng.integers(0, n, size=(_BOOTSTRAP, n))
    paired = np.median(b[idx], axis=1) - np.median(a[idx], axis=1)
    other = rng.integers(0, n, size=(_BOOTSTRAP, n))
    unpaired = np.median(b[other], axis=1) - np.median(a[idx], axis=1)
    return float(paired.std(ddof=1)), float(unpaired.std(ddof=1))


def _effects(base: dict[str, np.ndarray], run: dict[str, np.ndarray], seed: int) -> dict:
    n = base["p_solvent"].size
    out: dict[str, float] = {}
    for k in OUTCOMES:
        a, b = base[k], run[k]
        if k == "median_final_balance":
            out[k] = float(np.median(b))
            out[f"{k}_effect"] = float(np.median(b) - np.median(a))
            out[f"{k}_se"], out[f"{k}_se_unpaired"] = _median_ses(a, b, seed)
        else:
            out[k] = float(b.mean())
            out[f"{k}_effect"] = float(b.mean() - a.mean())
            out[f"{k}_se"] = float(np.std(b - a, ddof=1) / np.sqrt(n))
            out[f"{k}_se_unpaired"] = float(np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / n))
    return out


def _options(spec: Spec, names: Sequence[str], pairs: bool) -> list[dict[str, Any]]:
    """Every setting to run: one lever at a candidate value, or two levers at once."""
    table = spec.config.levers
    unknown = [n for n in names if n not in table]
    if unknown:
        have = ", ".join(table) or "none"
        raise ConfigError([f"levers: no lever named {n!r}; the config has {have}" for n in unknown])
    singles = [[(n, table[n].path, v) for v in table[n].candidates()] for n in names]
    settings = [[s] for group in singles for s in group]
    if pairs:
        for g1, g2 in itertools.combinations(singles, 2):
            settings += [[a, b] for a in g1 for b in g2]
    return [
        {
            "option": " & ".join(f"{n}={v!r}" for n, _, v in s),
            "lever": " & ".join(n for n, _, _ in s),
            "overrides": {p: v for _, p, v in s},
            "cost": sum(table[n].cost for n, _, _ in s),
        }
        for s in settings
    ]


def levers(
    spec: Spec,
    names: Sequence[str] | None = None,
    *,
    pairs: bool = False,
    school: str | None = None,
    year: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> xr.Dataset:
    """Evaluate every lever's candidates on common random numbers and rank them.

    Parameters
    ----------
    spec : Spec
        A config with ``[levers.NAME]`` tables.
    names : sequence of str, optional
        Which levers; default all, in file order.
    pairs : bool
        Also every combination of two levers' candidates.
    school : str, optional
        The entity judged; default the district total with several schools, else the
        only school.
    year : int, optional
        Fiscal year of the outcomes; default the horizon.
    draws, seed : int, optional
        Default the config's; every option runs on the same draws as the plan.
    **options
        Further run options (:func:`sustainsim.run.plan.plan_run`).

    Returns
    -------
    xarray.Dataset
        Over ``option`` (``"NAME=value"``, or ``"A=v & B=w"`` for pairs), ranked by the
        effect on P(solvent), then on P(no operating deficit), then on the median
        balance, best first: for each outcome of :data:`OUTCOMES` its value, ``_effect``
        (against the plan as written), ``_se`` (paired) and ``_se_unpaired``; ``lever``,
        ``cost`` and ``rank`` coordinates. The plan's own outcomes are in the attrs
        (``base_<outcome>``), with ``draws``, ``seed``, ``school`` and ``year``.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> spec = spec.with_overrides({"levers": {"reserve": {
    ...     "path": "schools.ref.fund_balance", "values": [100_000, 1_500_000]}}})
    >>> out = levers(spec, draws=2_000, seed=1)
    >>> out.option.values.tolist()
    ['reserve=1500000', 'reserve=100000']
    >>> bool(out.p_solvent_effect[0] > 0 > out.p_solvent_effect[1])
    True
    """
    table = spec.config.levers
    chosen = list(table) if names is None else list(names)
    if not chosen:
        raise ConfigError(["levers: the config defines no [levers.NAME] tables to evaluate"])
    sim = spec.config.simulation
    draws = sim.draws if draws is None else draws
    seed = sim.seed if seed is None else seed

    def run(s: Spec) -> xr.Dataset:
        return simulate(s, draws=draws, seed=seed, progress=False, **options)

    base_ds = run(spec)
    names_ = [str(x) for x in entity_balance(base_ds)["school"].values]
    entity = school or (DISTRICT if DISTRICT in names_ else names_[0])
    if entity not in names_:
        raise ValueError(f"school {entity!r} not in the results; have {', '.join(names_)}")
    base = _per_draw(base_ds, entity, year)
    rows = []
    for opt in _options(spec, chosen, pairs):
        res = _per_draw(run(spec.with_overrides(opt["overrides"])), entity, year)
        rows.append({**opt, **_effects(base, res, seed)})
    keys = [k for k in rows[0] if k not in ("option", "lever", "overrides", "cost")]
    order = sorted(
        range(len(rows)),
        key=lambda i: tuple(-rows[i][f"{k}_effect"] for k in OUTCOMES),
    )
    rows = [rows[i] for i in order]
    out = xr.Dataset(
        {k: ("option", np.array([r[k] for r in rows], dtype=float)) for k in keys},
        coords={
            "option": [r["option"] for r in rows],
            "lever": ("option", [r["lever"] for r in rows]),
            "cost": ("option", np.array([r["cost"] for r in rows], dtype=float)),
            "rank": ("option", np.arange(1, len(rows) + 1)),
        },
    )
    for k, long_name in OUTCOMES.items():
        units = "USD" if k == "median_final_balance" else "1"
        out[k].attrs.update(long_name=long_name, units=units)
        out[f"{k}_effect"].attrs.update(long_name=f"change against the plan: {long_name}")
        out[f"{k}_se"].attrs.update(long_name="paired standard error of the change")
        out[f"{k}_se_unpaired"].attrs.update(long_name="unpaired standard error (for contrast)")
        out.attrs[f"base_{k}"] = float(
            np.median(base[k]) if k == "median_final_balance" else base[k].mean()
        )
    out["cost"].attrs.update(long_name="cost of the option per year", units="USD")
    out.attrs.update(
        draws=int(draws), seed=int(seed), school=entity, year=-1 if year is None else int(year)
    )
    return out
