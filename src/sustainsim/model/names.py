"""The names of the per-draw input variables of a run: one name per uncertain input.

Every uncertain input has one canonical name, the name of its random stream, which is
also the name :meth:`sustainsim.config.Spec.inputs` lists and correlations use. The
results Dataset keeps, per draw, the inputs' values under these rules (the only place
the names are made is this module):

1. **A sampled value** (a number written as a distribution, drawn once per draw) is
   named exactly by its input: ``district.growth.salary``,
   ``schools.ref.revenue.grant.end``.
2. **A summary of one input drawn each year** is ``<input>.<summary>``:
   ``district.growth.funding.mean`` (the mean annual rate), ``district.cuts.event.count``
   (the number of cut events), ``district.cuts.magnitude.mean``,
   ``district.enrollment.common.mean``, ``settlements.teachers.cola.mean``,
   ``schools.a.revenue.levy.election.passed_attempt``,
   ``schools.a.enrollment.choice.exodus.year``.
3. **A summary of a path several inputs shape** is named after the path's own config
   prefix, ``<prefix>.<summary>``, and belongs to the process that drives it:
   ``schools.a.enrollment.change`` (the enrollment change over the horizon; input
   ``schools.a.enrollment.innovation``), ``district.cuts.cumulative`` (the share cut by
   the end; input ``district.cuts.event``), ``schools.a.revenue.grant.last_year`` (input
   the grant's renewal, termination, end or start, the first that is random).

Each variable carries the attrs ``input`` (the canonical name it belongs to, ``""``
for a summary no uncertain input moves), ``label`` (the input's label from
``spec.inputs()``, with the summary in parentheses for a summary) and ``path`` (the
config path that sets the input); :func:`annotate` adds them from the config.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from sustainsim.sampling.distributions import Distribution

__all__ = ["SUMMARIES", "annotate", "enrollment_input", "grant_input", "summary"]

#: the summaries of rule 2 and 3, with the words their labels add
SUMMARIES: dict[str, str] = {
    "mean": "mean over the years",
    "count": "number of events",
    "cumulative": "share cut by the end",
    "recession_years": "recession years",
    "change": "enrollment change over the horizon",
    "closed_years": "years closed",
    "last_year": "last year paid",
    "passed_attempt": "attempt that passed",
    "year": "year it happens",
}


def summary(prefix: str, what: str) -> str:
    """The variable name of summary ``what`` of ``prefix`` (rules 2 and 3).

    Examples
    --------
    >>> summary("district.cuts.event", "count")
    'district.cuts.event.count'
    """
    if what not in SUMMARIES:
        raise ValueError(f"unknown summary {what!r}; known: {', '.join(SUMMARIES)}")
    return f"{prefix}.{what}"


def grant_input(stream: str, line) -> str:
    """The input a grant's ``last_year`` belongs to: its renewal, termination, end or start.

    The first of them that is random; ``""`` for a grant whose years are fixed.
    """
    if line.renewal_probability > 0:
        return f"{stream}.renewal"
    if line.termination_probability > 0:
        return f"{stream}.termination"
    for key in ("end", "start"):
        if isinstance(getattr(line, key), Distribution):
            return f"{stream}.{key}"
    return ""


def enrollment_input(prefix: str, en) -> str:
    """The input a school's enrollment change belongs to: its innovations, else its drift.

    ``prefix`` is the school's stream prefix (``schools.a``); ``""`` when neither is random.
    """
    vol = en.volatility
    if isinstance(vol, Distribution) or vol > 0:
        return f"{prefix}.enrollment.innovation"
    if isinstance(en.drift, Distribution):
        return f"{prefix}.enrollment.drift"
    return ""


def _matches(pattern: str, name: str) -> bool:
    """``name`` equals ``pattern`` or lies under it; ``*`` stands for one name part."""
    pp, nn = pattern.split("."), name.split(".")
    return len(nn) >= len(pp) and all(p in ("*", n) for p, n in zip(pp, nn, strict=False))


class _Matcher:
    """The patterns a name matches (:func:`_matches`), in the patterns' order, by lookup.

    A pattern without ``*`` matches exactly the names that start with its parts, so each
    prefix of a name is looked up; the few patterns with ``*`` are tried one by one.
    """

    def __init__(self, patterns: list[str]) -> None:
        self._patterns = patterns
        self._exact: dict[str, list[int]] = {}
        self._wild: list[int] = []
        for i, p in enumerate(patterns):
            if "*" in p.split("."):
                self._wild.append(i)
            else:
                self._exact.setdefault(p, []).append(i)

    def __call__(self, name: str) -> list[str]:
        parts = name.split(".")
        hits = [i for i in self._wild if _matches(self._patterns[i], name)]
        for k in range(1, len(parts) + 1):
            hits += self._exact.get(".".join(parts[:k]), ())
        return [self._patterns[i] for i in sorted(hits)]


#: the last config annotated (frozen, so its inputs cannot change) and its index
_LAST: list = []


def _index(cfg) -> tuple[list, dict, _Matcher]:
    """``cfg``'s uncertain inputs, by name and by pattern: computed once, not every chunk."""
    from sustainsim.config.inputs import uncertain_inputs

    if _LAST and _LAST[0] is cfg:
        return _LAST[1]
    rows = uncertain_inputs(cfg)
    index = (rows, {r.name: r for r in rows}, _Matcher([r.name for r in rows]))
    _LAST[:] = [cfg, index]
    return index


def annotate(cfg, attrs: MutableMapping[str, dict[str, str]]) -> None:
    """Add ``input``, ``label`` and ``path`` to the attrs of each per-draw input variable.

    ``attrs`` maps variable names to their attrs (as recorded by the sampler, whose
    ``input`` is set for rule-3 summaries). A variable without an ``input`` belongs to
    the longest canonical name it equals or lies under.

    Parameters
    ----------
    cfg : sustainsim.config.schema.Config
        The validated config.
    attrs : dict of str to dict
        Changed in place.
    """
    rows, by_name, matching = _index(cfg)
    for name, a in attrs.items():
        owner = a.get("input")
        if owner is None:
            hits = matching(name)
            owner = max(hits, key=len) if hits else ""
        elif owner and owner not in by_name:  # a per-school name of a "schools.*" input
            owner = next(iter(matching(owner)), owner)
        row = by_name.get(owner)
        label = row.label if row is not None else name
        if row is not None and name != owner:
            rest = name[len(owner) + 1 :] if name.startswith(owner + ".") else name
            what = name.rsplit(".", 1)[-1]
            label = f"{label} ({SUMMARIES.get(what, rest.replace('_', ' '))})"
        a.update(input=owner, label=label, path=row.path if row is not None else "")
