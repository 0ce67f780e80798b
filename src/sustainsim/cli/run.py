"""``sustainsim run CONFIG``: simulate, write results.nc, summary.json, figures and the report."""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sustainsim import io, metrics
from sustainsim.cli.format import format_convergence, format_summary
from sustainsim.cli.options import memory_size, nonneg_int, positive_float, positive_int
from sustainsim.config import ConfigError, Spec, load_config
from sustainsim.metrics.views import real_dollars
from sustainsim.plotting.diagnostics import plot_convergence
from sustainsim.report import write_run_figures
from sustainsim.run import central_case
from sustainsim.run.accumulate import summary_dict
from sustainsim.run.core import simulate
from sustainsim.run.plan import RunPlan, plan_run
from sustainsim.run.scenarios import simulate_scenarios
from sustainsim.tables import write_tables

__all__ = ["add_arguments", "add_run_options", "out_folder", "run", "run_options"]


def add_run_options(parser: argparse.ArgumentParser, what: str = "run") -> None:
    """Add the flags of a run's plan, shared by ``run``, ``sweep`` and ``batch``.

    :func:`run_options` maps them onto :func:`sustainsim.run.plan.plan_run`.
    """
    parser.add_argument(
        "--draws", type=positive_int, help=f"draws per {what} (default: the config's)"
    )
    parser.add_argument("--seed", type=nonneg_int, help="seed (default: the config's)")
    parser.add_argument("--chunk-size", type=positive_int, help="draws per chunk (memory only)")
    parser.add_argument(
        "--summary",
        action="store_true",
        help="summary-only: reduce chunk by chunk in bounded memory, no per-draw results "
        "(probabilities exact, quantiles from histograms with an error bound)",
    )
    # the old spelling, documented in earlier READMEs
    parser.add_argument("--streaming", dest="summary", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--sampler", choices=["monte_carlo", "lhs", "sobol"], help="default: the config's"
    )
    parser.add_argument(
        "--scheduler",
        help="run chunks as dask tasks: processes, threads, synchronous or tcp://host:port",
    )
    parser.add_argument(
        "--workers", type=positive_int, help="worker count of a local scheduler (processes)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--max-memory",
        type=memory_size,
        metavar="SIZE",
        help="memory budget, e.g. 4GB or 512MiB: refuse a run that would need more "
        "(default: half of the available memory)",
    )


def run_options(args: argparse.Namespace) -> dict:
    """The plan options of the flags of :func:`add_run_options`: the one mapping."""
    workers = getattr(args, "workers", None)
    scheduler = getattr(args, "scheduler", None) or ("processes" if workers else None)
    return {
        "draws": args.draws,
        "seed": args.seed,
        "chunk_size": args.chunk_size,
        "mode": "summary" if getattr(args, "summary", False) else "full",
        "sampler": getattr(args, "sampler", None),
        "scheduler": scheduler,
        "workers": workers,
        "progress": False if getattr(args, "no_progress", False) else None,
        "max_memory": getattr(args, "max_memory", None),
    }


