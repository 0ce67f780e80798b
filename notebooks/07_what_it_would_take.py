# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What would it take to stay solvent through the cliff with 90% probability?
#
# `03_grant_cliff` showed the district of `configs/ngsi_grant_cliff.toml` staying solvent
# through FY2034 in about 85% of futures: its grants end in FY2029, it absorbs an
# interventionist and a PL coach per school, and it carries them by attrition. A board
# asks for more assurance: **what would it take to reach 90%?**
#
# Three tools answer it, each on common random numbers (every option runs on the same
# draws as the plan, so differences are paired and their standard errors small):
#
# 1. **Levers** (`[levers.NAME]` in the config, `analysis.levers`): decisions the board
#    controls, each at its candidate values, ranked by their effect on P(solvent through
#    FY2034), P(no operating deficit) and the median ending balance.
# 2. **Break-evens** (`analysis.break_even`): the value of one decision or input at which
#    P(solvent) crosses 90%, found by bisection, with an interval.
# 3. **What must be true** (`analysis.what_must_be_true`): for each uncertain input, the
#    value it must not pass for the plan to meet 90%, beside its assumed distribution and
#    the chance that it turns out worse.

# %%
import matplotlib.pyplot as plt
import nbsetup  # noqa: F401  (nbsetup.py in this folder: small inline figures, display options)
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

import sustainsim
from sustainsim import analysis
from sustainsim.run.grid import sweep

print("sustainsim", sustainsim.__version__)

# %%
spec = sustainsim.load_config("../configs/ngsi_grant_cliff.toml")
TARGET, DRAWS = 0.9, 20_000
for name, lever in spec.config.levers.items():
    print(f"{name:20s} {lever.path} = {lever.candidates()}\n{'':20s} {lever.label}")

# %% [markdown]
# ## 1. The levers, ranked
#
# Each lever is a config path and the values a board might choose: let the PL coaches end
# with the grant instead of absorbing them; absorb half an interventionist per school, or
# none; larger teams in the personalized model (27 or 28 pupils per teacher, 26 as
# written); a different floor for the planned draw on reserves; deeper trims; a recurring
# local appropriation or levy of $250K or $500K a year to the schools; the last school
# converting two years later. 20,000 draws.

# %%
ranked = analysis.levers(spec, draws=DRAWS)
base_p = ranked.attrs["base_p_solvent"]
need = TARGET - base_p
table = ranked[
    ["p_solvent", "p_solvent_effect", "p_solvent_se", "p_solvent_se_unpaired",
     "p_no_operating_deficit_effect", "median_final_balance_effect"]
].to_dataframe()  # fmt: skip
table["reaches 90%"] = table.p_solvent >= TARGET
print(f"plan as written: P(solvent through FY2034) = {base_p:.1%}; 90% needs {need:+.1%}")
table.round(4)

# %%
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
y = np.arange(len(table))[::-1]
colors = np.where(table["reaches 90%"], "#009E73", "#999999")
ax.barh(y, table.p_solvent_effect, xerr=1.96 * table.p_solvent_se, color=colors, capsize=3)
ax.axvline(need, color="#B00000", ls="--", label=f"needed for 90%: {need:+.1%}")
ax.set_yticks(y, table.index)
ax.xaxis.set_major_formatter(PercentFormatter(1, decimals=0))
ax.set_xlabel("change in P(district solvent through FY2034), with 95% paired interval")
ax.set_title("Each lever alone, on the same 20,000 draws")
ax.legend(loc="lower right")
ax.grid(alpha=0.3, axis="x")

# %% [markdown]
# Four single decisions reach 90% on their own: **absorb no interventionists, larger
# teams of 28, a $500K local appropriation, or letting the coaches end with the grant**.
# Two half-measures, teams of 27 and half an interventionist per school, land on the
# line (within a point of 90%); a $250K appropriation falls short. The last school
# waiting two years helps little (under two points): it delays a coach and a start-up,
# not the cliff. Deeper trims help less than a point. The reserve floor changes nothing:
# the planned draw on reserves is the last lever, so its floor only decides how much of a
# shortfall is called unmet, not how much is spent.
#
# The paired standard errors are 1.5 to 7 times smaller than the unpaired ones would be:
# on common draws the ranking reflects the decision, not the noise.

