"""Batches of runs with a manifest, resume and a combined summary table.

:func:`run_batch` runs a list of config files one after another. Each run writes
its own folder ``OUT/runs/<stem>-<sha256[:12]>-seed<S>-draws<N>[-streaming]/`` as
one transaction (:func:`sustainsim.io.output_folder`: a staging folder renamed into
place when complete), then appends its entry to ``OUT/manifest.jsonl`` (the
whole manifest is rewritten atomically): config path, config sha256, seed, draws,
mode, run folder, finish time. The manifest entry is the commit point, so Ctrl-C or
a killed process loses at most the run in flight, and ``resume=True`` skips
exactly the runs whose ``(config_sha256, seed, draws, mode)`` is recorded as
finished and whose folder still holds its summary. At the end the per-run
summaries are read back from disk and combined into ``OUT/summary.csv`` and
``OUT/summary.nc``: one row per run and school (with the district total for
several schools): P(solvent through the horizon) with SE and Wilson interval, and
quantiles of the final fund balance.

Files of a run folder: ``summary.nc`` (P(solvent) by year and school, final-balance
quantiles), ``summary.json``; and ``results.nc`` (every draw) unless the batch
is streaming. A config with ``[scenarios.NAME]`` tables runs every scenario on common
draws (as ``sustainsim run``) and gets one table row per scenario and school. One
batch process per output folder at a time: the lock ``.OUT.lock`` beside ``OUT``
refuses a second one (:class:`sustainsim.io.OutputError`), and what killed batches
left (staging folders, temporary files) is removed when the next one starts.

Examples
--------
>>> from sustainsim.run.batch import run_batch
>>> table = run_batch(["a.toml", "b.toml"], "out/batch", draws=100_000)  # doctest: +SKIP
>>> table = run_batch(["a.toml", "b.toml"], "out/batch", resume=True)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from sustainsim import io, metrics
from sustainsim._version import __version__
from sustainsim.config import ConfigError
from sustainsim.config.spec import Spec, load_config
from sustainsim.run.accumulate import summary_dict
from sustainsim.run.core import check_memory, simulate
from sustainsim.run.plan import RunOptions, RunPlan, plan_run

__all__ = ["MANIFEST", "read_manifest", "run_batch", "summary_table"]

MANIFEST = "manifest.jsonl"
_PROB_VARS = ("probability", "se", "lower", "upper")


# --- manifest ------------------------------------------------------------------------------


def _key(entry: dict) -> tuple:
    return (entry["config_sha256"], int(entry["seed"]), int(entry["draws"]), entry["mode"])


def _safe_run_dir(run_dir: object) -> bool:
    """``runs/NAME``: one plain folder name under ``runs`` (never outside the batch folder)."""
    if not isinstance(run_dir, str) or "\\" in run_dir:
        return False
    parts = run_dir.split("/")
    return (
        len(parts) == 2
        and parts[0] == "runs"
        and parts[1] not in ("", ".", "..")
        and (not parts[1].startswith("."))
    )


def read_manifest(out_dir: str | os.PathLike) -> list[dict]:
    """The finished runs recorded in ``OUT/manifest.jsonl``.

    Unreadable lines are skipped, and so are entries whose ``run_dir`` is not a folder
    ``runs/NAME`` of the batch (a hand-edited manifest never sends a batch outside it).
    """
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            e = json.loads(line)
            _key(e)
        except (ValueError, KeyError, TypeError):
            continue
        if _safe_run_dir(e.get("run_dir")):
            entries.append(e)
    return entries


def _write_manifest(out_dir: Path, entries: list[dict]) -> None:
    text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
    io.write_text(text, out_dir / MANIFEST)


# --- one run -------------------------------------------------------------------------------


def _run_dir_name(spec: Spec, path: Path, seed: int, draws: int, mode: str) -> str:
    tail = "-streaming" if mode == "streaming" else ""
    return f"{path.stem}-{spec.sha256[:12]}-seed{seed}-draws{draws}{tail}"


def _clean_stale(out: Path) -> None:
    """Remove what killed batches left: staging folders, folders moved aside, ``.*.tmp`` files.

    Called holding the batch's lock (:func:`sustainsim.io.clean_stale` per run folder).
    """
    io.clean_stale(out)
    runs = out / "runs"
    if not runs.is_dir():
        return
    names = {p.name for p in runs.iterdir() if not p.name.startswith(".")}
    for p in runs.glob(".*"):
        for tag in (".staging-", ".old-"):
            if tag in p.name:
                names.add(p.name[1:].split(tag)[0])
    for name in sorted(names):
        io.clean_stale(runs / name)


def _full_summary(ds: xr.Dataset) -> xr.Dataset:
    """P(solvent) and exact fund-balance quantiles of a full run (the streaming schema)."""
    out = metrics.p_solvent(ds)[list(_PROB_VARS)]
    q = metrics.balance_quantiles(ds).transpose("quantile", ...)
    out["fund_balance_quantile"] = q
    out["fund_balance_quantile_bound"] = xr.zeros_like(q)
    out["fund_balance_quantile_bound"].attrs = {"units": "USD", "long_name": "exact (no error)"}
    out.attrs = {k: v for k, v in ds.attrs.items()}
    out.attrs["summary_mode"] = "full"
    return out


def _execute(plan: RunPlan, run_dir: Path) -> None:
    """Simulate one run and write its folder as one transaction (the batch holds the lock).

    Every scenario of the config runs, on common draws.
    """
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with io.output_folder(run_dir, command="batch", lock=False) as stage:
        _simulate_into(plan, stage)


def _simulate_into(plan: RunPlan, run_dir: Path) -> None:
    """Simulate one run and write its files into ``run_dir``, ``summary.nc`` last."""
    names = plan.spec.scenario_names
    if names:  # the base config's uniform source for every scenario
        parts = [
            simulate(plan.for_spec(plan.spec.scenario(nm))).expand_dims(scenario=[nm])
            for nm in names
        ]
        ds = xr.concat(parts, dim="scenario", join="outer", combine_attrs="override")
    else:
        ds = simulate(plan)
    if plan.mode == "summary":
        if names:
            summ = {"scenarios": {nm: summary_dict(ds.sel(scenario=nm)) for nm in names}}
        else:
            summ = summary_dict(ds)
        io.write_json(summ, run_dir / "summary.json")
        io.write_netcdf(ds, run_dir / "summary.nc")
        return
    io.write_netcdf(ds, run_dir / "results.nc")
    io.write_json(metrics.summary(ds), run_dir / "summary.json")
    io.write_netcdf(_full_summary(ds), run_dir / "summary.nc")  # last: marks the run complete


# --- the batch -----------------------------------------------------------------------------


def _quantile_label(q: float) -> str:
    return f"final_balance_q{q:g}"


def summary_table(entries: Sequence[dict], out_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per run and school from the runs' ``summary.nc`` files.

    Columns: ``run`` (position in the batch), ``config``, ``config_sha256``, ``seed``,
    ``draws``, ``mode``, ``scenario`` (empty for a config without scenarios; one row
    per scenario otherwise), ``school``, ``year`` (the horizon), ``p_solvent``, ``se``,
    ``lower``, ``upper``, ``final_balance_q<q>`` per quantile and
    ``final_balance_quantile_bound`` (the largest error bound; 0 for full runs).
    """
    rows = []
    for i, e in enumerate(entries):
        with xr.open_dataset(Path(out_dir) / e["run_dir"] / "summary.nc", engine="h5netcdf") as s:
            s = s.load()
        scenarios = [str(x) for x in s["scenario"].values] if "scenario" in s.dims else [""]
        for scenario in scenarios:
            last = (s.sel(scenario=scenario) if scenario else s).isel(year=-1)
            for school in s["school"].values:
                x = last.sel(school=school)
                if scenario and not np.isfinite(float(x["probability"])):
                    continue  # a school this scenario does not have (outer join)
                row = {
                    "run": i,
                    "config": e["config"],
                    "config_sha256": e["config_sha256"],
                    "seed": int(e["seed"]),
                    "draws": int(e["draws"]),
                    "mode": e["mode"],
                    "scenario": scenario,
                    "school": str(school),
                    "year": int(last["year"]),
                    "p_solvent": float(x["probability"]),
                    "se": float(x["se"]),
                    "lower": float(x["lower"]),
                    "upper": float(x["upper"]),
                }
                for q in s["quantile"].values:
                    fq = x["fund_balance_quantile"].sel(quantile=q)
                    row[_quantile_label(float(q))] = float(fq)
                row["final_balance_quantile_bound"] = float(x["fund_balance_quantile_bound"].max())
                rows.append(row)
    return pd.DataFrame(rows)


