"""``sustainsim compare CONFIG``: a config's scenarios on the same draws, paired differences."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import xarray as xr

from sustainsim import io
from sustainsim.analysis.paired import compare
from sustainsim.cli.options import nonneg_int, positive_int
from sustainsim.config import ConfigError, load_config
from sustainsim.run.scenarios import simulate_scenarios

__all__ = ["add_arguments", "check_out_dir", "compare_dict", "run"]


def add_arguments(c: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim compare CONFIG``."""
    c.add_argument("config", help="TOML config with [scenarios.NAME] tables, or a results.nc")
    c.add_argument("--baseline", help="reference scenario (default: the first)")
    c.add_argument("--draws", type=positive_int, help="number of draws")
    c.add_argument("--seed", type=nonneg_int, help="seed")
    c.add_argument("--out", type=Path, help="also write DIR/compare.nc and DIR/compare.json")


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim compare``: paired differences against the baseline; the exit code.

    With ``--out`` the folder is one transaction (:func:`sustainsim.io.output_folder`),
    checked and locked before anything is simulated.
    """
    if args.out is None:
        return _compare(args, None)
    check_out_dir(args.out)  # a folder that can be written, before anything is simulated
    with io.output_folder(args.out, command="compare") as stage:
        code = _compare(args, stage)
    print(f"\nwrote {args.out / 'compare.nc'} and {args.out / 'compare.json'}")
    return code


def _compare(args: argparse.Namespace, stage: Path | None) -> int:
    """Simulate (or read), print the table, write into ``stage`` if given."""
    path = Path(args.config)
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
    if stage is not None:
        io.write_netcdf(_merge_compare(out, bal), stage / "compare.nc")
        io.write_json(compare_dict(out, bal, ds.sizes["draw"]), stage / "compare.json")
    return 0


def compare_dict(p: xr.Dataset, bal: xr.Dataset, draws: int) -> dict:
    """``compare.json``: the printed table as JSON.

    ``{"baseline", "draws", "scenarios": {SCENARIO: {SCHOOL: {"p_solvent": {YEAR:
    {"baseline", "scenario", "difference", "se_paired", "se_unpaired"}},
    "final_balance": {"difference", "se_paired", "se_unpaired"}}}}}``; probabilities
    of solvency through each year, final-balance differences in USD; NaN as null.
    """
    out: dict = {"baseline": str(p.attrs["baseline"]), "draws": int(draws), "scenarios": {}}
    for sc in p["scenario"].values:
        schools: dict = {}
        for school in p["school"].values:
            years = {}
            for y in p["year"].values:
                r = p.sel(scenario=sc, school=school, year=y)
                years[str(int(y))] = {
                    "baseline": _num(r.a),
                    "scenario": _num(r.b),
                    "difference": _num(r.difference),
                    "se_paired": _num(r.se_paired),
                    "se_unpaired": _num(r.se_unpaired),
                }
            schools[str(school)] = {"p_solvent": years}
        for school in bal["school"].values:
            r = bal.sel(scenario=sc, school=school)
            schools.setdefault(str(school), {})["final_balance"] = {
                k: _num(r[k]) for k in ("difference", "se_paired", "se_unpaired")
            }
        out["scenarios"][str(sc)] = schools
    return out


def _num(x: xr.DataArray) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


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
