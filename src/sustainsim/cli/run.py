"""``sustainsim run CONFIG``: simulate, write results.nc, summary.json, figures and the report."""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import Future
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from sustainsim import io, metrics
from sustainsim.analysis.paired import compare
from sustainsim.cli.basecase import BASE, scenarios_with_base
from sustainsim.cli.errors import ArgumentsError, OutputPathError
from sustainsim.cli.format import format_convergence, format_differences, format_summary
from sustainsim.cli.numbers import nbytes
from sustainsim.cli.options import (
    memory_size,
    nonneg_int,
    positive_float,
    positive_int,
    year_list,
)
from sustainsim.cli.progress import Phases, emit
from sustainsim.config import Spec, load_config
from sustainsim.mapped import MappedResults
from sustainsim.metrics.solvency import DISTRICT
from sustainsim.metrics.views import real_dollars
from sustainsim.run import central_case
from sustainsim.run.accumulate import summary_dict
from sustainsim.run.chunk import output_shapes
from sustainsim.run.core import check_memory, simulate
from sustainsim.run.plan import RunPlan, plan_run
from sustainsim.run.scenarios import simulate_scenarios
from sustainsim.tables import write_tables

__all__ = [
    "EXAMPLES",
    "LARGE_RESULTS",
    "add_arguments",
    "add_run_options",
    "out_folder",
    "run",
    "run_options",
]

#: bytes of a per-draw results.nc above which ``run`` warns before writing it (about 1 GB)
#: draws the report's lever ranking runs on (each candidate a run of its own)
LEVER_DRAWS = 10_000
LARGE_RESULTS = 1_000_000_000

EXAMPLES = """\
examples:
  sustainsim run configs/flagship.toml
  sustainsim run configs/ngsi_grant_cliff.toml --draws 2e6 --summary
  sustainsim run configs/leap_chicago.toml --years 2030,2036 --entity pl_k8 --no-report
  sustainsim run configs/flagship.toml --json -q > summary.json
  sustainsim run configs/reference/ref10.toml --draws 1_000_000 --float32 --compress

A config with [scenarios.NAME] tables also runs the config as written, as scenario
'base' (first), and prints each scenario's paired differences against it. The name
'base' is kept for it: a config's own [scenarios.base] must be empty (it is then the
config as written, run once). The summary goes to stdout as soon as it is computed
(--json: one JSON object, the content of summary.json); progress, warnings and
errors go to stderr. --years and --entity choose the rows and columns printed, not
what is computed or written.
"""


