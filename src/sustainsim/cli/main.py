"""The ``sustainsim`` command: a thin shell over the Python API.

Exit codes: 0 success, 2 bad input (config errors, missing files, bad arguments),
1 anything unexpected. Nothing is written when the input is bad, and every output
file is written atomically.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sustainsim._version import __version__
from sustainsim.cli.options import nonneg_int, positive_float, positive_int
from sustainsim.config.schema import ConfigError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments already; keep its message short."""


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sustainsim",
        description="Monte Carlo risk simulation of the financial sustainability of school models.",
    )
    p.add_argument("--version", action="version", version=f"sustainsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="simulate a config; write results.nc and summary.json")
    r.add_argument("config", help="TOML config file")
    r.add_argument("--draws", type=positive_int, help="number of draws (default: the config's)")
    r.add_argument("--seed", type=nonneg_int, help="seed (default: the config's)")
    r.add_argument("--chunk-size", type=positive_int, help="draws per chunk (memory only)")
    r.add_argument("--out", type=Path, help="output directory (default: out/CONFIG_STEM)")
    r.add_argument("--lines", action="store_true", help="keep per-line revenue/cost per draw")
    r.add_argument("--compress", action="store_true", help="gzip the NetCDF variables")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--no-report", action="store_true", help="skip the figures and report.html")
    r.add_argument(
        "--sampler", choices=["monte_carlo", "lhs", "sobol"], help="default: the config's"
    )
    r.add_argument(
        "--target-se", type=positive_float, help="add draws until every P(solvent) has SE <= this"
    )
    r.add_argument(
        "--target-rel", type=positive_float, help="add draws until SE / min(p, 1-p) <= this"
    )
    r.add_argument(
        "--max-draws", type=positive_int, help="cap for --target-se/--target-rel (1,000,000)"
    )
    r.add_argument(
        "--scheduler",
        help="run chunks as dask tasks: processes, threads, synchronous or tcp://host:port",
    )
    r.add_argument("--workers", type=positive_int, help="worker count for a local scheduler")
    r.add_argument(
        "--zarr",
        type=Path,
        help="write per-draw outputs to this Zarr store (with --lines) "
        "or keep only streaming summaries; implies --scheduler processes",
    )
    r.set_defaults(func=_cmd_run)

    # subcommands that live with their concept: (name, module, help); imported on use
    for name, module, help_text in _MODULE_COMMANDS:
        p_sub = sub.add_parser(name, help=help_text)
        _lazy(module).add_arguments(p_sub)
        p_sub.set_defaults(func=lambda a, m=module: _lazy(m).run(a))

    c = sub.add_parser(
        "compare", help="run a config's scenarios on the same draws; paired differences"
    )
    c.add_argument("config", help="TOML config with [scenarios.NAME] tables, or a results.nc")
    c.add_argument("--baseline", help="reference scenario (default: the first)")
    c.add_argument("--draws", type=positive_int, help="number of draws")
    c.add_argument("--seed", type=nonneg_int, help="seed")
    c.add_argument("--out", type=Path, help="also write DIR/compare.nc and DIR/compare.json")
    c.set_defaults(func=_cmd_compare)

    st = sub.add_parser(
        "stress", help="largest permanent cut each school absorbs at a target P(solvent)"
    )
    st.add_argument("config", help="TOML config file")
    st.add_argument("--target", type=float, default=0.9, help="required P(solvent) (0.9)")
    st.add_argument("--draws", type=positive_int, default=20_000, help="draws per evaluation")
    st.add_argument("--seed", type=nonneg_int, help="seed")
    st.set_defaults(func=_cmd_stress)

    v = sub.add_parser("validate", help="check a config and describe it")
    v.add_argument("config", nargs="+", help="TOML config file(s)")
    v.set_defaults(func=_cmd_validate)
    return p


_MODULE_COMMANDS = [
    ("sweep", "run.grid", "run a grid of config overrides on common random numbers"),
    ("batch", "run.batch", "run many configs into one folder; --resume skips finished runs"),
    ("report", "report", "rebuild the figures and report.html from a results.nc"),
    (
        "calibrate",
        "calibration.fit",
        "fit enrollment or growth drivers to history; print a config fragment",
    ),
]


def _lazy(module: str):
    """Import a subcommand's module only when the parser is built (keeps startup light)."""
    import importlib

    return importlib.import_module(f"sustainsim.{module}")


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


def _cmd_run(args: argparse.Namespace) -> int:
    from sustainsim import io, metrics
    from sustainsim.config.spec import load_config
    from sustainsim.run.full import resolve_run_args, simulate
    from sustainsim.run.scenarios import simulate_scenarios

    spec = load_config(args.config)  # ConfigError -> exit 2, before anything is written
    out_dir = args.out if args.out is not None else Path("out") / Path(args.config).stem
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError([f"--out {str(out_dir)!r} exists and is not a directory"])
    targeted = args.target_se is not None or args.target_rel is not None
    if targeted and args.draws is not None:
        raise ConfigError(["--draws and --target-se/--target-rel exclude each other"])
    if targeted and spec.scenario_names:
        raise ConfigError(["--target-se/--target-rel run one model; this config has scenarios"])
    if args.max_draws is not None and not targeted:
        raise ConfigError(["--max-draws goes with --target-se or --target-rel"])
    parallel = args.scheduler is not None or args.zarr is not None
    if parallel and (targeted or spec.scenario_names):
        raise ConfigError(
            ["--scheduler/--zarr run one model to a fixed draw count; this config has scenarios"]
            if spec.scenario_names
            else ["--scheduler/--zarr and --target-se/--target-rel exclude each other"]
        )
    if args.zarr is not None:
        return _run_zarr(args, spec, out_dir)
    t0 = time.perf_counter()
    progress = False if args.no_progress else None
    info = None
    if targeted:
        from sustainsim.run.convergence import DEFAULT_MAX_DRAWS, simulate_until

        ds, info = simulate_until(
            spec,
            target_se=args.target_se,
            target_rel=args.target_rel,
            max_draws=args.max_draws or DEFAULT_MAX_DRAWS,
            seed=args.seed,
            chunk_size=args.chunk_size,
            sampler=args.sampler,
            lines=args.lines,
            progress=progress,
        )
    elif spec.scenario_names:
        ds = simulate_scenarios(
            spec,
            draws=args.draws,
            seed=args.seed,
            chunk_size=args.chunk_size,
            lines=args.lines,
            progress=progress,
            sampler=args.sampler,
        )
    elif parallel:
        from sustainsim.run.parallel import simulate_parallel
        from sustainsim.run.source import source_for

        n, seed, _ = resolve_run_args(spec, args.draws, args.seed, args.chunk_size)
        ds = simulate_parallel(
            spec,
            draws=n,
            seed=seed,
            chunk_size=args.chunk_size,
            scheduler=args.scheduler,
            num_workers=args.workers,
            lines=args.lines,
            progress=progress,
            source=source_for(spec, n, seed, args.sampler),
        )
    else:
        from sustainsim.run.source import source_for

        n, seed, _ = resolve_run_args(spec, args.draws, args.seed, args.chunk_size)
        ds = simulate(
            spec,
            draws=n,
            seed=seed,
            chunk_size=args.chunk_size,
            lines=args.lines,
            progress=progress,
            source=source_for(spec, n, seed, args.sampler),
        )
    t_sim = time.perf_counter() - t0
    summ = metrics.summary(ds)
    summ["config"] = str(args.config)
    summ["simulate_seconds"] = round(t_sim, 3)
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        io.write_netcdf(ds, out_dir / "results.nc", compress=args.compress)
        if info is not None:
            summ["convergence"] = info.to_dict()
        io.write_json(summ, out_dir / "summary.json")
        figures = []
        if not args.no_report:
            from sustainsim.report import write_run_figures

            figures = write_run_figures(ds, out_dir, spec=spec)
            if info is not None:
                figures.insert(0, _convergence_figure(info, out_dir / "convergence.png"))
    except BaseException:
        if created:
            _remove_tree(out_dir)
        raise
    print(format_summary(summ, title=f"sustainsim run {args.config}"))
    print()
    if info is not None:
        from sustainsim.run.convergence import format_convergence

        print(format_convergence(info))
        print()
    print(
        f"wrote {out_dir / 'results.nc'}, {out_dir / 'summary.json'}"
        + (f", {len(figures) - 1} figures and {out_dir / 'report.html'}" if figures else "")
        + f" (simulated in {t_sim:.2f} s)"
    )
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from sustainsim import io
    from sustainsim.analysis.paired import compare
    from sustainsim.config.spec import load_config
    from sustainsim.run.scenarios import simulate_scenarios

    path = Path(args.config)
    if path.suffix == ".nc":
        if not path.exists():
            raise ConfigError([f"file not found: {str(path)!r}"])
        ds = io.open_results(path)
    else:
        spec = load_config(path)
        if not spec.scenario_names:
            raise ConfigError([f"{path}: defines no [scenarios.NAME] tables to compare"])
        if args.baseline and args.baseline not in spec.scenario_names:
            raise ConfigError(
                [
                    f"--baseline {args.baseline!r}: no such scenario; have "
                    f"{', '.join(spec.scenario_names)}"
                ]
            )
        ds = simulate_scenarios(spec, draws=args.draws, seed=args.seed)
    out = compare(ds, args.baseline)
    bal = compare(ds, args.baseline, metric="final_balance")
    base = out.attrs["baseline"]
    print(
        f"Scenario differences against {base!r}, same {ds.sizes['draw']:,} draws "
        "(paired standard errors)"
    )
    print()
    print(
        f"{'scenario':14}{'school':12}{'year':>6}{'P base':>9}{'P scen':>9}"
        f"{'diff':>9}{'se paired':>11}{'se unpaired':>13}"
    )
    for sc in out["scenario"].values:
        for school in out["school"].values:
            for y in out["year"].values:
                r = out.sel(scenario=sc, school=school, year=y)
                print(
                    f"{str(sc):14}{str(school):12}{int(y):>6}{float(r.a):>9.3f}{float(r.b):>9.3f}"
                    f"{float(r.difference):>+9.3f}{float(r.se_paired):>11.4f}"
                    f"{float(r.se_unpaired):>13.4f}"
                )
        for school in bal["school"].values:
            r = bal.sel(scenario=sc, school=school)
            print(
                f"{str(sc):14}{str(school):12} final balance difference "
                f"{float(r.difference):+,.0f} USD (paired se {float(r.se_paired):,.0f}, "
                f"unpaired {float(r.se_unpaired):,.0f})"
            )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        io.write_netcdf(_merge_compare(out, bal), args.out / "compare.nc")
    return 0


def _merge_compare(p, bal):
    """Both comparisons in one Dataset (probabilities by year, balances at the horizon)."""
    out = p.copy()
    for k in bal.data_vars:
        out[f"final_balance_{k}"] = bal[k]
    return out


def _cmd_stress(args: argparse.Namespace) -> int:
    from sustainsim.analysis.stress import stress_capacity
    from sustainsim.config.spec import load_config

    spec = load_config(args.config)
    if not 0 < args.target < 1:
        raise ConfigError([f"--target must be in (0, 1) (got {args.target})"])
    res = stress_capacity(spec, args.target, draws=args.draws, seed=args.seed)
    print(
        f"Largest permanent cut of exposed revenue keeping P(solvent through the horizon) "
        f">= {args.target:g} ({args.draws:,} draws per evaluation, same draws throughout)"
    )
    dims = [d for d in ("scenario", "school") if d in res.dims]
    flat = res.stack(row=dims) if len(dims) > 1 else res.rename({dims[0]: "row"})
    for i in range(flat.sizes["row"]):
        r = flat.isel(row=i)
        label = " / ".join(str(r[d].values) for d in dims)
        print(
            f"  {label:30} {100 * float(r.capacity):5.1f}%  "
            f"[{100 * float(r.lower):.1f}%, {100 * float(r.upper):.1f}%]  "
            f"(P with no cut {float(r.p_no_cut):.3f})"
        )
    return 0


def _convergence_figure(info, path: Path) -> Path:
    """The estimate and its interval versus draws, written atomically as PNG."""
    from matplotlib.figure import Figure

    from sustainsim import io
    from sustainsim.plotting.diagnostics import plot_convergence

    fig = Figure(figsize=(7, 4), layout="constrained")
    plot_convergence(info, ax=fig.add_subplot())
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _run_zarr(args: argparse.Namespace, spec, out_dir: Path) -> int:
    """``run --zarr``: per-draw outputs to a Zarr store, summaries from a streaming pass."""
    from sustainsim import io
    from sustainsim.run import summary as streaming
    from sustainsim.run.full import resolve_run_args
    from sustainsim.run.parallel import simulate_parallel
    from sustainsim.run.source import source_for

    n, seed, _ = resolve_run_args(spec, args.draws, args.seed, args.chunk_size)
    progress = False if args.no_progress else None
    t0 = time.perf_counter()
    simulate_parallel(
        spec,
        draws=n,
        seed=seed,
        chunk_size=args.chunk_size,
        scheduler=args.scheduler or "processes",
        num_workers=args.workers,
        zarr_path=args.zarr,
        lines=args.lines,
        progress=progress,
        source=source_for(spec, n, seed, args.sampler),
    )
    t_sim = time.perf_counter() - t0
    # summaries in bounded memory: probabilities exact, quantiles within the sketch's bound
    summ_ds = streaming.simulate_summary(
        spec,
        draws=n,
        seed=seed,
        chunk_size=args.chunk_size,
        progress=progress,
        source=source_for(spec, n, seed, args.sampler),
    )
    summ = streaming.summary_dict(summ_ds)
    summ["config"] = str(args.config)
    out_dir.mkdir(parents=True, exist_ok=True)
    io.write_json(summ, out_dir / "summary.json")
    io.write_netcdf(summ_ds, out_dir / "summary.nc")
    print(format_summary(summ, title=f"sustainsim run {args.config}"))
    print()
    print(
        f"wrote {args.zarr} (per-draw, chunked along draw), {out_dir / 'summary.json'} and "
        f"{out_dir / 'summary.nc'} (simulated in {t_sim:.2f} s)"
    )
    return 0


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _describe(spec) -> str:
    cfg = spec.config
    sim = cfg.simulation
    lines = [
        f"{spec.source}: valid",
        f"  {sim.years} projected years FY{sim.first_year}-FY{sim.first_year + sim.years - 1}, "
        f"{sim.draws:,} draws, seed {sim.seed}",
    ]
    if cfg.district.growth:
        lines.append("  growth indices: " + ", ".join(cfg.district.growth))
    if cfg.district.cuts is not None:
        c = cfg.district.cuts
        lines.append(f"  budget cuts: p={c.probability}, magnitude {c.magnitude}, scope {c.scope}")
    for s in cfg.schools:
        lines.append(
            f"  school {s.name}: enrollment base {s.enrollment.base}, "
            f"{len(s.revenue)} revenue lines ({', '.join(x.name for x in s.revenue)}), "
            f"{len(s.cost)} cost lines ({', '.join(x.name for x in s.cost)})"
        )
    return "\n".join(lines)


def _cmd_validate(args: argparse.Namespace) -> int:
    from sustainsim.config.spec import load_config
    from sustainsim.run.source import check_correlations

    bad = 0
    for path in args.config:
        try:
            spec = load_config(path)
            check_correlations(spec)  # names of the model's random inputs: known once it is built
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
            continue
        print(_describe(spec))
    return 2 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sustainsim`` command; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad arguments, 0 on --help/--version
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # an optional extra is not installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: the files are written
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
