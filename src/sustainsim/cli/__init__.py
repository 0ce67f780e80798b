"""The ``sustainsim`` command: one module per subcommand, thin shells over the Python API."""

from sustainsim.cli.main import console, main

__all__ = ["console", "main"]
