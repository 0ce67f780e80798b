"""The results Dataset: its schema, attributes and provenance.

Dims: ``draw``, ``year`` (integer fiscal year, projected years only), ``school``;
``revenue_line`` / ``cost_line`` when per-line breakdowns are kept; ``lever`` for the
management response's ``cut`` by lever; ``component`` for ``compensation`` (kept with
the per-line breakdowns, like ``positions`` by ``cost_line``). Sampled scalar
inputs (each grant's last year, the number of cuts, every input drawn from a
distribution) are variables over ``draw`` whose attrs carry ``role = "input"``;
``initial_fund_balance`` and the grant cliff (``cliff_year``, ``cliff_gap``, kept when a
config ties costs to grants or flags lines ``recurring``) are over ``(draw, school)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim._version import __version__
from sustainsim.model.compensation import COMPONENTS
from sustainsim.model.response import LEVERS

__all__ = ["VARIABLE_ATTRS", "build_dataset", "input_names", "inputs_frame", "variable_dims"]

# variables with a ``lever`` dimension (year, school, lever)
_LEVER_VARIABLES = ("cut",)
# variables over (draw, school)
_SCHOOL_VARIABLES = ("initial_fund_balance", "cliff_year", "cliff_gap")

_USD = {"units": "USD", "dollar_basis": "nominal"}

VARIABLE_ATTRS: dict[str, dict[str, str]] = {
    "enrollment": {"units": "students", "long_name": "enrollment"},
    "revenue": {**_USD, "long_name": "total revenue"},
    "cost": {**_USD, "long_name": "total cost"},
    "surplus": {**_USD, "long_name": "surplus (revenue minus cost)"},
    "fund_balance": {**_USD, "long_name": "ending fund balance"},
    "initial_fund_balance": {**_USD, "long_name": "fund balance at the end of the base year"},
    "revenue_lines": {**_USD, "long_name": "revenue by line"},
    "cost_lines": {**_USD, "long_name": "cost by line"},
    "temporary_revenue": {**_USD, "long_name": "temporary revenue (grants, lines not recurring)"},
    "one_time_cost": {**_USD, "long_name": "non-recurring (one-time, start-up) cost"},
    "grant_funded_cost": {
        **_USD,
        "long_name": "cost of lines funded by a grant in the years it pays them (before the "
        "management response)",
    },
    "absorbed_cost": {
        **_USD,
        "long_name": "cost of grant-funded lines carried on the general budget after the grant "
        "stopped (before the management response)",
    },
    "cliff_year": {
        "units": "fiscal year",
        "long_name": "grant cliff: first year after the school's last temporary money (NaN: none)",
    },
    "cliff_gap": {
        **_USD,
        "long_name": "grant cliff size: recurring cost newly uncovered in the cliff year",
    },
    "levy_in_force": {
        "units": "1",
        "long_name": "levies collected (the number of the school's levy lines in force)",
    },
    "trimmed": {**_USD, "long_name": "flexible spending trimmed by the management response"},
    "required_cut": {
        **_USD,
        "long_name": "base reduction the management response requires (in force and new)",
    },
    "cut": {**_USD, "long_name": "management response by lever (reserves: a planned draw)"},
    "unmet_gap": {**_USD, "long_name": "required cut no lever covers"},
    "positions": {"units": "FTE", "long_name": "staff positions by line (after the response)"},
    "compensation": {
        **_USD,
        "long_name": "staff cost by component: salary (with stipends), pension, health, "
        "payroll tax, other benefits (after the response)",
    },
    "district_revenue": {**_USD, "long_name": "district total revenue (schools and central)"},
    "district_cost": {**_USD, "long_name": "district total cost (schools and central)"},
    "district_surplus": {**_USD, "long_name": "district total surplus"},
    "district_fund_balance": {**_USD, "long_name": "district total fund balance"},
    "district_temporary_revenue": {**_USD, "long_name": "district total temporary revenue"},
    "district_one_time_cost": {**_USD, "long_name": "district total one-time cost"},
    "deflator": {"units": "1", "long_name": "price level (deflator index, base year = 1)"},
    "district_levy_in_force": {
        "units": "1",
        "long_name": "levies collected in the district (schools' and central)",
    },
    "allocated_revenue": {
        **_USD,
        "long_name": "district revenue allocated or passed through to the school",
    },
    "indirect_charge": {**_USD, "long_name": "central cost charged to the school"},
    "backstop_transfer": {**_USD, "long_name": "school deficit covered by the district backstop"},
    "pooled_transfer": {
        **_USD,
        "long_name": "school balance moved to the district's pooled reserve (+ to the district)",
    },
    "central_revenue": {**_USD, "long_name": "district central revenue, net of transfers"},
    "central_cost": {**_USD, "long_name": "district central cost, net of charges to schools"},
    "central_surplus": {**_USD, "long_name": "district central surplus after transfers"},
    "central_fund_balance": {
        **_USD,
        "long_name": "district central fund balance (with the pooled reserve)",
    },
}


def variable_dims(name: str, ndim: int) -> tuple[str, ...]:
    """The dims of the engine output ``name`` of ``ndim`` dims in the results Dataset.

    The engine's arrays have the draw axis last; the Dataset shows it first.

    Examples
    --------
    >>> variable_dims("fund_balance", 3), variable_dims("district_fund_balance", 2)
    (('draw', 'year', 'school'), ('draw', 'year'))
    """
    if name.startswith(("district_", "central_")) or name == "deflator":
        return ("draw", "year")
    if ndim == 3:
        return ("draw", "year", "school")
    if name in _LEVER_VARIABLES:
        return ("draw", "year", "school", "lever")
    if name in _SCHOOL_VARIABLES:
        return ("draw", "school")
    if name == "compensation":
        return ("draw", "year", "school", "component")
    return ("draw", "year", "school", "revenue_line" if name == "revenue_lines" else "cost_line")


def build_dataset(
    arrays: Mapping[str, np.ndarray],
    scalars: Mapping[str, np.ndarray],
    scalar_attrs: Mapping[str, Mapping[str, str]],
    *,
    years: np.ndarray,
    schools: list[str],
    revenue_lines: list[str] | None = None,
    cost_lines: list[str] | None = None,
    line_meta: tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]] | None = None,
    attrs: Mapping[str, object] | None = None,
) -> xr.Dataset:
    """Wrap the engine's year-major arrays into the results Dataset (no copies).

    ``arrays`` maps variable names to ``(year, school, draw)`` arrays (and
    ``(year, school, line, draw)`` for line breakdowns); they are exposed with dims
    ``(draw, year, school[, line])``.
    """
    n = next(iter(arrays.values())).shape[-1]
    coords = {"draw": np.arange(n), "year": np.asarray(years, dtype=np.int64), "school": schools}
    data_vars = {}
    for name, arr in arrays.items():
        da = xr.DataArray(np.moveaxis(arr, -1, 0), dims=variable_dims(name, arr.ndim))
        da.attrs.update(VARIABLE_ATTRS.get(name, {}))
        data_vars[name] = da
    for name, arr in scalars.items():
        da = xr.DataArray(np.asarray(arr), dims=("draw",))
        da.attrs.update(scalar_attrs.get(name, {"role": "input"}))
        data_vars[name] = da
    if any(k in arrays for k in _LEVER_VARIABLES):
        coords["lever"] = list(LEVERS)
    if "compensation" in arrays:
        coords["component"] = list(COMPONENTS)
    if revenue_lines is not None:
        coords["revenue_line"] = revenue_lines
    if cost_lines is not None:
        coords["cost_line"] = cost_lines
    if line_meta is not None:
        (rc, rk), (cc, ck) = line_meta
        coords["revenue_category"] = ("revenue_line", rc)
        coords["revenue_kind"] = ("revenue_line", rk)
        coords["cost_category"] = ("cost_line", cc)
        coords["cost_kind"] = ("cost_line", ck)
    ds = xr.Dataset(data_vars, coords=coords, attrs=dict(attrs or {}))
    ds["year"].attrs.update({"long_name": "fiscal year", "units": "fiscal year"})
    ds["draw"].attrs.update({"long_name": "Monte Carlo draw index"})
    return ds


def provenance(
    *,
    text: str,
    sha256: str,
    source: str | None,
    overrides: Mapping[str, object],
    seed: int,
    draws: int,
    sampler: str,
    first_year: int,
    years: int,
) -> dict[str, object]:
    """Dataset attrs that make a run reproducible from the file alone."""
    return {
        "title": "sustainsim Monte Carlo results",
        "sustainsim_version": __version__,
        "seed": int(seed),
        "draws": int(draws),
        "sampler": sampler,
        "first_year": int(first_year),
        "years": int(years),
        "config_source": source or "",
        "config_sha256": sha256,
        "config_overrides": json.dumps(dict(overrides), sort_keys=True, default=str),
        "config_text": text,
        "Conventions": "CF-1.8",
    }


def input_names(ds: xr.Dataset) -> list[str]:
    """Names of the sampled scalar inputs (variables over ``draw`` with role ``input``)."""
    return [str(k) for k, v in ds.data_vars.items() if v.attrs.get("role") == "input"]


def inputs_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The sampled scalar inputs as a DataFrame, one row per draw.

    Inputs that do not vary across draws are dropped.
    """
    names = [k for k in input_names(ds) if float(ds[k].std()) > 0]
    return pd.DataFrame({k: ds[k].values for k in names}, index=ds["draw"].values)
