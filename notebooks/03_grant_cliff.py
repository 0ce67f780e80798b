# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The grant cliff: what the district keeps when the temporary money ends
#
# `configs/ngsi_grant_cliff.toml` models a district of six K-8 schools, about 2,900
# pupils, that converts two schools to personalized learning in each of FY2028, FY2029
# and FY2030 (each plans the year before), on temporary money held at the district and
# **passed through** to the schools:
#
# * `ngsi_grant`, a philanthropic implementation grant of **$600K a year for
#   FY2027-FY2029** (a 25% chance of renewal for three more years), pays each school's
#   start-up (devices, PD, space) in launch order, then each school's PL coach;
# * `federal_relief`, one-time federal money in the ESSER pattern, **$2.0M a year for
#   FY2027-FY2029**, pays what the grant left unpaid, then each school's intervention staff.
#
# The positions the money pays are tied to it (`funded_by`). Two tutors per school are on
# term contracts and **end** with the relief money, as most ESSER tutoring contracts did.
# One interventionist per school and the PL coach are **absorbed**: the district keeps
# them on its general budget, as many districts kept ESSER-funded staff they judged core.
#
# When a school runs a deficit, the district answers as districts do, each reduction kept
# in the base: a modest trim (at most a tenth of operations and supplies), a hiring freeze
# (leavers, 10% a year, not replaced), a reduction in force a year after the notice, and a
# planned draw on reserves down to half a month.
#
# The questions:
#
# 1. How much temporary money is there, and how much of it is a cliff? How does that
#    compare with the national ESSER cliff?
# 2. When does the cliff come, and how large is it per pupil?
# 3. How does the response carry it: which levers, how many positions?
# 4. How likely is the district to stay solvent, under each funding scenario?

# %%
import matplotlib.pyplot as plt
import nbsetup  # noqa: F401  (nbsetup.py in this folder: small inline figures, display options)
import numpy as np
import pandas as pd
import xarray as xr

import sustainsim
from sustainsim import plotting

print("sustainsim", sustainsim.__version__)

# %%
spec = sustainsim.load_config("../configs/ngsi_grant_cliff.toml")
print(spec)
ds = sustainsim.simulate(spec)  # the config's 50,000 draws and seed 7
schools = [s.name for s in spec.config.schools]
years = ds.year.values
pupils = ds.enrollment.sel(school=schools).sum("school")
print(f"{ds.sizes['draw']:,} draws, fiscal years {years[0]}-{years[-1]}")

# %% [markdown]
# ## 1. The money, and what of it is a cliff
#
# Three numbers per pupil, in the median draw, year by year:
#
# * **temporary revenue**: the two grants (at the schools once passed through, and what
#   stays central);
# * **grant-funded cost**: the recurring positions the grants pay while they pay;
# * **absorbed cost**: the same positions carried on the general budget once the money
#   has ended (`absorbed_cost`). The tutors are not in it: they end with the money.
#
# The national ESSER figures to set beside them: ESSER paid about **$1,200 a pupil a
# year, about 8.6% of K-12 revenue** at its peak (just under $4,000 a pupil over its
# life; 4-17% of a state's revenue), and much of it paid for staff.

# %%
ESSER_PP, ESSER_SHARE = 1_200, 0.086
revenue = ds.district_revenue
temp = ds.district_temporary_revenue
funded = ds.grant_funded_cost.sel(school=schools).sum("school")
absorbed = ds.absorbed_cost.sel(school=schools).sum("school")
money = pd.DataFrame(
    {
        "temporary revenue [USD/pupil]": (temp / pupils).median("draw"),
        "share of revenue": (temp / revenue).median("draw"),
        "grant-funded positions [USD/pupil]": (funded / pupils).median("draw"),
        "absorbed positions [USD/pupil]": (absorbed / pupils).median("draw"),
        "absorbed, share of revenue": (absorbed / revenue).median("draw"),
    },
    index=pd.Index(years, name="fiscal year"),
)
temp_pp, temp_share = money.loc[2029, ["temporary revenue [USD/pupil]", "share of revenue"]]
absorbed_pp = money.loc[2030, "absorbed positions [USD/pupil]"]
absorbed_share = money.loc[2030, "absorbed, share of revenue"]
money.round(3)

