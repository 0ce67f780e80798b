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
    conf = summ["confidence"]
    lines = []
    if title:
        lines.append(title)
    lines.append(f"{summ['draws']:,} draws, seed {summ['seed']}, FY{years[0]}-FY{years[-1]}")
    lines.append("")
    lines.append(f"P(solvent through year)  [{conf:.0%} Wilson interval]")
    w = 24
    lines.append("year  " + "".join(f"{e:>{w}}" for e in ents))
    for y in years:
        cells = []
        for e in ents:
            d = summ["entities"][e]["p_solvent"][str(y)]
            cells.append(
                f"{_fmt_pct(d['probability'])} [{100 * d['lower']:4.1f}, {100 * d['upper']:5.1f}]"
            )
        lines.append(f"{y}  " + "".join(f"{c:>{w}}" for c in cells))
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
        d = summ["entities"][e]
        first = d["most_likely_first_deficit_year"]
        first_s = f"FY{first}" if first else "none"
        lines.append(
            f"{e}: P(no deficit through FY{years[-1]}) = {_fmt_pct(d['p_no_deficit']).strip()}; "
            f"most likely first deficit: {first_s}"
        )
    return "\n".join(lines)


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