# %%
ratio = (table.p_solvent_se_unpaired / table.p_solvent_se).where(table.p_solvent_effect > 0)
print(f"unpaired / paired standard error: {ratio.min():.1f}x to {ratio.max():.1f}x")

# %% [markdown]
# Half-measures together: two levers at once (`pairs=True`), here the interventionists
# and the appropriation.

# %%
both = analysis.levers(spec, ["interventionists", "local_appropriation"], pairs=True, draws=DRAWS)
pairs = both.where(both.lever == "interventionists & local_appropriation", drop=True)
pair_table = pairs[["p_solvent", "p_solvent_effect", "p_solvent_se"]].to_dataframe()
half = float(pairs.p_solvent.sel(option="interventionists=0.5 & local_appropriation=250000"))
pair_table.round(4)

# %% [markdown]
# Half an interventionist per school and a $250K appropriation together reach 90%.
#
# ## 2. Break-evens: how much, exactly?
#
# `break_even` bisects on common draws for the value at which P(solvent through FY2034)
# crosses 90%; its interval brackets the values where the target is met with confidence
# (the Wilson lower bound of P) and where it cannot be ruled out (the upper bound).

# %%
searches = {
    "local appropriation [USD/yr]": ("district.revenue.local_appropriation.amount", 0, 800_000, 2_000),
    "interventionists absorbed per school": ("models.personalized.cost.interventionists.positions", 0, 1, 0.01),
    "pupils per personalized teacher": ("models.personalized.cost.teachers.students_per_position", 26, 30, 0.05),
    "mean funding growth [1/yr]": ("district.growth.funding.rate.mean", 0.02, 0.05, 0.0002),
}  # fmt: skip
rows = {}
for label, (path, lo, hi, tol) in searches.items():
    be = analysis.break_even(spec, path, TARGET, low=lo, high=hi, draws=DRAWS, tol=tol)
    rows[label] = {
        "break-even": float(be.value),
        "lower": float(be.lower),
        "upper": float(be.upper),
        "as written": {"local appropriation [USD/yr]": 0, "interventionists absorbed per school": 1,
                       "pupils per personalized teacher": 26,
                       "mean funding growth [1/yr]": 0.03}[label],
        "direction": be.attrs["direction"],
        "evaluations": be.attrs["evaluations"],
    }  # fmt: skip
breakeven = pd.DataFrame(rows).T
breakeven

# %%
amounts = [0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000]
APP = "district.revenue.local_appropriation.amount"
res = sweep(spec, {APP: amounts}, draws=DRAWS)
curve = res.sel(school="district", year=2034)
be_app = breakeven.loc["local appropriation [USD/yr]"]
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.fill_between(np.array(amounts) / 1e3, curve.lower, curve.upper, alpha=0.25, color="#0072B2")
ax.plot(np.array(amounts) / 1e3, curve.probability, "o-", color="#0072B2", label="P(solvent)")
ax.axhline(TARGET, color="black", lw=1)
ax.axvspan(be_app.lower / 1e3, be_app.upper / 1e3, color="#B00000", alpha=0.15)
ax.axvline(be_app["break-even"] / 1e3, color="#B00000", ls="--",
           label=f"break-even ${be_app['break-even'] / 1e3:,.0f}K a year")  # fmt: skip
ax.set_xlabel("recurring local appropriation to the schools [$K a year]")
ax.set_ylabel("P(district solvent through FY2034)")
ax.yaxis.set_major_formatter(PercentFormatter(1, decimals=0))
ax.set_title("How much recurring money reaches 90%, on 20,000 common draws")
ax.legend(loc="lower right")
ax.grid(alpha=0.3)

# %% [markdown]
# **About $300K a year** of recurring local money (an appropriation or a levy, some $100
# a pupil) lifts the district to 90%; the interval runs from about $270K to $340K. The
# equivalent staffing decisions: absorb at most about half an interventionist per school
# (instead of one), or staff the personalized teams at about 27 pupils per teacher
# (instead of 26). Or the world could help: mean funding growth of about 3.3% a year
# instead of the assumed 3% would do it, which no board controls.
#
# ## 3. What must be true
#
# For each uncertain input in turn, `what_must_be_true` fixes it at a value (the others
# stay random), finds the break-even within its assumed range, and gives the probability
# that the input turns out worse. Here for the plan with the half-measures of section 1
# (half an interventionist per school and $250K a year), which meets 90%: what would
# have to go wrong for it to miss? 5,000 draws.

