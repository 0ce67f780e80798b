"""Setup shared by the example notebooks; each imports it in its first cell.

``import nbsetup`` shows figures inline at 85 dpi (so the saved notebooks stay small),
prints xarray objects as text 100 characters wide and pandas numbers to 3 digits, and
imports sustainsim once without the note tqdm makes when ipywidgets is missing (no matter
here). Import it before ``sustainsim``.
"""

import warnings

import matplotlib.pyplot as plt
import pandas as pd
import xarray as xr

try:
    from IPython import get_ipython
except ImportError:  # plain Python: no inline figures to set up
    pass
else:
    if (shell := get_ipython()) is not None:
        shell.run_line_magic("matplotlib", "inline")

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    import sustainsim  # noqa: F401

plt.rcParams.update({"figure.dpi": 85, "savefig.dpi": 85})
xr.set_options(display_style="text", display_width=100)
pd.set_option("display.precision", 3)
