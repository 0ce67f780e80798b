"""Stage 1, config: TOML text in, a validated :class:`Spec` out.

``errors`` (reading a file, :class:`ConfigError`), ``schema`` (the pydantic models), ``lines``
(budget lines), ``fields`` (numbers that may be distributions), ``overrides`` (dotted-path
changes) and ``spec`` (the validated config with its provenance). Validation never samples.
"""

from sustainsim.config.errors import ConfigError, read_config_text
from sustainsim.config.overrides import apply_overrides
from sustainsim.config.schema import Config, parse_config
from sustainsim.config.spec import Spec, load_config, loads_config

__all__ = [
    "Config",
    "ConfigError",
    "Spec",
    "apply_overrides",
    "load_config",
    "loads_config",
    "parse_config",
    "read_config_text",
]
