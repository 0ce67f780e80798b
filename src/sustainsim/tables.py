"""Tables for analysts: P(solvent) as CSV, and a forecast workbook laid out as a budget office's.

``p_solvent.csv`` has one row per fiscal year (and scenario) and, per entity, the
probability and its interval. The workbook (XLSX, written with openpyxl) has a sheet
per entity laid out as a district five-year forecast: revenue lines, expenditure lines,
net, beginning fund balance (the year before's ending one), ending fund balance, the
reserve requirement and enrollment, with per-pupil figures; each fiscal year has four
columns: the central case (every input at its median) and the P10, P50 and P90 over
draws. Percentiles are taken line by line, so they do not add up across lines (a P10
year for one line is not a P10 year for all); the central case does, to the cent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sustainsim import io
from sustainsim.metrics.criteria import reserve_requirement
from sustainsim.metrics.exact_quantiles import quantiles_1d
from sustainsim.metrics.solvency import DISTRICT, entity_balance, p_solvent
from sustainsim.run.threads import default_threads

__all__ = ["PERCENTILES", "forecast_table", "p_solvent_table", "write_tables", "write_workbook"]

#: the percentiles over draws shown beside the central case
PERCENTILES = (0.1, 0.5, 0.9)
_STATS = ("central", "P10", "P50", "P90")


def p_solvent_table(ds: xr.Dataset, confidence: float = 0.95) -> pd.DataFrame:
    """P(solvent through each year) by entity, with its Wilson interval, one row a year.

    Columns: ``year`` (and ``scenario`` first, with scenarios), then for each entity
    ``ENTITY``, ``ENTITY_lower``, ``ENTITY_upper``.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> t = p_solvent_table(sustainsim.simulate(spec, draws=1_000, seed=1))
    >>> t.columns.tolist(), len(t)
    (['year', 'ref', 'ref_lower', 'ref_upper'], 10)
    """
    p = p_solvent(ds, confidence)
    frames = []
    for sc in p["scenario"].values if "scenario" in p.dims else [None]:
        ps = p.sel(scenario=sc) if sc is not None else p
        cols: dict[str, np.ndarray] = {"year": ps["year"].values}
        for e in ps["school"].values:
            pe = ps.sel(school=e)
            cols[str(e)] = pe["probability"].values
            cols[f"{e}_lower"] = pe["lower"].values
            cols[f"{e}_upper"] = pe["upper"].values
        frame = pd.DataFrame(cols)
        if sc is not None:
            frame.insert(0, "scenario", str(sc))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _entity_lines(ds: xr.Dataset, part: str, entity: str) -> xr.DataArray | None:
    """``(draw, year, line)`` amounts of one entity's lines, or None without line data."""
    var = f"{part}_lines"
    if var not in ds:
        return None
    lines = ds[var]
    if entity == DISTRICT:
        return lines.sum("school")
    return lines.sel(school=entity)


