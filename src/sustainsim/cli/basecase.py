"""The config as written, run as scenario ``base`` beside a config's own scenarios.

``sustainsim run`` and ``sustainsim compare`` run a config with ``[scenarios.NAME]``
tables as the scenario ``base`` (the config exactly as written, no overrides) first and
then its scenarios, all on the same draws, so every output shows the base case and the
scenarios' paired differences against it.

The name ``base`` is kept for the config as written. A config's own ``[scenarios.base]``
is allowed only if it is empty (it then *is* the config as written, and is run once, as
the base); one with overrides is refused with an error asking to rename it.
"""

from __future__ import annotations

from typing import Any

from sustainsim.config import ConfigError, Spec

__all__ = ["BASE", "scenarios_with_base"]

#: the name of the scenario that is the config as written
BASE = "base"


def scenarios_with_base(spec: Spec) -> dict[str, dict[str, Any]]:
    """``{"base": {}, NAME: overrides, ...}``: the config as written first, then its scenarios.

    Raises
    ------
    ConfigError
        If the config's own ``[scenarios.base]`` has overrides (the name is taken).

    Examples
    --------
    >>> import sustainsim
    >>> spec = sustainsim.load_config(sustainsim.example_config("leap_chicago.toml"))
    >>> list(scenarios_with_base(spec))
    ['base', 'expected', 'severe_cuts']
    """
    own = spec.config.scenarios
    if own.get(BASE):
        raise ConfigError(
            [
                f"scenarios.{BASE}: the scenario name {BASE!r} is kept for the config as written "
                f"(run beside the scenarios); rename this scenario, which overrides "
                f"{', '.join(sorted(own[BASE]))}"
            ],
            spec.source,
        )
    return {BASE: {}, **{name: dict(ov) for name, ov in own.items() if name != BASE}}
