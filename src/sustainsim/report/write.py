"""Writing the report: the figures (PNG) and ``report.html``, each file atomically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import xarray as xr

from sustainsim.io import atomic_path, write_text

__all__ = ["write_report", "write_run_figures"]


def _write_bytes(data: bytes, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def _write_all(
    ds: xr.Dataset,
    out_dir: str | Path,
    spec_text: str | None,
    central: xr.Dataset | None,
    progress: Callable[[str], None] | None = None,
    levers: xr.Dataset | None = None,
    summs: dict[str | None, dict] | None = None,
) -> list[Path]:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {str(out)!r} exists and is not a directory")
    import sustainsim.report as pkg  # its attribute, so a test may replace the renderer

    figures = (
        pkg.render_figures(ds, central)
        if progress is None
        else pkg.render_figures(ds, central, progress)
    )
    page = pkg.build_html(ds, figures, spec_text, levers, summs)  # all before the first write
    paths = [_write_bytes(png, out / f"{name}.png") for name, png in figures.items()]
    paths.append(write_text(page, out / "report.html"))
    return paths


def write_report(
    ds: xr.Dataset,
    out_dir: str | Path,
    *,
    spec_text: str | None = None,
    central: xr.Dataset | None = None,
    levers: xr.Dataset | None = None,
) -> Path:
    """Write the figures (PNG) and a self-contained ``report.html`` into ``out_dir``.

    Parameters
    ----------
    ds : xarray.Dataset
        Simulation results (optionally with a ``scenario`` dim).
    out_dir : str or Path
        Created if missing. Files: one PNG per name of
        :func:`~sustainsim.report.figure_names` (``fan_chart.png``,
        ``solvency_curve.png``, ``balance_distribution.png``; ``scenario_fans.png`` and
        ``paired_differences.png`` with a ``scenario`` dim; ``tornado.png`` and
        ``bad_futures.png`` with sampled inputs (and failing draws); ``composition.png``
        with line data or ``central``) and ``report.html``; each written atomically.
    spec_text : str, optional
        Config text shown in the report; default ``ds.attrs["config_text"]``.
    central : xarray.Dataset, optional
        :func:`sustainsim.central_case` of the spec, for the budget-composition figure.
    levers : xarray.Dataset, optional
        :func:`sustainsim.analysis.levers` of the spec: the top levers in the summary.

    Returns
    -------
    Path
        The ``report.html`` written.

    Examples
    --------
    >>> import tempfile
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> ds = sustainsim.simulate(spec, draws=500, seed=1)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     page = write_report(ds, out, spec_text=spec.text, central=sustainsim.central_case(spec))
    ...     page.name, page.stat().st_size > 10_000
    ('report.html', True)
    """
    return _write_all(ds, out_dir, spec_text, central, levers=levers)[-1]


def write_run_figures(
    ds: xr.Dataset,
    out_dir: str | Path,
    *,
    spec_text: str | None = None,
    central: xr.Dataset | None = None,
    progress: Callable[[str], None] | None = None,
    levers: xr.Dataset | None = None,
    summs: dict[str | None, dict] | None = None,
) -> list[Path]:
    """What ``sustainsim run`` writes beside ``results.nc``: the figures and ``report.html``.

    The report never simulates: the caller passes what it shows. ``spec_text`` is the
    config as written (shown in the report); ``central`` the central case
    (:func:`sustainsim.central_case`), whose line data the composition figure uses when
    ``ds`` has none; ``progress(name)`` is called as each figure is drawn. Returns the
    paths written (PNG files, then ``report.html``); ``levers`` (the ranking of
    :func:`sustainsim.analysis.levers`) puts the top levers in the executive summary;
    ``summs`` (:func:`~sustainsim.report.summary.summaries` of ``ds``) spares computing
    the summaries again where the caller has them.
    """
    return _write_all(ds, out_dir, spec_text, central, progress, levers, summs)