def add_arguments(r: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim run CONFIG``."""
    r.add_argument("config", help="TOML config file")
    add_run_options(r)
    r.add_argument("--out", type=Path, help="output directory (default: out/CONFIG_STEM)")
    r.add_argument("--lines", action="store_true", help="keep per-line revenue/cost per draw")
    r.add_argument("--compress", action="store_true", help="gzip the NetCDF variables")
    r.add_argument("--no-report", action="store_true", help="skip the figures and report.html")
    r.add_argument(
        "--real",
        action="store_true",
        help="summary, tables and report in real dollars of the base year (by the config's "
        "deflator growth index); results.nc stays nominal, with the deflator",
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
        "--zarr",
        type=Path,
        help="write per-draw outputs to this Zarr store (with --lines) "
        "and keep only summaries; implies --scheduler processes",
    )


def _targeted(args: argparse.Namespace) -> bool:
    return args.target_se is not None or args.target_rel is not None


def _check_flags(args: argparse.Namespace, spec: Spec) -> None:
    """Flags that exclude each other, or that this config cannot take: every problem at once."""
    targeted, scenarios, zarr = _targeted(args), bool(spec.scenario_names), args.zarr is not None
    rules = [
        (
            targeted and args.draws is not None,
            "--draws and --target-se/--target-rel exclude each other",
        ),
        (
            targeted and scenarios,
            "--target-se/--target-rel run one model; this config has scenarios",
        ),
        (
            targeted and args.summary,
            "--target-se/--target-rel need per-draw results, not --summary",
        ),
        (
            args.max_draws is not None and not targeted,
            "--max-draws goes with --target-se or --target-rel",
        ),
        (zarr and scenarios, "--zarr writes one model's draws; this config has scenarios"),
        (zarr and targeted, "--zarr and --target-se/--target-rel exclude each other"),
        (args.lines and args.summary, "--lines needs per-draw results, not --summary"),
        (args.real and (args.summary or zarr), "--real needs per-draw results, not --summary"),
        (
            args.real and "deflator" not in spec.config.district.growth,
            "--real needs a growth index named 'deflator' in [district.growth]",
        ),
    ]
    errors = [message for broken, message in rules if broken]
    if errors:
        raise ConfigError(errors)


def _plan(args: argparse.Namespace, spec: Spec) -> RunPlan:
    """The run's plan from the flags (a target's plan runs up to --max-draws draws)."""
    options = run_options(args)
    if _targeted(args):
        from sustainsim.run.convergence import DEFAULT_MAX_DRAWS

        options["draws"] = args.max_draws or DEFAULT_MAX_DRAWS
        options["open_ended"] = True
    return plan_run(spec, lines=args.lines, **options)


def _simulate(args: argparse.Namespace, plan: RunPlan):
    """The Dataset (full or summary) and, for a precision target, how it converged."""
    if _targeted(args):
        from sustainsim.run.convergence import simulate_until

        return simulate_until(plan, target_se=args.target_se, target_rel=args.target_rel)
    if plan.spec.scenario_names:
        return simulate_scenarios(plan), None
    return simulate(plan), None


def out_folder(args: argparse.Namespace, suffix: str = "") -> tuple[Path, dict]:
    """The output folder of ``run``/``sweep`` and the :func:`sustainsim.io.output_folder` options.

    The default ``out/CONFIG_STEM[suffix]`` is refused if it holds the output of another
    config of the same name (in another folder); an explicit ``--out`` is the user's choice.
    """
    default = args.out is None
    out_dir = Path("out") / f"{Path(args.config).stem}{suffix}" if default else args.out
    return out_dir, {"owner": str(Path(args.config).resolve()), "check_owner": default}


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim run``: simulate, write the outputs, print the summary; the exit code.

    The output folder is one transaction (:func:`sustainsim.io.output_folder`): the
    files are written into a staging folder renamed onto ``--out`` when complete.
    """
    spec = load_config(args.config)  # ConfigError -> exit 2, before anything is written
    out_dir, owner = out_folder(args)
    _check_flags(args, spec)
    plan = _plan(args, spec)
    with io.output_folder(out_dir, command="run", **owner) as stage:
        if args.zarr is not None:
            summ, info, wrote = _run_zarr(args, plan, stage, out_dir)
        else:
            summ, info, wrote = _run_and_write(args, plan, stage, out_dir)
    print(format_summary(summ, title=f"sustainsim run {args.config}"))
    print()
    if info is not None:
        print(format_convergence(info))
        print()
    print(wrote)
    return 0


