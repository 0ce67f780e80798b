"""The report page: one self-contained HTML document, readable on screen and on paper.

``report.html`` needs nothing but itself: the figures are embedded as base64 PNG data
URIs, the style sheet is inline, and there are no scripts or external links. Its order
is a board's: title and description (``[simulation] title`` and ``description``), the
executive summary (one printed page), a section per school and the district, the
scenarios as paired differences, the figures, the assumptions in plain words, the detail
tables, and the config and provenance in a collapsed appendix.

On paper (print to PDF) the executive summary ends its page, no table or figure is split
across pages, and code wraps; on a narrow screen tables scroll inside their box and the
page never scrolls sideways.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import xarray as xr

from sustainsim.report.assumptions import assumptions_table, spec_of
from sustainsim.report.cells import esc
from sustainsim.report.executive import entity_sections, executive_summary, scenario_section
from sustainsim.report.figures import FIGURES
from sustainsim.report.summary import summaries, summary_tables

__all__ = ["CSS", "build_html"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #1a1a1a; line-height: 1.4; }
h1 { border-bottom: 2px solid #0072B2; padding-bottom: .2em; margin-bottom: .3em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
.description { font-size: 1.05em; max-width: 60em; }
.meta { color: #555; font-size: .85em; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .8em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding: .3em 0; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: right; vertical-align: top; }
th { background: #eef3f8; font-weight: 600; }
td.key, th.key { text-align: left; }
.ci { color: #555; font-size: .85em; white-space: nowrap; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #444; font-size: .9em; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 1em; overflow-x: auto;
      font-size: .85em; white-space: pre-wrap; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
details > summary { cursor: pointer; font-weight: 600; margin: 1em 0; }
.lead { font-size: 1.1em; }
ol.drivers li { margin: .2em 0; }
@media (max-width: 600px) {
  body { margin: 1em auto; padding: 0 .5em; }
  table { font-size: .8em; }
  th, td { padding: .2em .35em; }
}
@page { size: letter; margin: 1.5cm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  #executive-summary { break-after: page; }
  table, figure, .entity { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .scroll { overflow: visible; }
  #executive-summary table { font-size: 8.5pt; }
  figure img { max-height: 22cm; width: auto; }
}
"""


def _provenance_table(ds: xr.Dataset) -> str:
    rows = []
    for k, v in ds.attrs.items():
        if k == "config_text":
            continue
        if isinstance(v, np.ndarray | list | tuple):
            v = ", ".join(str(x) for x in np.ravel(v))
        rows.append(f'<tr><th class="key">{esc(k)}</th><td class="key">{esc(v)}</td></tr>')
    return f'<table class="provenance"><tbody>{"".join(rows)}</tbody></table>'


def _figures(figures: dict[str, bytes]) -> str:
    return "\n".join(
        f'<figure id="fig-{name}"><img alt="{esc(name.replace("_", " "))}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{esc(FIGURES[name])}</figcaption></figure>"
        for name, png in figures.items()
    )


def _title(ds: xr.Dataset, spec_text: str | None) -> tuple[str, str]:
    spec = spec_of(ds, spec_text)
    sim = spec.config.simulation if spec is not None else None
    src = ds.attrs.get("config_source") or ""
    default = f"Financial sustainability: {Path(src).stem}" if src else "Financial sustainability"
    title = (sim.title if sim is not None else None) or default
    text = (sim.description if sim is not None else None) or ""
    paras = "".join(f"<p>{esc(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
    return title, paras


def build_html(
    ds: xr.Dataset,
    figures: dict[str, bytes],
    spec_text: str | None = None,
    levers: xr.Dataset | None = None,
    summs: dict[str | None, dict] | None = None,
) -> str:
    """The full self-contained HTML document (figures embedded as data URIs).

    ``levers``: the ranking of :func:`sustainsim.analysis.levers`, shown in the executive
    summary when given. ``summs``: :func:`~sustainsim.report.summary.summaries` of ``ds``
    if the caller has them already (``sustainsim run`` has); default computed here.
    """
    text = spec_text if spec_text is not None else ds.attrs.get("config_text", "")
    src = ds.attrs.get("config_source") or "(config given as text)"
    years = ds["year"].values
    title, description = _title(ds, spec_text)
    config = (
        f"<pre>{esc(text)}</pre>"
        if text
        else "<p>The config text is not available in this Dataset.</p>"
    )
    if summs is None:  # once, for the summary, the school sections and the tables
        summs = summaries(ds)
    scenarios = scenario_section(ds)
    scen = f'<section id="scenarios"><h2>Scenarios</h2>{scenarios}</section>' if scenarios else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{esc(title)}</h1>
<div class="description">{description}</div>
<p class="meta">Config <code>{esc(src)}</code>; {ds.sizes["draw"]:,} draws,
seed {esc(ds.attrs.get("seed", "?"))}, sampler {esc(ds.attrs.get("sampler", "?"))}; fiscal years
FY{int(years[0])}-FY{int(years[-1])}; sustainsim {esc(ds.attrs.get("sustainsim_version", "?"))}.</p>
</header>
<section id="executive-summary">
<h2>Executive summary</h2>
{executive_summary(ds, levers, summs)}
</section>
<section id="schools">
<h2>School by school</h2>
{entity_sections(ds, summs)}
</section>
{scen}
<section id="figures">
<h2>Figures</h2>
{_figures(figures)}
</section>
<section id="assumptions">
<h2>Assumptions</h2>
{assumptions_table(ds, spec_text)}
</section>
<section id="summary">
<h2>Detail tables</h2>
{summary_tables(ds, summs)}
</section>
<section id="config">
<h2>Appendix: configuration and provenance</h2>
<p>SHA-256 of the effective config: <code>{esc(ds.attrs.get("config_sha256", "?"))}</code>;
overrides: <code>{esc(ds.attrs.get("config_overrides", "{}"))}</code>.</p>
<details><summary>The config as written</summary>
{config}
</details>
<details id="provenance"><summary>Provenance</summary>
{_provenance_table(ds)}
</details>
</section>
</body>
</html>
"""