# %%
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
w = 0.27
ax.bar(years - w, money.iloc[:, 0], w, label="temporary revenue", color="#0072B2")
ax.bar(years, money.iloc[:, 2], w, label="grant-funded positions", color="#009E73")
ax.bar(years + w, money.iloc[:, 3], w, label="absorbed positions", color="#D55E00")
ax.axhline(ESSER_PP, color="black", ls="--", lw=1)
ax.annotate("ESSER, national: about $1,200 a pupil a year", (years[0] - 0.4, ESSER_PP + 25))
ax.set_ylabel("USD per pupil (median draw)")
ax.set_ylim(0, 1400)
ax.set_title("Temporary money, the positions it pays, and what the district absorbs")
ax.legend(loc="center right", fontsize="small")
ax.grid(alpha=0.3, axis="y")

# %% [markdown]
# The temporary money is about **$900 a pupil a year, 9% of district revenue**: near
# ESSER's 8.6% share (the district spends less per pupil than the national average, so
# the same share is fewer dollars). But the cliff is smaller than the money. Start-up
# is one-time, and the tutors end with the relief. What the district absorbs in FY2030
# is about **$450 a pupil, under 5% of revenue**: half of the money, and less than half
# of the national ESSER figure per pupil.
#
# ## 2. When the cliff comes, and how large it is
#
# Each school's `cliff_year` is the first year after its last year of temporary money;
# its `cliff_gap` is the recurring cost newly uncovered that year (what the recurring
# revenue and the school's margin do not cover). Without a renewal both grants last pay
# in FY2029. A renewal of the NGSI grant keeps paying the coaches to FY2032; after two
# renewals there is no cliff within the horizon (NaN).

# %%
cliff = ds.cliff_year.sel(school=schools)
cy = pd.Series(cliff.values.ravel()).map(lambda y: f"FY{y:.0f}" if y == y else "none by FY2034")
cliff_share = cy.value_counts(normalize=True).sort_index()
print("cliff year, share of school-draws:")
print(cliff_share.round(3).to_string())

gap = ds.cliff_gap.sel(school=schools).sum("school")  # summed over the schools [USD]
gap_pp = gap / pupils.sel(year=2030)
gap_share = gap / revenue.sel(year=2030)
qs = [0.05, 0.25, 0.5, 0.75, 0.95]
pd.DataFrame(
    {
        "cliff gap [USD/yr]": [plotting.format_usd(v) for v in gap.quantile(qs).values],
        "per pupil [USD/pupil]": [f"{v:,.0f}" for v in gap_pp.quantile(qs).values],
        "share of revenue": [f"{v:.1%}" for v in gap_share.quantile(qs).values],
    },
    index=pd.Index([f"{q:.0%}" for q in qs], name="quantile over draws"),
)

# %%
median_gap_pp, median_gap_share = float(gap_pp.median()), float(gap_share.median())
structural = sustainsim.metrics.structural_gap(ds).sel(school="district")
struct_pp = float(structural.gap_per_pupil.median())
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.hist(gap_pp.values, bins=60, color="#0072B2", alpha=0.7, label="cliff gap (six schools)")
ax.axvline(median_gap_pp, color="#0072B2", ls="--", label=f"median ${median_gap_pp:,.0f}")
ax.axvline(absorbed_pp, color="#D55E00", ls="-", label=f"absorbed positions ${absorbed_pp:,.0f}")
ax.axvline(ESSER_PP, color="black", ls=":", label="ESSER national $1,200")
ax.set_xlabel("recurring cost newly uncovered at the cliff, per pupil [USD/pupil]")
ax.set_ylabel("number of draws")
ax.set_title("The cliff per pupil, beside the ESSER cliff")
ax.legend(fontsize="small")
ax.grid(alpha=0.3)

# %% [markdown]
# The cliff comes in **FY2030** in three draws in four, FY2033 after a renewal in most of
# the rest. The cliff gap, summed over the six schools, is about **$230 a pupil (2.4% of
# revenue)** in the median draw, and up to about $770 in the worst twentieth: a fifth of
# the ESSER figure in the typical future, well under it even in a bad one. It is less than
# what is absorbed because part of the absorbed positions fits in the schools' recurring
# margin. The district-wide structural gap in the cliff year
# (`metrics.structural_gap`: recurring cost less recurring revenue, the central books
# included) is about $300 a pupil in the median draw.
#
# ## 3. The response carries it: attrition first
#
# `cut` splits each year's reductions by lever (a reserve draw reduces no cost: it is the
# deficit the district decides to fund from the balance, down to the floor).

