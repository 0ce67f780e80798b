"""The report's assumptions table: every uncertain input, and the policies, in plain words.

Read from the config text the run stored (``ds.attrs["config_text"]``, with the run's
overrides applied), so the report states exactly what was simulated: e.g. "funding
growth: normal, mean 2.5%, sd 1.5%, a new value each year".
"""

from __future__ import annotations

import json

import xarray as xr

from sustainsim.config import ConfigError, Spec, loads_config
from sustainsim.config.inputs import describe, uncertain_inputs
from sustainsim.report.cells import esc, table

__all__ = ["assumptions_table", "spec_of"]


def spec_of(ds: xr.Dataset, spec_text: str | None = None) -> Spec | None:
    """The spec a results Dataset was run from, or None when its text is not a config."""
    text = spec_text if spec_text is not None else ds.attrs.get("config_text", "")
    if not text:
        return None
    try:
        spec = loads_config(text)
        overrides = json.loads(ds.attrs.get("config_overrides", "{}") or "{}")
        return spec.with_overrides(overrides) if overrides else spec
    except (ConfigError, ValueError):
        return None


def _policies(spec: Spec) -> list[tuple[str, str]]:
    cfg = spec.config
    sim = cfg.simulation
    out = [
        (
            "horizon",
            f"{sim.years} fiscal years, FY{sim.first_year}-FY{sim.first_year + sim.years - 1}",
        )
    ]
    if cfg.district.reserve is not None:
        out.append(("policy reserve", f"{cfg.district.reserve.months:g} months of expenditure"))
    r = cfg.district.response
    if r is not None:
        out.append(
            (
                "response to deficits",
                f"levers {', '.join(r.levers)} in that order, {r.lag} year(s) after the "
                f"signal ({r.trigger.replace('_', ' ')}); trims at most {r.cap:.0%} of "
                f"flexible lines; reductions restored: {r.restore.replace('_', ' ')}",
            )
        )
    if cfg.district.stress_cut:
        out.append(("stress cut", f"{cfg.district.stress_cut:.1%} of exposed revenue, permanent"))
    return out


def assumptions_table(ds: xr.Dataset, spec_text: str | None = None) -> str:
    """The assumptions (HTML table), or a sentence saying they are not available."""
    spec = spec_of(ds, spec_text)
    if spec is None:
        return "<p>The config text is not available, so its assumptions cannot be listed.</p>"
    rows = [
        f'<tr><th class="key">{esc(label)}</th><td class="key">{esc(text)}</td>'
        '<td class="key"></td></tr>'
        for label, text in _policies(spec)
    ]
    for r in uncertain_inputs(spec.config):
        rows.append(
            f'<tr data-input="{esc(r.name)}"><th class="key">{esc(r.label)}</th>'
            f'<td class="key">{esc(describe(r))}</td><td class="key"><code>{esc(r.name)}</code>'
            "</td></tr>"
        )
    return table(
        "assumptions",
        "What the simulation assumes",
        ["assumption", "in plain words", "name in the config"],
        rows,
    )
