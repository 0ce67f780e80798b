"""Panels of history: a long table (entity, year, value) read and checked for fitting."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

__all__ = ["DataError", "Panel", "TableLike", "read_panel", "read_table"]

TableLike: TypeAlias = "pd.DataFrame | str | os.PathLike[str]"

# ---------------------------------------------------------------------------------- input


class DataError(ValueError):
    """A data file that cannot be read, or does not hold what a fit needs.

    ``kind`` is ``"cannot read"`` (missing or unreadable file) or ``"invalid data"`` (a
    missing column, text in a number column, ...); the command line prints
    ``error: KIND: message`` and exits 2.
    """

    def __init__(self, message: str, kind: str = "invalid data"):
        super().__init__(message)
        self.kind = kind


def read_table(
    data: TableLike, columns: list[str], filters: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, str]:
    """A CSV file (or a DataFrame) with ``columns`` checked and ``filters`` applied.

    Returns the filtered table and a description of where it came from, for messages.

    Raises
    ------
    ValueError
        Missing or unreadable file, a missing column, a filter on a numeric column with
        a non-number.
    """
    if isinstance(data, pd.DataFrame):
        df, where = data, "the table"
    else:
        if not Path(data).is_file():
            raise DataError(
                f"data file {str(data)!r} does not exist (expected a CSV file)", "cannot read"
            )
        where = f"file {str(data)!r}"
        try:
            df = pd.read_csv(data)
        except OSError as exc:
            raise DataError(f"data {where}: {exc.strerror or exc}", "cannot read") from None
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(
                f"data {where} is not a readable CSV table: {exc}", "cannot read"
            ) from None
    for col in list(columns) + list(filters or {}):
        if col not in df.columns:
            have = ", ".join(map(str, df.columns))
            raise DataError(f"column {col!r} not found in {where}; available columns: {have}")
    for col, want in (filters or {}).items():
        if isinstance(want, str) and pd.api.types.is_numeric_dtype(df[col]):
            try:
                want = float(want)
            except ValueError:
                raise DataError(f"filter {col}={want!r}: column {col!r} is numeric") from None
        df = df[df[col] == want]
    return df, where


def read_panel(
    data: TableLike,
    *,
    entity: str | None = "entity",
    year: str = "year",
    value: str = "value",
    per_pupil: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read and check a long table; return columns ``entity``, ``year``, ``value``.

    Parameters
    ----------
    data : DataFrame or path of a CSV file
        One row per entity and year.
    entity, year, value : str
        Column names; ``entity=None`` treats all rows as one entity.
    per_pupil : str, optional
        Column to divide ``value`` by (e.g. enrollment, for per-pupil revenue).
    filters : mapping, optional
        Keep rows where each column equals the given value (e.g. ``{"comparable": 1}``).

    Raises
    ------
    ValueError
        Missing or unreadable file, missing column, non-numeric text in a numeric column
        (empty cells and NA markers such as ``NA`` are missing values, dropped),
        non-positive values, duplicate entity-years.
    """
    cols = [c for c in (entity, year, value, per_pupil) if c is not None]
    df, where = read_table(data, cols, filters)
    out = pd.DataFrame(
        {
            "entity": df[entity].astype(str).to_numpy() if entity is not None else "all",
            "year": _numeric(df, year, where),
            "value": _numeric(df, value, where),
        }
    )
    if per_pupil is not None:
        out["value"] /= _numeric(df, per_pupil, where)
    if out["year"].isna().any() or not np.all(np.mod(out["year"], 1) == 0):
        raise DataError(f"column {year!r} must hold whole-number years")
    out["year"] = out["year"].astype(int)
    out = out.dropna(subset=["value"])
    bad = int(((out["value"] <= 0) | ~np.isfinite(out["value"])).sum())
    if bad:
        raise DataError(f"column {value!r} must be positive and finite ({bad} rows are not)")
    dup = out.duplicated(["entity", "year"])
    if dup.any():
        e, y = out.loc[dup, ["entity", "year"]].iloc[0]
        raise DataError(f"entity {e!r} has more than one row for {year} = {y} in {where}")
    if out.empty:
        raise DataError(f"no usable rows in {where} (filters: {dict(filters or {})})")
    return out.sort_values(["entity", "year"]).reset_index(drop=True)


def _numeric(df: pd.DataFrame, col: str, where: str) -> np.ndarray:
    """Column ``col`` as floats: empty cells and NA markers are missing (NaN), other text an error.

    The NA markers are pandas' (``NA``, ``n/a``, ``null``, ``nan``, ...), read as missing
    by :func:`pandas.read_csv` already.
    """
    raw = df[col]
    x = pd.to_numeric(raw, errors="coerce")
    text = raw.astype(str).str.strip()
    bad = x.isna() & raw.notna() & (text != "")
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        first = raw.iloc[rows[0]]
        raise DataError(
            f"column {col!r} in {where} has {rows.size} non-numeric value(s), first "
            f"{first!r} in data row {rows[0] + 1}; fix or remove those rows (empty cells "
            "and NA markers count as missing)"
        )
    return x.to_numpy(dtype=float)


@dataclass(frozen=True)
class Panel:
    """Levels on a grid of consecutive years: ``level[i, t]`` of ``entities[i]`` in ``years[t]``.

    Missing values are NaN.
    """

    entities: np.ndarray
    years: np.ndarray
    level: np.ndarray

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Panel:
        """Build from the output of :func:`read_panel`."""
        years = np.arange(table["year"].min(), table["year"].max() + 1)
        wide = table.pivot(index="entity", columns="year", values="value").reindex(columns=years)
        return cls(wide.index.to_numpy(), years, wide.to_numpy(dtype=float))

    @property
    def growth(self) -> np.ndarray:
        """Log growth from the year before, (N, Y); NaN where either year is missing."""
        g = np.full_like(self.level, np.nan)
        g[:, 1:] = np.diff(np.log(self.level), axis=1)
        return g

    def until(self, last_year: int) -> Panel:
        """The panel truncated to years <= ``last_year``."""
        keep = self.years <= last_year
        return Panel(self.entities, self.years[keep], self.level[:, keep])
