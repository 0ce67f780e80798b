"""A validated model specification: the config plus where it came from.

:func:`load_config` reads a TOML file into a :class:`Spec`; :meth:`Spec.with_overrides`
derives a variant (a sweep point, a scenario, a notebook what-if) without touching the
file. The spec is what :func:`sustainsim.simulate` runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sustainsim.config.errors import ConfigError, parse_toml, read_config_text
from sustainsim.config.inputs import uncertain_inputs
from sustainsim.config.overrides import apply_overrides
from sustainsim.config.schema import Config, parse_config
from sustainsim.sampling.copula import CorrelatedSource, matrix_from_pairs
from sustainsim.sampling.streams import MonteCarlo

__all__ = ["Spec", "load_config", "loads_config"]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Spec:
    """A validated config and its provenance.

    Attributes
    ----------
    config : Config
        The validated model (pydantic, frozen).
    data : dict
        The parsed TOML with any overrides applied.
    text : str
        The config file's text as written.
    source : str or None
        The file it came from.
    overrides : dict
        Dotted-path overrides applied on top of the text.
    """

    config: Config
    data: dict[str, Any]
    text: str
    source: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """Hash of the effective config (text as parsed, overrides applied)."""
        return hashlib.sha256(_canonical(self.data).encode()).hexdigest()

    @property
    def years(self) -> int:
        """Length of the horizon. [yr]"""
        return self.config.simulation.years

    @property
    def school_names(self) -> list[str]:
        """The schools' names, in file order."""
        return [s.name for s in self.config.schools]

    @property
    def scenario_names(self) -> list[str]:
        """The scenarios the config defines (``[scenarios.NAME]``), in file order."""
        return list(self.config.scenarios)

    def scenario(self, name: str) -> Spec:
        """The spec of one scenario: the base config with the scenario's overrides.

        Raises
        ------
        KeyError
            If the config defines no scenario of that name.
        """
        if name not in self.config.scenarios:
            raise KeyError(
                f"no scenario {name!r}; defined: {', '.join(self.scenario_names) or 'none'}"
            )
        return _scenario_spec(self, name)

    def inputs(self):
        """Every uncertain input: a table (pandas DataFrame) indexed by canonical name.

        Columns: ``path`` (the config path that sets it), ``distribution``,
        ``parameters``, ``per`` (draw or year), ``central`` (the central case's value),
        ``label``, ``unit``; see :mod:`sustainsim.config.inputs`.

        Examples
        --------
        >>> from sustainsim import example_config
        >>> spec = load_config(example_config("flagship.toml"))
        >>> spec.inputs().loc["district.growth.salary", ["distribution", "per"]].tolist()
        ['triangular', 'draw']
        """
        import pandas as pd

        rows = uncertain_inputs(self.config)
        cols = ["path", "distribution", "parameters", "per", "central", "label", "unit"]
        frame = pd.DataFrame(
            [{c: getattr(r, c) for c in cols} for r in rows],
            index=pd.Index([r.name for r in rows], name="name"),
            columns=cols,
        )
        return frame

    def with_overrides(self, overrides: Mapping[str, Any] | None = None, **kw: Any) -> Spec:
        """A new spec with values replaced at dotted config paths.

        Keyword arguments use ``__`` for dots.

        Examples
        --------
        >>> from sustainsim import example_config
        >>> spec = load_config(example_config("reference/ref10.toml"))
        >>> likely = spec.with_overrides({"district.cuts.probability": 0.3})
        >>> likely.config.district.cuts.probability, spec.config.district.cuts.probability
        (0.3, 0.15)
        >>> likely.overrides
        {'district.cuts.probability': 0.3}
        """
        ov = dict(overrides or {})
        ov.update({k.replace("__", "."): v for k, v in kw.items()})
        data = apply_overrides(self.data, ov)
        cfg = parse_config(data, source=self.source)
        spec = Spec(cfg, data, self.text, self.source, {**self.overrides, **ov})
        _check_scenarios(spec)
        return spec

    def __repr__(self) -> str:
        sim = self.config.simulation
        return (
            f"Spec(source={self.source!r}, schools={self.school_names}, years={sim.years}, "
            f"first_year={sim.first_year}, draws={sim.draws}, seed={sim.seed}"
            + (f", overrides={self.overrides}" if self.overrides else "")
            + ")"
        )


