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

from collections.abc import Sequence

import xarray as xr

from sustainsim.config.spec import Spec
from sustainsim.run.full import simulate

__all__ = ["simulate_scenarios"]


def simulate_scenarios(
    spec: Spec,
    scenarios: Sequence[str] | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    lines: bool = False,
    progress: bool | None = None,
    sampler: str | None = None,
) -> xr.Dataset:
    """Simulate several scenarios on the same draws; the Dataset gains a ``scenario`` dim.

    Parameters
    ----------
    spec : Spec
        A config with ``[scenarios.NAME]`` tables.
    scenarios : sequence of str, optional
        Which to run, in this order; default all, in file order.
    sampler : str, optional
        ``"monte_carlo"``, ``"lhs"`` or ``"sobol"``; default the config's. Every scenario
        uses the base spec's streams (for Sobol: its dimension assignment), so draws
        stay common across scenarios.

    Returns
    -------
    xarray.Dataset
        As :func:`sustainsim.simulate`, with a leading ``scenario`` dim; the scenario
        overrides are in the ``scenario_overrides`` attr (JSON).

    Examples
    --------
    >>> ds = simulate_scenarios(spec, draws=10_000)  # doctest: +SKIP
    >>> sustainsim.p_solvent(ds).probability.sel(year=2036)  # doctest: +SKIP
    """
    import json

    names = list(scenarios) if scenarios is not None else spec.scenario_names
    if not names:
        raise ValueError("the config defines no [scenarios.NAME] tables; nothing to compare")
    from sustainsim.run.full import resolve_run_args
    from sustainsim.run.source import source_for

    n, seed, _ = resolve_run_args(spec, draws, seed, chunk_size)
    parts = []
    base_sampler = sampler or spec.config.simulation.sampler
    for name in names:
        sub = spec.scenario(name)
        # a scenario may change its correlations; a Sobol run keeps the base's dimension
        # assignment so the same inputs stay on the same dimensions (common draws)
        own = base_sampler != "sobol" and sub.config.simulation.sampler == base_sampler
        ds = simulate(
            sub,
            draws=n,
            seed=seed,
            chunk_size=chunk_size,
            lines=lines,
            progress=progress,
            source=source_for(sub if own else spec, n, seed, sampler),
        )
        parts.append(ds.expand_dims(scenario=[name]))
    out = xr.concat(parts, dim="scenario", join="outer", combine_attrs="override")
    for k in out.data_vars:
        if "scenario" in out[k].dims and out[k].dims[0] != "scenario":
            out[k] = out[k].transpose("scenario", ...)
    out.attrs["config_overrides"] = json.dumps(spec.overrides, sort_keys=True, default=str)
    out.attrs["scenario_overrides"] = json.dumps(
        {n: spec.config.scenarios[n] for n in names}, sort_keys=True, default=str
    )
    out["scenario"].attrs["long_name"] = "scenario (same draws in each)"
    return out
