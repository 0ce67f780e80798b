"""The kinds of error a command reports, each message starting with its kind.

``error: invalid config ...`` comes from :class:`sustainsim.config.ConfigError`; the
command line adds ``invalid arguments`` (flags that exclude each other or do not fit the
config), ``cannot write --out ...`` (an output path that cannot be used) and ``cannot
read ...`` (an input file that is missing or not what it should be). Each is a
:class:`ValueError`, which the CLI turns into exit code 2 before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ArgumentsError", "OutputPathError", "ReadError"]


class ArgumentsError(ValueError):
    """Flags that exclude each other or that the config cannot take: every problem at once."""

    def __init__(self, problems: Sequence[str]):
        self.errors = list(problems)
        if len(self.errors) == 1:
            super().__init__(f"invalid arguments: {self.errors[0]}")
        else:
            super().__init__("invalid arguments:\n  " + "\n  ".join(self.errors))


class OutputPathError(ValueError):
    """An output path (``--out``, ``--zarr``) unusable: ``cannot write FLAG 'PATH': why``."""

    def __init__(self, flag: str, path: object, why: str):
        self.flag, self.path = flag, str(path)
        super().__init__(f"cannot write {flag} {self.path!r}: {why}")


class ReadError(ValueError):
    """An input file that is missing or unreadable: ``cannot read 'PATH': why``."""

    def __init__(self, path: object, why: str):
        self.path = str(path)
        super().__init__(f"cannot read {self.path!r}: {why}")
