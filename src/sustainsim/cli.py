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

from ._version import __version__
from .config import ConfigError

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        v = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _nonneg_int(text: str) -> int:
    try:
        v = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


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
    r.add_argument("--draws", type=_positive_int, help="number of draws (default: the config's)")
    r.add_argument("--seed", type=_nonneg_int, help="seed (default: the config's)")
    r.add_argument("--chunk-size", type=_positive_int, help="draws per chunk (memory only)")
    r.add_argument("--out", type=Path, help="output directory (default: out/CONFIG_STEM)")
    r.add_argument("--lines", action="store_true", help="keep per-line revenue/cost per draw")
    r.add_argument("--compress", action="store_true", help="gzip the NetCDF variables")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check a config and describe it")
    v.add_argument("config", nargs="+", help="TOML config file(s)")
    v.set_defaults(func=_cmd_validate)
    return p


def _fmt_pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _fmt_usd(x: float) -> str:
    return f"{x:,.0f}"


def format_summary(summ: dict, title: str = "") -> str:
    """A readable plain-text table of a :func:`sustainsim.metrics.summary`."""
    ents = list(summ["entities"])
    years = summ["years"]
    conf = summ["confidence"]
    lines = []
    if title:
        lines.append(title)
    lines.append(
        f"{summ['draws']:,} draws, seed {summ['seed']}, FY{years[0]}-FY{years[-1]}"
    )
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
    from . import io, metrics
    from .simulate import simulate
    from .spec import load_config

    spec = load_config(args.config)  # ConfigError -> exit 2, before anything is written
    out_dir = args.out if args.out is not None else Path("out") / Path(args.config).stem
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError([f"--out {str(out_dir)!r} exists and is not a directory"])
    t0 = time.perf_counter()
    ds = simulate(
        spec,
        draws=args.draws,
        seed=args.seed,
        chunk_size=args.chunk_size,
        lines=args.lines,
        progress=False if args.no_progress else None,
    )
    t_sim = time.perf_counter() - t0
    summ = metrics.summary(ds)
    summ["config"] = str(args.config)
    summ["simulate_seconds"] = round(t_sim, 3)
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        io.write_netcdf(ds, out_dir / "results.nc", compress=args.compress)
        io.write_json(summ, out_dir / "summary.json")
    except BaseException:
        if created:
            _remove_tree(out_dir)
        raise
    print(format_summary(summ, title=f"sustainsim run {args.config}"))
    print()
    print(f"wrote {out_dir / 'results.nc'} and {out_dir / 'summary.json'} "
          f"(simulated in {t_sim:.2f} s)")
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
    from .spec import load_config

    bad = 0
    for path in args.config:
        try:
            spec = load_config(path)
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
