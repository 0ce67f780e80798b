"""Dataset in, DataArray or Dataset out: the sustainability criteria and their probabilities.

``solvency`` (P(solvent through t): the fund balance >= 0, with Wilson intervals,
quantiles), ``deficit`` (operating deficits: P(no operating deficit in year t), the first
year of deficit spending; the first negative balance),
``criteria`` (reserve compliance, structural balance, the grant-cliff gap), ``startup``
(the seed study's start-up and recurring-IT shares), ``views`` (real dollars, per
pupil, reserve months and days of cash on hand) and ``levy`` (P(a levy fails and is not
replaced within k tries)).
"""

from sustainsim.metrics.criteria import (
    p_reserve_compliant,
    p_structurally_balanced,
    recurring,
    reserve_base,
    reserve_compliant,
    reserve_requirement,
    structural_gap,
    structurally_balanced,
)
from sustainsim.metrics.deficit import (
    first_deficit_spending_year,
    first_negative_balance_year,
    first_year_summary,
    median_first_year,
    no_deficit_spending,
    operating_deficit,
    p_no_deficit_spending,
    p_no_operating_deficit,
)
from sustainsim.metrics.levy import levy_attempts, levy_lapse, levy_names, p_levy_lapse
from sustainsim.metrics.solvency import (
    DEFAULT_QUANTILES,
    DISTRICT,
    balance_quantiles,
    count_true,
    entity_balance,
    expected_shortfall,
    first_deficit_distribution,
    first_deficit_year,
    first_year_distribution,
    p_solvent,
    probability,
    solvent,
    summary,
    wilson_interval,
    worst_balance,
)
from sustainsim.metrics.startup import seed_study
from sustainsim.metrics.views import (
    days_cash_on_hand,
    dollar_variables,
    per_pupil,
    real_dollars,
    reserve_months,
)

__all__ = [
    "DEFAULT_QUANTILES",
    "DISTRICT",
    "balance_quantiles",
    "count_true",
    "days_cash_on_hand",
    "dollar_variables",
    "entity_balance",
    "expected_shortfall",
    "first_deficit_distribution",
    "first_deficit_spending_year",
    "first_deficit_year",
    "first_negative_balance_year",
    "first_year_distribution",
    "first_year_summary",
    "levy_attempts",
    "levy_lapse",
    "levy_names",
    "median_first_year",
    "no_deficit_spending",
    "operating_deficit",
    "p_no_deficit_spending",
    "p_no_operating_deficit",
    "p_levy_lapse",
    "p_reserve_compliant",
    "p_solvent",
    "p_structurally_balanced",
    "per_pupil",
    "probability",
    "real_dollars",
    "recurring",
    "reserve_base",
    "reserve_compliant",
    "reserve_months",
    "reserve_requirement",
    "seed_study",
    "solvent",
    "structural_gap",
    "structurally_balanced",
    "summary",
    "wilson_interval",
    "worst_balance",
]
