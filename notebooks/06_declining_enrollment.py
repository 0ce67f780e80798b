# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Declining enrollment: who carries the cuts when a school shrinks?
#
# `configs/declining_enrollment.toml` models one K-5 school, Lincoln, losing about 4% of
# its pupils a year. Its revenue follows pupils (a per-pupil formula on last year's
# count). Its cost follows them only in steps: homeroom teachers come in whole sections
# per grade (at most 25 pupils; a grade under 15 is combined into a multi-age room), and
# the building, the office and the specialists stay.
#
# When the school runs an operating deficit, the district answers the following year
# the way a finance office does. It uses four levers, in order, and keeps each reduction
# in the base until the balance is back above the two-month reserve:
#
# 1. **trim** supplies, PD and discretionary money, at most a quarter of them;
# 2. **freeze** hiring: leavers (10% of teachers and specialists a year) are not replaced;
# 3. a **reduction in force** (RIF), effective a year after the notice, saving the
#    positions' entry pay; the office and leadership are protected;
# 4. a planned **draw on reserves**, down to one month of expenditure.
#
# What no lever covers is the unmet gap. The questions:
#
# 1. Which levers carry the cuts?
# 2. How many positions go, and how: fewer sections, attrition or layoffs?
# 3. Two metrics that are easy to confuse: P(no operating deficit in the year) and
#    P(solvent), the chance that the fund balance stays at or above zero.

# %%
import matplotlib.pyplot as plt
import nbsetup  # noqa: F401  (nbsetup.py in this folder: small inline figures, display options)
import numpy as np
import pandas as pd

import sustainsim
from sustainsim import plotting
from sustainsim.metrics import deficit

print("sustainsim", sustainsim.__version__)

# %%
spec = sustainsim.load_config("../configs/declining_enrollment.toml")
print(spec)
ds = sustainsim.simulate(spec, lines=True)  # the config's 50,000 draws and seed 44
school = "lincoln_k5"
x = ds.sel(school=school)
years = x.year.values
print(f"{ds.sizes['draw']:,} draws, fiscal years {years[0]}-{years[-1]}")

# %% [markdown]
# ## The squeeze
#
# The central case sets every input at its median. It shows the mechanism: enrollment
# falls 4% a year, and cost per pupil climbs faster than revenue per pupil.

# %%
central = sustainsim.central_case(spec).isel(draw=0).sel(school=school)
table = pd.DataFrame(
    {
        "enrollment": central.enrollment.values,
        "revenue per pupil": (central.revenue / central.enrollment).values,
        "cost per pupil": (central.cost / central.enrollment).values,
        "surplus [$K]": central.surplus.values / 1e3,
        "fund balance [$K]": central.fund_balance.values / 1e3,
    },
    index=pd.Index(years, name="fiscal year"),
)
table.round(0)

# %%
ax = plotting.fan_chart(ds, "fund_balance", school=school)
ax.axhline(0, color="black", lw=1)
ax.set_title("Lincoln K-5: fund balance, with the response on")
negative_from = int(years[np.argmax(central.fund_balance.values < 0)])
print(f"central case: the balance turns negative in FY{negative_from}")

# %% [markdown]
# ## 1. Which levers carry the cuts?
#
# `required_cut` is the reduction the response needs in the year: the reductions already
# in force plus last year's deficit (less what it gives back). `cut` splits it by lever.
# A reserve draw reduces no cost: it is the deficit the district decides to fund from the
# balance, down to the floor. `unmet_gap` is what remains.

# %%
cut = x.cut.mean("draw").to_pandas()  # mean over draws, by year and lever [USD]
cut["unmet gap"] = x.unmet_gap.mean("draw").values
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
bottom = np.zeros(len(years))
for name in cut.columns:
    ax.bar(years, cut[name] / 1e3, bottom=bottom, label=name)
    bottom += cut[name].values / 1e3
ax.plot(years, x.required_cut.mean("draw") / 1e3, "k.--", label="required cut")
ax.set_ylabel("mean over draws [$K]")
ax.set_title("The response by lever, year by year")
ax.legend(ncols=3, fontsize="small")
ax.grid(alpha=0.3)

total = x.cut.sum("year").mean("draw").to_pandas()
required_total = float(x.required_cut.sum("year").mean("draw"))
used = (x.cut > 1).any("year").mean("draw").to_pandas()
levers = pd.DataFrame(
    {
        "ten-year total, mean draw [$K]": total / 1e3,
        "share of the required cut": total / required_total,
        "share of draws using it": used,
    }
)
levers.round(3)