def _totals(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """The totals of every entity (schools and the district), computed once per run."""
    out = {v: entity_balance(ds, v) for v in ("revenue", "cost", "fund_balance")}
    out["reserve"] = reserve_requirement(ds)
    return out


#: the rows a fiscal year's table derives from the previous year's
BEGINNING = ("Fund balance", "Beginning fund balance")
ENDING = ("Fund balance", "Ending fund balance")


def _values(da: xr.DataArray) -> np.ndarray:
    """``da``'s numbers with ``draw`` first (a view of the run's memory where it can be)."""
    return np.asarray(da.transpose("draw", ...).values)


def _beginning(balance: np.ndarray, surplus: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The beginning fund balance: the year before's ending balance, the first year's own.

    ``balance`` and ``surplus`` are ``(draw, year)`` (or ``(draw,)``, the first year):
    a year's beginning balance is the previous year's ending balance, as a budget office
    carries it forward; the first year's is its ending balance less its net.
    """
    if balance.ndim == 1:
        return np.subtract(balance, surplus, out=out)
    np.subtract(balance[:, :1], surplus[:, :1], out=out[:, :1])
    out[:, 1:] = balance[:, :-1]
    return out


def _rows(
    ds: xr.Dataset,
    entity: str,
    totals: dict[str, xr.DataArray],
    buffer: Callable[[int], np.ndarray] | None = None,
    carried: bool = False,
) -> list[tuple[tuple[str, str], np.ndarray]]:
    """The forecast's rows for one entity: ``((section, line), amounts)``, draw first.

    ``ds`` holds years (amounts ``(draw, year)``) or one year (``(draw,)``). The rows
    computed here (net, beginning balance, per pupil, district central money) go into
    ``buffer(i)``, the ``i``-th reusable array of their shape (default new arrays), so a
    caller taking a year at a time reuses its memory. ``carried``: a year after the
    first, whose beginning balance is the year before's ending one (not a row here).
    """
    revenue = _values(totals["revenue"].sel(school=entity))
    cost = _values(totals["cost"].sel(school=entity))
    new = buffer or (lambda i: np.empty_like(revenue))
    rows: list[tuple[tuple[str, str], np.ndarray]] = []
    lines = _entity_lines(ds, "revenue", entity)
    if lines is not None:
        rows += [
            (("Revenue", str(k)), _values(lines.sel(revenue_line=k)))
            for k in lines.revenue_line.values
        ]
        if entity == DISTRICT:
            summed = _values(lines.sum("revenue_line"))
            own = np.subtract(revenue, summed, out=new(0))
            rows.append((("Revenue", "district central revenue"), own))
    rows.append((("Revenue", "Total revenue"), revenue))
    lines = _entity_lines(ds, "cost", entity)
    if lines is not None:
        # the engine's cost lines are net of the management response's trims already
        rows += [
            (("Expenditure", str(k)), _values(lines.sel(cost_line=k)))
            for k in lines.cost_line.values
        ]
        if entity == DISTRICT:
            summed = _values(lines.sum("cost_line"))
            own = np.subtract(cost, summed, out=new(1))
            rows.append((("Expenditure", "district central expenditure"), own))
    balance = _values(totals["fund_balance"].sel(school=entity))
    surplus = np.subtract(revenue, cost, out=new(2))
    pupils = _values(_enrollment(ds, entity))
    rows += [
        (("Expenditure", "Total expenditure"), cost),
        (("Fund balance", "Net: revenue less expenditure"), surplus),
    ]
    if not carried:
        rows.append((BEGINNING, _beginning(balance, surplus, new(3))))
    rows += [
        (ENDING, balance),
        (("Fund balance", "Reserve requirement"), _values(totals["reserve"].sel(school=entity))),
        (("Per pupil", "Enrollment [students]"), pupils),
        (("Per pupil", "Revenue per pupil"), np.divide(revenue, pupils, out=new(4))),
        (("Per pupil", "Expenditure per pupil"), np.divide(cost, pupils, out=new(5))),
    ]
    return rows


def _enrollment(ds: xr.Dataset, entity: str) -> xr.DataArray:
    e = ds["enrollment"]
    return e.sum("school") if entity == DISTRICT else e.sel(school=entity)


def _entities(ds: xr.Dataset) -> list[str]:
    """The schools (and the district) of a run, without computing its totals."""
    first = ds.isel(year=slice(0, 1)) if "year" in ds.dims else ds
    return [str(s) for s in entity_balance(first)["school"].values]


def forecast_table(
    ds: xr.Dataset,
    central: xr.Dataset,
    entity: str | None = None,
    percentiles: Sequence[float] = PERCENTILES,
) -> pd.DataFrame:
    r"""One entity's forecast: rows of lines and totals, columns (year, central/P10/P50/P90).

    Parameters
    ----------
    ds : xarray.Dataset
        A run (:func:`sustainsim.simulate`); with line data (``lines=True``) every line
        gets its percentiles, otherwise only the totals do.
    central : xarray.Dataset
        The central case of the same config (:func:`sustainsim.central_case`).
    entity : str, optional
        A school or ``"district"``; default the district with several schools.

    Returns
    -------
    pandas.DataFrame
        Index: a MultiIndex ``(section, line)``, sections ``Revenue``, ``Expenditure``,
        ``Fund balance`` and ``Per pupil``; columns: a MultiIndex ``(fiscal year,
        statistic)``. Dollars in USD.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=1_000, seed=1)
    >>> t = forecast_table(ds, sustainsim.central_case(spec))
    >>> t.columns[:4].tolist()
    [(2027, 'central'), (2027, 'P10'), (2027, 'P50'), (2027, 'P90')]
    >>> rev = t.loc["Revenue", (2027, "central")]
    >>> bool(abs(rev["Total revenue"] - rev.drop("Total revenue").sum()) < 0.005)  # to the cent
    True
    """
    if "scenario" in ds.dims:
        raise ValueError("forecast_table takes one scenario: select it with ds.sel(scenario=...)")
    names = _entities(ds)
    entity = entity or (DISTRICT if DISTRICT in names else names[0])
    if entity not in names:
        raise ValueError(f"entity {entity!r} not in the results; have {', '.join(names)}")
    pcts = _percentiles(ds, [entity], list(percentiles))[entity]
    return _forecast(ds, central, entity, percentiles, _totals(central), pcts)


def _forecast(ds, central, entity, percentiles, central_totals, pcts) -> pd.DataFrame:
    """:func:`forecast_table` from the central case's totals and the entity's percentiles."""
    years = ds["year"].values
    qs = list(percentiles)
    central_rows = dict(_rows(central, entity, central_totals))
    data: dict[tuple[str, str], np.ndarray] = {}
    for key, pct in pcts.items():
        c = central_rows.get(key)
        mid = c[0] if c is not None else np.full(len(years), np.nan)
        data[key] = np.column_stack([mid, pct]).ravel()
    # lines only the central case has (a run without line data): their percentiles are blank
    for key, c in central_rows.items():
        if key not in data:
            vals = np.full((len(years), 1 + len(qs)), np.nan)
            vals[:, 0] = c[0]
            data[key] = vals.ravel()
    order = list(central_rows)
    order += [k for k in data if k not in order]
    columns = pd.MultiIndex.from_tuples(
        [(int(y), s) for y in years for s in ("central", *(f"P{round(100 * q)}" for q in qs))],
        names=["fiscal year", "statistic"],
    )
    index = pd.MultiIndex.from_tuples(order, names=["section", entity])
    return pd.DataFrame(np.array([data[k] for k in order]), index=index, columns=columns)


def _percentiles(
    ds: xr.Dataset, entities: list[str], qs: list[float]
) -> dict[str, dict[tuple[str, str], np.ndarray]]:
    """Each entity's rows' ``(year, quantile)`` percentiles over draws, a year at a time.

    A year's totals and rows are a draw long (no run-sized temporaries: every amount is
    by year, so a year's are the same numbers), the rows computed from others in each
    thread's reused arrays, and
    :func:`~sustainsim.metrics.exact_quantiles.quantiles_1d` gives numpy's numbers.
    The years are taken on threads (a run's default number: numpy's passes release the
    GIL), each year's numbers its own: the same whatever the threads. A year's beginning
    balance is the year before's ending balance: its percentiles are those.
    """
    n_years = ds.sizes["year"]
    local = threading.local()

    def buffer(i: int) -> np.ndarray:
        arrays = local.__dict__.setdefault("arrays", {})
        if i not in arrays:
            arrays[i] = np.empty(ds.sizes["draw"], dtype=ds["revenue"].dtype)
        return arrays[i]

    def year(j: int) -> dict[str, list[tuple[tuple[str, str], np.ndarray]]]:
        sub = ds.isel(year=j)
        sub_totals = _totals(sub)
        return {
            e: [
                (key, quantiles_1d(values, qs))
                for key, values in _rows(sub, e, sub_totals, buffer, carried=j > 0)
            ]
            for e in entities
        }

    with ThreadPoolExecutor(max(1, min(default_threads(), n_years))) as pool:
        by_year = list(pool.map(year, range(n_years)))
    out: dict[str, dict[tuple[str, str], np.ndarray]] = {e: {} for e in entities}
    for j, found in enumerate(by_year):
        for entity, rows in found.items():
            for key, values in rows:
                out[entity].setdefault(key, np.empty((n_years, len(qs))))[j] = values
    for entity in entities:
        rows_of = out[entity]
        if BEGINNING in rows_of:  # the ending balance's percentiles, a year later
            rows_of[BEGINNING][1:] = rows_of[ENDING][:-1]
    return out


def write_workbook(
    ds: xr.Dataset,
    central: xr.Dataset,
    path: str | Path,
    *,
    p_table: pd.DataFrame | None = None,
) -> Path:
    """The forecast workbook: a sheet per entity (district first), a P(solvent) sheet, notes.

    Written atomically with openpyxl. Sheets: ``P(solvent)`` (``p_table``, default
    :func:`p_solvent_table` of ``ds``), then ``district`` (with several schools) and one
    per school (:func:`forecast_table`), then ``About``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "P(solvent)"
    ps = p_solvent_table(ds) if p_table is None else p_table
    ws.append(list(ps.columns))
    for row in ps.itertuples(index=False):
        ws.append(list(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    bold = Font(bold=True)
    central_totals = _totals(central)
    names = _entities(ds)
    order = ([DISTRICT] if DISTRICT in names else []) + [n for n in names if n != DISTRICT]
    pcts = _percentiles(ds, order, list(PERCENTILES))
    for entity in order:
        table = _forecast(ds, central, entity, PERCENTILES, central_totals, pcts[entity])
        sh = wb.create_sheet(entity[:31])
        years = list(dict.fromkeys(y for y, _ in table.columns))
        stats = list(dict.fromkeys(s for _, s in table.columns))
        sh.append(["fiscal year"] + [y for y in years for _ in stats])
        sh.append(["USD"] + stats * len(years))
        section = None
        for (part, label), values in table.iterrows():
            if part != section:
                section = part
                sh.append([part])
                sh.cell(row=sh.max_row, column=1).font = bold
            total = label.startswith(("Total", "Net", "Ending"))
            cells = [None if not np.isfinite(v) else round(float(v), 2) for v in values]
            sh.append([label if total else f"  {label}"] + cells)
            if total:
                sh.cell(row=sh.max_row, column=1).font = bold
        for cell in (*sh[1], *sh[2]):
            cell.font = bold
            cell.alignment = Alignment(horizontal="center")
        sh.column_dimensions["A"].width = 38
        sh.freeze_panes = "B3"
        for row in sh.iter_rows(min_row=3, min_col=2):
            for cell in row:
                cell.number_format = "#,##0"
    about = wb.create_sheet("About")
    attrs = ds.attrs
    for key in ("config_source", "config_sha256", "seed", "draws", "sampler", "sustainsim_version"):
        about.append([key, str(attrs.get(key, ""))])
    about.append(["central", "the central case: every input at its median, no rare event"])
    about.append(["P10/P50/P90", "percentiles over draws, line by line (they do not add up)"])
    with io.atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def write_tables(ds: xr.Dataset, central: xr.Dataset, out_dir: str | Path) -> list[Path]:
    """What ``sustainsim run`` writes for analysts: ``p_solvent.csv`` and ``forecast.xlsx``.

    With scenarios the CSV has every scenario and the workbook the first one, whose central
    case ``central`` must be. P(solvent) is computed once for both (the workbook's rows are
    the first scenario's of the CSV: the same counts).
    """
    out = Path(out_dir)
    table = p_solvent_table(ds)
    csv = io.write_text(table.to_csv(index=False), out / "p_solvent.csv")
    xlsx = out / "forecast.xlsx"
    if "scenario" in ds.dims:
        base = str(ds["scenario"].values[0])
        sub = central.sel(scenario=base) if "scenario" in central.dims else central
        rows = table[table["scenario"] == base].drop(columns="scenario").reset_index(drop=True)
        one = ds.sel(scenario=base, drop=True)
        return [Path(csv), write_workbook(one, sub, xlsx, p_table=rows)]
    return [Path(csv), write_workbook(ds, central, xlsx, p_table=table)]
