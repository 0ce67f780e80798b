"""Execute the example notebooks from their sources and save the executed pairs.

Each notebook is a pair: ``NN_name.py`` (jupytext percent format, the source you edit) and
``NN_name.ipynb`` (executed, with outputs, for reading on the web). After editing a source,
run from the repository root

    python notebooks/execute.py            # all notebooks
    python notebooks/execute.py 03 04      # those whose name contains "03" or "04"

Each is executed top to bottom in a fresh ``python3`` kernel with this folder as the working
directory (configs are at ``../configs``) and saved beside its source, figures at 85 dpi (set
by ``nbsetup.py``). ``tests/test_notebooks.py`` executes the sources the same way and checks
that the saved pairs are in sync.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
KERNEL = "python3"
CELL_TIMEOUT = 180  # seconds per cell
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL},
    "language_info": {"name": "python"},  # no Python version to churn
}


def sources() -> list[Path]:
    """The notebook sources, ``NN_name.py`` (``nbsetup.py`` and this file are helpers)."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def read(source: Path) -> nbformat.NotebookNode:
    """The notebook in ``source``, without outputs."""
    nb = jupytext.read(source)
    nb.metadata = dict(METADATA)
    seen: set[str] = set()
    for cell in nb.cells:  # ids from the content, so re-saving an unchanged cell leaves its id
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()
        cell.id = next(digest[i : i + 8] for i in range(33) if digest[i : i + 8] not in seen)
        seen.add(cell.id)
    return nb


def kernel_env() -> dict[str, str]:
    """This environment, with relative ``PYTHONPATH`` entries (``PYTHONPATH=src``) made absolute.

    The kernel starts in this folder, where ``src`` would name nothing.
    """
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        paths = env["PYTHONPATH"].split(os.pathsep)
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
    return env


def execute(nb: nbformat.NotebookNode, env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Run ``nb`` top to bottom in a fresh kernel started in this folder (in place).

    Raises ``nbclient.exceptions.CellExecutionError`` at the first failing cell.
    """
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,
    )
    # one output per stream however the kernel flushed it, so re-saving churns less (nbclient >= 0.10.1)
    client.coalesce_streams = True
    client.execute(env=kernel_env() if env is None else env)
    nb.metadata = dict(METADATA)
    return nb


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")]
    for source in sources():
        if wanted and not any(w in source.name for w in wanted):
            continue
        t0 = time.perf_counter()
        nb = read(source)
        target = source.with_suffix(".ipynb")
        try:
            execute(nb)
        finally:  # saved even when a cell fails, to show where
            nbformat.write(nb, target)
        size = target.stat().st_size / 1024
        print(f"{target.name}: {time.perf_counter() - t0:5.1f} s, {size:6.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