# %% [markdown]
# **Attrition carries the cuts.** The hiring freeze makes about 86% of them ($4.0M of
# the $4.6M required over ten years in the mean draw) and the trims about 11%. A
# reduction in force is needed in about a quarter of the draws, and a planned draw on
# reserves in about a tenth; both are small. With 10% of staff leaving each year, the
# freeze can shed positions faster than the school loses pupils. The layoff notice
# rarely has to be sent.
#
# ## 2. How many positions go, and how?
#
# `positions` counts staff FTE by line after the response. To split the loss, run the
# same draws once more with the response off. The enrollment draws are the same (every
# input has its own stream), so the staffing rules give the same positions. The
# difference is what the freeze and the RIF took. The two reducible lines (homeroom
# teachers and specialists) have the same pay, so both levers save the same entry pay
# per FTE, and their dollars split the FTE.

# %%
off = spec.with_overrides({"district.response": None})
ds_off = sustainsim.simulate(off, lines=True)
before = ds_off.positions.sel(school=school).sum("cost_line")  # staffing rules only
after = x.positions.sum("cost_line")
lost = before - after  # taken by the response
staff_dollars = x.cut.sel(lever=["freeze", "rif"]).sum("lever")
share_freeze = (x.cut.sel(lever="freeze") / staff_dollars).where(staff_dollars > 0, 0.0)
by_rule = before.isel(year=0) - before  # fewer sections (since FY2027) as grades shrink
by_freeze, by_rif = lost * share_freeze, lost * (1 - share_freeze)

fte = pd.DataFrame(
    {
        "staffed by the rules": before.mean("draw").values,
        "after the response": after.mean("draw").values,
        "fewer sections": by_rule.mean("draw").values,
        "freeze (attrition)": by_freeze.mean("draw").values,
        "reduction in force": by_rif.mean("draw").values,
    },
    index=pd.Index(years, name="fiscal year (mean over draws, FTE)"),
)
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
ax.stackplot(
    years,
    fte["after the response"],
    fte["freeze (attrition)"],
    fte["reduction in force"],
    labels=["positions kept", "lost to the freeze (attrition)", "lost to a reduction in force"],
    alpha=0.8,
)
ax.plot(years, fte["staffed by the rules"], "k--", label="what the staffing rules would keep")
ax.set_ylabel("FTE, mean over draws")
ax.set_title("Positions: kept, and lost to attrition or layoffs")
ax.legend(fontsize="small", loc="lower left")
ax.grid(alpha=0.3)
fte.round(2)

# %%
median_lines = x.positions.sel(year=[years[0], years[-1]]).median("draw").to_pandas().T
median_lines = median_lines.loc[median_lines.sum(axis=1) > 0]
median_lines.columns = [f"FY{y}" for y in median_lines.columns]
median_lines.round(1)

# %% [markdown]
# The median draw ends FY2036 with about half of its 24 homeroom positions and about
# 4.7 of its 7 specialists; the office keeps its four. By FY2036 the mean draw has lost
# about 14 FTE since FY2027: about 6 because the staffing rules ask for fewer sections
# as the grades shrink, about 8 to the freeze, and less than a tenth of one to layoffs.
# So the freeze takes more than the shrinking sections do. In the model a frozen
# homeroom post is simply saved; a real district would merge sections, so classes grow
# above the cap of 25 (a caveat on what the freeze means for pupils).
#
# ## 3. Two words, two metrics
#
# A finance office's "deficit" is an operating shortfall: revenue below cost in a year.
# A negative fund balance is another matter: it means the reserves are gone. The
# response acts on the first, so the two tell different stories here.

# %%
p_solvent = sustainsim.p_solvent(ds).probability.sel(school=school)
p_no_deficit = deficit.p_no_operating_deficit(ds).probability.sel(school=school)
first = deficit.first_year_summary(deficit.first_deficit_spending_year(ds))[school]
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
ax.plot(years, 100 * p_solvent, "o-", label="P(solvent through the year): balance >= 0")
ax.plot(years, 100 * p_no_deficit, "s-", label="P(no operating deficit in the year)")
ax.set_ylim(0, 102)
ax.set_ylabel("share of draws [%]")
ax.set_title("Lincoln K-5: two metrics, two stories")
ax.legend()
ax.grid(alpha=0.3)
pd.DataFrame(
    {"P(solvent) [%]": 100 * p_solvent.values, "P(no operating deficit) [%]": 100 * p_no_deficit},
    index=pd.Index(years, name="fiscal year"),
).round(1)