# %%
cut = ds.cut.sel(school=schools).sum("school")
mean_cut = cut.mean("draw").to_pandas()
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
bottom = np.zeros(len(years))
for name in mean_cut.columns:
    ax.bar(years, mean_cut[name] / 1e3, bottom=bottom, label=name)
    bottom += mean_cut[name].values / 1e3
ax.plot(years, ds.required_cut.sel(school=schools).sum("school").mean("draw") / 1e3, "k.--",
        label="required cut")  # fmt: skip
ax.set_ylabel("six schools, mean over draws [$K]")
ax.set_title("The response by lever, year by year")
ax.legend(ncols=3, fontsize="small")
ax.grid(alpha=0.3)

total = cut.sum("year")
lever_table = pd.DataFrame(
    {
        "eight-year total, mean draw [$K]": total.mean("draw").to_pandas() / 1e3,
        "share of the cuts": total.mean("draw").to_pandas() / float(total.sum("lever").mean()),
        "share of draws using it": (total > 1).mean("draw").to_pandas(),
    }
)
lever_table.round(3)

# %% [markdown]
# **Attrition carries the cliff.** The hiring freeze makes about 86% of the cuts over the
# eight years and the trims about 13%; a reduction in force is needed in about one draw in
# seven, and a planned draw on reserves in about a third, both small. The cuts begin
# before the cliff (the small schools run deficits while they convert) and jump the year
# after it, when last year's deficit is read.
#
# The freeze is positions not refilled. `positions` (with `lines=True`) counts the FTE of
# each staff line after the response; here on 10,000 of the same draws.

# %%
dl = sustainsim.simulate(spec, draws=10_000, lines=True)
pos = dl.positions.sel(school=schools).sum("school")
groups = {
    "teachers": ["teachers"],
    "specialists": ["specialists"],
    "interventionists (absorbed)": ["interventionists"],
    "tutors (end with relief)": ["intervention_tutors"],
    "PL coaches (absorbed)": ["pl_coaches"],
}
fte = pd.DataFrame(
    {k: pos.sel(cost_line=v).sum("cost_line").median("draw").values for k, v in groups.items()},
    index=pd.Index(years, name="fiscal year"),
)
ax = fte.plot.area(figsize=(8, 4.5), alpha=0.8)
ax.set_ylabel("FTE, six schools (median draw)")
ax.set_title("Positions after the response: tutors end, leavers are not replaced")
ax.legend(fontsize="small", loc="lower left")
ax.grid(alpha=0.3)
lost = fte.loc[2029] - fte.loc[2034]
fte.round(1)

# %% [markdown]
# The twelve tutors go with the relief money in FY2030. The absorbed interventionists and
# coaches stay, and the freeze takes leavers from the teachers and specialists instead:
# in the median draw the schools have about 27 fewer teachers and specialists in FY2034
# than in FY2029 (of about 165), a price paid in class size. Not all of it is the cliff:
# the required cut goes on rising after FY2031 because salaries and health premiums
# outgrow the funding formula, and the same freeze answers both.
#
# ## 4. P(solvent) by year and scenario
#
# The config defines three scenarios besides the plan as written (a 25% chance of
# renewal): `no_renewal`; `renewal_likely` (75%); and `bridge_funding`, no renewal but
# the relief money a year longer (through FY2030). All run on the same draws.

# %%
dss = sustainsim.simulate_scenarios(spec)
p = xr.concat(
    [
        sustainsim.p_solvent(ds).expand_dims(scenario=["as written (25% renewal)"]),
        sustainsim.p_solvent(dss),
    ],
    dim="scenario",
)
ax = plotting.solvency_curve(p, by="scenario", school="district")
(100 * p.probability.sel(school="district", year=[2029, 2030, 2032, 2034]).to_pandas()).round(1)

# %%
cmp = sustainsim.analysis.compare(dss, "no_renewal").sel(school="district", year=2034)
(
    100
    * cmp[["a", "b", "difference", "lower", "upper", "se_paired"]]
    .to_dataframe()
    .drop(columns=["school", "year"], errors="ignore")
).round(1).add_suffix(" [%]")

# %%
by_school = (100 * p.probability.sel(scenario="as written (25% renewal)", year=2034)).to_series()
nd = sustainsim.p_no_operating_deficit(ds).probability.sel(school="district").to_series()
print("P(solvent through FY2034), %:")
print(by_school.round(1).to_string())
print("\nP(no operating deficit in the year), district, %:")
print((100 * nd).round(1).to_string())

