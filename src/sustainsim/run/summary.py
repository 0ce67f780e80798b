"""Summary-only runs: reduce every chunk on the fly, keep no per-draw paths.

:func:`simulate_summary` is :func:`sustainsim.simulate` with ``mode="summary"``: the same
chunks, each folded into a :class:`~sustainsim.run.accumulate.SummaryAccumulator` and
dropped, so memory is bounded by one chunk whatever the number of draws. What is kept
and how accurate it is: :mod:`sustainsim.run.accumulate`. The names that used to live
here (``SummaryAccumulator``, ``summary_dict``, ``DEFAULT_BINS``, ...) still import from it.

Examples
--------
>>> import sustainsim
>>> from sustainsim.run.summary import simulate_summary
>>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
>>> s = simulate_summary(spec, draws=2_000, seed=1)  # the same numbers as a full run
>>> float(s.probability.isel(year=-1, school=0))
0.019
"""

from __future__ import annotations

from typing import Unpack

import xarray as xr

from sustainsim.config.spec import Spec
from sustainsim.run.accumulate import (
    PILOT_DRAWS,
    SummaryAccumulator,
    entity_arrays,
    pilot_accumulator,
    reduce_block,
    summary_dataset,
    summary_dict,
)
from sustainsim.run.chunk import BLOCK_CHUNKS, chunk_blocks, chunk_bounds
from sustainsim.run.core import simulate
from sustainsim.run.plan import (
    CHUNK_BYTES,
    CHUNK_DRAW_YEARS,
    DEFAULT_BINS,
    STREAMING_CHUNK_SIZE,
    RunOptions,
    RunPlan,
    summary_chunk_size,
)
from sustainsim.run.sketch import DEFAULT_MARGIN, Histogram

__all__ = [
    "BLOCK_CHUNKS",
    "CHUNK_BYTES",
    "CHUNK_DRAW_YEARS",
    "DEFAULT_BINS",
    "DEFAULT_MARGIN",
    "PILOT_DRAWS",
    "STREAMING_CHUNK_SIZE",
    "Histogram",
    "SummaryAccumulator",
    "chunk_blocks",
    "chunk_bounds",
    "entity_arrays",
    "pilot_accumulator",
    "reduce_block",
    "simulate_summary",
    "summary_chunk_size",
    "summary_dataset",
    "summary_dict",
]


def simulate_summary(spec: Spec | RunPlan, **options: Unpack[RunOptions]) -> xr.Dataset:
    """Simulate and summarize chunk by chunk, keeping no per-draw paths.

    Parameters
    ----------
    spec : Spec or RunPlan
        From :func:`sustainsim.load_config` (or a plan, whose mode is set to summary).
    **options
        As :func:`~sustainsim.run.plan.plan_run` (``draws``, ``seed``, ``chunk_size``,
        ``bins``, ``quantiles``, ``confidence``, ``margin``, ``progress``, ``source``,
        ``scheduler``, ...), with ``mode="summary"``.

    Returns
    -------
    xarray.Dataset
        ``probability``, ``se``, ``lower``, ``upper`` of P(solvent through year)
        over ``(year, school)``; ``solvent_count``; ``fund_balance_quantile`` and
        its error bound ``fund_balance_quantile_bound`` over ``(quantile, year,
        school)``; ``worst_balance_quantile`` (+ bound) over ``(quantile, school)``;
        ``<variable>_mean`` / ``<variable>_std``; ``fund_balance_min`` / ``_max``;
        the histograms. ``school`` includes ``"district"`` for several schools.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> s = simulate_summary(spec, draws=2_000, seed=3)
    >>> sorted(k for k in s.data_vars if k.startswith("fund_balance_quantile"))
    ['fund_balance_quantile', 'fund_balance_quantile_bound']
    """
    options["mode"] = "summary"
    return simulate(spec, **options)
