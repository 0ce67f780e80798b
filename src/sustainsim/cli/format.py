"""Plain-text tables of the numbers the commands print."""

from __future__ import annotations

from sustainsim.run.convergence import ConvergenceInfo

__all__ = ["format_convergence", "format_summary"]


def _fmt_pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _fmt_usd(x: float) -> str:
    return f"{x:,.0f}"


def format_summary(summ: dict, title: str = "") -> str:
    """A readable plain-text table of a :func:`sustainsim.metrics.summary`."""
    if "scenarios" in summ:
        blocks = []
        for i, (name, sc) in enumerate(summ["scenarios"].items()):
            sub = {**{k: v for k, v in summ.items() if k != "scenarios"}, **sc}
            head = (title + "\n" if title and i == 0 else "") + f"=== scenario: {name} ==="
            blocks.append(format_summary(sub, head))
        return "\n\n".join(blocks)
    ents = list(summ["entities"])
    years = summ["years"]
    lines = []
    if title:
        lines.append(title)
    lines.append(f"{summ['draws']:,} draws, seed {summ['seed']}, FY{years[0]}-FY{years[-1]}")
    lines.append("")
    conf = summ["confidence"]
    lines += _probability_table(
        summ,
        "p_solvent",
        f"P(solvent through year): fund balance >= 0 so far  [{conf:.0%} Wilson interval]",
    )
    lines.append("")
    if all("p_no_operating_deficit" in summ["entities"][e] for e in ents):
        lines += _probability_table(
            summ,
            "p_no_operating_deficit",
            f"P(no operating deficit in year): surplus >= 0  [{conf:.0%} Wilson interval]",
        )
        lines.append("")
    qs = list(summ["entities"][ents[0]]["final_balance_quantiles"])
    lines.append(f"Fund balance at the end of FY{years[-1]} [USD], quantiles over draws")
    lines.append(f"{'':12}" + "".join(f"{'q' + q:>15}" for q in qs))
    for e in ents:
        fq = summ["entities"][e]["final_balance_quantiles"]
        lines.append(f"{e:12}" + "".join(f"{_fmt_usd(fq[q]):>15}" for q in qs))
    lines.append("")
    lines.append("Lowest fund balance over the horizon [USD], quantiles over draws")
    lines.append(f"{'':12}" + "".join(f"{'q' + q:>15}" for q in qs))
    for e in ents:
        wq = summ["entities"][e]["worst_balance_quantiles"]
        lines.append(f"{e:12}" + "".join(f"{_fmt_usd(wq[q]):>15}" for q in qs))
    lines.append("")
    for e in ents:
        lines += _first_years(e, summ["entities"][e], years[-1])
    return "\n".join(lines)


def _probability_table(summ: dict, key: str, head: str) -> list[str]:
    ents = list(summ["entities"])
    w = 24
    lines = [head, "year  " + "".join(f"{e:>{w}}" for e in ents)]
    for y in summ["years"]:
        cells = []
        for e in ents:
            d = summ["entities"][e][key][str(y)]
            cells.append(
                f"{_fmt_pct(d['probability'])} [{100 * d['lower']:4.1f}, {100 * d['upper']:5.1f}]"
            )
        lines.append(f"{y}  " + "".join(f"{c:>{w}}" for c in cells))
    return lines


def _first(d: dict) -> str:
    """``median FY2031 (in 40.2% of draws)`` or ``none``."""
    if d["median_year"] is None:
        return "none"
    return f"median FY{d['median_year']} (in {_fmt_pct(d['share_of_draws']).strip()} of draws)"


def _first_years(e: str, d: dict, last: int) -> list[str]:
    """The entity's lines on the first negative balance and the first deficit spending."""
    out = [
        f"{e}: P(fund balance >= 0 through FY{last}) = "
        f"{_fmt_pct(d['p_balance_never_negative']).strip()}; "
        f"first negative balance: {_first(d['first_negative_balance'])}"
    ]
    if "first_deficit_spending" in d:
        out.append(
            f"{' ' * len(e)}  P(no operating deficit through FY{last}) = "
            f"{_fmt_pct(d['p_no_deficit_spending']).strip()}; "
            f"first deficit spending: {_first(d['first_deficit_spending'])}"
        )
    return out


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