def _scenario_spec(spec: Spec, name: str) -> Spec:
    base = {k: v for k, v in spec.data.items() if k != "scenarios"}
    ov = dict(spec.config.scenarios[name])
    try:
        data = apply_overrides(base, ov)
        cfg = parse_config(data, source=spec.source)
    except ConfigError as exc:
        raise ConfigError([f"scenarios.{name}: {e}" for e in exc.errors], spec.source) from None
    return Spec(cfg, data, spec.text, spec.source, {**spec.overrides, **ov})


def _check_correlations(spec: Spec) -> None:
    """Each correlation matrix must be a valid (or, unless strict, repairable) rank correlation.

    Whether each correlated name is a random input of the model is the run's business
    (:func:`sustainsim.run.source.check_correlations`): config validation never samples.
    """
    problems: list[str] = []
    for i, c in enumerate(spec.config.correlations or ()):
        pairs = [(p["a"], p["b"], p["rank_corr"]) for p in c.pairs or []]
        m = c.matrix if c.matrix is not None else matrix_from_pairs(c.inputs, pairs)
        try:  # positive semi-definite, or repaired with a warning, or rejected when strict
            CorrelatedSource(MonteCarlo(0), c.inputs, m, strict=c.strict)
        except ValueError as exc:
            problems.append(f"correlations[{i}]: {exc}")
    if problems:
        raise ConfigError(problems, spec.source)


def _lever_problems(spec: Spec) -> list[str]:
    """Every candidate value of every lever must give a valid config (checked up front)."""
    problems: list[str] = []
    base = {k: v for k, v in spec.data.items() if k not in ("scenarios", "levers")}
    for name, lever in spec.config.levers.items():
        for value in lever.candidates():
            try:
                parse_config(apply_overrides(base, {lever.path: value}))
            except ConfigError as exc:
                problems.extend(
                    f"levers.{name} ({lever.path} = {value!r}): {e}" for e in exc.errors
                )
                break
    return problems


def _label_problems(spec: Spec) -> list[str]:
    """Every ``[labels]`` key must name an uncertain input of the config."""
    labels = spec.config.labels
    if not labels:
        return []
    known = [r.name for r in uncertain_inputs(spec.config)]
    return [
        f"labels.{k}: {k!r} is not an uncertain input of this config; inputs: "
        f"{', '.join(known) or 'none'} (see spec.inputs() or sustainsim validate)"
        for k in labels
        if k not in known
    ]


def _check_scenarios(spec: Spec) -> None:
    _check_correlations(spec)
    errors: list[str] = []
    for name in spec.scenario_names:
        try:
            _scenario_spec(spec, name)
        except ConfigError as exc:
            errors.extend(exc.errors)
    errors.extend(_lever_problems(spec))
    errors.extend(_label_problems(spec))
    if errors:
        raise ConfigError(errors, spec.source)


def loads_config(text: str, source: str | None = None) -> Spec:
    """Parse and validate a config from TOML text.

    Raises
    ------
    ConfigError
        With one line per problem (field path, value, what is allowed).
    """
    data = parse_toml(text, source)
    cfg = parse_config(data, source)
    spec = Spec(cfg, data, text, source)
    _check_scenarios(spec)
    return spec


def load_config(path: str | Path) -> Spec:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path : str or Path
        The config file.

    Returns
    -------
    Spec

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or invalid; the message names each field
        path, its value and what is allowed.

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
    >>> spec.school_names, spec.years
    (['ref'], 10)
    """
    text = read_config_text(path)
    return loads_config(text, source=str(path))


__all__ += ["ConfigError"]
