"""The HTML report: self-contained, its tables equal summary(ds), files written atomically."""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sustainsim
from sustainsim import report
from sustainsim.cli import report as cli_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def spec(make_spec):
    return make_spec("two_schools")


@pytest.fixture(scope="module")
def ds(spec):
    return sustainsim.simulate(spec, draws=1000)


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory, ds, spec):
    """What ``sustainsim run`` writes: figures and report (central case from the spec)."""
    out = tmp_path_factory.mktemp("report")
    return out, report.write_run_figures(
        ds, out, spec_text=spec.text, central=sustainsim.central_case(spec)
    )


@pytest.fixture(scope="module")
def written(run_outputs):
    out, paths = run_outputs
    return out, paths[-1]


class _Page(HTMLParser):
    """Collect images, table cells with data attributes, and <pre> text."""

    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict] = []
        self.cells: list[dict] = []
        self.tables: list[dict] = []
        self.pre: list[str] = []
        self.tags: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(a)
        elif tag == "td" and "data-entity" in a:
            t = self.tables[-1]
            self.cells.append(
                {**a, "scenario": t.get("data-scenario", ""), "share": t.get("data-share")}
            )
        elif tag == "table":
            self.tables.append(a)
        elif tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._in_pre:
            self.pre[-1] += data


def parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def tables_of(text: str) -> list[str]:
    """The HTML tables, exact values rounded to 12 digits (summation order may differ in
    the last bit between a Dataset in memory and one read back from a file)."""
    tables = re.findall(r"<table.*?</table>", text, flags=re.S)
    return [
        re.sub(
            r'data-(value|lower|upper)="([^"]+)"',
            lambda m: f'data-{m.group(1)}="{float(m.group(2)):.12g}"',
            t,
        )
        for t in tables
    ]


@pytest.fixture(scope="module")
def tiny_png() -> bytes:
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(buf, format="png", dpi=20)
    return buf.getvalue()


@pytest.fixture
def stub_figures(monkeypatch, tiny_png):
    """Replace figure rendering by a stub; records the arguments it was called with."""
    calls = []

    def fake(ds, central=None):
        calls.append({"ds": ds, "central": central})
        return {"fan_chart": tiny_png}

    monkeypatch.setattr(report, "render_figures", fake)
    return calls


_BRUTE = {
    "balance",
    "cliff_year",
    "cliff_gap",
    "cliff_gap_per_pupil",
    "p_cliff_gap",
    "p_ask",
    "ask_p50",
    "ask_p90",
}


def _brute(ds: xr.Dataset, c: dict) -> float:
    """The value a report cell shows, computed again from the draws."""
    e, kind = c["data-entity"], c["data-kind"]
    if kind == "balance":
        bal = sustainsim.metrics.entity_balance(ds, "fund_balance")
        vals = bal.sel(school=e, year=int(c["data-year"])).values
        return float(np.quantile(vals, float(c["data-quantile"])))
    if kind in ("cliff_year", "cliff_gap", "cliff_gap_per_pupil", "p_cliff_gap"):
        g = sustainsim.metrics.structural_gap(ds).sel(school=e)
        ok = np.isfinite(g.cliff_year.values)
        if kind == "p_cliff_gap":
            return float(np.mean(ok & (g.gap.values > 0)))
        var = {"cliff_year": "cliff_year", "cliff_gap": "gap"}.get(kind, "gap_per_pupil")
        return float(np.median(g[var].values[ok]))
    # the ask: the cut that closes each year's deficit, max over years, per draw
    surplus = sustainsim.metrics.entity_balance(ds, "surplus").sel(school=e).values
    cost = sustainsim.metrics.entity_balance(ds, "cost").sel(school=e).values
    need = np.maximum(-surplus, 0.0)  # (draw, year)
    if kind == "p_ask":
        return float(np.mean((need / cost > float(c["share"])).any(axis=1)))
    return float(np.quantile(need.max(axis=1), 0.5 if kind == "ask_p50" else 0.9))


