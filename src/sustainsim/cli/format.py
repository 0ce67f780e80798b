"""Plain-text tables of the numbers ``run`` prints (numbers in :mod:`sustainsim.cli.numbers`)."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from sustainsim.cli.basecase import BASE
from sustainsim.cli.numbers import count, estimate, pct, pp, usd
from sustainsim.cli.table import wrap_table
from sustainsim.run.convergence import ConvergenceInfo

__all__ = ["format_convergence", "format_differences", "format_summary"]


def _cells(d: dict) -> str:
    return estimate(d["probability"], d["lower"], d["upper"])


def format_summary(
    summ: dict,
    title: str = "",
    *,
    years: Sequence[int] | None = None,
    entities: Sequence[str] | None = None,
    width: int | None = None,
    brief: bool = False,
) -> str:
    """A readable plain-text table of a :func:`sustainsim.metrics.summary`.

    ``years`` and ``entities`` keep only those rows and columns (default all); tables
    wider than ``width`` (default the terminal's) wrap into blocks. Numbers in the
    shared format of :mod:`sustainsim.cli.numbers`. With scenarios, the base (the
    first) in full and the others ``brief``: their P(solvent) table only (their paired
    differences against the base say the rest).
    """
    if "scenarios" in summ:
        blocks = []
        for i, (name, sc) in enumerate(summ["scenarios"].items()):
            sub = {**{k: v for k, v in summ.items() if k != "scenarios"}, **sc}
            what = " (the config as written)" if name == BASE else ""
            head = (title + "\n" if title and i == 0 else "") + f"=== scenario: {name}{what} ==="
            blocks.append(
                format_summary(
                    sub, head, years=years, entities=entities, width=width, brief=i > 0
                ).rstrip()
            )
        return "\n\n".join(blocks)
    ents = [e for e in summ["entities"] if entities is None or e in entities]
    shown = [y for y in summ["years"] if years is None or y in years]
    last = summ["years"][-1]
    lines = [title] if title else []
    first = summ["years"][0]
    lines.append(f"{count(summ['draws'])} draws, seed {summ['seed']}, FY{first}-FY{last}")
    lines.append("")
    conf = f"{summ['confidence']:.0%}"
    heads = {
        "p_solvent": f"P(solvent through year): fund balance >= 0 so far [{conf} Wilson interval]",
        "p_no_operating_deficit": "P(no operating deficit in year): surplus >= 0 "
        f"[{conf} Wilson interval]",
    }
    for key, head in heads.items():
        if all(key in summ["entities"][e] for e in ents):
            by = summ["entities"]
            rows = [[str(y)] + [_cells(by[e][key][str(y)]) for e in ents] for y in shown]
            lines += [head, wrap_table(["year", *ents], rows, width=width), ""]
        if brief:
            return "\n".join(lines)
    qs = list(summ["entities"][ents[0]]["final_balance_quantiles"]) if ents else []
    for key, head in (
        ("final_balance_quantiles", f"Fund balance at the end of FY{last}, quantiles over draws"),
        ("worst_balance_quantiles", "Lowest fund balance over the horizon, quantiles over draws"),
    ):
        rows = [[e] + [usd(summ["entities"][e][key][q]) for q in qs] for e in ents]
        lines += [head, wrap_table(["", *(f"q{q}" for q in qs)], rows, width=width), ""]
    for e in ents:
        lines += _first_years(e, summ["entities"][e], last)
    return "\n".join(lines)


def _first(d: dict) -> str:
    """``median FY2031 (in 40.2% of draws)`` or ``none``."""
    if d["median_year"] is None:
        return "none"
    return f"median FY{d['median_year']} (in {pct(d['share_of_draws'])} of draws)"


def _first_years(e: str, d: dict, last: int) -> list[str]:
    """The entity's lines on the first negative balance and the first deficit spending."""
    out = [
        f"{e}: P(fund balance >= 0 through FY{last}) = "
        f"{pct(d['p_balance_never_negative'])}; "
        f"first negative balance: {_first(d['first_negative_balance'])}"
    ]
    if "first_deficit_spending" in d:
        out.append(
            f"{' ' * len(e)}  P(no operating deficit through FY{last}) = "
            f"{pct(d['p_no_deficit_spending'])}; "
            f"first deficit spending: {_first(d['first_deficit_spending'])}"
        )
    return out


def format_differences(
    p: xr.Dataset,
    bal: xr.Dataset,
    *,
    years: Sequence[int] | None = None,
    entities: Sequence[str] | None = None,
    width: int | None = None,
) -> str:
    """Paired differences of each scenario against the baseline, as two compact tables.

    ``p`` and ``bal`` are :func:`sustainsim.analysis.compare` of ``p_solvent`` and of
    ``final_balance``; ``years`` are the fiscal years shown (default the horizon only),
    ``entities`` the schools and the district shown (default all).
    """
    base = str(p.attrs["baseline"])
    shown = [
        int(y)
        for y in p["year"].values
        if (years is None and y == p["year"][-1]) or (years is not None and int(y) in years)
    ]
    ents = [str(e) for e in p["school"].values if entities is None or str(e) in entities]
    rows = []
    for sc in p["scenario"].values:
        for e in ents:
            for y in shown:
                r = p.sel(scenario=sc, school=e, year=y)
                rows.append(
                    [str(sc), e, str(y), pct(float(r.a)), pct(float(r.b))]
                    + [f"{pp(float(r.difference))} [{pp(float(r.lower))}, {pp(float(r.upper))}]"]
                )
    conf = f"{p.attrs.get('confidence', 0.95):.0%}"
    head = ["scenario", "entity", "FY", base, "scenario", f"difference [{conf} paired]"]
    out = [
        f"Paired differences against {base!r} (the same draws in each scenario)",
        "P(solvent through year)",
        wrap_table(head, rows, keys=3, width=width),
        "",
        "Mean fund balance at the horizon",
    ]
    rows = []
    for sc in bal["scenario"].values:
        for e in ents:
            r = bal.sel(scenario=sc, school=e)
            rows.append(
                [str(sc), e, usd(float(r.a)), usd(float(r.b))]
                + [estimate(float(r.difference), float(r.lower), float(r.upper), _signed_usd)]
            )
    out.append(wrap_table(head[:2] + head[3:], rows, keys=2, width=width))
    return "\n".join(out)


def _signed_usd(x: float | None) -> str:
    return usd(x, sign=True)


def format_convergence(info: ConvergenceInfo) -> str:
    """One or two lines saying how a :func:`simulate_until` run stopped.

    Examples
    --------
    >>> import sustainsim
    >>> from sustainsim.run.convergence import simulate_until
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> print(format_convergence(simulate_until(spec, target_se=0.01, seed=1)[1]))
    converged after 2,660 draws (2 steps, monte_carlo): max SE 0.00955 <= 0.01
      binding: year=2031, school=ref: p = 0.5853, se = 0.009552
    """
    targets = []
    if info.target_se is not None:
        targets.append(
            f"max SE {info.max_se:.3g} {'<=' if info.converged else '>'} {info.target_se:g}"
        )
    if info.target_rel is not None:
        targets.append(f"max relative SE {info.max_rel:.3g} (target {info.target_rel:g})")
    head = (
        f"converged after {info.draws:,} draws"
        if info.converged
        else f"NOT converged: stopped at max_draws = {info.max_draws:,}"
    )
    steps = info.trajectory.sizes["checkpoint"]
    line = f"{head} ({steps} steps, {info.sampler}): " + "; ".join(targets)
    if info.worst:
        w = info.trajectory.isel(checkpoint=-1).sel(info.worst)
        where = ", ".join(f"{k}={v}" for k, v in info.worst.items())
        line += (
            f"\n  binding: {where}: p = {float(w['probability']):.4f}, se = {float(w['se']):.4g}"
        )
    return line