# %% [markdown]
# The district stays solvent while the money flows (over 99% through FY2029) and in
# about **85%** of futures through FY2034. The cliff year shows in the operating
# results: P(no operating deficit) falls from about 70% in FY2029 to under 20% in FY2030,
# and recovers to about half once the response has acted. A likely renewal adds about 3.5
# points through FY2034 and a year of bridge money under one, both beyond Monte Carlo
# noise (the paired intervals are narrow); neither makes much difference, because the
# cliff is what the district absorbed, not the money it lost: one-time money moves the
# cliff, it does not close a recurring gap.
#
# The schools' own books fare worse than the district's (P(solvent through FY2034) from
# about a third at baker, the smallest school with the largest fixed costs, to about
# 70% at carver): the central books hold the relief money left unspent and the reserve.
#
# For the finance office the lesson: the size of the cliff is a decision made when the
# money arrives, by which positions are tied to it and which are absorbed. Here the district
# absorbs half of what the money paid and carries it by attrition. What it would take to
# reach 90% is the subject of `07_what_it_would_take`.

# %% [markdown]
# ## Checks
#
# The claims made above, as assertions. The test suite runs this notebook from a fresh
# kernel; if a change to a config or to the library makes the story untrue, this cell fails.

# %%
# 1. the money and what is absorbed, beside ESSER
assert 800 < temp_pp < 1_000 and 0.08 < temp_share < 0.10, "about $900 a pupil, 9% of revenue"
assert abs(temp_share - ESSER_SHARE) < 0.015 and temp_pp < ESSER_PP
assert 400 < absorbed_pp < 500 and absorbed_share < 0.05, "about $450 a pupil, under 5%"
assert absorbed_pp < 0.55 * temp_pp and absorbed_pp < 0.5 * ESSER_PP
assert money.loc[2027:2029, "absorbed positions [USD/pupil]"].eq(0).all()
# 2. the cliff
assert cliff_share["FY2030"] > 0.7 and cliff_share.idxmax() == "FY2030"
assert cliff_share.drop("FY2030").idxmax() == "FY2033"
assert 180 < median_gap_pp < 280 and 0.02 < median_gap_share < 0.03
assert 650 < float(gap_pp.quantile(0.95)) < 900 and float(gap_pp.quantile(0.95)) < ESSER_PP
assert median_gap_pp < absorbed_pp and 250 < struct_pp < 350
# 3. the response
share = lever_table["share of the cuts"]
used = lever_table["share of draws using it"]
assert 0.8 < share["freeze"] < 0.9 and 0.1 < share["trim"] < 0.16
assert 0.1 < used["rif"] < 0.2 and 0.25 < used["reserves"] < 0.45
assert share["rif"] < 0.02 and share["reserves"] < 0.02
assert mean_cut.sum(axis=1).loc[2031] > 2 * mean_cut.sum(axis=1).loc[2030] > 0
assert (
    fte.loc[2029, "tutors (end with relief)"] == 12
    and fte.loc[2030:, "tutors (end with relief)"].eq(0).all()
)
assert fte.loc[2030:, "PL coaches (absorbed)"].eq(6).all()
assert 22 < lost["teachers"] + lost["specialists"] < 32
assert 150 < fte.loc[2029, ["teachers", "specialists"]].sum() < 180
assert mean_cut.sum(axis=1).diff().loc[2032:].gt(0).all(), "the required cut goes on rising"
# 4. P(solvent)
pdist = p.probability.sel(school="district")
assert (pdist.sel(year=2029) > 0.99).all(), "solvent while the money flows"
assert 0.83 < float(pdist.sel(scenario="as written (25% renewal)", year=2034)) < 0.88
assert (cmp.lower > 0).all(), "renewal and bridge help, beyond Monte Carlo noise"
assert 0.025 < float(cmp.difference.sel(scenario="renewal_likely")) < 0.045
assert 0 < float(cmp.difference.sel(scenario="bridge_funding")) < 0.01
assert nd.loc[2029] > 0.65 and nd.loc[2030] < 0.2 and 0.4 < nd.loc[2034] < 0.6
schools_only = by_school.drop("district")
assert schools_only.idxmin() == "baker" and schools_only.min() < 40
assert 60 < schools_only.max() < 75
assert (by_school.drop("district") < by_school["district"]).all()
print("all checks passed")