def add_run_options(parser: argparse.ArgumentParser, what: str = "run") -> None:
    """Add the flags of a run's plan, shared by ``run``, ``sweep`` and ``batch``.

    :func:`run_options` maps them onto :func:`sustainsim.run.plan.plan_run`.
    """
    parser.add_argument(
        "--draws",
        type=positive_int,
        help=f"draws per {what}: 20000, 2_000_000 or 2e6 (default: the config's)",
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
    parser.add_argument(
        "--threads",
        type=positive_int,
        help="threads of this process that run the chunks without a scheduler, same numbers "
        "(default: the usable cores, at most 4; 1: one after another)",
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
        "threads": getattr(args, "threads", None),
        "progress": False if getattr(args, "no_progress", False) else None,
        "max_memory": getattr(args, "max_memory", None),
    }


def add_arguments(r: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim run CONFIG``."""
    r.add_argument("config", help="TOML config file")
    add_run_options(r)
    r.add_argument("--out", type=Path, help="output directory (default: out/CONFIG_STEM)")
    r.add_argument("--lines", action="store_true", help="keep per-line revenue/cost per draw")
    r.add_argument(
        "--compress", action="store_true", help="compress results.nc (zlib): smaller, slower"
    )
    r.add_argument(
        "--float32",
        action="store_true",
        help="store results.nc's numbers in single precision (about 7 digits): half the size",
    )
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
        "--max-draws",
        type=positive_int,
        help="cap for --target-se/--target-rel (default: 1,000,000)",
    )
    r.add_argument(
        "--zarr",
        type=Path,
        help="write per-draw outputs to this Zarr store (with --lines) "
        "and keep only summaries; implies --scheduler processes",
    )
    r.add_argument("-q", "--quiet", action="store_true", help="print no summary and no progress")
    r.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object on stdout (what summary.json holds); "
        "everything else on stderr",
    )
    r.add_argument(
        "--years",
        type=year_list,
        metavar="YEARS",
        help="fiscal years printed, e.g. 2030,2036 or 2027-2031 (default: every year; "
        "paired differences: the horizon)",
    )
    r.add_argument(
        "--entity",
        action="append",
        metavar="NAME",
        help="school or 'district' printed (repeatable or NAME,NAME; default: all)",
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
        (args.float32 and (args.summary or zarr), "--float32 is for a per-draw results.nc"),
        (
            (args.threads or 1) > 1 and bool(args.scheduler or args.workers or zarr),
            "--threads runs the chunks in this process; with --scheduler, --workers or "
            "--zarr the workers run them (give --workers)",
        ),
    ]
    errors = [message for broken, message in rules if broken]
    errors += _filter_problems(args, spec)
    if errors:
        raise ArgumentsError(errors)


def _entities(args: argparse.Namespace) -> list[str] | None:
    if not args.entity:
        return None
    return [n.strip() for item in args.entity for n in item.split(",") if n.strip()]


def _filter_problems(args: argparse.Namespace, spec: Spec) -> list[str]:
    """``--years`` and ``--entity`` must name years of the horizon and entities of the config."""
    first = spec.config.simulation.first_year
    horizon = range(first, first + spec.years)
    have = spec.school_names + ([DISTRICT] if len(spec.school_names) > 1 else [])
    errors = [
        f"--years {y}: not a year of the horizon FY{horizon[0]}-FY{horizon[-1]}"
        for y in args.years or []
        if y not in horizon
    ]
    errors += [
        f"--entity {e!r}: no such school; have {', '.join(have)}"
        for e in _entities(args) or []
        if e not in have
    ]
    return errors


def _plan(args: argparse.Namespace, spec: Spec) -> RunPlan:
    """The run's plan from the flags (a target's plan runs up to --max-draws draws)."""
    options = run_options(args)
    if _targeted(args):
        from sustainsim.run.convergence import DEFAULT_MAX_DRAWS

        options["draws"] = args.max_draws or DEFAULT_MAX_DRAWS
        options["open_ended"] = True
    return plan_run(spec, lines=args.lines, **options)


def _mapped(args: argparse.Namespace, plan: RunPlan, path: Path) -> MappedResults | None:
    """``results.nc`` created at ``path`` for the run to simulate into, where it can be.

    A full run of one model written in double precision, uncompressed
    (:mod:`sustainsim.mapped`); None for the others, which write it after the run.
    """
    if plan.mode != "full" or _targeted(args) or plan.spec.scenario_names:
        return None
    if args.float32 or args.compress:
        return None
    check_memory(plan)  # a run refused for its memory reserves no disk for its file first
    return MappedResults.create(path, output_shapes(plan.spec, plan.draws, plan.lines))


def _simulate(args: argparse.Namespace, plan: RunPlan, mapped: MappedResults | None = None):
    """The Dataset (full or summary) and, for a precision target, how it converged.

    A run with a ``mapped`` results.nc writes its paths into it.
    """
    if _targeted(args):
        from sustainsim.run.convergence import simulate_until

        return simulate_until(plan, target_se=args.target_se, target_rel=args.target_rel)
    if plan.spec.scenario_names:  # the config as written first, as scenario 'base'
        return simulate_scenarios(plan, scenarios_with_base(plan.spec)), None
    return simulate(plan, out=None if mapped is None else mapped.arrays), None


def out_folder(args: argparse.Namespace, suffix: str = "") -> tuple[Path, dict]:
    """The output folder of ``run``/``sweep`` and the :func:`sustainsim.io.output_folder` options.

    The default ``out/CONFIG_STEM[suffix]`` is refused if it holds the output of another
    config of the same name (in another folder); an explicit ``--out`` is the user's choice.
    """
    from sustainsim.cli.compare import check_out_dir

    default = args.out is None
    out_dir = Path("out") / f"{Path(args.config).stem}{suffix}" if default else args.out
    check_out_dir(out_dir)  # cannot write --out ...: before anything is simulated
    return out_dir, {"owner": str(Path(args.config).resolve()), "check_owner": default}


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim run``: simulate, print the summary, write the outputs; the exit code.

    The summary is printed as soon as it is computed (stdout), then each phase of the
    writing is reported on stderr. The output folder is one transaction
    (:func:`sustainsim.io.output_folder`): the files are written into a staging folder
    renamed onto ``--out`` when complete.
    """
    spec = load_config(args.config)  # ConfigError -> exit 2, before anything is written
    out_dir, owner = out_folder(args)
    _check_flags(args, spec)
    if spec.scenario_names:
        scenarios_with_base(spec)  # a [scenarios.base] with overrides: refused up front
    plan = _plan(args, spec)
    phases = Phases(quiet=args.quiet)
    with io.output_folder(out_dir, command="run", **owner) as stage:
        if args.zarr is not None:
            wrote = _run_zarr(args, plan, stage, out_dir, phases)
        else:
            wrote = _run_and_write(args, plan, stage, out_dir, phases)
    if not args.quiet:
        print(wrote, file=sys.stderr if args.json else sys.stdout)
    return 0


def _show(args: argparse.Namespace, summ: dict, info=None, differences: str = "") -> None:
    """Print the summary: JSON (``--json``), the tables, or nothing (``--quiet``)."""
    if args.json:
        emit(io.json_text(summ))
        return
    if args.quiet:
        return
    text = format_summary(
        summ, title=f"sustainsim run {args.config}", years=args.years, entities=_entities(args)
    )
    parts = [text, differences, format_convergence(info) if info is not None else ""]
    emit("".join(part + "\n\n" for part in parts if part))


def _differences(args: argparse.Namespace, ds, summ: dict) -> str:
    """Paired differences against ``base`` into ``summ["paired_differences"]``; their table."""
    from sustainsim.cli.compare import compare_dict

    if "scenario" not in ds.dims or BASE not in ds["scenario"].values:
        return ""
    p = compare(ds, BASE)
    bal = compare(ds, BASE, metric="final_balance")
    summ["paired_differences"] = compare_dict(p, bal, ds.sizes["draw"])
    return format_differences(p, bal, years=args.years, entities=_entities(args))


def _write_results(
    args: argparse.Namespace,
    ds,
    path: Path,
    phases: Phases,
    submit: io.Submit,
    mapped: MappedResults | None = None,
) -> tuple[str, Future]:
    """Start writing ``results.nc`` on a thread, warning first if it will be large.

    Returns its size as the phase line shows it (estimated from dims x dtype) and the
    write's future, whose result is the seconds it took. A ``mapped`` file holds the
    paths already: the rest is written into it.
    """
    size = io.netcdf_nbytes(ds, float32=args.float32)
    what = f"about {nbytes(size)}" + (" before compression" if args.compress else "")
    if size > LARGE_RESULTS:
        phases.warn(
            f"results.nc will be {what} ({ds.sizes['draw']:,} draws, every draw's paths); "
            "--summary writes only the summaries (probabilities exact, quantiles within a "
            "stated bound) in a few MB; --float32 halves the file, --compress shrinks it"
        )
    t0 = time.perf_counter()

    def write() -> float:
        if mapped is not None:
            mapped.write(ds)
        else:
            io.write_netcdf(ds, path, compress=args.compress, float32=args.float32)
        return time.perf_counter() - t0

    return what, submit(write)


def _per_scenario(summ: dict, ds) -> dict[str | None, dict]:
    """:func:`metrics.summary` of each scenario of ``ds`` from ``summ``, the summary of ``ds``.

    What :func:`sustainsim.report.summary.summaries` computes (key None without
    scenarios): a scenario's summary is the shared figures with its entities.
    """
    if "scenarios" not in summ:
        return {None: summ}
    shared = {k: v for k, v in summ.items() if k != "scenarios"}
    return {n: {**shared, "entities": s["entities"]} for n, s in summ["scenarios"].items()}


def _run_summary(args: argparse.Namespace, ds, view, t_sim: float, info) -> tuple[dict, dict]:
    """The summary of a per-draw run (``view``: in real dollars with ``--real``).

    Also each scenario's :func:`metrics.summary` for the report (before the run's own keys).
    """
    base = metrics.summary(view)
    summ = dict(base)
    if args.real:
        summ["dollar_basis"] = f"real (FY{int(ds['year'].values[0]) - 1} dollars)"
    summ["config"] = str(args.config)
    summ["simulate_seconds"] = round(t_sim, 3)
    if info is not None:
        summ["convergence"] = info.to_dict()
    return summ, _per_scenario(base, view)


def _run_and_write(
    args: argparse.Namespace, plan: RunPlan, stage: Path, out_dir: Path, phases: Phases
) -> str:
    """Simulate, print the summary, write the files into ``stage``; what was written.

    The tables and ``results.nc`` are written on threads (:func:`io.background_writes`)
    while the summary is computed and printed (it does not wait for them) and
    ``summary.json`` and the figures are written. Each file is the same as written one
    after the other; the folder is committed when all are done.
    """
    mapped = _mapped(args, plan, stage / "results.nc")
    t0 = time.perf_counter()
    ds, info = _simulate(args, plan, mapped)
    t_sim = time.perf_counter() - t0
    if plan.mode == "summary":
        _write_summary(args, ds, stage, t_sim, phases)
        done = f"(simulated in {t_sim:.2f} s)"
        return f"wrote {out_dir / 'summary.json'} and {out_dir / 'summary.nc'} {done}"
    view = real_dollars(ds) if args.real else ds  # results.nc stays nominal
    # the tables show the first scenario (base, with scenarios: the config as written)
    # beside its central case, the figures' composition chart the same central case
    central = central_case(plan.spec)
    if args.real:
        central = real_dollars(central)
    figures: list[Path] = []
    with io.background_writes() as submit:
        what, results = _write_results(args, ds, stage / "results.nc", phases, submit, mapped)
        tables = submit(write_tables, view, central, stage)
        summ, summs = _run_summary(args, ds, view, t_sim, info)
        _show(args, summ, info, _differences(args, view, summ))
        phases.say(f"writing results.nc ({what}) ...")  # the phases after the summary
        phases.say("writing p_solvent.csv and forecast.xlsx ...")
        io.write_json(summ, stage / "summary.json")
        if not args.no_report:
            figures = _figures(view, plan.spec, stage, info, central, phases, summs)
    tables.result()
    phases.wrote(stage / "results.nc", results.result())
    return (
        f"wrote {out_dir / 'results.nc'}, {out_dir / 'summary.json'}, "
        f"{out_dir / 'p_solvent.csv'}, {out_dir / 'forecast.xlsx'}"
        + (f", {len(figures) - 1} figures and {out_dir / 'report.html'}" if figures else "")
        + f" (simulated in {t_sim:.2f} s)"
    )


def _figures(ds, spec: Spec, out_dir: Path, info, central, phases: Phases, summs) -> list[Path]:
    """The figures and report.html (matplotlib and the report imported only for them)."""
    from sustainsim import report
    from sustainsim.analysis.levers import levers

    central = None if "revenue_lines" in ds else central
    total = len(report.figure_names(ds, central))
    done: list[str] = []

    def progress(name: str) -> None:
        done.append(name)
        phases.figure(name, len(done), total)
        if len(done) == total:
            phases.say("writing the figures and report.html ...")

    ranked = None
    if spec.config.levers:  # the report's top levers, on common draws (at most LEVER_DRAWS)
        n = min(int(ds.sizes["draw"]), LEVER_DRAWS)
        phases.say(f"evaluating {len(spec.config.levers)} levers on {n:,} draws ...")
        ranked = levers(spec, draws=n, seed=int(ds.attrs.get("seed", spec.config.simulation.seed)))
    figures = report.write_run_figures(
        ds,
        out_dir,
        spec_text=spec.text,
        central=central,
        progress=progress,
        levers=ranked,
        summs=summs,
    )
    phases.say(f"wrote report.html: {nbytes((out_dir / 'report.html').stat().st_size)}")
    if info is not None:
        figures.insert(0, _convergence_figure(info, out_dir / "convergence.png"))
    return figures


def _convergence_figure(info, path: Path) -> Path:
    """The estimate and its interval versus draws, written atomically as PNG."""
    from matplotlib.figure import Figure

    from sustainsim.plotting.diagnostics import plot_convergence
    from sustainsim.plotting.style import house_style

    with house_style():  # the house style of every figure
        fig = Figure(figsize=(7, 4), layout="constrained")
        plot_convergence(info, ax=fig.add_subplot())
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _run_zarr(
    args: argparse.Namespace, plan: RunPlan, stage: Path, out_dir: Path, phases: Phases
) -> str:
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
            raise OutputPathError("--zarr", args.zarr, "it is the --out folder: give a path in it")
        zarr = stage / inside
    t0 = time.perf_counter()
    with io.lock_folder(zarr) if not zarr.is_relative_to(stage) else nullcontext():
        summ_ds = simulate_parallel(plan, zarr_path=zarr)
    if plan.mode == "full":
        summ_ds = simulate(plan.replace(mode="summary", lines=False))
    summ_ds.attrs["zarr_path"] = str(args.zarr)
    t_sim = time.perf_counter() - t0
    done = f"(per-draw {args.zarr}, chunked along draw; simulated in {t_sim:.2f} s)"
    _write_summary(args, summ_ds, stage, t_sim, phases)
    return f"wrote {out_dir / 'summary.json'} and {out_dir / 'summary.nc'} {done}"


def _write_summary(args: argparse.Namespace, ds, stage: Path, t_sim: float, phases: Phases) -> dict:
    """Print a summary run's summary, then write ``summary.json`` and ``summary.nc``."""
    if "scenario" in ds.dims:
        names = [str(x) for x in ds["scenario"].values]
        summ: dict[str, Any] = {
            "scenarios": {nm: summary_dict(ds.sel(scenario=nm)) for nm in names}
        }
    else:
        summ = summary_dict(ds)
    summ["config"] = str(args.config)
    summ["simulate_seconds"] = round(t_sim, 3)
    note = ""
    if "scenario" in ds.dims:
        note = f"(paired differences against {BASE!r} need per-draw results: run without --summary)"
    _show(args, summ, None, note)
    io.write_json(summ, stage / "summary.json")
    with phases.writing(stage / "summary.nc"):
        io.write_netcdf(ds, stage / "summary.nc")
    return summ
