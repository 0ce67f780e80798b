"""``sustainsim compare CONFIG``: a config's scenarios on the same draws, paired differences."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sustainsim import io
from sustainsim.analysis.paired import compare
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.config import ConfigError, load_config
from sustainsim.run.scenarios import simulate_scenarios

__all__ = ["add_arguments", "check_out_dir", "run"]


def add_arguments(c: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim compare CONFIG``."""
    c.add_argument("config", help="TOML config with [scenarios.NAME] tables, or a results.nc")
    c.add_argument("--baseline", help="reference scenario (default: the first)")
    c.add_argument("--draws", type=positive_int, help="number of draws")
    c.add_argument("--seed", type=nonneg_int, help="seed")
    c.add_argument("--out", type=Path, help="also write DIR/compare.nc and DIR/compare.json")


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim compare``: paired differences against the baseline; the exit code."""
    path = Path(args.config)
    if args.out is not None:
        check_out_dir(args.out)  # before anything is simulated
    if path.suffix == ".nc":
        if not path.is_file():
            raise ConfigError([f"file not found: {str(path)!r}"])
        try:
            ds = io.open_results(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                [f"cannot read {str(path)!r} as a sustainsim results file: {exc}"]
            ) from None
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


def check_out_dir(out: Path, flag: str = "--out") -> None:
    """An output folder that can be made or written: refused up front, naming the flag.

    Raises
    ------
    ConfigError
        If ``out`` exists and is not a folder, or no file can be made in its nearest
        existing folder.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError([f"{flag} {str(out)!r} exists and is not a directory"])
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError([f"{flag} {str(out)!r}: {str(parent)!r} is not a directory"])
    try:  # a probe that leaves nothing behind (permissions, read-only file systems)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise ConfigError(
            [f"{flag} {str(out)!r}: cannot write in {str(parent)!r} ({exc.strerror or exc})"]
        ) from None


def _merge_compare(p, bal):
    """Both comparisons in one Dataset (probabilities by year, balances at the horizon)."""
    out = p.copy()
    for k in bal.data_vars:
        out[f"final_balance_{k}"] = bal[k]
    return out
