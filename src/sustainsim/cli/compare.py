"""``sustainsim compare CONFIG``: a config's scenarios on the same draws, paired differences."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import xarray as xr

from sustainsim import io
from sustainsim.analysis.paired import compare
from sustainsim.cli.basecase import BASE, scenarios_with_base
from sustainsim.cli.errors import ArgumentsError, OutputPathError, ReadError
from sustainsim.cli.format import format_differences
from sustainsim.cli.options import nonneg_int, positive_int, year_list
from sustainsim.cli.progress import emit
from sustainsim.config import ConfigError, load_config
from sustainsim.run.scenarios import simulate_scenarios

__all__ = ["EXAMPLES", "add_arguments", "check_out_dir", "compare_dict", "run"]

EXAMPLES = """\
examples:
  sustainsim compare configs/leap_chicago.toml
  sustainsim compare configs/ngsi_grant_cliff.toml --draws 2e5 --years 2030-2034
  sustainsim compare configs/leap_chicago.toml --baseline expected --out out/compare
  sustainsim compare out/leap_chicago/results.nc

A config runs the config as written as scenario 'base' and then its scenarios, on the
same draws; the differences are against 'base' unless --baseline names another. With
--out, compare.nc and compare.json are written before anything is printed.
"""


def add_arguments(c: argparse.ArgumentParser) -> None:
    """Options of ``sustainsim compare CONFIG``."""
    c.add_argument("config", help="TOML config with [scenarios.NAME] tables, or a results.nc")
    c.add_argument(
        "--baseline",
        help=f"reference scenario (default: {BASE!r}, the config as written; for a "
        "results.nc without it, the first)",
    )
    c.add_argument(
        "--draws", type=positive_int, help="number of draws, e.g. 2e5 (default: the config's)"
    )
    c.add_argument("--seed", type=nonneg_int, help="seed (default: the config's)")
    c.add_argument(
        "--years",
        type=year_list,
        metavar="YEARS",
        help="fiscal years printed, e.g. 2030,2036 or 2027-2031 (default: the horizon)",
    )
    c.add_argument("--out", type=Path, help="also write DIR/compare.nc and DIR/compare.json")


def run(args: argparse.Namespace) -> int:
    """Run ``sustainsim compare``: paired differences against the baseline; the exit code.

    With ``--out`` the folder is one transaction (:func:`sustainsim.io.output_folder`),
    checked and locked before anything is simulated, and committed before anything is
    printed (so ``compare ... --out DIR | head -2`` leaves the files).
    """
    if args.out is None:
        emit(_compare(args, None) + "\n")
        return 0
    check_out_dir(args.out)  # a folder that can be written, before anything is simulated
    with io.output_folder(args.out, command="compare") as stage:
        text = _compare(args, stage)
    emit(text + f"\n\nwrote {args.out / 'compare.nc'} and {args.out / 'compare.json'}\n")
    return 0


def _read(path: Path) -> xr.Dataset:
    if not path.is_file():
        raise ReadError(path, "file not found")
    try:
        return io.open_results(path)
    except (OSError, ValueError) as exc:
        raise ReadError(path, f"not a sustainsim results file ({exc})") from None


def _compare(args: argparse.Namespace, stage: Path | None) -> str:
    """Simulate (or read), write into ``stage`` if given; the table to print."""
    path = Path(args.config)
    if path.suffix == ".nc":
        ds = _read(path)
    else:
        spec = load_config(path)
        if not spec.scenario_names:
            raise ConfigError([f"{path}: defines no [scenarios.NAME] tables to compare"])
        scenarios = scenarios_with_base(spec)
        if args.baseline and args.baseline not in scenarios:
            raise ArgumentsError(
                [f"--baseline {args.baseline!r}: no such scenario; have {', '.join(scenarios)}"]
            )
        ds = simulate_scenarios(spec, scenarios, draws=args.draws, seed=args.seed)
    names = [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else []
    baseline = args.baseline or (BASE if BASE in names else None)
    out = compare(ds, baseline)
    bal = compare(ds, baseline, metric="final_balance")
    if stage is not None:
        io.write_netcdf(_merge_compare(out, bal), stage / "compare.nc")
        io.write_json(compare_dict(out, bal, ds.sizes["draw"]), stage / "compare.json")
    head = f"{ds.sizes['draw']:,} draws; standard errors paired (unpaired in compare.json)"
    return head + "\n\n" + format_differences(out, bal, years=args.years)


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
    OutputPathError
        If ``out`` exists and is not a folder, or no file can be made in its nearest
        existing folder.
    """
    if out.exists() and not out.is_dir():
        raise OutputPathError(flag, out, "it exists and is not a directory")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputPathError(flag, out, f"{str(parent)!r} is not a directory")
    try:  # a probe that leaves nothing behind (permissions, read-only file systems)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise OutputPathError(
            flag, out, f"no file can be made in {str(parent)!r} ({exc.strerror or exc})"
        ) from None


def _merge_compare(p, bal):
    """Both comparisons in one Dataset (probabilities by year, balances at the horizon)."""
    out = p.copy()
    for k in bal.data_vars:
        out[f"final_balance_{k}"] = bal[k]
    return out
