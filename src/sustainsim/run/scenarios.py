"""Named scenarios run on the same draws (common random numbers).

A config may define scenarios as overrides of its base::

    [scenarios.personalized]            # an empty table: the base as written

    [scenarios.traditional]
    "schools.pl_k8.cost.teacher_leader_stipends.amount" = 0
    "schools.pl_k8.cost.technology.rate" = 60

Every scenario runs with the same seed, so each draw sees the same enrollment
shocks, cuts and grant outcomes in every scenario and their differences are paired:
see :func:`sustainsim.analysis.paired.compare`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Unpack

import xarray as xr

from sustainsim.config.spec import Spec
from sustainsim.run.core import check_memory, execute
from sustainsim.run.plan import RunOptions, RunPlan, plan_run
from sustainsim.run.source import source_for

__all__ = ["simulate_scenarios"]


def simulate_scenarios(
    spec: Spec | RunPlan,
    scenarios: Sequence[str] | Mapping[str, Mapping[str, Any]] | None = None,
    **options: Unpack[RunOptions],
) -> xr.Dataset:
    """Simulate several scenarios on the same draws; the Dataset gains a ``scenario`` dim.

    Parameters
    ----------
    spec : Spec or RunPlan
        A config with ``[scenarios.NAME]`` tables (or a plan of one).
    scenarios : sequence of str, or mapping of str to overrides, optional
        Which of the config's scenarios to run, in this order (default all, in file
        order); or scenarios of your own, ``{"name": {"dotted.path": value, ...}}``,
        each the base config with those overrides (``{}`` for the base as written).
    **options
        As :func:`~sustainsim.run.plan.plan_run`, for every scenario. Every scenario
        draws from the base spec's streams (for Sobol: its dimension assignment), so
        draws stay common across scenarios; a scenario with its own correlations (and
        the base's non-Sobol sampler) gets them, unless a ``source`` is given.

    Returns
    -------
    xarray.Dataset
        As :func:`sustainsim.simulate`, with a leading ``scenario`` dim; the scenario
        overrides are in the ``scenario_overrides`` attr (JSON).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> ds = simulate_scenarios(spec, draws=1_000, seed=1)
    >>> p = sustainsim.p_solvent(ds).probability.isel(year=-1)
    >>> p.sel(school="pl_k8").round(2).to_series().to_dict()
    {'expected': 0.8, 'severe_cuts': 0.51}
    """
    plan = plan_run(spec, **options)
    base = plan.spec
    specs, given = _scenario_specs(base, scenarios)
    check_memory(plan, copies=2 * len(specs))  # every scenario's part, then their concat
    sampler = plan.sampler or base.config.simulation.sampler
    parts = []
    for name, sub in specs.items():
        # a scenario may change its correlations; a Sobol run keeps the base's dimension
        # assignment so the same inputs stay on the same dimensions (common draws)
        own = not plan.source_given and sampler != "sobol"
        own = own and sub.config.simulation.sampler == sampler
        src = source_for(sub, plan.draws, plan.seed, plan.sampler) if own else None
        parts.append(execute(plan.for_spec(sub, src)).expand_dims(scenario=[name]))
    out = xr.concat(parts, dim="scenario", join="outer", combine_attrs="override")
    for k in out.data_vars:
        if "scenario" in out[k].dims and out[k].dims[0] != "scenario":
            out[k] = out[k].transpose("scenario", ...)
    out.attrs["config_overrides"] = json.dumps(base.overrides, sort_keys=True, default=str)
    out.attrs["scenario_overrides"] = json.dumps(given, sort_keys=True, default=str)
    out["scenario"].attrs["long_name"] = "scenario (same draws in each)"
    return out


def _scenario_specs(
    base: Spec, scenarios: Sequence[str] | Mapping[str, Mapping[str, Any]] | None
) -> tuple[dict[str, Spec], dict[str, dict[str, Any]]]:
    """Name -> spec and name -> overrides of every scenario: the config's own, or given."""
    if isinstance(scenarios, Mapping):
        if not scenarios:
            raise ValueError("scenarios: give at least one {name: overrides} entry")
        out, given = {}, {}
        for name, overrides in scenarios.items():
            if not isinstance(overrides, Mapping):
                raise TypeError(
                    f"scenarios[{name!r}]: overrides must be a mapping of dotted config paths "
                    f"to values (got {type(overrides).__name__})"
                )
            out[str(name)] = base.with_overrides(dict(overrides)) if overrides else base
            given[str(name)] = dict(overrides)
        return out, given
    names = list(scenarios) if scenarios is not None else base.scenario_names
    if not names:
        raise ValueError("the config defines no [scenarios.NAME] tables; nothing to compare")
    specs = {name: base.scenario(name) for name in names}
    return specs, {name: dict(base.config.scenarios[name]) for name in names}
