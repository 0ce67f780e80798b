"""The report's first page and its sections per school and per scenario.

The executive summary answers what a board asks first: how likely is each school (and
the district) to stay solvent and to balance its budget, how large is the grant cliff
and when, what must be cut (the "ask"), and what drives the risk. The sections after it
give each entity's year-by-year picture and each scenario's paired difference against
the base case.

Every number comes from the results Dataset (the config as run); nothing simulates.
Without a ``scenario`` dim the run is the base case; with one, the scenario ``base``
(or the first) is.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sustainsim import metrics, plotting
from sustainsim.analysis.paired import compare
from sustainsim.analysis.sensitivity import risk_drivers
from sustainsim.report.cells import cell, esc, interval, pct, table, usd
from sustainsim.report.summary import base_name

__all__ = ["ASK_SHARE", "base_case", "entity_sections", "executive_summary", "scenario_section"]

#: the "ask": the share of a year's expenditure beyond which a needed cut is reported
ASK_SHARE = 0.05
_QUANTILES = (0.1, 0.5, 0.9)


def base_case(ds: xr.Dataset) -> tuple[xr.Dataset, str | None]:
    """The base case of ``ds`` and its scenario name (None without scenarios)."""
    name = base_name(ds)
    return (ds if name is None else ds.sel(scenario=name)), name


def _base_summary(ds: xr.Dataset, summs: dict[str | None, dict] | None) -> dict:
    """The base case's :func:`sustainsim.summary`, from ``summs`` when given."""
    name = base_name(ds)
    return summs[name] if summs is not None else metrics.summary(base_case(ds)[0])


def _entities(summ: dict) -> list[str]:
    return list(summ["entities"])


def _lead(summ: dict) -> str:
    last = summ["years"][-1]
    parts = []
    for e, d in summ["entities"].items():
        p = d["p_solvent"][str(last)]
        parts.append(f"<b>{esc(e)}</b> in {interval(p['probability'], p['lower'], p['upper'])}")
    return (
        f'<p class="lead">Through FY{last} the fund balance stays at or above zero in '
        + "; ".join(parts)
        + f" of {summ['draws']:,} simulated futures.</p>"
    )


def _probability_cells(ps: dict, po: dict, e: str, year: object) -> str:
    """P(solvent through ``year``) and P(no operating deficit in it), with intervals."""
    return cell(
        ps["probability"],
        interval(ps["probability"], ps["lower"], ps["upper"]),
        entity=e,
        year=year,
        lower=repr(ps["lower"]),
        upper=repr(ps["upper"]),
    ) + cell(
        po["probability"],
        interval(po["probability"], po["lower"], po["upper"]),
        entity=e,
        kind="p_no_operating_deficit",
        year=year,
        lower=repr(po["lower"]),
        upper=repr(po["upper"]),
    )


def _headline_table(summ: dict, scenario: str | None) -> str:
    last = str(summ["years"][-1])
    rows = []
    for e, d in summ["entities"].items():
        ps, po = d["p_solvent"][last], d["p_no_operating_deficit"][last]
        first = d["first_deficit_spending"]
        med, share = first["median_year"], first["share_of_draws"]
        q50 = d["final_balance_quantiles"]["0.5"]
        rows.append(
            f'<tr><th class="key">{esc(e)}</th>'
            + _probability_cells(ps, po, e, last)
            + cell(
                share,
                f"FY{med} ({pct(share)} of futures)" if med is not None else "none",
                entity=e,
                kind="first_deficit_spending",
                year=med or "",
            )
            + cell(q50, esc(usd(q50)), entity=e, kind="final", quantile="0.5")
            + "</tr>"
        )
    head = [
        "",
        f"P(fund balance &ge; 0 through FY{last})",
        f"P(no operating deficit in FY{last})",
        "first year of deficit spending (median)",
        f"median balance, end of FY{last}",
    ]
    return table(
        "headline",
        f"Headline probabilities [{summ['confidence']:.0%} intervals]",
        head,
        rows,
        scenario=scenario or "",
    )


def _cliff_table(ds: xr.Dataset) -> str:
    """The grant cliff: first year without temporary money and the recurring gap then."""
    if "temporary_revenue" not in ds:
        return ""
    gap = metrics.structural_gap(ds)
    rows = []
    for e in [str(s) for s in gap["school"].values]:
        g = gap.sel(school=e)
        valid = np.isfinite(g.cliff_year.values)
        if not valid.any():
            continue
        year = float(np.median(g.cliff_year.values[valid]))
        size = float(np.median(g.gap.values[valid]))
        per = float(np.median(g.gap_per_pupil.values[valid]))
        hole = float(np.mean(valid & (g.gap.values > 0)))
        rows.append(
            f'<tr><th class="key">{esc(e)}</th>'
            + cell(year, f"FY{year:.0f}", entity=e, kind="cliff_year")
            + cell(size, esc(usd(size)), entity=e, kind="cliff_gap")
            + cell(per, esc(usd(per)), entity=e, kind="cliff_gap_per_pupil")
            + cell(hole, pct(hole), entity=e, kind="p_cliff_gap")
            + "</tr>"
        )
    if not rows:
        return ""
    head = [
        "",
        "first year without grants (median)",
        "recurring gap that year (median; below zero: a surplus)",
        "per pupil",
        "P(a gap to fill)",
    ]
    return table(
        "cliff",
        "The grant cliff: recurring cost not covered by recurring revenue once temporary "
        "money ends",
        head,
        rows,
    )


