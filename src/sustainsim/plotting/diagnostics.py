"""Diagnostics: how a run converged, how well forecasts covered their outcomes."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import special

from sustainsim.run.convergence import ConvergenceInfo

__all__ = ["plot_convergence", "plot_coverage", "plot_pit"]


def plot_convergence(
    info: ConvergenceInfo,
    ax=None,
    entry: dict[str, Any] | None = None,
    confidence: float = 0.95,
):
    """The estimate and its interval versus draws for one key entry (grayscale-safe).

    Parameters
    ----------
    info : ConvergenceInfo
    ax : matplotlib Axes, optional
    entry : dict, optional
        Coordinates of the entry to show (e.g. ``{"year": 2031, "school": "ref"}``);
        default the binding entry ``info.worst``.
    confidence : float
        Of the normal interval ``p +- z se`` drawn.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    sel = info.worst if entry is None else entry
    tr = info.trajectory.sel(sel) if sel else info.trajectory
    draws = np.asarray(tr["draws"].values, dtype=float)
    p = np.ravel(tr["probability"].values)
    se = np.ravel(tr["se"].values)
    z = float(special.ndtri(0.5 + confidence / 2))
    ax.fill_between(
        draws,
        p - z * se,
        p + z * se,
        color="0.8",
        edgecolor="0.4",
        linewidth=0.8,
        label=f"{confidence:.0%} interval",
    )
    ax.plot(draws, p, color="black", marker="o", markersize=4, label="estimate")
    ax.axhline(p[-1], color="black", linestyle=":", linewidth=1, label="final estimate")
    if info.target_se is not None:
        for sign in (-1, 1):
            ax.axhline(
                p[-1] + sign * z * info.target_se,
                color="0.3",
                linestyle="--",
                linewidth=1,
                label="target half-width" if sign > 0 else None,
            )
    ax.set_xscale("log")
    ax.set_xlabel("draws")
    ax.set_ylabel("probability")
    where = ", ".join(f"{k}={v}" for k, v in sel.items()) if sel else ""
    status = "converged" if info.converged else "max draws reached"
    ax.set_title(
        f"Convergence{': ' + where if where else ''} ({status}, {info.draws:,} draws)", fontsize=10
    )
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_coverage(result: xr.Dataset, ax: Any = None) -> Any:
    """Nominal vs actual interval coverage by horizon (a calibration plot).

    Parameters
    ----------
    result : xarray.Dataset
        The output of :func:`backtest_enrollment` (``coverage``, optional ``coverage_se``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    cov = result["coverage"]
    se = result.get("coverage_se")
    lv = cov["level"].to_numpy()
    ax.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfect calibration")
    markers, styles = "osD^vP*X", ["-", "--", "-.", ":"]
    nh = cov.sizes["horizon"]
    for j, h in enumerate(cov["horizon"].to_numpy()):
        shade = str(round(0.75 * j / max(nh - 1, 1), 2))  # black to light gray
        y = cov.sel(horizon=h).to_numpy()
        yerr = None if se is None else 2 * se.sel(horizon=h).to_numpy()
        ax.errorbar(
            lv + 0.006 * (j - (nh - 1) / 2),
            y,
            yerr=yerr,
            color=shade,
            marker=markers[j % len(markers)],
            ls=styles[j % len(styles)],
            mfc="white",
            capsize=2,
            label=f"{h} yr ahead",
        )
    lo = float(min(lv.min(), np.nanmin(cov.to_numpy()))) - 0.05
    ax.set_xlim(max(lo, 0), 1)
    ax.set_ylim(max(lo, 0), 1)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal coverage of the central interval")
    ax.set_ylabel("observed coverage")
    ax.set_title("Prediction-interval calibration (bars: +-2 se)")
    ax.grid(True, color="0.85", lw=0.5)
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    return ax


def plot_pit(result: xr.Dataset, ax: Any = None, bins: int = 10, horizon: int | None = None) -> Any:
    """Histogram of the probability integral transform of back-test outcomes.

    A calibrated forecast gives a flat histogram (the dashed line); a U shape means
    intervals too narrow, a hump too wide, a slope a biased median. The model's PIT is
    drawn as bars, the baseline's (``baseline_pit``, if present) as a step line.

    Parameters
    ----------
    result : xarray.Dataset
        A back-test result with ``pit`` (origin, horizon, entity).
    ax : matplotlib Axes, optional
    bins : int
        Number of equal-width bins on [0, 1].
    horizon : int, optional
        One horizon; default all pooled.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    edges = np.linspace(0.0, 1.0, bins + 1)

    def density(name: str) -> np.ndarray:
        da = result[name] if horizon is None else result[name].sel(horizon=horizon)
        v = da.to_numpy().ravel()
        v = v[np.isfinite(v)]
        counts, _ = np.histogram(v, bins=edges)
        return counts / max(v.size, 1) * bins

    ax.bar(
        edges[:-1],
        density("pit"),
        width=1.0 / bins,
        align="edge",
        color="0.6",
        edgecolor="black",
        lw=0.6,
        label="model",
    )
    if "baseline_pit" in result:
        d = density("baseline_pit")
        ax.step(edges, np.append(d, d[-1]), where="post", color="black", lw=1.2, label="baseline")
    ax.axhline(1.0, color="black", ls="--", lw=1, label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT (share of the forecast below the outcome)")
    ax.set_ylabel("density")
    what = "all horizons" if horizon is None else f"{horizon} yr ahead"
    ax.set_title(f"PIT histogram ({what})")
    ax.legend(fontsize="small", frameon=False)
    return ax