# %%
plan = spec.with_overrides(
    {"models.personalized.cost.interventionists.positions": 0.5, APP: 250_000}
)
wmbt = analysis.what_must_be_true(plan, TARGET, draws=5_000)
wmbt[["assumed", "median", "break_even", "lower", "upper", "direction", "p_worse", "note"]]

# %% [markdown]
# The table is sorted by `p_worse`, the likeliest threat first. For the amended plan to
# keep 90%, **funding must grow at least about 2.3% a year** (held every year; a single
# year's rate is worse than that with probability 0.37, but the mean over eight years
# only about one time in six, since the sd of an eight-year mean is 0.02 / sqrt(8)),
# **health premiums at most about 6.2% a year**, **salaries at most about 3.1% a year**
# (each about one chance in five of being worse), and **a recession cut no deeper than
# about 6.8%** (about one in six). Cuts in normal years never sink it alone across their
# assumed range (the note says so).
#
# For the board, in one sentence: to stay solvent through the cliff with 90% probability
# the district must either bring about $300K a year of recurring money, or absorb about
# half of the positions it now plans to keep, or combine the two at half strength; and it
# should watch the funding formula, health premiums and salary settlements, each of which
# has about a one-in-five chance of undoing the amended plan.

# %% [markdown]
# ## Checks
#
# The claims made above, as assertions. The test suite runs this notebook from a fresh
# kernel; if a change to a config or to the library makes the story untrue, this cell fails.

# %%
# 1. levers
reach = set(table.index[table["reaches 90%"]])
assert 0.82 < base_p < 0.88 and need > 0
assert reach == {
    "interventionists=0",
    "class_size=28",
    "local_appropriation=500000",
    "coaches_end='end'",
}
for opt in ("class_size=27", "interventionists=0.5"):
    assert abs(table.p_solvent[opt] - TARGET) < 0.01, opt
assert 0 < table.p_solvent_effect["local_appropriation=250000"] < need
assert 0 < table.p_solvent_effect["fuller_waits=6"] < 0.03
assert 0 < table.p_solvent_effect["deeper_trims=0.25"] < 0.01
assert (table.p_solvent_effect[["reserve_floor=0", "reserve_floor=1"]] == 0).all()
assert (table.p_solvent_effect - 1.96 * table.p_solvent_se)[sorted(reach)].gt(0).all()
assert 1.4 < ratio.min() and ratio.max() > 5
assert half >= TARGET
# 2. break-evens
app = breakeven.loc["local appropriation [USD/yr]"]
assert 270_000 < app["break-even"] < 340_000 and app.lower < app["break-even"] < app.upper
assert 250_000 < app.lower and app.upper < 370_000
assert 0.35 < breakeven.loc["interventionists absorbed per school", "break-even"] < 0.65
assert 26.8 < breakeven.loc["pupils per personalized teacher", "break-even"] < 27.3
assert 0.031 < breakeven.loc["mean funding growth [1/yr]", "break-even"] < 0.035
assert float(curve.probability.diff("district.revenue.local_appropriation.amount").min()) > 0
# 3. what must be true
w = wmbt.break_even
assert wmbt.index[0] == "district.growth.funding.rate" and 0.3 < wmbt.p_worse.iloc[0] < 0.45
assert 0.021 < w["district.growth.funding.rate"] < 0.025
assert 0.058 < w["district.growth.health.rate"] < 0.066
assert 0.029 < w["district.growth.salary"] < 0.033
assert 0.064 < w["district.cuts.regime.recession.magnitude"] < 0.072
five = wmbt.p_worse.drop("district.growth.funding.rate").dropna()
assert five.between(0.14, 0.26).all() and len(five) == 3
assert np.isnan(w["district.cuts.regime.normal.magnitude"])
assert "meets the target" in wmbt.note["district.cuts.regime.normal.magnitude"]
print("all checks passed")