# %%
print(
    f"first year of deficit spending: median FY{first['median_year']}, "
    f"in {first['share_of_draws']:.0%} of draws"
)

# %% [markdown]
# Deficits come at once and never go away. The school runs one in FY2028 in about two
# draws in three, and every draw runs one at some point. From FY2032 on only about a
# fifth of the draws balance the year. The fund balance tells a slower story. The
# school is solvent through FY2030 in 97% of the draws, and the reserve absorbs the
# deficits for years. Then P(solvent) falls to about 46% by FY2033 and 11% by FY2036.
#
# Why do deficits persist when the levers cover almost all of the required cut? The
# response closes **last year's** gap, and the school keeps shrinking. Each year brings a
# new loss of pupils and of revenue that this year's cuts were not sized for. The lag
# between the signal and the cut, plus a year's notice before a layoff, is what drains
# the balance. Layoffs and reserves are not what is missing. A district that wants
# Lincoln solvent has to cut ahead of the decline (budget on projected enrollment) or
# close or merge the school.

# %% [markdown]
# ## Checks
#
# The claims above, as assertions (the notebook test runs them).

# %%
shares = total / required_total
assert 0.80 <= shares["freeze"] <= 0.92, shares  # the freeze makes about 86% of the cuts
assert 0.08 <= shares["trim"] <= 0.14, shares  # trims about 11%
assert shares["rif"] < 0.03 and shares["reserves"] < 0.01, shares  # both small
assert 3.8e6 <= total["freeze"] <= 4.2e6 and 4.4e6 <= required_total <= 4.8e6
assert 0.2 <= used["rif"] <= 0.35 and 0.05 <= used["reserves"] <= 0.2, used
assert total["freeze"] == total.max()  # attrition carries the cuts
# the levers cover nearly all of the required cut
assert float(x.unmet_gap.sum("year").mean()) < 0.05 * required_total
# positions: the bookkeeping adds up, and the freeze, not layoffs, takes them
staff = ["homeroom_teachers", "specialists", "office_and_leadership"]
saved = (ds_off.cost_lines.sel(school=school) - x.cost_lines).sel(cost_line=staff).sum("cost_line")
np.testing.assert_allclose(saved, staff_dollars, rtol=1e-9, atol=1e-3)
np.testing.assert_array_equal(ds_off.enrollment.values, ds.enrollment.values)
homeroom, specialists = (
    spec.config.schools[0].cost[i].model_dump(include={"salary", "step_rate", "benefits_rate"})
    for i in (0, 1)
)
assert homeroom == specialists  # the same entry pay per FTE: dollars split the FTE
assert np.all(lost.values >= -1e-9)
assert float(by_freeze.isel(year=-1).mean()) > 5 * float(by_rif.isel(year=-1).mean())
assert 7 <= float(by_freeze.isel(year=-1).mean()) <= 9  # about 8 FTE to the freeze
assert 5 <= float(by_rule.isel(year=-1).mean()) <= 7  # about 6 to fewer sections
assert float(by_rif.isel(year=-1).mean()) < 0.1  # less than a tenth of one to layoffs
assert 13 <= float((before.isel(year=0) - after).isel(year=-1).mean()) <= 15
assert 11 <= median_lines.loc["homeroom_teachers", f"FY{years[-1]}"] <= 13
assert 4.0 <= median_lines.loc["specialists", f"FY{years[-1]}"] <= 5.5
assert median_lines.loc["office_and_leadership", f"FY{years[-1]}"] == 4
assert median_lines.loc["homeroom_teachers", f"FY{years[0]}"] == 24
# the two metrics
p_s, p_n = p_solvent.to_series(), p_no_deficit.to_series()
assert p_n[2027] > 0.9 and 0.5 <= 1 - p_n[2028] <= 0.75  # a deficit in FY2028 in ~2 of 3
assert all(0.15 <= p_n[y] <= 0.25 for y in range(2032, 2037))  # about a fifth balance
assert first["share_of_draws"] == 1.0 and first["median_year"] == 2028
assert p_s[2030] >= 0.96 and 0.40 <= p_s[2033] <= 0.52 and 0.08 <= p_s[2036] <= 0.14
assert np.all(np.diff(p_s.values) <= 0)
assert negative_from == 2035
# cost per pupil climbs faster than revenue per pupil
cpp, rpp = table["cost per pupil"], table["revenue per pupil"]
assert cpp.iloc[-1] / cpp.iloc[0] > rpp.iloc[-1] / rpp.iloc[0]
print("all checks passed")
