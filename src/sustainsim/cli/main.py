"""The ``sustainsim`` command: a thin shell over the Python API.

Exit codes: 0 success, 2 bad input (config errors, missing files, bad arguments),
1 anything unexpected. Nothing is written when the input is bad, and every output
file is written atomically.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from sustainsim._version import __version__
from sustainsim.config import ConfigError

__all__ = ["COMMANDS", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments already; keep its message short."""


#: subcommand -> (module under sustainsim.cli, help); each module has add_arguments and run
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "simulate a config; write results.nc and summary.json"),
    "validate": ("validate", "check a config and describe it"),
    "compare": ("compare", "run a config's scenarios on the same draws; paired differences"),
    "stress": ("stress", "largest permanent cut each school absorbs at a target P(solvent)"),
    "sweep": ("sweep", "run a grid of config overrides on common random numbers"),
    "batch": ("batch", "run many configs into one folder; --resume skips finished runs"),
    "report": ("report", "rebuild the figures and report.html from a results.nc"),
    "calibrate": (
        "calibrate",
        "fit enrollment or growth drivers to history; print a config fragment",
    ),
    "backtest": ("backtest", "rolling-origin forecasts of history scored against a baseline"),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"sustainsim.cli.{name}")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sustainsim",
        description="Monte Carlo risk simulation of the financial sustainability of school models.",
    )
    p.add_argument("--version", action="version", version=f"sustainsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p_sub = sub.add_parser(name, help=help_text)
        _module(module).add_arguments(p_sub)
        p_sub.set_defaults(func=lambda a, m=module: _module(m).run(a))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sustainsim`` command; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad arguments, 0 on --help/--version
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # an optional extra is not installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: the files are written
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
