"""The house style of every figure: colours, markers, hatches, dollar axes, Axes helpers.

Grayscale-readable: series differ by line style, marker and hatch, not only colour. Dollar
axes use :func:`format_usd` ("$1.2M", "-$300K"); probabilities are in percent. With a
``scenario`` dim, "by school" plots can show "by scenario"; one-entity plots take
``school=`` / ``scenario=`` (default: ``"district"`` if several schools, else the only
school; the first scenario).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import matplotlib as mpl
import numpy as np
import xarray as xr
from cycler import cycler
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.transforms import ScaledTranslation

from sustainsim import metrics

__all__ = [
    "BAD_COLORS",
    "COLORS",
    "HATCHES",
    "HOUSE_RC",
    "MARKERS",
    "UsdFormatter",
    "bad_future_label",
    "default_entity",
    "format_input_value",
    "format_usd",
    "house_style",
    "input_label",
    "short_usd",
    "use_house_style",
]

#: Okabe-Ito colours (colour-blind safe), neighbours differing in lightness
COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000", "#D55E00", "#56B4E9", "#F0E442"]
LINESTYLES: list[Any] = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "--", "++", "||", "**", "OO", "/."]
_EDGE: dict[str, Any] = {"edgecolor": "black", "linewidth": 0.5}
_ZERO: dict[str, Any] = {"color": "#B00000", "linestyle": "--", "linewidth": 1.2}
#: the representative bad futures: the same colour and line style in every figure
BAD_COLORS = ["#D55E00", "#CC79A7", "#000000"]
BAD_STYLES: list[Any] = ["-", "--", ":"]
#: the house style (matplotlib rcParams): one sans-serif font, Okabe-Ito colours, no
#: top/right spines, light grid, frameless legends, left-aligned titles that state the finding
HOUSE_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titlelocation": "left",
    "axes.labelsize": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=COLORS),
    "axes.edgecolor": "0.3",
    "grid.color": "0.88",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "xtick.color": "0.25",
    "ytick.color": "0.25",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
_UNITS = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"), (1.0, "")]
#: outcome names of :func:`sustainsim.analysis.sensitivity.tornado_table` and their units
_OUTCOME_UNITS = {"final_balance": "USD", "worst_balance": "USD", "solvent": "1", "insolvent": "1"}


def _style(i: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``i``-th series."""
    return {
        "color": COLORS[i % len(COLORS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def _blend(color: str, lightness: float) -> tuple[float, float, float]:
    """``color`` mixed with white: 0 keeps the colour, 1 gives white."""
    rgb = np.array(to_rgb(color))
    return tuple(rgb + (1 - rgb) * lightness)


def house_style() -> AbstractContextManager:
    """A context in which new figures take the house style (:data:`HOUSE_RC`).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> with house_style():
    ...     ax = Figure().add_subplot()
    >>> ax.spines["top"].get_visible()
    False
    """
    return mpl.rc_context(dict(HOUSE_RC))  # type: ignore[arg-type]


def use_house_style() -> None:
    """Make the house style the default of every later figure (e.g. in a notebook)."""
    mpl.rcParams.update(HOUSE_RC)  # type: ignore[arg-type]


def _headline(ax: Axes, finding: str, detail: str = "") -> None:
    """A title that states the finding, the method in a second line.

    Dollar signs are escaped: two amounts in one title would otherwise be typeset as
    mathtext between them.
    """
    ax.set_title(_text(finding + (f"\n{detail}" if detail else "")))


def _text(s: str) -> str:
    """``s`` with its dollar signs escaped for matplotlib text (no mathtext)."""
    return s.replace("$", r"\$")


def short_usd(x: float) -> str:
    """Dollars in at most three significant digits for titles: ``$918K``, ``-$81.5K``.

    Examples
    --------
    >>> short_usd(918_234), short_usd(-81_512), short_usd(1_834_000), short_usd(-955_000)
    ('$918K', '-$81.5K', '$1.8M', '-$955K')
    """
    a = abs(float(x))
    if not np.isfinite(a):
        return "n/a"
    i = next((k for k, (sc, _) in enumerate(_UNITS) if a / sc >= 1), len(_UNITS) - 1)
    m, digits = a / _UNITS[i][0], 0 if a / _UNITS[i][0] >= 99.95 else 1
    if round(m, digits) >= 1000 and i > 0:  # $999.96K shows as $1M
        i, m, digits = i - 1, m / 1000, 1
    unit = _UNITS[i][1]
    text = f"{m:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if x < 0 and text.strip("0.") else ""
    return f"{sign}${text}{unit}"


def _ends(values: Mapping[str, float]) -> str:
    """Probabilities by entity in words; with more than three, the district and the range.

    Examples
    --------
    >>> _ends({"a": 0.5, "b": 0.9})
    'a 50%, b 90%'
    >>> _ends({"a": 0.09, "b": 0.01, "c": 0.12, "d": 0.03, "district": 0.23})
    'district 23%; schools from 1% (b) to 12% (c)'
    """
    if len(values) <= 3:
        return ", ".join(f"{k} {v:.0%}" for k, v in values.items())
    schools = {k: v for k, v in values.items() if k != metrics.DISTRICT}
    lo, hi = min(schools, key=schools.__getitem__), max(schools, key=schools.__getitem__)
    head = f"district {values[metrics.DISTRICT]:.0%}; " if metrics.DISTRICT in values else ""
    return f"{head}schools from {schools[lo]:.0%} ({lo}) to {schools[hi]:.0%} ({hi})"


def bad_future_label(i: int) -> str:
    """The name of the ``i``-th representative bad future: ``"bad future A"``, ..."""
    return f"bad future {chr(ord('A') + i)}"


# --------------------------------------------------------------------------- labels
def _humanize(name: str) -> str:
    """An input name in words: ``pl_k8.enrollment.change`` -> ``pl_k8: enrollment change``."""
    parts = [p for p in str(name).split(".") if p]
    if len(parts) == 2 and parts[0] in ("growth", "cuts"):
        head, tail = parts
        return f"{tail.replace('_', ' ')} growth" if head == "growth" else f"cuts: {tail}"
    if len(parts) >= 2 and parts[0] not in ("district",):
        return f"{parts[0]}: " + " ".join(p.replace("_", " ") for p in parts[1:])
    return " ".join(p.replace("_", " ") for p in parts)


def input_label(source: xr.Dataset | Mapping[str, str] | None, name: str) -> str:
    """The human label of an input: its ``label`` attr, a mapping's entry, or its name in words.

    With a Dataset: ``ds[name].attrs["label"]``, else its ``long_name`` unless that is a
    generated one (``"sampled ... ~ dist(...)"``), prefixed by the school it belongs to.

    Examples
    --------
    >>> input_label(None, "pl_k8.implementation_grant.end")
    'pl_k8: implementation grant end'
    >>> input_label({"growth.salary": "salary growth"}, "growth.salary")
    'salary growth'
    """
    if isinstance(source, xr.Dataset):
        attrs = source[name].attrs if name in source.variables else {}
        if attrs.get("label"):
            return str(attrs["label"])
        long = str(attrs.get("long_name", ""))
        head, _, rest = str(name).partition(".")
        schools = [str(s) for s in source["school"].values] if "school" in source else []
        only = schools == [head]  # one school: no need to say which
        if long and " ~ " not in long and not long.startswith("sampled"):
            return f"{head}: {long}" if head in schools and not only else long
        if only and rest:
            return " ".join(p.replace("_", " ") for p in rest.split(".") if p)
    elif source is not None and name in source:
        return str(source[name])
    return _humanize(name)


def format_input_value(value: float, units: str | None = None) -> str:
    """An input's value in its units: ``4.2%/yr``, ``$280K``, ``FY2029``, ``3``, ``-12%``.

    Examples
    --------
    >>> format_input_value(0.0421, "1/yr"), format_input_value(2.8e5, "USD")
    ('4.2%/yr', '$280K')
    >>> format_input_value(2029.0, "fiscal year"), format_input_value(3.0, "1")
    ('FY2029', '3')
    >>> format_input_value(-0.125, "1")
    '-12.5%'
    """
    v = float(value)
    if not np.isfinite(v):
        return "n/a"
    if units == "USD":
        return short_usd(v)
    if units == "1/yr":
        return f"{v:.1%}/yr"
    if units == "fiscal year":
        return f"FY{v:.0f}"
    if v == round(v):
        return f"{v:.0f}"
    if units == "1":
        return f"{v:.1%}"
    return f"{v:.3g}" + (f" {units}" if units else "")


# --------------------------------------------------------------------------- formatting
def format_usd(x: float, digits: int = 1) -> str:
    """Format a dollar amount compactly: ``$1.2M``, ``-$300K``, ``$4.5B``, ``$950``.

    The unit (K, M, B, T) is the largest in which the rounded amount is at least 1; at
    most ``digits`` decimals, trailing zeros dropped; the minus sign precedes the ``$``.

    Examples
    --------
    >>> format_usd(1_234_567), format_usd(-300_000), format_usd(999_960), format_usd(0)
    ('$1.2M', '-$300K', '$1M', '$0')
    >>> format_usd(1_250_000, digits=2)
    '$1.25M'
    """
    if not np.isfinite(x):
        return "n/a"
    a = abs(float(x))
    mantissa, suffix = round(a, digits), ""
    for scale, unit in _UNITS:
        if round(a / scale, digits) >= 1:
            mantissa, suffix = round(a / scale, digits), unit
            break
    text = f"{mantissa:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if x < 0 and text.strip("0.") else ""
    return f"{sign}${text}{suffix}"


def _exact_digits(value: float, max_digits: int) -> int:
    """Fewest decimals with which :func:`format_usd` shows ``value`` exactly."""
    a = abs(float(value))
    for d in range(max_digits + 1):
        scale = next((s for s, _ in _UNITS if round(a / s, d) >= 1), 1.0)
        if abs(round(a / scale, d) * scale - a) <= 1e-9 * max(a, 1.0):
            return d
    return max_digits


class UsdFormatter(ticker.Formatter):
    """Tick formatter for dollar axes using :func:`format_usd`.

    All ticks get the same number of decimals, the fewest that show every tick exactly
    (``$1M, $1.25M`` rather than ``$1.2M`` for 1.25 million).
    """

    def __init__(self, max_digits: int = 2) -> None:
        self.max_digits = max_digits
        self.digits = 1

    def set_locs(self, locs: list[float]) -> None:
        """Choose the number of decimals that shows every tick in ``locs`` exactly."""
        super().set_locs(locs)
        finite = [v for v in locs if np.isfinite(v)]
        self.digits = max((_exact_digits(v, self.max_digits) for v in finite), default=0)

    def __call__(self, x: float, pos: int | None = None) -> str:
        """The label of tick ``x`` with the decimals chosen by :meth:`set_locs`."""
        return format_usd(x, self.digits)

    def format_data_short(self, value: float) -> str:
        """The cursor readout: three decimals, whatever the ticks show."""
        return format_usd(value, 3)


def _value_axis(axis, units: str | None) -> None:
    """Dollar or percent tick labels on ``axis`` according to ``units``."""
    if units == "USD":
        axis.set_major_formatter(UsdFormatter())
    elif units == "1":
        axis.set_major_formatter(ticker.PercentFormatter(xmax=1, decimals=0))


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins="auto", integer=True, min_n_ticks=3))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, pos: f"{x:.0f}"))
    ax.set_xlabel("fiscal year")


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def _legend_below(ax: Axes, *handles_labels: list) -> None:
    """A legend under the x axis label (half an inch below the Axes)."""
    below = ax.transAxes + ScaledTranslation(0, -0.5, ax.figure.dpi_scale_trans)
    ax.legend(
        *handles_labels, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below,
        ncol=3, fontsize="small",
    )  # fmt: skip


