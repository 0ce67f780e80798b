"""Parameters from history, and how good the forecasts made with them were.

``panel`` (reading entity-year tables), ``finance`` (district revenue, expenditure and
fund balance from history, back-tested in ``finance_backtest``), ``loggrowth`` (the
two-stage REML fit of log growth),
``tails`` (Student-t innovations, entity volatilities, openings and closures), ``fit``
(enrollment and growth drivers as config fragments), ``cohort`` (cohort survival from
by-grade data), ``distfit`` (choosing a distribution), ``backtest``, ``scores``,
``baseline`` and ``evaluate`` (rolling-origin forecasts scored against outcomes and an
empirical-quantile baseline; ``evaluate.backtest`` is the entry point of ``sustainsim
backtest``, not exported here as it would hide the ``backtest`` module).
"""

from sustainsim.calibration.backtest import backtest_enrollment
from sustainsim.calibration.cohort import fit_cohort
from sustainsim.calibration.distfit import fit_distribution
from sustainsim.calibration.evaluate import backtest_summary
from sustainsim.calibration.finance import fit_finance
from sustainsim.calibration.fit import fit_enrollment, fit_growth
from sustainsim.calibration.panel import read_panel

__all__ = [
    "backtest_enrollment",
    "backtest_summary",
    "fit_cohort",
    "fit_distribution",
    "fit_enrollment",
    "fit_finance",
    "fit_growth",
    "read_panel",
]
