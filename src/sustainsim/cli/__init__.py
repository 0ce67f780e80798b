"""The ``sustainsim`` command: one module per subcommand, thin shells over the Python API."""

from sustainsim.cli.main import main

__all__ = ["main"]
