"""Reading history for a fit: bad rows are reported, not dropped without a word (issue 15)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sustainsim.calibration import fit_enrollment, read_panel

YEARS = list(range(2010, 2020))
LEVELS = [500, 490, 492, 480, 470, 468, 471, 460, 452, 450]


def _csv(tmp_path, values) -> str:
    path = tmp_path / "enrollment.csv"
    rows = "\n".join(f"{y},{v}" for y, v in zip(YEARS, values, strict=True))
    path.write_text("year,value\n" + rows + "\n")
    return str(path)


def test_non_numeric_values_are_an_error_naming_the_column_and_row(tmp_path):
    values = [str(v) for v in LEVELS]
    values[3] = "48O"  # a letter O
    values[6] = "471 students"
    with pytest.raises(ValueError) as info:
        read_panel(_csv(tmp_path, values), entity=None)
    text = str(info.value)
    assert "column 'value'" in text and "2 non-numeric" in text
    assert "'48O'" in text and "data row 4" in text


def test_non_numeric_years_are_an_error(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("year,value\n2010,500\nFY11,490\n2012,480\n")
    with pytest.raises(ValueError, match="column 'year'.*'FY11'"):
        read_panel(str(path), entity=None)


def test_empty_cells_and_na_markers_are_missing_values(tmp_path):
    values = [str(v) for v in LEVELS]
    values[4] = ""
    values[7] = "n/a"
    table = read_panel(_csv(tmp_path, values), entity=None)
    assert list(table["year"]) == [y for i, y in enumerate(YEARS) if i not in (4, 7)]


def test_an_unreadable_file_is_a_value_error_naming_it(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x81" * 100)
    with pytest.raises(ValueError, match="binary.csv"):
        read_panel(str(path), entity=None)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.csv"):
        read_panel(str(empty), entity=None)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 0.0, "0.2", True])
def test_max_abs_growth_must_be_a_finite_positive_number(bad):
    df = pd.DataFrame({"year": YEARS, "value": LEVELS})
    with pytest.raises(ValueError, match=r"max_abs_growth must be a finite number > 0"):
        fit_enrollment(df, entity=None, max_abs_growth=bad)


def test_max_abs_growth_drops_the_large_steps():
    # one doubling (a merger) among small steps; a bound of 0.2 drops exactly that step
    levels = np.array(LEVELS, dtype=float)
    levels[5:] *= 2
    df = pd.DataFrame({"year": YEARS, "value": levels})
    kept = fit_enrollment(df, entity=None, max_abs_growth=0.2)
    assert abs(kept.drift) < 0.05  # without the merger, about -1.2%/yr
    assert fit_enrollment(df, entity=None).drift > 0.05


def test_a_permission_error_on_the_csv_is_a_value_error_naming_it(tmp_path, monkeypatch):
    path = _csv(tmp_path, LEVELS)

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(pd, "read_csv", refuse)
    with pytest.raises(ValueError, match=r"data file .*enrollment\.csv.*Permission denied") as e:
        read_panel(path, entity=None)
    assert e.value.kind == "cannot read"  # the CLI says: error: cannot read: ...
