"""The ``sustainsim`` command: a thin shell over the Python API.

Exit codes: 0 success, 2 bad input (config errors, missing or unwritable files, bad
arguments, a run over its memory budget, an output folder in use or not sustainsim's),
1 anything unexpected (an OS error such as a full disk is reported without a traceback),
130 on SIGINT (Ctrl-C) and 143 on SIGTERM. Nothing is written when the input is bad, every
output file is written atomically and every output folder is one transaction
(:func:`sustainsim.io.output_folder`): an interrupted command leaves the previous output
as it was.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

from sustainsim import io
from sustainsim._version import __version__
from sustainsim.config import ConfigError

__all__ = ["COMMANDS", "console", "main"]


class _Help(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (unless it has none or says it); epilogs as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or not action.option_strings
            or action.default in (None, False, [], argparse.SUPPRESS)
        ):
            return action.help
        return text + " (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments already; keep its message short.

    No prefix matching of long options (``--draw 5`` is an error, not ``--draws 5``), in
    the main parser and in every subcommand's (``add_subparsers`` makes them of this class).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)


EXAMPLES = """\
examples:
  sustainsim validate configs/flagship.toml
  sustainsim run configs/flagship.toml
  sustainsim run configs/ngsi_grant_cliff.toml --draws 2e6 --summary --json
  sustainsim compare configs/leap_chicago.toml --out out/compare
  sustainsim report out/flagship/results.nc

'sustainsim COMMAND --help' shows a command's options, their defaults and examples.
Exit codes: 0 success, 2 bad input (nothing written), 1 unexpected, 130/143 interrupted.
"""


#: subcommand -> (module under sustainsim.cli, help); each module has add_arguments and run
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "simulate a config; write results.nc and summary.json"),
    "validate": ("validate", "check a config and describe it"),
    "compare": ("compare", "run a config's scenarios on the same draws; paired differences"),
    "stress": ("stress", "largest permanent cut each school absorbs at a target P(solvent)"),
    "levers": ("levers", "evaluate and rank the config's [levers] on the same draws"),
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


def _command(argv: Sequence[str] | None) -> str:
    """The subcommand named in ``argv`` (its first word not an option), or ``""``."""
    args = sys.argv[1:] if argv is None else argv
    return next((a for a in args if not a.startswith("-")), "")


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; with ``only``, the options of that one alone.

    The other subcommands then get their name and help (what ``sustainsim --help`` and
    an unknown command's error show), so a command imports its own module only.
    """
    p = _Parser(
        prog="sustainsim",
        description="Monte Carlo risk simulation of the financial sustainability of school models.",
        epilog=EXAMPLES,
    )
    p.add_argument("--version", action="version", version=f"sustainsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        mod = _module(module)
        p_sub = sub.add_parser(
            name, help=help_text, description=help_text, epilog=getattr(mod, "EXAMPLES", None)
        )
        mod.add_arguments(p_sub)
        p_sub.set_defaults(func=lambda a, m=module: _module(m).run(a))
    return p


def _on_signal(signum: int, frame: object) -> None:
    """Record the signal (a library may swallow the exception) and stop the command."""
    io.note_signal(signum)
    raise io.Interrupted(signum)


@contextmanager
def _signals() -> Iterator[None]:
    """SIGINT and SIGTERM stop the command through :func:`_on_signal` (main thread only)."""
    io.note_signal(None)
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


#: OS errors caused by the paths given: exit 2 (bad input), like a missing file
_INPUT_OS_ERRORS = (
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    FileExistsError,
    FileNotFoundError,
)


def _os_message(exc: OSError) -> str:
    """``Permission denied: 'out/x'`` rather than ``[Errno 13] Permission denied: ...``."""
    if exc.filename is None:
        return str(exc)
    return f"{exc.strerror or exc}: {str(exc.filename)!r}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sustainsim`` command; returns the exit code."""
    parser = _build_parser(only=_command(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad arguments, 0 on --help/--version
        return int(exc.code or 0)
    with _signals():
        code = _dispatch(args)
        received = _received()
    if received is not None and code != 128 + received:  # the exception was swallowed
        print(f"interrupted ({signal.Signals(received).name})", file=sys.stderr)
        return 128 + received
    return code


def console() -> int:
    """The ``sustainsim`` command as installed: :func:`main` on ``sys.argv``, then exit.

    The process ends when it returns (the console script passes the code to
    :func:`sys.exit`). Before returning the exit code it freezes the objects the command leaves
    (:func:`gc.freeze`): the interpreter's last garbage collections at exit would
    otherwise walk all of them (numpy, xarray, pandas, matplotlib and the run's own),
    0.3-0.4 s of a flagship run. Every object is still released by reference count and
    every ``atexit`` handler runs; only that final search for reference cycles is
    skipped, which no process about to exit needs. Call :func:`main` in a long-lived
    process (a notebook, a test), where frozen objects would never be collected.
    """
    code = main()
    gc.freeze()
    return code


def _received() -> int | None:
    """The first SIGINT/SIGTERM of this command, even one whose exception was swallowed."""
    try:
        io.check_interrupted()
    except io.Interrupted as exc:
        return exc.signum
    return None


def _data_kind(exc: BaseException) -> str | None:
    """The ``kind`` of a :class:`~sustainsim.calibration.panel.DataError`, else None.

    Looked up in the modules already imported: only the commands that read data files
    import the calibration package (and scipy.stats with it, a third of a second), so
    an error of any other command cannot be one.
    """
    panel = sys.modules.get("sustainsim.calibration.panel")
    return exc.kind if panel is not None and isinstance(exc, panel.DataError) else None


def _dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand; its exit code, errors turned into messages and codes."""
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except io.OutputError as exc:  # a folder not sustainsim's, in use, not a folder
        text = str(exc)
        head = "cannot write " if text.startswith("--") else "cannot write the output: "
        print(f"error: {head}{text}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        kind = _data_kind(exc)  # a data file of calibrate or backtest: "cannot read", ...
        print(f"error: {kind + ': ' if kind else ''}{exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # an optional extra is not installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # io.Interrupted from a signal, or a bare Ctrl-C
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # output piped into `head` and the like: the files are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _INPUT_OS_ERRORS as exc:  # a path the user gave cannot be read or written
        print(f"error: cannot use a file: {_os_message(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, I/O error: not the input's fault, but no traceback
        print(f"error: input/output failed: {_os_message(exc)}", file=sys.stderr)
        return 1
    except RecursionError:
        print("error: input nested too deeply to read", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
