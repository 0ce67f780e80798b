"""Parameters from history, and how good the forecasts made with them were.

``panel`` (reading entity-year tables), ``loggrowth`` (the two-stage REML fit of log growth),
``fit`` (enrollment and growth drivers as config fragments), ``distfit`` (choosing a
distribution) and ``backtest`` (rolling-origin forecasts scored against outcomes).
"""

from sustainsim.calibration.backtest import backtest_enrollment
from sustainsim.calibration.distfit import fit_distribution
from sustainsim.calibration.fit import fit_enrollment, fit_growth
from sustainsim.calibration.panel import read_panel

__all__ = ["backtest_enrollment", "fit_distribution", "fit_enrollment", "fit_growth", "read_panel"]
