"""The HTML report: key figures as PNG files and one self-contained ``report.html``.

``report.html`` needs nothing but itself: the figures are embedded as base64 PNG
data URIs, the style sheet is inline, and there are no scripts or external links.
It holds the summary tables (P(solvent) by year with intervals, balance
quantiles, deficit risk), the figures, the config text and the provenance.
Table cells carry the exact values in ``data-value`` attributes (the text shows
them rounded), so the report can be checked against :func:`sustainsim.summary`.

Figures are drawn on plain :class:`matplotlib.figure.Figure` objects (Agg, no
pyplot state), so building reports is thread-safe and needs no display. Every
file is written atomically. The same inputs give byte-identical files.
"""

from __future__ import annotations

import base64
import html
import io as _io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from sustainsim import metrics, plotting
from sustainsim.io import atomic_path, write_text

__all__ = [
    "FIGURES",
    "build_html",
    "figure_names",
    "render_figures",
    "summary_tables",
    "write_report",
    "check_results",
    "write_run_figures",
]

#: figure name -> caption, in report order
FIGURES: dict[str, str] = {
    "fan_chart": "Fund balance over the years: quantile bands over draws and the median.",
    "solvency_curve": "Probability that the fund balance stays at or above zero in every year "
    "up to each year, with its confidence interval.",
    "scenario_comparison": "Probability of staying solvent through the horizon by scenario.",
    "balance_distribution": "Distribution over draws of the fund balance at the horizon and of "
    "the lowest balance over the horizon (histogram and cumulative share).",
    "composition": "Budget composition by revenue and cost line in the central case "
    "(every input at its median).",
}

