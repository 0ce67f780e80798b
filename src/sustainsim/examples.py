"""The example configs shipped with the package (the same files as the repository's ``configs/``).

Examples
--------
>>> from sustainsim.examples import example_config, example_configs
>>> example_config("flagship.toml").name
'flagship.toml'
>>> "reference/ref10.toml" in example_configs()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_config", "example_configs"]

_ROOT = "example_configs"


def _root() -> Path:
    return Path(str(resources.files("sustainsim").joinpath(_ROOT)))


def example_configs() -> list[str]:
    """Names of the shipped example configs, relative to the examples folder, sorted."""
    root = _root()
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.toml"))


def example_config(name: str) -> Path:
    """The path of a shipped example config, e.g. ``"flagship.toml"`` or ``"reference/ref10.toml"``.

    Raises
    ------
    FileNotFoundError
        Naming the configs that are shipped.
    """
    path = _root() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"no example config {name!r}; shipped: {', '.join(example_configs())}"
        )
    return path