def check_against_summary(
    page: _Page, summ: dict, scenario: str = "", ds: xr.Dataset | None = None
) -> int:
    """Every data cell of ``scenario`` equals the summary value exactly (or, for the cells
    the summary does not hold, the value computed again from ``ds``); returns the count."""
    n = 0
    for c in (c for c in page.cells if c["scenario"] == scenario):
        ent = summ["entities"][c["data-entity"]]
        kind = c.get("data-kind")
        if kind in _BRUTE:
            if ds is not None:
                assert float(c["data-value"]) == pytest.approx(_brute(ds, c), rel=1e-12, abs=1e-9)
                n += 1
            continue
        if kind == "paired_difference":
            continue  # checked in test_report_with_scenarios
        if "data-year" in c and kind is None:
            d = ent["p_solvent"][c["data-year"]]
            assert float(c["data-value"]) == d["probability"]
            assert float(c["data-lower"]) == d["lower"]
            assert float(c["data-upper"]) == d["upper"]
        elif kind in ("final", "worst"):
            expected = ent[f"{kind}_balance_quantiles"][c["data-quantile"]]
            assert float(c["data-value"]) == expected
        elif kind == "p_no_operating_deficit":
            d = ent["p_no_operating_deficit"][c["data-year"]]
            assert float(c["data-value"]) == d["probability"]
            assert float(c["data-lower"]) == d["lower"]
        elif kind in ("p_balance_never_negative", "p_no_deficit_spending"):
            assert float(c["data-value"]) == ent[kind]
        elif kind == "expected_shortfall":
            assert float(c["data-value"]) == ent["expected_shortfall_5pct"]
        elif kind in ("first_negative_balance", "first_deficit_spending"):
            first = ent[kind]
            assert float(c["data-value"]) == first["share_of_draws"]
            assert c["data-year"] == (str(first["median_year"]) if first["median_year"] else "")
        else:
            raise AssertionError(f"unexpected cell {c}")
        n += 1
    return n


# --------------------------------------------------------------------------- content
def test_report_files_and_no_temporaries(written):
    out, page = written
    assert page == out / "report.html"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "report.html",
            "fan_chart.png",
            "solvency_curve.png",
            "bad_futures.png",
            "tornado.png",
            "balance_distribution.png",
            "composition.png",
        ]
    )


def test_report_embeds_every_figure_as_a_valid_png(written):
    out, page = written
    imgs = parse(page).imgs
    pngs = sorted(out.glob("*.png"))
    assert len(imgs) == len(pngs) == 6
    for img in imgs:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        data = base64.b64decode(img["src"][len(prefix) :], validate=True)
        w, h = png_size(data)
        assert w > 300 and h > 200
        pixels = mpimg.imread(io.BytesIO(data), format="png")
        assert pixels.std() > 0.05  # not blank
        # the embedded image is the PNG file written beside the report
        name = img["alt"].replace(" ", "_")
        assert (out / f"{name}.png").read_bytes() == data


def test_report_is_self_contained(written):
    _, page = written
    text = page.read_text(encoding="utf-8")
    p = parse(page)
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", text)
    assert "url(" not in text


def test_report_tables_equal_summary(written, ds):
    _, page = written
    summ = sustainsim.summary(ds)
    p = parse(page)
    n = check_against_summary(p, summ, ds=ds)
    ents = ["a", "b", "district"]
    years = len(summ["years"])
    detail = len(ents) * (2 * years + 2 * 5 + 5)  # p_solvent, operating, quantiles, risk
    headline = len(ents) * 4
    per_entity = len(ents) * years * 5  # two probabilities, three balance quantiles
    ask = len(ents) * 3
    cliff = 4 * sum(1 for c in p.cells if c.get("data-kind") == "cliff_year")
    assert n == detail + headline + per_entity + ask + cliff
    assert {t["class"] for t in p.tables} >= {
        "p-solvent",
        "p-no-operating-deficit",
        "balance-quantiles",
        "risk",
    }


def test_report_shows_config_and_provenance(written, ds, spec):
    _, page = written
    p = parse(page)
    assert p.pre == [spec.text]
    text = page.read_text(encoding="utf-8")
    assert ds.attrs["config_sha256"] in text
    assert f"seed {ds.attrs['seed']}" in text
    assert html.escape(ds.attrs["config_overrides"]) in text


def test_report_spec_text_overrides_stored_text(tmp_path, ds, stub_figures):
    report.write_report(ds, tmp_path, spec_text="# custom text & <stuff>")
    assert parse(tmp_path / "report.html").pre == ["# custom text & <stuff>"]


def test_report_with_scenarios(tmp_path, spec, ds):
    worse = sustainsim.simulate(spec.with_overrides({"district.cuts.probability": 0.6}), draws=1000)
    ds2 = xr.concat([ds, worse], dim=pd.Index(["base", "cuts"], name="scenario"))
    page = report.write_report(ds2, tmp_path)
    assert (tmp_path / "paired_differences.png").is_file()
    assert (tmp_path / "scenario_fans.png").is_file()
    assert not (tmp_path / "composition.png").exists()  # no line data, no central case
    p = parse(page)
    # fans by school and by scenario, solvency, paired differences, bad futures, tornado,
    # distribution
    assert len(p.imgs) == 7
    for s in ("base", "cuts"):
        assert check_against_summary(p, sustainsim.summary(ds2.sel(scenario=s)), s) > 0