def _needed(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray, str]:
    """Cut needed each year (draw, year, school incl. the district), expenditure, and how."""
    cost = metrics.entity_balance(ds, "cost")
    if "required_cut" in ds:
        req = ds["required_cut"]
        if "district_cost" in ds and ds.sizes["school"] > 1:
            req = xr.concat(
                [req, req.sum("school").expand_dims(school=[metrics.DISTRICT])], "school"
            )
        return req, cost, "the management response's required cuts"
    surplus = metrics.entity_balance(ds, "surplus")
    return (-surplus).clip(min=0.0), cost, "the cut that would close each year's deficit"


def _ask_table(ds: xr.Dataset, share: float = ASK_SHARE) -> str:
    need, cost, how = _needed(ds)
    rel = xr.where(cost > 0, need / cost, 0.0)
    big = (rel > share).any("year")
    worst = need.max("year")
    rows = []
    for e in [str(s) for s in need["school"].values]:
        p = float(big.sel(school=e).mean("draw"))
        q = np.quantile(worst.sel(school=e).values, [0.5, 0.9])
        rows.append(
            f'<tr><th class="key">{esc(e)}</th>'
            + cell(p, pct(p), entity=e, kind="p_ask")
            + cell(float(q[0]), esc(usd(q[0])), entity=e, kind="ask_p50")
            + cell(float(q[1]), esc(usd(q[1])), entity=e, kind="ask_p90")
            + "</tr>"
        )
    head = [
        "",
        f"P(a cut above {share:.0%} of a year's budget is needed)",
        "largest yearly cut needed: median",
        "1 future in 10 needs at least",
    ]
    return table("ask", f"The ask: {esc(how)}", head, rows, share=share)


def _driver_label(rd: xr.Dataset, ds: xr.Dataset, name: str) -> str:
    """The input's human label (the config's ``[labels]`` or one made from its name)."""
    if "label" in rd.coords:
        return str(rd["label"].sel(input=name).values)
    return str(ds[name].attrs.get("label", name)) if name in ds else name


def _drivers(ds: xr.Dataset, top: int = 3) -> str:
    try:
        rd = risk_drivers(ds, "final_balance")
    except ValueError:  # no sampled inputs vary, or no single entity to analyse
        return ""
    names = [str(x) for x in rd["input"].values[:top]]
    if not names:
        return ""
    items = []
    for name in names:
        r = rd.sel(input=name)
        rho, share = float(r.spearman), float(r.contribution)
        way = "higher is better" if rho > 0 else "higher is worse"
        items.append(
            f'<li data-input="{esc(name)}" data-value="{share!r}"><b>'
            f"{esc(_driver_label(rd, ds, name))}</b> ({way}; explains {pct(share)} of the spread "
            f"of the ending balance, rank correlation {rho:+.2f})</li>"
        )
    school = rd.attrs.get("school") or plotting.default_entity(
        [str(s) for s in ds["school"].values]
        + ([metrics.DISTRICT] if ds.sizes["school"] > 1 else [])
    )
    return (
        f"<p>What drives the ending balance of <b>{esc(school)}</b> most, across the "
        f'futures:</p><ol class="drivers">{"".join(items)}</ol>'
    )


def _base_note(name: str | None) -> str:
    if name is None:
        return ""
    if name == "base":
        return "<p>The figures below are the config as written (scenario <b>base</b>).</p>"
    return (
        f"<p>The figures below are scenario <b>{esc(name)}</b>, the first of the config's "
        "scenarios.</p>"
    )


def _levers(lev: xr.Dataset | None, top: int = 3) -> str:
    """The top levers (from :func:`sustainsim.analysis.levers`) by their effect on P(solvent)."""
    if lev is None or lev.sizes.get("option", 0) == 0:
        return ""
    items = []
    for i in range(min(top, lev.sizes["option"])):
        r = lev.isel(option=i)
        eff, se = float(r.p_solvent_effect), float(r.p_solvent_se)
        cost = float(r.cost)
        items.append(
            f'<li data-option="{esc(str(r.option.values))}" data-value="{eff!r}"><b>'
            f"{esc(str(r.option.values))}</b>: P(solvent) {_pp(eff)} "
            f'<span class="ci">[{_pp(eff - 1.96 * se)}, {_pp(eff + 1.96 * se)}]</span>'
            + (f", costs {esc(usd(cost))} a year" if cost else "")
            + "</li>"
        )
    year = int(lev.attrs.get("year", -1))
    when = f"FY{year}" if year > 0 else "the horizon"
    return (
        f"<p>The levers that move P(solvent through {when}) of <b>"
        f"{esc(lev.attrs.get('school', ''))}</b> most, each tried on the same "
        f"{int(lev.attrs.get('draws', 0)):,} futures as the plan (paired 95% intervals):</p>"
        f'<ol class="levers">{"".join(items)}</ol>'
    )


