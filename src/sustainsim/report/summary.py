"""The report's detail tables, from :func:`sustainsim.summary`: one set per scenario.

P(solvent through each year) and P(no operating deficit in each year) with Wilson
intervals, by year and entity; fund-balance quantiles at the horizon and at the lowest
point; and the risk table (stock and flow measures side by side).
"""

from __future__ import annotations

import xarray as xr

from sustainsim import metrics, plotting
from sustainsim.report.cells import cell, esc, pct, usd

__all__ = ["base_name", "scenarios", "summaries", "summary_tables"]


def scenarios(ds: xr.Dataset) -> list[str | None]:
    """The scenario names of ``ds``, or ``[None]`` without a scenario dim."""
    return [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else [None]


def base_name(ds: xr.Dataset) -> str | None:
    """The base case's scenario: ``base`` (the config as written), else the first.

    None without a scenario dim.
    """
    names = scenarios(ds)
    return "base" if "base" in names else names[0]


def summaries(ds: xr.Dataset) -> dict[str | None, dict]:
    """:func:`sustainsim.summary` of each scenario (key None without scenarios).

    Computed once for every section of the report that shows it.
    """
    return {s: metrics.summary(ds if s is None else ds.sel(scenario=s)) for s in scenarios(ds)}


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
                f'{pct(d["probability"])} <span class="ci">'
                f"[{pct(d['lower'])}, {pct(d['upper'])}]</span>"
            )
            cells.append(
                cell(
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
    head = "".join(f"<th>{esc(e)}</th>" for e in ents)
    return (
        '<div class="scroll">'
        f'<table class="{key.replace("_", "-")}" data-scenario="{esc(scenario or "")}">'
        f"<caption>{esc(caption)} [{conf:.0%} Wilson interval], "
        f"{summ['draws']:,} draws</caption>"
        f'<thead><tr><th class="key">year</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
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
                cell(vals[q], esc(usd(vals[q])), entity=e, kind=kind, quantile=q) for q in qs
            )
            rows.append(
                f'<tr><th class="key">{esc(e)}</th><th class="key">{esc(what)}</th>{cells}</tr>'
            )
    head = "".join(f"<th>{float(q):.0%}</th>" for q in qs)
    return (
        '<div class="scroll">'
        f'<table class="balance-quantiles" data-scenario="{esc(scenario or "")}">'
        "<caption>Fund balance quantiles over draws [USD]</caption>"
        f'<thead><tr><th class="key">entity</th><th class="key">balance</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _firstcell(d: dict, e: str, kind: str) -> str:
    """Median first year among the draws where it happens, and their share."""
    med, share = d["median_year"], d["share_of_draws"]
    text = f"FY{med} ({pct(share)} of draws)" if med is not None else "none"
    return cell(share, text, entity=e, kind=kind, year=med or "")


def _risk_table(summ: dict, scenario: str | None) -> str:
    rows = []
    for e, d in summ["entities"].items():
        es = d.get("expected_shortfall_5pct")
        never = d["p_balance_never_negative"]
        row = [
            cell(never, pct(never), entity=e, kind="p_balance_never_negative"),
            _firstcell(d["first_negative_balance"], e, "first_negative_balance"),
        ]
        spend = d["p_no_deficit_spending"]
        row += [
            cell(spend, pct(spend), entity=e, kind="p_no_deficit_spending"),
            _firstcell(d["first_deficit_spending"], e, "first_deficit_spending"),
        ]
        if es is not None:
            row.append(cell(es, esc(usd(es)), entity=e, kind="expected_shortfall"))
        rows.append(f'<tr><th class="key">{esc(e)}</th>' + "".join(row) + "</tr>")
    return (
        '<div class="scroll">'
        f'<table class="risk" data-scenario="{esc(scenario or "")}">'
        "<caption>Fund balance (a stock) and operating deficits (a flow)</caption>"
        '<thead><tr><th class="key">entity</th><th>P(fund balance &gt;= 0 through the '
        "horizon)</th><th>first negative balance: median year (share of draws)</th>"
        "<th>P(no operating deficit in any year)</th><th>first year of deficit spending: "
        "median year (share of draws)</th><th>expected shortfall of the lowest "
        "balance, worst 5% of draws [USD]</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _headline(summ: dict, scenario: str | None) -> str:
    last = summ["years"][-1]
    main = plotting.default_entity(list(summ["entities"]))
    d = summ["entities"][main]["p_solvent"][str(last)]
    where = f"{main}" + (f" (scenario {scenario})" if scenario else "")
    return (
        f'<p class="lead">Probability that <b>{esc(where)}</b> stays solvent through '
        f"FY{last}: <b>{pct(d['probability'])}</b> "
        f"({summ['confidence']:.0%} interval {pct(d['lower'])} to {pct(d['upper'])}).</p>"
    )


def summary_tables(ds: xr.Dataset, summs: dict[str | None, dict] | None = None) -> str:
    """The report's detail tables (HTML) from :func:`sustainsim.summary`.

    Every table for the base case (scenario ``base``, or the first); for each other
    scenario its headline and P(solvent) by year (its paired differences against the base
    are in the report's scenario section). ``summs``: :func:`summaries` of ``ds``, if the
    caller has them.
    """
    summs = summaries(ds) if summs is None else summs
    base = base_name(ds)
    parts = []
    for scenario, summ in summs.items():
        if scenario is not None:
            parts.append(f"<h3>Scenario {esc(scenario)}</h3>")
        parts += [_headline(summ, scenario), _psolvent_table(summ, scenario)]
        if scenario == base:
            parts += [
                _operating_table(summ, scenario),
                _quantile_table(summ, scenario),
                _risk_table(summ, scenario),
            ]
    return "\n".join(parts)