def _run_and_write(args: argparse.Namespace, plan: RunPlan, stage: Path, out_dir: Path) -> tuple:
    """Simulate, write the files into ``stage``; the summary, convergence and what was written."""
    t0 = time.perf_counter()
    ds, info = _simulate(args, plan)
    t_sim = time.perf_counter() - t0
    if plan.mode == "summary":
        summ = _write_summary(args, ds, stage, t_sim)
        done = f"(simulated in {t_sim:.2f} s)"
        return summ, None, f"wrote {out_dir / 'summary.json'} and {out_dir / 'summary.nc'} {done}"
    view = real_dollars(ds) if args.real else ds  # results.nc stays nominal
    summ = metrics.summary(view)
    if args.real:
        summ["dollar_basis"] = f"real (FY{int(ds['year'].values[0]) - 1} dollars)"
    summ["config"] = str(args.config)
    summ["simulate_seconds"] = round(t_sim, 3)
    if info is not None:
        summ["convergence"] = info.to_dict()
    io.write_netcdf(ds, stage / "results.nc", compress=args.compress)
    io.write_json(summ, stage / "summary.json")
    # the tables show the first scenario (if any) beside its own central case; the
    # figures' composition chart the config as written
    first = plan.spec.scenario(str(ds["scenario"].values[0])) if "scenario" in ds.dims else None
    central = central_case(plan.spec if first is None else first)
    if args.real:
        central = real_dollars(central)
    write_tables(view, central, stage)
    figures: list[Path] = []
    if not args.no_report:
        base = central if first is None else central_case(plan.spec)
        if args.real and first is not None:
            base = real_dollars(base)
        figures = _figures(view, plan.spec, stage, info, base)
    wrote = (
        f"wrote {out_dir / 'results.nc'}, {out_dir / 'summary.json'}, "
        f"{out_dir / 'p_solvent.csv'}, {out_dir / 'forecast.xlsx'}"
        + (f", {len(figures) - 1} figures and {out_dir / 'report.html'}" if figures else "")
        + f" (simulated in {t_sim:.2f} s)"
    )
    return summ, info, wrote


def _figures(ds, spec: Spec, out_dir: Path, info, central) -> list[Path]:
    central = None if "revenue_lines" in ds else central
    figures = write_run_figures(ds, out_dir, spec_text=spec.text, central=central)
    if info is not None:
        figures.insert(0, _convergence_figure(info, out_dir / "convergence.png"))
    return figures


def _convergence_figure(info, path: Path) -> Path:
    """The estimate and its interval versus draws, written atomically as PNG."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    plot_convergence(info, ax=fig.add_subplot())
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _run_zarr(args: argparse.Namespace, plan: RunPlan, stage: Path, out_dir: Path) -> tuple:
    """``run --zarr``: per-draw outputs to a Zarr store, summaries in bounded memory.

    Probabilities are exact, quantiles within the sketch's bound: in the same pass with
    ``--summary``, else from a second, summary-only pass. A store inside ``--out`` is
    written into the staging folder, so it is part of the folder's transaction.
    """
    from sustainsim.run.parallel import simulate_parallel

    zarr = Path(args.zarr)
    if zarr.resolve().is_relative_to(out_dir.resolve()):
        inside = zarr.resolve().relative_to(out_dir.resolve())
        if inside == Path():
            raise ConfigError([f"--zarr {str(args.zarr)!r} is the --out folder: give a path in it"])
        zarr = stage / inside
    t0 = time.perf_counter()
    with io.lock_folder(zarr) if not zarr.is_relative_to(stage) else nullcontext():
        summ_ds = simulate_parallel(plan, zarr_path=zarr)
    if plan.mode == "full":
        summ_ds = simulate(plan.replace(mode="summary", lines=False))
    summ_ds.attrs["zarr_path"] = str(args.zarr)
    t_sim = time.perf_counter() - t0
    done = f"(per-draw {args.zarr}, chunked along draw; simulated in {t_sim:.2f} s)"
    summ = _write_summary(args, summ_ds, stage, t_sim)
    return summ, None, f"wrote {out_dir / 'summary.json'} and {out_dir / 'summary.nc'} {done}"


def _write_summary(args: argparse.Namespace, ds, stage: Path, t_sim: float) -> dict:
    """Write a summary run's ``summary.json`` and ``summary.nc`` into ``stage``."""
    if "scenario" in ds.dims:
        names = [str(x) for x in ds["scenario"].values]
        summ: dict[str, Any] = {
            "scenarios": {nm: summary_dict(ds.sel(scenario=nm)) for nm in names}
        }
    else:
        summ = summary_dict(ds)
    summ["config"] = str(args.config)
    summ["simulate_seconds"] = round(t_sim, 3)
    io.write_json(summ, stage / "summary.json")
    io.write_netcdf(ds, stage / "summary.nc")
    return summ
