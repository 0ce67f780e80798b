"""What a command says while it works: one line per phase on stderr, none with ``--quiet``.

stdout carries the results (the summary table, or with ``--json`` one JSON object),
stderr everything else: the phases (writing ``results.nc`` with its size, figure n of
m, the report), warnings and errors. ``--quiet`` silences the phases and the summary;
warnings (such as a results file over about 1 GB) and errors are always shown.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sustainsim.cli.numbers import nbytes

__all__ = ["Phases", "emit"]


class Phases:
    """Progress lines of a command on ``stream`` (default stderr), unless ``quiet``."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        """Where the lines go (stderr, looked up when used, so tests can capture it)."""
        return self._stream if self._stream is not None else sys.stderr

    def say(self, message: str) -> None:
        """One progress line (nothing with ``quiet``)."""
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        """A warning line, shown even with ``quiet``."""
        print(f"warning: {message}", file=self.stream, flush=True)

    @contextmanager
    def writing(self, path: Path, what: str = "") -> Iterator[None]:
        """``writing NAME (what) ...`` before, ``wrote NAME: SIZE in T s`` after."""
        self.say(f"writing {path.name}" + (f" ({what})" if what else "") + " ...")
        t0 = time.perf_counter()
        yield
        self.wrote(path, time.perf_counter() - t0)

    def wrote(self, path: Path, seconds: float) -> None:
        """``wrote NAME: SIZE in T s`` (a file written in the background, when it is done)."""
        size = nbytes(path.stat().st_size) if path.is_file() else "done"
        self.say(f"wrote {path.name}: {size} in {seconds:.1f} s")

    def figure(self, name: str, n: int, of: int) -> None:
        """``figure n of m: NAME``."""
        self.say(f"figure {n} of {of}: {name}")


def emit(text: str) -> None:
    """Write ``text`` to stdout; a closed pipe (``| head``) silences stdout, the command goes on.

    The files a command writes after printing are written all the same: output piped
    into ``head`` costs the rest of the text, not the files.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