def executive_summary(
    ds: xr.Dataset,
    levers: xr.Dataset | None = None,
    summs: dict[str | None, dict] | None = None,
) -> str:
    """The executive summary (HTML): headline, cliff, ask, drivers and levers of the base case.

    ``levers`` is :func:`sustainsim.analysis.levers`'s ranking, when the caller ran it
    (the report itself never simulates); ``summs`` the scenarios' summaries
    (:func:`sustainsim.report.summary.summaries`), if the caller has them.
    """
    base, name = base_case(ds)
    summ = _base_summary(ds, summs)
    return "\n".join(
        x
        for x in (
            _base_note(name),
            _lead(summ),
            _headline_table(summ, name),
            _cliff_table(base),
            _ask_table(base),
            _drivers(base),
            _levers(levers),
        )
        if x
    )


def _entity_table(ds: xr.Dataset, summ: dict, e: str, scenario: str | None) -> str:
    bal = metrics.entity_balance(ds, "fund_balance").sel(school=e)
    q = np.quantile(bal.transpose("year", "draw").values, _QUANTILES, axis=1)
    rows = []
    for k, y in enumerate(summ["years"]):
        ps = summ["entities"][e]["p_solvent"][str(y)]
        po = summ["entities"][e]["p_no_operating_deficit"][str(y)]
        quant = "".join(
            cell(q[i, k], esc(usd(q[i, k])), entity=e, kind="balance", year=y, quantile=qq)
            for i, qq in enumerate(_QUANTILES)
        )
        rows.append(
            f'<tr><th class="key">FY{y}</th>' + _probability_cells(ps, po, e, y) + quant + "</tr>"
        )
    head = [
        "year",
        "P(solvent through year)",
        "P(no operating deficit)",
        "balance P10",
        "P50",
        "P90",
    ]
    return table("entity", f"{esc(e)}, year by year", head, rows, scenario=scenario or "")


def entity_sections(ds: xr.Dataset, summs: dict[str | None, dict] | None = None) -> str:
    """One section per school (and the district): the base case year by year."""
    base, name = base_case(ds)
    summ = _base_summary(ds, summs)
    parts = []
    for e in _entities(summ):
        d = summ["entities"][e]
        first = d["first_negative_balance"]
        said = (
            f"the balance first turns negative in FY{first['median_year']} (median) in "
            f"{pct(first['share_of_draws'])} of futures"
            if first["median_year"] is not None
            else "the balance never turns negative in any simulated future"
        )
        parts.append(
            f'<section class="entity" id="entity-{esc(e)}"><h3>{esc(e)}</h3>'
            f"<p>{said}.</p>{_entity_table(base, summ, e, name)}</section>"
        )
    return "\n".join(parts)


def _pp(x: float) -> str:
    return f"{100 * x:+.1f} pts"


def scenario_section(ds: xr.Dataset) -> str:
    """Each scenario against the base case: paired differences with intervals."""
    if "scenario" not in ds.dims or ds.sizes["scenario"] < 2:
        return ""
    _, name = base_case(ds)
    diff = compare(ds, name)
    last = int(diff["year"].values[-1])
    d = diff.sel(year=last)
    ents = [str(s) for s in d["school"].values]
    rows = []
    for s in [str(x) for x in d["scenario"].values]:
        cells = []
        for e in ents:
            r = d.sel(scenario=s, school=e)
            v, lo, hi = float(r.difference), float(r.lower), float(r.upper)
            cells.append(
                cell(
                    v,
                    f'{_pp(v)} <span class="ci">[{_pp(lo)}, {_pp(hi)}]</span>',
                    entity=e,
                    kind="paired_difference",
                    against=name,
                    lower=repr(lo),
                    upper=repr(hi),
                    **{"scenario-name": s},
                )
            )
        rows.append(f'<tr><th class="key">{esc(s)}</th>{"".join(cells)}</tr>')
    conf = float(diff.attrs.get("confidence", 0.95))
    return (
        f"<p>Each scenario runs on the same simulated futures as <b>{esc(name)}</b> (common "
        "random numbers), so the difference is measured draw by draw and its interval is "
        "much narrower than the two probabilities' own.</p>"
        + table(
            "paired",
            f"Change in P(solvent through FY{last}) against {esc(name)}, percentage points "
            f"[{conf:.0%} paired interval]",
            ["scenario", *[esc(e) for e in ents]],
            rows,
        )
    )