DPI = 110
_MAX_PANELS = 6

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #1a1a1a; line-height: 1.4; }
h1 { border-bottom: 2px solid #0072B2; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding: .3em 0; white-space: nowrap; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: right; }
th { background: #eef3f8; }
td.key, th.key { text-align: left; }
.ci { color: #555; font-size: .85em; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #444; font-size: .9em; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 1em; overflow-x: auto;
      font-size: .85em; }
.lead { font-size: 1.1em; }
"""


# --------------------------------------------------------------------------- figures
def _png(fig: Figure) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return buf.getvalue()


def _panels(n: int, width: float = 8.0, height: float = 4.5) -> tuple[Figure, list]:
    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    scale = 1.0 if n == 1 else 0.7
    fig = Figure(
        figsize=(width * scale * ncols, height * scale * nrows + 0.3), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, list(axes[:n])


def _entities(ds: xr.Dataset) -> list[str]:
    names = [str(s) for s in ds["school"].values]
    return names + [metrics.DISTRICT] if len(names) > 1 else names


def _scenarios(ds: xr.Dataset) -> list[str | None]:
    return [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else [None]


def figure_names(ds: xr.Dataset, central: xr.Dataset | None = None) -> list[str]:
    """The names of the figures :func:`render_figures` draws for ``ds``, in report order."""
    lines = central if central is not None else ds
    skip = {"scenario_comparison"} if "scenario" not in ds.dims else set()
    if not {"revenue_lines", "cost_lines"} <= set(lines.data_vars):
        skip.add("composition")
    return [k for k in FIGURES if k not in skip]


class _Notify(dict):
    """A dict of figures that calls ``progress(name)`` as each one is drawn."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        super().__init__()
        self._progress = progress

    def __setitem__(self, key: str, value: bytes) -> None:
        super().__setitem__(key, value)
        self._progress(key)


def render_figures(
    ds: xr.Dataset,
    central: xr.Dataset | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, bytes]:
    """Draw the report's figures and return them as PNG bytes by name (see :data:`FIGURES`).

    ``fan_chart``: one panel per scenario (main entity: the district total or the only
    school) or, without scenarios, one per school and the district total (at most
    six panels); ``solvency_curve``; ``scenario_comparison`` when there is a
    ``scenario`` dim; ``balance_distribution`` (final and worst balance);
    ``composition`` when ``central`` is given or ``ds`` has line data.
    ``progress(name)`` is called as each figure is drawn (see :func:`figure_names`).
    """
    _check_results(ds)
    out: dict[str, bytes] = {} if progress is None else _Notify(progress)
    scenarios = _scenarios(ds)
    main = plotting.default_entity(_entities(ds))
    if scenarios != [None]:
        panels = [(main, s) for s in scenarios[:_MAX_PANELS]]
    else:
        panels = [(e, None) for e in _entities(ds)[:_MAX_PANELS]]
    fig, axes = _panels(len(panels))
    for ax, (entity, scenario) in zip(axes, panels, strict=True):
        plotting.fan_chart(ds, school=entity, scenario=scenario, ax=ax)
    out["fan_chart"] = _png(fig)

    ps = metrics.p_solvent(ds)
    fig, (ax,) = _panels(1)
    plotting.solvency_curve(ps, ax=ax)
    out["solvency_curve"] = _png(fig)

    if scenarios != [None]:
        fig, (ax,) = _panels(1)
        plotting.scenario_comparison(ps, ax=ax)
        out["scenario_comparison"] = _png(fig)

    fig, axes = _panels(2)
    plotting.balance_distribution(ds, "final", ax=axes[0])
    plotting.balance_distribution(ds, "worst", ax=axes[1])
    out["balance_distribution"] = _png(fig)

    lines = central if central is not None else ds
    if {"revenue_lines", "cost_lines"} <= set(lines.data_vars):
        fig, (ax,) = _panels(1, width=10.0, height=5.5)
        plotting.composition(lines, ax=ax)
        out["composition"] = _png(fig)
    return {k: out[k] for k in FIGURES if k in out}


def _check_results(ds: xr.Dataset) -> None:
    if not isinstance(ds, xr.Dataset) or "fund_balance" not in ds or "draw" not in ds.dims:
        raise ValueError(
            "expected a sustainsim results Dataset (with 'fund_balance' over draw, year, school)"
        )


# --------------------------------------------------------------------------- HTML
def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _cell(value: float | None, text: str, **data: object) -> str:
    attrs = "".join(f' data-{k}="{_e(v)}"' for k, v in data.items())
    if value is not None:
        attrs += f' data-value="{float(value)!r}"'
    return f"<td{attrs}>{text}</td>"


def _psolvent_table(summ: dict, scenario: str | None) -> str:
    """P(solvent through year): fund balance >= 0 every year so far, by year and entity."""
    return _by_year_table(
        summ, scenario, "p_solvent", "P(solvent through year): fund balance >= 0 every year so far"
    )


def _operating_table(summ: dict, scenario: str | None) -> str:
    """P(no operating deficit in year): surplus >= 0, by year and entity."""
    return _by_year_table(
        summ, scenario, "p_no_operating_deficit", "P(no operating deficit in year): surplus >= 0"
    )


def _by_year_table(summ: dict, scenario: str | None, key: str, caption: str) -> str:
    ents = list(summ["entities"])
    conf = summ["confidence"]
    rows = []
    for y in summ["years"]:
        cells = []
        for e in ents:
            d = summ["entities"][e][key][str(y)]
            text = (
                f'{_pct(d["probability"])} <span class="ci">'
                f"[{_pct(d['lower'])}, {_pct(d['upper'])}]</span>"
            )
            cells.append(
                _cell(
                    d["probability"],
                    text,
                    entity=e,
                    **({} if key == "p_solvent" else {"kind": key}),
                    year=y,
                    lower=repr(d["lower"]),
                    upper=repr(d["upper"]),
                )
            )
        rows.append(f'<tr><th class="key">FY{y}</th>{"".join(cells)}</tr>')
    head = "".join(f"<th>{_e(e)}</th>" for e in ents)
    return (
        f'<table class="{key.replace("_", "-")}" data-scenario="{_e(scenario or "")}">'
        f"<caption>{_e(caption)} [{conf:.0%} Wilson interval], "
        f"{summ['draws']:,} draws</caption>"
        f'<thead><tr><th class="key">year</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _quantile_table(summ: dict, scenario: str | None) -> str:
    ents = list(summ["entities"])
    qs = list(summ["entities"][ents[0]]["final_balance_quantiles"])
    last = summ["years"][-1]
    rows = []
    for kind, what in (("final", f"end of FY{last}"), ("worst", "lowest over the horizon")):
        for e in ents:
            vals = summ["entities"][e][f"{kind}_balance_quantiles"]
            cells = "".join(
                _cell(vals[q], _e(plotting.format_usd(vals[q], 2)), entity=e, kind=kind, quantile=q)
                for q in qs
            )
            rows.append(
                f'<tr><th class="key">{_e(e)}</th><th class="key">{_e(what)}</th>{cells}</tr>'
            )
    head = "".join(f"<th>{float(q):.0%}</th>" for q in qs)
    return (
        f'<table class="balance-quantiles" data-scenario="{_e(scenario or "")}">'
        "<caption>Fund balance quantiles over draws [USD]</caption>"
        f'<thead><tr><th class="key">entity</th><th class="key">balance</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _first_cell(d: dict, e: str, kind: str) -> str:
    """Median first year among the draws where it happens, and their share."""
    med, share = d["median_year"], d["share_of_draws"]
    text = f"FY{med} ({_pct(share)} of draws)" if med is not None else "none"
    return _cell(share, text, entity=e, kind=kind, year=med or "")


def _risk_table(summ: dict, scenario: str | None) -> str:
    rows = []
    for e, d in summ["entities"].items():
        es = d.get("expected_shortfall_5pct")
        never = d["p_balance_never_negative"]
        row = [
            _cell(never, _pct(never), entity=e, kind="p_balance_never_negative"),
            _first_cell(d["first_negative_balance"], e, "first_negative_balance"),
        ]
        spend = d["p_no_deficit_spending"]
        row += [
            _cell(spend, _pct(spend), entity=e, kind="p_no_deficit_spending"),
            _first_cell(d["first_deficit_spending"], e, "first_deficit_spending"),
        ]
        if es is not None:
            row.append(
                _cell(es, _e(plotting.format_usd(es, 2)), entity=e, kind="expected_shortfall")
            )
        rows.append(f'<tr><th class="key">{_e(e)}</th>' + "".join(row) + "</tr>")
    return (
        f'<table class="risk" data-scenario="{_e(scenario or "")}">'
        "<caption>Fund balance (a stock) and operating deficits (a flow)</caption>"
        '<thead><tr><th class="key">entity</th><th>P(fund balance &gt;= 0 through the '
        "horizon)</th><th>first negative balance: median year (share of draws)</th>"
        "<th>P(no operating deficit in any year)</th><th>first year of deficit spending: "
        "median year (share of draws)</th><th>expected shortfall of the lowest "
        "balance, worst 5% of draws [USD]</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _headline(summ: dict, scenario: str | None) -> str:
    last = summ["years"][-1]
    main = plotting.default_entity(list(summ["entities"]))
    d = summ["entities"][main]["p_solvent"][str(last)]
    where = f"{main}" + (f" (scenario {scenario})" if scenario else "")
    return (
        f'<p class="lead">Probability that <b>{_e(where)}</b> stays solvent through '
        f"FY{last}: <b>{_pct(d['probability'])}</b> "
        f"({summ['confidence']:.0%} interval {_pct(d['lower'])} to {_pct(d['upper'])}).</p>"
    )


def summary_tables(ds: xr.Dataset) -> str:
    """The report's summary section (HTML) from :func:`sustainsim.summary`, per scenario."""
    parts = []
    for scenario in _scenarios(ds):
        sub = ds if scenario is None else ds.sel(scenario=scenario)
        summ = metrics.summary(sub)
        if scenario is not None:
            parts.append(f"<h3>Scenario {_e(scenario)}</h3>")
        parts += [
            _headline(summ, scenario),
            _psolvent_table(summ, scenario),
            _operating_table(summ, scenario),
            _quantile_table(summ, scenario),
            _risk_table(summ, scenario),
        ]
    return "\n".join(parts)


def _provenance_table(ds: xr.Dataset) -> str:
    rows = []
    for k, v in ds.attrs.items():
        if k == "config_text":
            continue
        if isinstance(v, np.ndarray | list | tuple):
            v = ", ".join(str(x) for x in np.ravel(v))
        rows.append(f'<tr><th class="key">{_e(k)}</th><td class="key">{_e(v)}</td></tr>')
    return f'<table class="provenance"><tbody>{"".join(rows)}</tbody></table>'


def build_html(ds: xr.Dataset, figures: dict[str, bytes], spec_text: str | None = None) -> str:
    """The full self-contained HTML document (figures embedded as data URIs)."""
    text = spec_text if spec_text is not None else ds.attrs.get("config_text", "")
    src = ds.attrs.get("config_source") or "(config given as text)"
    years = ds["year"].values
    figs = "\n".join(
        f'<figure id="fig-{name}"><img alt="{_e(name.replace("_", " "))}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        f"<figcaption>{_e(FIGURES[name])}</figcaption></figure>"
        for name, png in figures.items()
    )
    config = (
        f"<pre>{_e(text)}</pre>"
        if text
        else "<p>The config text is not available in this Dataset.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sustainsim report: {_e(src)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>sustainsim report</h1>
<p>Config <code>{_e(src)}</code>; {ds.sizes["draw"]:,} draws, seed {_e(ds.attrs.get("seed", "?"))},
sampler {_e(ds.attrs.get("sampler", "?"))}; fiscal years FY{int(years[0])}-FY{int(years[-1])};
sustainsim {_e(ds.attrs.get("sustainsim_version", "?"))}.</p>
<section id="summary">
<h2>Summary</h2>
{summary_tables(ds)}
</section>
<section id="figures">
<h2>Figures</h2>
{figs}
</section>
<section id="config">
<h2>Configuration</h2>
<p>SHA-256 of the effective config: <code>{_e(ds.attrs.get("config_sha256", "?"))}</code>;
overrides: <code>{_e(ds.attrs.get("config_overrides", "{}"))}</code>.</p>
{config}
</section>
<section id="provenance">
<h2>Provenance</h2>
{_provenance_table(ds)}
</section>
</body>
</html>
"""


# --------------------------------------------------------------------------- writing
def _write_bytes(data: bytes, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def _write_all(
    ds: xr.Dataset,
    out_dir: str | Path,
    spec_text: str | None,
    central: xr.Dataset | None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {str(out)!r} exists and is not a directory")
    figures = (
        render_figures(ds, central) if progress is None else render_figures(ds, central, progress)
    )
    page = build_html(ds, figures, spec_text)  # everything computed before the first write
    paths = [_write_bytes(png, out / f"{name}.png") for name, png in figures.items()]
    paths.append(write_text(page, out / "report.html"))
    return paths


def write_report(
    ds: xr.Dataset,
    out_dir: str | Path,
    *,
    spec_text: str | None = None,
    central: xr.Dataset | None = None,
) -> Path:
    """Write the figures (PNG) and a self-contained ``report.html`` into ``out_dir``.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results (optionally with a ``scenario`` dim).
    out_dir : str or Path
        Created if missing. Files: ``fan_chart.png``, ``solvency_curve.png``,
        ``balance_distribution.png``, ``composition.png`` (with line data or
        ``central``), ``scenario_comparison.png`` (with a ``scenario`` dim),
        ``report.html``; each written atomically.
    spec_text : str, optional
        Config text shown in the report; default ``ds.attrs["config_text"]``.
    central : xarray.Dataset, optional
        :func:`sustainsim.central_case` of the spec, for the budget-composition figure.

    Returns
    -------
    Path
        The ``report.html`` written.

    Examples
    --------
    >>> import tempfile
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=500, seed=1)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     page = write_report(ds, out, spec_text=spec.text, central=sustainsim.central_case(spec))
    ...     page.name, page.stat().st_size > 10_000
    ('report.html', True)
    """
    return _write_all(ds, out_dir, spec_text, central)[-1]


def write_run_figures(
    ds: xr.Dataset,
    out_dir: str | Path,
    *,
    spec_text: str | None = None,
    central: xr.Dataset | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """What ``sustainsim run`` writes beside ``results.nc``: the figures and ``report.html``.

    The report never simulates: the caller passes what it shows. ``spec_text`` is the
    config as written (shown in the report); ``central`` the central case
    (:func:`sustainsim.central_case`), whose line data the composition figure uses when
    ``ds`` has none; ``progress(name)`` is called as each figure is drawn. Returns the
    paths written (PNG files, then ``report.html``).
    """
    return _write_all(ds, out_dir, spec_text, central, progress)


def check_results(ds: xr.Dataset) -> None:
    """Raise ValueError unless ``ds`` looks like a sustainsim results Dataset."""
    _check_results(ds)
