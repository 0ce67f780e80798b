"""``sustainsim run CONFIG``: simulate, write results.nc, summary.json, figures and the report."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from matplotlib.figure import Figure

from sustainsim import io, metrics
from sustainsim.cli.format import format_convergence, format_summary
from sustainsim.cli.options import nonneg_int, positive_float, positive_int
from sustainsim.config import ConfigError, load_config
from sustainsim.plotting.diagnostics import plot_convergence
from sustainsim.report import write_run_figures
from sustainsim.run import central_case
from sustainsim.run.full import resolve_run_args, simulate
from sustainsim.run.scenarios import simulate_scenarios
from sustainsim.run.source import source_for

__all__ = ["add_arguments", "run"]


def add_arguments(r: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim run CONFIG``."""
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


def run(args: argparse.Namespace) -> int:
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
            central = None if "revenue_lines" in ds else central_case(spec)
            figures = write_run_figures(ds, out_dir, spec_text=spec.text, central=central)
            if info is not None:
                figures.insert(0, _convergence_figure(info, out_dir / "convergence.png"))
    except BaseException:
        if created:
            _remove_tree(out_dir)
        raise
    print(format_summary(summ, title=f"sustainsim run {args.config}"))
    print()
    if info is not None:
        print(format_convergence(info))
        print()
    print(
        f"wrote {out_dir / 'results.nc'}, {out_dir / 'summary.json'}"
        + (f", {len(figures) - 1} figures and {out_dir / 'report.html'}" if figures else "")
        + f" (simulated in {t_sim:.2f} s)"
    )
    return 0


def _convergence_figure(info, path: Path) -> Path:
    """The estimate and its interval versus draws, written atomically as PNG."""

    fig = Figure(figsize=(7, 4), layout="constrained")
    plot_convergence(info, ax=fig.add_subplot())
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _run_zarr(args: argparse.Namespace, spec, out_dir: Path) -> int:
    """``run --zarr``: per-draw outputs to a Zarr store, summaries from a streaming pass."""
    from sustainsim.run import summary as streaming
    from sustainsim.run.parallel import simulate_parallel

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
    shutil.rmtree(path, ignore_errors=True)
