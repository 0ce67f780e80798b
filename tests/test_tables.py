"""The analysts' tables: p_solvent.csv and forecast.xlsx, read back and reconciled to the cent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sustainsim
from sustainsim.cli.main import main
from sustainsim.tables import ENDING, forecast_table, p_solvent_table, write_workbook
from tests.conftest import CONFIGS

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture(scope="module")
def two(make_spec):
    spec = make_spec("two_schools")
    ds = sustainsim.simulate(spec, draws=1_500, seed=3, lines=True)
    return spec, ds, sustainsim.central_case(spec)


def _sheet_frame(ws) -> pd.DataFrame:
    """A forecast sheet read back: index (section, line), columns (year, statistic)."""
    rows = list(ws.iter_rows(values_only=True))
    years, stats = rows[0][1:], rows[1][1:]
    cols = pd.MultiIndex.from_arrays([list(years), list(stats)])
    data, section = {}, None
    for r in rows[2:]:
        if all(v is None for v in r[1:]):
            section = r[0]  # a section header row
            continue
        data[(section, r[0].strip())] = [np.nan if v is None else v for v in r[1:]]
    index = pd.MultiIndex.from_tuples(list(data))
    return pd.DataFrame(list(data.values()), index=index, columns=cols)


def test_workbook_layout_and_totals_reconcile_to_the_cent(two, tmp_path):
    spec, ds, central = two
    path = write_workbook(ds, central, tmp_path / "forecast.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["P(solvent)", "district", "a", "b", "About"]
    ws = wb["a"]
    assert ws["A1"].value == "fiscal year" and ws["A2"].value == "USD"
    years = ds["year"].values.tolist()
    assert [c.value for c in ws[1]][1:5] == [years[0]] * 4
    assert [c.value for c in ws[2]][1:5] == ["central", "P10", "P50", "P90"]
    labels = [ws.cell(row=r, column=1).value for r in range(3, ws.max_row + 1)]
    assert labels[0] == "Revenue" and "Expenditure" in labels and "Fund balance" in labels
    for need in ("Total revenue", "Total expenditure", "Net: revenue less expenditure",
                 "Ending fund balance", "  Reserve requirement", "  Revenue per pupil"):  # fmt: skip
        assert need in labels
    sheet = _sheet_frame(ws)
    for y in years:
        # percentiles of totals = numpy's quantiles of the results, to the cent
        rev = ds.revenue.sel(school="a", year=y).values
        got = sheet.loc[("Revenue", "Total revenue"), (y, "P50")]
        assert got == pytest.approx(round(float(np.quantile(rev, 0.5)), 2), abs=0.005)
        bal = ds.fund_balance.sel(school="a", year=y).values
        assert sheet.loc[("Fund balance", "Ending fund balance"), (y, "P90")] == pytest.approx(
            round(float(np.quantile(bal, 0.9)), 2), abs=0.005
        )
        # the central case's totals are the central run's, to the cent
        c = central.isel(draw=0)
        assert sheet.loc[("Revenue", "Total revenue"), (y, "central")] == pytest.approx(
            round(float(c.revenue.sel(school="a", year=y)), 2), abs=0.005
        )
        assert sheet.loc[("Fund balance", "Ending fund balance"), (y, "central")] == pytest.approx(
            round(float(c.fund_balance.sel(school="a", year=y)), 2), abs=0.005
        )
    table = forecast_table(ds, central, "a")
    for y in years:
        for part, total in (("Revenue", "Total revenue"), ("Expenditure", "Total expenditure")):
            col = table.loc[part, (y, "central")]
            np.testing.assert_allclose(col.drop(total).sum(), col[total], atol=0.005)
        # the workbook holds the table's numbers, rounded to the cent
        np.testing.assert_allclose(
            sheet.loc[("Expenditure", "Total expenditure"), (y, "P10")],
            table.loc[("Expenditure", "Total expenditure"), (y, "P10")],
            atol=0.005,
        )


def test_district_sheet_adds_the_schools_and_central_money(two):
    spec, ds, central = two
    table = forecast_table(ds, central, "district")
    y = int(ds["year"].values[-1])
    c = central.isel(draw=0)
    assert table.loc[("Revenue", "Total revenue"), (y, "central")] == pytest.approx(
        float(c.district_revenue.sel(year=y))
    )
    own = float(c.district_revenue.sel(year=y) - c.revenue_lines.sel(year=y).sum())
    assert own > 0  # the two-school config has central revenue
    got = table.loc[("Revenue", "district central revenue"), (y, "central")]
    assert got == pytest.approx(own)
    # school lines of the same name are summed over the schools
    pp = float(c.revenue_lines.sel(year=y, revenue_line="pp").sum())
    assert table.loc[("Revenue", "pp"), (y, "central")] == pytest.approx(pp)


def test_p_solvent_csv_matches_p_solvent(two):
    _, ds, _ = two
    t = p_solvent_table(ds)
    p = sustainsim.p_solvent(ds)
    assert t.columns.tolist()[:4] == ["year", "a", "a_lower", "a_upper"]
    np.testing.assert_array_equal(t["district"], p.probability.sel(school="district").values)
    np.testing.assert_array_equal(t["b_upper"], p.upper.sel(school="b").values)


def test_run_writes_the_tables(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(CONFIGS / "leap_chicago.toml"), "--draws", "300", "--out", str(out),
                 "--no-report", "--no-progress"]) == 0  # fmt: skip
    csv = pd.read_csv(out / "p_solvent.csv")
    ds = xr.open_dataset(out / "results.nc")
    p = sustainsim.p_solvent(ds.sel(scenario=str(ds.scenario.values[0])))
    first = csv[csv.scenario == str(ds.scenario.values[0])]
    np.testing.assert_allclose(first["pl_k8"], p.probability.sel(school="pl_k8").values)
    wb = openpyxl.load_workbook(out / "forecast.xlsx")
    assert wb.sheetnames[:2] == ["P(solvent)", "district"]


def test_the_workbooks_p_solvent_sheet_is_the_first_scenarios_rows(tmp_path):
    from sustainsim.tables import write_tables

    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    ds = sustainsim.simulate_scenarios(spec, draws=300, seed=2)
    first = str(ds.scenario.values[0])
    write_tables(ds, sustainsim.central_case(spec), tmp_path)
    sheet = pd.read_excel(tmp_path / "forecast.xlsx", sheet_name="P(solvent)")
    # computed on its own from the first scenario: the same table
    pd.testing.assert_frame_equal(sheet, p_solvent_table(ds.sel(scenario=first, drop=True)))


def test_percentiles_are_numpys_on_any_number_of_threads(monkeypatch):
    """The years' percentiles are taken on threads: numpy's numbers, whatever the threads."""
    from sustainsim import tables

    spec = sustainsim.load_config(CONFIGS / "reference" / "ref10.toml")
    ds = sustainsim.simulate(spec, draws=30_000, seed=5)  # above the bracketed kernel's floor
    central = sustainsim.central_case(spec)
    got = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(tables, "default_threads", lambda n=threads: n)
        got[threads] = forecast_table(ds, central, "ref")
    pd.testing.assert_frame_equal(got[1], got[2])
    pd.testing.assert_frame_equal(got[1], got[3])
    qs, stats = [0.1, 0.5, 0.9], ["P10", "P50", "P90"]
    rev, bal, pupils = (
        ds[v].sel(school="ref").values for v in ("revenue", "fund_balance", "enrollment")
    )
    for j, y in enumerate(ds["year"].values):
        row = got[2].xs(int(y), axis=1, level=0)
        np.testing.assert_array_equal(
            row.loc[("Revenue", "Total revenue"), stats], np.quantile(rev[:, j], qs)
        )
        np.testing.assert_array_equal(
            row.loc[("Fund balance", "Ending fund balance"), stats], np.quantile(bal[:, j], qs)
        )
        # the beginning balance: the year before's ending (the bracketed kernel's path)
        begin = row.loc[("Fund balance", "Beginning fund balance"), stats]
        before = bal[:, j - 1] if j else bal[:, 0] - (rev[:, 0] - ds.cost.sel(school="ref")[:, 0])
        np.testing.assert_array_equal(begin, np.quantile(np.asarray(before), qs))
        per_pupil = row.loc[("Per pupil", "Revenue per pupil"), stats]
        np.testing.assert_array_equal(per_pupil, np.quantile(rev[:, j] / pupils[:, j], qs))


def test_beginning_balance_is_the_year_befores_ending(two):
    """A year's beginning balance is carried from the year before, central and percentiles.

    The balances are scaled draw by draw, so a year's ending balance less its net is not
    the year before's ending one (as it is in a run, to the float): only the carried
    balance passes.
    """
    spec, ds, central = two
    rng = np.random.default_rng(0)

    def scaled(d: xr.Dataset) -> xr.Dataset:
        names = [v for v in ("fund_balance", "district_fund_balance") if v in d]
        return d.assign({v: d[v] * rng.uniform(0.5, 1.5, d[v].shape) for v in names})

    ds, central = scaled(ds), scaled(central)
    years = [int(y) for y in ds["year"].values]
    for entity in ("a", "district"):
        table = forecast_table(ds, central, entity)
        begin, end = table.loc[("Fund balance", "Beginning fund balance")], table.loc[ENDING]
        net = table.loc[("Fund balance", "Net: revenue less expenditure")]
        for stat in ("central", "P10", "P50", "P90"):
            for before, y in zip(years, years[1:], strict=False):
                assert begin[(y, stat)] == end[(before, stat)]
        # the first year's: its ending balance less its net
        assert begin[(years[0], "central")] == pytest.approx(
            end[(years[0], "central")] - net[(years[0], "central")], abs=0.005
        )
    bal = ds.fund_balance.sel(school="a").isel(year=0).values
    net0 = (ds.revenue - ds.cost).sel(school="a").isel(year=0).values
    first = forecast_table(ds, central, "a").loc[("Fund balance", "Beginning fund balance")]
    np.testing.assert_array_equal(
        first[[(years[0], s) for s in ("P10", "P50", "P90")]],
        np.quantile(bal - net0, [0.1, 0.5, 0.9]),
    )
