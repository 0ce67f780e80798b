"""``sustainsim report RESULTS [--out DIR]``: rebuild the figures and report.html from a results.nc.

The report itself never simulates: the central case its composition figure needs is
rebuilt here, from the config text and overrides stored in the file, unless the file
carries per-line data of its own.
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from sustainsim.config import loads_config
from sustainsim.io import open_results, output_folder
from sustainsim.report import check_results, write_report
from sustainsim.run import central_case

__all__ = ["EXAMPLES", "add_arguments", "central_from_attrs", "report_from_file", "run"]

EXAMPLES = """\
examples:
  sustainsim report out/flagship/results.nc
  sustainsim report out/flagship/results.nc --out out/flagship-report

Replaces the figures and report.html in the folder and keeps the run's other files.
"""


def central_from_attrs(ds: xr.Dataset) -> xr.Dataset | None:
    """The central case of the config stored in ``ds`` (its text and overrides), or None.

    With scenarios too: ``run`` draws the composition of the config as written (the
    ``base`` scenario), whose text and overrides are the ones stored.
    """
    text = ds.attrs.get("config_text")
    if not text:
        return None
    try:
        spec = loads_config(text, source=ds.attrs.get("config_source") or None)
        overrides = json.loads(ds.attrs.get("config_overrides") or "{}")
        if overrides:
            spec = spec.with_overrides(overrides)
        return central_case(spec)
    except Exception as exc:  # a report without the composition figure beats none
        warnings.warn(
            f"could not rebuild the central case from the stored config: {exc}", stacklevel=3
        )
        return None


def _report_file(name: str) -> bool:
    """A file a report writes (replaced by a new report; the run's own files stay)."""
    return name == "report.html" or (name.endswith(".png") and name != "convergence.png")


def report_from_file(results_nc: str | Path, out_dir: str | Path | None = None) -> Path:
    """Rebuild the report from a saved ``results.nc`` (default ``out_dir``: its folder).

    The config text comes from the file's attrs; the composition figure uses the
    file's line data if any, else the central case rebuilt from that config. The
    folder is one transaction (:func:`sustainsim.io.output_folder`): its figures and
    ``report.html`` are replaced together, every other file in it is kept.
    """
    path = Path(results_nc)
    if not path.is_file():
        raise FileNotFoundError(f"results file not found: {str(path)!r}")
    try:
        ds = open_results(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a sustainsim results file: {exc}") from None
    check_results(ds)
    central = None if "revenue_lines" in ds else central_from_attrs(ds)
    target = path.parent if out_dir is None else Path(out_dir)
    with output_folder(target, command="report", amend=_report_file) as stage:
        write_report(ds, stage, central=central)
    return target / "report.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sustainsim report RESULTS [--out DIR]``."""
    parser.add_argument("results", type=Path, help="results.nc written by 'sustainsim run'")
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: the folder of RESULTS)"
    )


def run(args: argparse.Namespace, print_fn: Callable[[str], None] = print) -> int:
    """Run ``sustainsim report``; returns the exit code (errors propagate to the CLI)."""
    page = report_from_file(args.results, args.out)
    print_fn(f"wrote {page} and its figures")
    return 0
