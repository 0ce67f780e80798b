"""The uncertain inputs of a config: one row per random input, by its canonical name.

An uncertain input is any number written as a distribution (sampled once per draw,
e.g. ``schools.a.enrollment.base``) and every random process the model runs (a growth
index drawn each year, budget-cut events, enrollment innovations, grant renewals,
school closures). Its canonical name is the name of its random stream, the same name
correlations use (``district.growth.salary``, ``schools.a.enrollment.innovation``);
``path`` is the config path that sets it (for a distribution, the same name; for a
process, the parameter that scales it, e.g. ``schools.a.enrollment.volatility``).

:func:`uncertain_inputs` lists them from a validated config (no random number is
drawn); :meth:`sustainsim.config.Spec.inputs` returns the list as a table, and
:func:`describe` says a row in plain language for reports ("normal, mean 2.5%, sd 1.5%,
a new value each year").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from sustainsim.sampling.distributions import Distribution

__all__ = ["InputInfo", "describe", "input_for", "uncertain_inputs"]

#: field names whose values are rates or shares (shown in percent)
_PERCENT = {
    "rate",
    "probability",
    "pass_probability",
    "magnitude",
    "drift",
    "volatility",
    "p_enter",
    "p_exit",
    "renewal_probability",
    "termination_probability",
    "closure_hazard",
    "stress_cut",
    "recovery",
    "benefits_rate",
    "step_rate",
    "pension_rate",
    "payroll_tax_rate",
    "eligible_share",
    "turnover",
    "growth",
}
#: field names whose values are years
_YEARS = {"start", "end", "year", "conversion_year"}
#: field names whose values are pupil counts
_PUPILS = {"base", "capacity", "by_grade"}


@dataclass(frozen=True)
class InputInfo:
    """One uncertain input.

    Attributes
    ----------
    name : str
        Canonical name (the random stream's name).
    path : str
        The config path that sets it.
    distribution : str
        The distribution's name (``normal``, ``uniform``, ...) or the process
        (``events``, ``markov chain``, ``innovations``).
    parameters : dict
        Its parameters (numbers, or text for a parameter that is itself random).
    per : str
        ``"draw"`` (one value per draw) or ``"year"`` (a new value each year).
    central : float or None
        The value the central case uses (a distribution's median), None for a process.
    label : str
        A human label: the config's ``[labels]`` entry or one made from the name.
    unit : str
        ``"%"``, ``"USD"``, ``"pupils"``, ``"year"`` or ``""``, for display.
    """

    name: str
    path: str
    distribution: str
    parameters: dict[str, Any] = field(default_factory=dict)
    per: str = "draw"
    central: float | None = None
    label: str = ""
    unit: str = ""


def _unit(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    if last in _PERCENT or path.startswith("district.growth."):
        return "%"
    if last in _YEARS:
        return "year"
    if last in _PUPILS:
        return "pupils"
    return "USD"


def _default_label(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "schools" and len(parts) > 2:
        return f"{parts[1]}: " + " ".join(p.replace("_", " ") for p in parts[2:])
    if parts[0] == "models" and len(parts) > 2:
        return f"model {parts[1]}: " + " ".join(p.replace("_", " ") for p in parts[2:])
    if parts[:2] == ["district", "growth"] and len(parts) == 3:
        return f"{parts[2].replace('_', ' ')} growth"
    return " ".join(p.replace("_", " ") for p in parts)


def _leaves(obj: Any, path: str) -> Iterator[tuple[str, Distribution]]:
    """Every distribution in a config tree, with its dotted config path."""
    if isinstance(obj, Distribution):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for key in type(obj).model_fields:
            yield from _leaves(getattr(obj, key), f"{path}.{key}" if path else key)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            label = getattr(v, "name", None)
            yield from _leaves(v, f"{path}.{label if isinstance(label, str) else i}")


def _dist_row(name: str, path: str, d: Distribution, per: str = "draw") -> InputInfo:
    return InputInfo(
        name, path, d.name, dict(d.params), per, d.median(), _default_label(name), _unit(path)
    )


def _shown(v: Any) -> Any:
    return str(v) if isinstance(v, Distribution) else v


def _growth_rows(cfg) -> Iterator[InputInfo]:
    for gname, g in cfg.district.growth.items():
        if isinstance(g.rate, Distribution):
            name = f"district.growth.{gname}"
            yield _dist_row(name, name, g.rate, g.per)


def _cut_rows(cfg) -> Iterator[InputInfo]:
    c = cfg.district.cuts
    if c is None:
        return
    pre = "district.cuts" if c.scope == "district" else "schools.*.cuts"
    if c.regime is not None:
        r = c.regime
        params = {
            "p_enter": _shown(r.p_enter),
            "p_exit": _shown(r.p_exit),
            "normal.probability": _shown(r.normal.probability),
            "normal.magnitude": _shown(r.normal.magnitude),
            "recession.probability": _shown(r.recession.probability),
            "recession.magnitude": _shown(r.recession.magnitude),
        }
        yield InputInfo(
            pre, "district.cuts.regime", "markov chain", params, "year", None,
            "budget-cut regime (normal / recession)", "%",
        )  # fmt: skip
    else:
        params = {"probability": _shown(c.probability), "magnitude": _shown(c.magnitude)}
        yield InputInfo(
            f"{pre}.event", "district.cuts.probability", "events", params, "year", None,
            "budget-cut events", "%",
        )  # fmt: skip
        if isinstance(c.magnitude, Distribution):
            yield _dist_row(f"{pre}.magnitude", "district.cuts.magnitude", c.magnitude, "year")


def _enrollment_rows(cfg) -> Iterator[InputInfo]:
    common = False
    for s in cfg.schools:
        en, pre = s.enrollment, f"schools.{s.name}.enrollment"
        loading = en.common_loading
        common = common or isinstance(loading, Distribution) or loading != 0
        vol = en.volatility
        if isinstance(vol, Distribution) or vol > 0:
            params = {"sd": _shown(vol), "persistence": _shown(en.persistence)}
            if en.innovation_df is not None:
                params["df"] = en.innovation_df
            yield InputInfo(
                f"{pre}.innovation", f"{pre}.volatility",
                "student t" if en.innovation_df is not None else "normal", params, "year",
                0.0, f"{s.name}: enrollment shock", "%",
            )  # fmt: skip
        if en.closure_hazard > 0:
            yield InputInfo(
                f"{pre}.closure", f"{pre}.closure_hazard", "events",
                {"probability": en.closure_hazard}, "year", None, f"{s.name}: closure", "%",
            )  # fmt: skip
    if common:
        yield InputInfo(
            "district.enrollment.common", "schools.*.enrollment.common_loading", "normal",
            {"mean": 0.0, "sd": 1.0}, "year", 0.0, "district-wide enrollment shock", "",
        )  # fmt: skip


def _owners(cfg) -> Iterator[tuple[str, list[str], Any]]:
    """``(config prefix, stream prefixes, owner)`` of every set of lines.

    A school model's lines draw in each school that runs it (before or after its
    conversion), so their streams are named after those schools.
    """
    yield "district", ["district"], cfg.district
    for m, model in cfg.models.items():
        runs = [f"schools.{s.name}" for s in cfg.schools if m in (s.model, s.previous_model)]
        yield f"models.{m}", runs, model
    for s in cfg.schools:
        yield f"schools.{s.name}", [f"schools.{s.name}"], s


def _grant_rows(cfg) -> Iterator[InputInfo]:
    for pre, streams, owner in _owners(cfg):
        for line in owner.revenue:
            for key, what in (("renewal", "renewal"), ("termination", "early end")):
                p = getattr(line, f"{key}_probability", 0.0)
                if not p:
                    continue
                for sp in streams:
                    yield InputInfo(
                        f"{sp}.revenue.{line.name}.{key}",
                        f"{pre}.revenue.{line.name}.{key}_probability", "events",
                        {"probability": p}, "year", None, f"{line.name}: {what}", "%",
                    )  # fmt: skip


def _levy_rows(cfg) -> Iterator[InputInfo]:
    for pre, streams, owner in _owners(cfg):
        for line in owner.revenue:
            if line.kind != "levy" or not line.needs_elections:
                continue
            p = line.pass_probability
            params = {"probability": list(p) if isinstance(p, list) else _shown(p)}
            if line.pass_decay != 1:
                params["decay"] = line.pass_decay
            for sp in streams:
                yield InputInfo(
                    f"{sp}.revenue.{line.name}.election",
                    f"{pre}.revenue.{line.name}.pass_probability", "elections", params,
                    "election", None, f"{line.name}: levy elections", "%",
                )  # fmt: skip


def _cola_rows(cfg) -> Iterator[InputInfo]:
    units: set[str] = set()
    for pre, streams, owner in _owners(cfg):
        for line in owner.cost:
            cola = getattr(line, "cola", None)
            items = cola if isinstance(cola, list) else [cola]
            dists = [x for x in items if isinstance(x, Distribution)]
            if not dists:
                continue
            unit = getattr(line, "bargaining_unit", None)
            names = (
                [f"settlements.{unit}.cola"]
                if unit
                else [f"{sp}.cost.{line.name}.cola" for sp in streams]
            )
            for name in names:
                if name in units:
                    continue
                units.add(name)
                d = dists[0]
                label = f"{unit} settlements" if unit else f"{line.name}: settlements"
                yield InputInfo(
                    name, f"{pre}.cost.{line.name}.cola", d.name, dict(d.params), "year",
                    d.median(), label, "%",
                )  # fmt: skip


def _leaf_rows(cfg, seen: set[str]) -> Iterator[InputInfo]:
    """Every other distribution in the config, by the stream it draws from."""
    for pre, streams, owner in _owners(cfg):
        for part in ("revenue", "cost"):
            for line in getattr(owner, part):
                for path, d in _leaves(line, f"{pre}.{part}.{line.name}"):
                    field = path[len(pre) :]
                    if ".cola" in field:  # the settlement rows
                        continue
                    for sp in streams:
                        name = sp + field
                        if name not in seen:
                            seen.add(name)
                            yield _dist_row(name, path, d)
    rest = [("district", cfg.district)] + [(f"schools.{s.name}", s) for s in cfg.schools]
    for pre, owner in rest:
        for key in type(owner).model_fields:
            if key in ("revenue", "cost", "growth", "cuts"):
                continue
            for path, d in _leaves(getattr(owner, key), f"{pre}.{key}"):
                if path not in seen:
                    seen.add(path)
                    yield _dist_row(path, path, d)


def uncertain_inputs(cfg, labels: dict[str, str] | None = None) -> list[InputInfo]:
    """Every uncertain input of a validated config, in config order.

    Parameters
    ----------
    cfg : sustainsim.config.schema.Config
        A validated config.
    labels : dict of str to str, optional
        Human labels by canonical name; default the config's ``[labels]``.

    Returns
    -------
    list of InputInfo

    Examples
    --------
    >>> from sustainsim import example_config, load_config
    >>> spec = load_config(example_config("reference/ref10.toml"))
    >>> for x in uncertain_inputs(spec.config):
    ...     print(x.name, x.distribution, x.per)
    district.cuts.event events year
    district.cuts.magnitude uniform year
    schools.ref.enrollment.innovation normal year
    schools.ref.revenue.grant.end integer_uniform draw
    """
    rows: list[InputInfo] = []
    rows += _growth_rows(cfg)
    rows += _cut_rows(cfg)
    rows += _enrollment_rows(cfg)
    rows += _grant_rows(cfg)
    rows += _levy_rows(cfg)
    rows += _cola_rows(cfg)
    rows += _leaf_rows(cfg, {r.name for r in rows})
    given = labels if labels is not None else dict(getattr(cfg, "labels", {}) or {})
    return [
        InputInfo(**{**r.__dict__, "label": given[r.name]}) if r.name in given else r for r in rows
    ]


def input_for(cfg, key: str) -> InputInfo | None:
    """The uncertain input ``key`` names: by its canonical name, else by its config path.

    A path that sets several inputs (a levy's ``pass_probability``, random, sets its own
    value and the elections' chance) is the input of that name. None when ``key`` is
    neither (a config path of a fixed number).

    Examples
    --------
    >>> from sustainsim import example_config, load_config
    >>> cfg = load_config(example_config("reference/ref10.toml")).config
    >>> input_for(cfg, "district.cuts.probability").name
    'district.cuts.event'
    >>> input_for(cfg, "district.cuts.event").path
    'district.cuts.probability'
    """
    rows = uncertain_inputs(cfg)
    exact = [r for r in rows if r.name == key]
    by_path = [r for r in rows if r.path == key]
    found = exact or by_path
    return found[0] if found else None


def _fmt(v: Any, unit: str) -> str:
    if isinstance(v, str) or v is None:
        return str(v)
    if unit == "%":
        return f"{100 * v:.3g}%"
    if unit == "USD":
        return f"${v:,.0f}"
    if unit == "year":
        return f"year {v:g}"
    return f"{v:,.4g}"


_SAID = {
    "normal": ("mean", "sd"),
    "lognormal": ("mu", "sigma"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "truncated_normal": ("mean", "sd", "low", "high"),
    "integer_uniform": ("low", "high"),
    "beta": ("a", "b", "low", "high"),
}


def describe(row: InputInfo) -> str:
    """One input in plain language, e.g. ``"normal, mean 2.5%, sd 1.5%, a new value each year"``.

    Examples
    --------
    >>> describe(InputInfo("district.growth.funding", "district.growth.funding", "normal",
    ...                    {"mean": 0.025, "sd": 0.015}, "year", unit="%"))
    'normal, mean 2.5%, sd 1.5%, a new value each year'
    """
    p = row.parameters
    unit = row.unit
    if row.distribution == "elections":
        pr = p.get("probability")
        if isinstance(pr, str):  # a distribution: its own row
            text = "each vote passes with the chance drawn for the draw (its pass probability)"
        else:
            chances = ", ".join(_fmt(x, "%") for x in pr) if isinstance(pr, list) else _fmt(pr, "%")
            text = f"each vote passes with chance {chances}"
        if "decay" in p:
            text += f", times {p['decay']:g} after each failed attempt"
        return text
    if row.distribution == "events":
        when = " at the end of each term" if row.name.endswith(".renewal") else " a year"
        text = f"chance {_fmt(p.get('probability'), '%')}{when}"
        mag = p.get("magnitude")
        if isinstance(mag, str):
            text += ", each cutting a random share of exposed revenue (see its magnitude)"
        elif mag is not None:
            text += f", each cutting {_fmt(mag, '%')} of exposed revenue"
    elif row.distribution == "markov chain":
        text = (
            f"recessions start with chance {_fmt(p['p_enter'], '%')} and end with chance "
            f"{_fmt(p['p_exit'], '%')} a year; cuts {_fmt(p['normal.probability'], '%')} of "
            f"normal years ({_fmt(p['normal.magnitude'], '%')} each) and "
            f"{_fmt(p['recession.probability'], '%')} of recession years "
            f"({_fmt(p['recession.magnitude'], '%')} each)"
        )
    elif row.distribution in ("normal", "student t") and "persistence" in p:
        text = f"{row.distribution}, sd {_fmt(p['sd'], '%')} of enrollment"
        if p.get("persistence"):
            text += f", persistence {_fmt(p['persistence'], '')}"
        if "df" in p:
            text += f", {p['df']:g} degrees of freedom"
    else:
        keys = _SAID.get(row.distribution, tuple(p))
        shown = [f"{k} {_fmt(p[k], unit if k not in ('a', 'b') else '')}" for k in keys if k in p]
        if row.distribution == "lognormal":
            shown = [f"median {_fmt(row.central, unit)}", f"log sd {p.get('sigma', 0):.3g}"]
        text = ", ".join([row.distribution.replace("_", " "), *shown])
    if row.distribution in ("events", "markov chain"):
        return text
    return text + (", a new value each year" if row.per == "year" else ", one value per draw")
