"""Stage 1, config: TOML text in, a validated :class:`Spec` out.

``schema`` (the pydantic models), ``lines`` (budget lines), ``fields`` (numbers that may be
distributions), ``spec`` (the validated config with its provenance). Validation never samples.
"""

from sustainsim.config.schema import Config, ConfigError, apply_overrides, parse_config
from sustainsim.config.spec import Spec, load_config, loads_config

__all__ = [
    "Config",
    "ConfigError",
    "Spec",
    "apply_overrides",
    "load_config",
    "loads_config",
    "parse_config",
]