def _label(da: xr.DataArray, default: str) -> str:
    """``Long name [units]`` for an axis label."""
    name = str(da.attrs.get("long_name", ""))
    name = name[:1].upper() + name[1:] if name else default
    units = da.attrs.get("units")
    return f"{name} [{units}]" if units and units != "1" else name


# --------------------------------------------------------------------------- selection
def default_entity(names: Iterable[Any]) -> str:
    """The entity shown when none is chosen: ``"district"`` if present, else the first."""
    names = [str(n) for n in names]
    return metrics.DISTRICT if metrics.DISTRICT in names else names[0]


def _select(obj, school=None, scenario=None, *, pick_school: bool = True):
    """Select one scenario and, with ``pick_school``, one school.

    The defaults are the first scenario and :func:`default_entity`. Returns
    ``(obj, school, scenario)``.
    """
    if "scenario" in obj.dims:
        names = [str(s) for s in obj["scenario"].values]
        scenario = names[0] if scenario is None else str(scenario)
        if scenario not in names:
            raise ValueError(f"scenario {scenario!r} not in the data (have {names})")
        obj = obj.sel(scenario=scenario)
    elif scenario is not None:
        raise ValueError(f"scenario={scenario!r} given but the data has no 'scenario' dim")
    entity = ""
    if pick_school and "school" in obj.dims:
        names = [str(s) for s in obj["school"].values]
        entity = default_entity(names) if school is None else str(school)
        if entity not in names:
            raise ValueError(f"school {entity!r} not in the data (have {names})")
        obj = obj.sel(school=entity)
    return obj, entity, scenario


def _where(entity: str, scenario: str | None) -> str:
    return entity + (f", scenario {scenario}" if scenario is not None else "")


def _as_psolvent(data: xr.Dataset) -> xr.Dataset:
    """``data`` if it is a :func:`~sustainsim.p_solvent` result, else ``p_solvent(data)``."""
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"expected an xarray.Dataset, got {type(data).__name__}")
    if "probability" not in data:
        return metrics.p_solvent(data)
    missing = {"lower", "upper"} - set(data.data_vars)
    if missing:
        raise ValueError(f"probability Dataset lacks {sorted(missing)}")
    return data


# --------------------------------------------------------------------------- plots