def run_batch(
    configs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    **options: Unpack[RunOptions],
) -> pd.DataFrame:
    """Run config files one after another with a manifest; resumable.

    Parameters
    ----------
    configs : sequence of path
        Config files; all are read and validated before anything runs.
    out_dir : path
        Output folder: ``runs/<run>/`` per run, ``manifest.jsonl``, ``summary.csv``,
        ``summary.nc``.
    resume : bool
        Skip the runs recorded as finished in the manifest (same config sha256, seed,
        draws and mode, summary file present). Without it, the manifest starts empty
        and every run is computed (files overwritten).
    **options
        As :func:`~sustainsim.run.plan.plan_run`, for every run: ``draws`` and ``seed``
        (default each config's own), ``mode="summary"`` (bounded memory, no
        ``results.nc``; quantiles from histograms with an error bound; recorded as
        mode ``"streaming"``), ``scheduler`` (each run's chunks on dask, same
        results), ``progress`` (bars over runs and draws), ...

    Returns
    -------
    pandas.DataFrame
        The combined summary (see :func:`summary_table`), also written to
        ``summary.csv`` and ``summary.nc``.

    Raises
    ------
    ConfigError
        If a config is missing or invalid (nothing is run or written).
    sustainsim.io.OutputError
        If another process runs a batch into ``out_dir`` (nothing is run or written).
    """
    if isinstance(configs, str | os.PathLike):
        configs = [configs]
    if not configs:
        raise ConfigError(["batch: give at least one config file"])
    paths = [Path(c) for c in configs]
    specs = [load_config(p) for p in paths]  # ConfigError before anything is written
    plans = [plan_run(spec, **options) for spec in specs]
    for plan in plans:  # the memory budget of every run, before anything runs
        check_memory(plan, copies=max(1, 2 * len(plan.spec.scenario_names)))
    todo: list[dict[str, Any]] = []
    for p, plan in zip(paths, plans, strict=True):
        mode = "streaming" if plan.mode == "summary" else "full"  # as recorded in manifests
        n, s = plan.draws, plan.seed
        todo.append(
            {
                "config": str(p),
                "config_sha256": plan.spec.sha256,
                "seed": s,
                "draws": n,
                "mode": mode,
                "run_dir": str(Path("runs") / _run_dir_name(plan.spec, p, s, n, mode)),
            }
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError([f"batch output {str(out)!r} exists and is not a directory"])
    with io.lock_folder(out):
        out.mkdir(exist_ok=True)
        _clean_stale(out)
        return _run_all(todo, plans, out, resume)


def _run_all(todo: list[dict], plans: list[RunPlan], out: Path, resume: bool) -> pd.DataFrame:
    """Run what is not finished yet, one run folder and manifest entry at a time; the table."""
    entries = read_manifest(out) if resume else []
    if not resume:
        _write_manifest(out, entries)
    finished = {_key(e): e for e in entries}
    disable = None if plans[0].progress is None else not plans[0].progress
    with tqdm(total=len(todo), desc="batch", unit="run", disable=disable) as bar:
        for item, plan in zip(todo, plans, strict=True):
            done = finished.get(_key(item))
            if done is not None and (out / done["run_dir"] / "summary.nc").exists():
                item["run_dir"] = done["run_dir"]
                bar.update(1)
                continue
            bar.set_postfix_str(Path(item["config"]).name)
            t0 = time.perf_counter()
            _execute(plan, out / item["run_dir"])
            entry = {
                **item,
                "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "seconds": round(time.perf_counter() - t0, 3),
                "sustainsim_version": __version__,
            }
            entries = [e for e in entries if _key(e) != _key(entry)] + [entry]
            _write_manifest(out, entries)  # the commit point of the run
            finished[_key(entry)] = entry
            bar.update(1)

    table = summary_table(todo, out)
    io.write_text(table.to_csv(index=False), out / "summary.csv")
    tds = xr.Dataset.from_dataframe(table.rename_axis("row"))
    tds.attrs.update({"title": "sustainsim batch summary", "sustainsim_version": __version__})
    io.write_netcdf(tds, out / "summary.nc")
    return table


# --- CLI -------------------------------------------------------------------------------------