def test_rejects_non_results(tmp_path):
    with pytest.raises(ValueError, match="results Dataset"):
        report.write_report(xr.Dataset({"x": ("y", [1.0])}), tmp_path)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- atomicity
def test_failure_leaves_old_files_and_no_temporaries(tmp_path, ds, monkeypatch, stub_figures):
    (tmp_path / "report.html").write_text("old")

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(report, "build_html", boom)
    with pytest.raises(RuntimeError):
        report.write_report(ds, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert (tmp_path / "report.html").read_text() == "old"


def test_failure_while_writing_leaves_no_temporaries(tmp_path, ds, monkeypatch, stub_figures):
    def fail_write(self, data):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", fail_write)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(ds, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- from file
def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sustainsim report")
    cli_report.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_rebuilds_same_report_from_file(tmp_path, ds, written, capsys):
    out, page = written
    nc = sustainsim.write_netcdf(ds, tmp_path / "run" / "results.nc")
    assert cli_report.run(_args(str(nc), "--out", str(tmp_path / "rep"))) == 0
    rebuilt = tmp_path / "rep" / "report.html"
    assert str(rebuilt) in capsys.readouterr().out
    assert tables_of(rebuilt.read_text()) == tables_of(page.read_text())
    # the composition figure comes from the central case rebuilt from the stored config
    assert (tmp_path / "rep" / "composition.png").read_bytes() == (
        out / "composition.png"
    ).read_bytes()
    assert parse(rebuilt).pre == [ds.attrs["config_text"]]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["results.nc"]


def test_report_from_file_defaults_to_its_folder(tmp_path, ds, stub_figures):
    nc = sustainsim.write_netcdf(ds, tmp_path / "results.nc")
    assert cli_report.report_from_file(nc) == tmp_path / "report.html"
    assert (tmp_path / "report.html").is_file()


def test_report_from_file_applies_stored_overrides(tmp_path, spec, stub_figures):
    variant = spec.with_overrides({"schools.b.cost.ops.amount": 2_400_000})
    ds = sustainsim.simulate(variant, draws=50)
    assert json.loads(ds.attrs["config_overrides"])
    cli_report.report_from_file(sustainsim.write_netcdf(ds, tmp_path / "results.nc"))
    (call,) = stub_figures
    got = call["central"]["cost_lines"].values
    np.testing.assert_array_equal(got, sustainsim.central_case(variant)["cost_lines"].values)
    assert not np.array_equal(got, sustainsim.central_case(spec)["cost_lines"].values)


def test_report_from_file_uses_stored_lines(tmp_path, spec, stub_figures):
    ds = sustainsim.simulate(spec, draws=50, lines=True)
    cli_report.report_from_file(sustainsim.write_netcdf(ds, tmp_path / "results.nc"))
    assert stub_figures[0]["central"] is None  # the file's own line data is used


def test_write_run_figures(run_outputs, spec):
    out, paths = run_outputs
    assert [p.name for p in paths] == [
        "fan_chart.png",
        "solvency_curve.png",
        "bad_futures.png",
        "tornado.png",
        "balance_distribution.png",
        "composition.png",
        "report.html",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert parse(paths[-1]).pre == [spec.text]


def test_cli_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        cli_report.run(_args(str(tmp_path / "missing.nc")))
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(ValueError, match="cannot read"):
        cli_report.run(_args(str(bad)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nc"]


# --------------------------------------------------------------------------- browser
def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium not installed (Debian: apt-get install chromium)")


def _run_chromium(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_in_headless_chromium(written, tmp_path):
    exe = _chromium()
    out, page = written
    # a copy with a probe script: records each image's decoded size once loaded
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>window.addEventListener('load', () => document.body.setAttribute("
            "'data-widths', Array.from(document.images).map(i => i.naturalWidth + 'x' + "
            "i.naturalHeight).join(',')));</script></body>",
        ),
        encoding="utf-8",
    )
    dom = _run_chromium(
        exe, tmp_path / "p1", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = re.search(r'data-widths="([^"]*)"', dom.stdout)
    assert m, dom.stdout[:500]
    expected = [
        "{}x{}".format(*png_size(base64.b64decode(img["src"].split(",", 1)[1])))
        for img in parse(page).imgs
    ]
    assert m.group(1).split(",") == expected  # every image decoded at its real size
    assert 'class="p-solvent"' in dom.stdout and "FY2035" in dom.stdout

    shot = tmp_path / "shot.png"
    res = _run_chromium(
        exe, tmp_path / "p2", f"--screenshot={shot}", "--window-size=1280,8000", page.as_uri()
    )
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (8000, 1280)
    not_white = np.any(pixels < 0.9, axis=-1).mean()
    assert 0.03 < not_white < 0.9
    blue = (pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.4)  # the figures' blue bands/lines
    assert blue.mean() > 0.001


def _overflow(exe: str, tmp_path: Path, page: Path, width: int, tag: str) -> int:
    """How far the page scrolls sideways at ``width`` CSS pixels (0: it fits).

    Headless Chromium's window is at least 500 px wide, so the page is shown in an iframe
    of the width asked for; the probe reads the framed document's scroll width.
    """
    wrap = tmp_path / f"wrap-{tag}.html"
    wrap.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="{page.name}" '
        f'width="{width}" height="900" style="border:0"></iframe><script>'
        "const f = document.getElementById('f'); f.addEventListener('load', () => {"
        "const d = f.contentDocument, w = f.contentWindow;"
        "document.body.setAttribute('data-overflow', String(d.documentElement.scrollWidth"
        " - w.innerWidth)); document.body.setAttribute('data-width', String(w.innerWidth));"
        "});</script></body></html>",
        encoding="utf-8",
    )
    dom = _run_chromium(
        exe,
        tmp_path / f"o-{tag}",
        "--allow-file-access-from-files",
        "--window-size=1400,1000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        wrap.as_uri(),
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = re.search(r'data-overflow="(-?\d+)" data-width="(\d+)"', dom.stdout)
    assert m, dom.stdout[-500:]
    assert int(m.group(2)) == width
    return int(m.group(1))


def _pdf_pages(exe: str, tmp_path: Path, page: Path, tag: str) -> int:
    pdf = tmp_path / f"{tag}.pdf"
    res = _run_chromium(
        exe, tmp_path / f"pdf-{tag}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
        page.as_uri(),
    )  # fmt: skip
    assert res.returncode == 0 and pdf.is_file(), res.stderr[-2000:]
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def test_report_fits_1280_and_400_pixels_and_prints(written, tmp_path):
    exe = _chromium()
    _, page = written
    local = tmp_path / "report.html"
    text = page.read_text(encoding="utf-8")
    local.write_text(text, encoding="utf-8")
    for width in (1280, 400):
        assert _overflow(exe, tmp_path, local, width, str(width)) <= 0
    # the probe can see an overflow: without the scroll boxes the tables push the page out
    control = tmp_path / "control.html"
    control.write_text(text.replace(".scroll { overflow-x: auto;", ".scroll {"), encoding="utf-8")
    assert _overflow(exe, tmp_path, control, 400, "control") > 0
    # printed: several pages, and the title with the executive summary alone fill one
    pages = _pdf_pages(exe, tmp_path, local, "report")
    assert pages >= 3
    first = tmp_path / "first.html"
    cut = text.index('<section id="schools">')
    first.write_text(text[:cut] + "</body></html>", encoding="utf-8")
    assert _pdf_pages(exe, tmp_path, first, "first") == 1
    grown = tmp_path / "grown.html"  # and the page count does grow with the content
    grown.write_text(text[:cut] + text[text.index('<section id="executive-summary">') : cut] * 3
                     + "</body></html>", encoding="utf-8")  # fmt: skip
    assert _pdf_pages(exe, tmp_path, grown, "grown") > 1


def test_report_shows_the_top_levers_it_is_given(tmp_path, spec, ds, stub_figures):
    with_levers = spec.with_overrides(
        {"levers": {"reserve": {"path": "schools.a.fund_balance", "values": [0, 5_000_000]}}}
    )
    ranked = sustainsim.analysis.levers(with_levers, draws=1000)
    text = report.write_report(ds, tmp_path, levers=ranked).read_text(encoding="utf-8")
    shown = re.findall(r'<li data-option="([^"]+)" data-value="([^"]+)">', text)
    assert [o for o, _ in shown] == [str(x) for x in ranked.option.values]  # in rank order
    for (_option, value), effect in zip(shown, ranked.p_solvent_effect.values, strict=True):
        assert float(value) == effect
    none = report.write_report(ds, tmp_path / "plain").read_text(encoding="utf-8")
    assert 'class="levers"' not in none


def test_the_summaries_run_passes_are_the_reports_own(ds):
    """``sustainsim run`` hands the report its summaries: those the report would compute."""
    from sustainsim.cli.run import _per_scenario
    from sustainsim.io import json_text
    from sustainsim.report.summary import summaries
    from tests.conftest import CONFIGS

    spec = sustainsim.load_config(CONFIGS / "leap_chicago.toml")
    scen = sustainsim.simulate_scenarios(spec, draws=300, seed=2)
    for d in (ds, scen):
        mine = _per_scenario(sustainsim.summary(d), d)
        own = summaries(d)
        assert list(mine) == list(own)
        assert [json_text(v) for v in mine.values()] == [json_text(v) for v in own.values()]
    assert len(own) > 1  # the scenarios' case was checked
