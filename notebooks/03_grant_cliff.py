# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The grant cliff: what happens when the temporary money ends?
#
# `configs/ngsi_grant_cliff.toml` models a mid-sized district of six K-8 schools, about
# 2,900 pupils. It converts two schools to personalized learning in each of FY2028,
# FY2029 and FY2030 (each plans the year before), on temporary money:
#
# * a philanthropic implementation grant of **$600K a year for FY2027-FY2029**, with a
#   25% chance of being renewed for another three years;
# * one-time federal relief of **$1.5M a year for FY2027-FY2028**, the ESSER-style
#   "fiscal cliff" (ESSER was 5-11% of state K-12 revenue and lapsed in 2024-25).
#
# The grants pay for a central PL team (five coaches and a manager, kept after the
# money ends) and the schools' start-up. State cuts cluster in bad years: the economy
# switches between normal years and recessions (about one year in four in the long
# run, lasting two years on average). A cut is likely in a recession year (50%) and rare
# otherwise (5%), and cuts recover a fifth a year. Salaries, health premiums and
# per-pupil funding all grow at uncertain rates.
#
# The questions, for the district as a whole (the six schools plus the central budget):
#
# 1. How big is the **structural gap** when the temporary money ends?
# 2. How likely is the district to stay solvent, year by year, under each funding
#    scenario?
# 3. What renewal probability, or how much bridge funding, would close the gap?
# 4. Which futures fail? (scenario discovery with PRIM)

# %%
import matplotlib.pyplot as plt
import nbsetup  # noqa: F401  (nbsetup.py in this folder: small inline figures, display options)
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.ticker import PercentFormatter

import sustainsim
from sustainsim import plotting

print("sustainsim", sustainsim.__version__)

# %%
spec = sustainsim.load_config("../configs/ngsi_grant_cliff.toml")
print(spec)
ds = sustainsim.simulate(spec, draws=40_000)
print(f"{ds.sizes['draw']:,} draws, fiscal years {int(ds.year[0])}-{int(ds.year[-1])}")

# %% [markdown]
# ## 1. The structural gap
#
# `structural_gap` looks at the **cliff year**, the first fiscal year with no temporary
# money left. In that year it compares recurring cost (all cost but one-time start-up
# spending) with recurring revenue (all revenue but grants). A positive gap is a hole the
# district must fill every year from then on, by cutting recurring cost or finding
# recurring revenue. It is reported in dollars and per pupil, by draw.
#
# The cliff year itself is random. With no renewal the grant last pays in FY2029, so the
# cliff is FY2030. A renewal moves it to FY2033. After two renewals the grant still pays
# at the horizon, there is no cliff within it, and the gap is undefined (NaN).

# %%
gap = sustainsim.metrics.structural_gap(ds).sel(school="district")
cliff = gap.cliff_year.to_series()
print("cliff year (share of draws):")
labels = cliff.map(lambda y: f"FY{y:.0f}" if y == y else "none by FY2034")
print(labels.value_counts(normalize=True).sort_index().round(3).to_string())

rec = sustainsim.metrics.criteria.recurring(ds).sel(school="district")
valid = gap.cliff_year.notnull()
rec_rev_cliff = rec.recurring_revenue.where(rec.year == gap.cliff_year).max("year")
gap_share = (gap.gap / rec_rev_cliff).where(valid)

qs = [0.05, 0.25, 0.5, 0.75, 0.95]
pd.DataFrame(
    {
        "gap [USD/yr]": [plotting.format_usd(v) for v in gap.gap.quantile(qs).values],
        "gap per pupil [USD/student/yr]": [
            f"{v:,.0f}" for v in gap.gap_per_pupil.quantile(qs).values
        ],
        "share of recurring revenue": [f"{v:.1%}" for v in gap_share.quantile(qs).values],
    },
    index=pd.Index([f"{q:.0%}" for q in qs], name="quantile over draws"),
)

# %%
p_gap = float((gap.gap > 0).sum() / valid.sum())
median_gap, median_gap_pp = float(gap.gap.median()), float(gap.gap_per_pupil.median())
print(f"P(structural gap > 0 | there is a cliff) = {p_gap:.0%}")

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.hist(gap.gap_per_pupil.values[valid.values], bins=60, color="#0072B2", alpha=0.7)
ax.axvline(0, color="black", lw=1)
ax.axvline(median_gap_pp, color="#B00000", ls="--", label=f"median ${median_gap_pp:,.0f}")
ax.set_xlabel("structural gap in the cliff year, per pupil [USD/student]")
ax.set_ylabel("number of draws")
ax.set_title("District structural gap after the temporary money ends")
ax.legend()
ax.grid(alpha=0.3)

# %% [markdown]
# In most futures the district faces a hole when the money ends. In the median future
# it is about **$1.1 million a year, some $400 per pupil**, about 4% of recurring
# revenue. This is the number a finance office has to plan for: it is what the central
# PL team and the growth of salaries and benefits cost beyond what the formula pays.
# The spread is wide because several years of uncertain salary, health and funding
# growth compound into it. In the futures where funding outgrows costs there is no gap.
#
# ## 2. P(solvent) by year and scenario
#
# The config defines three scenarios besides the base (a 25% chance of renewal):
# `no_renewal`; `renewal_likely` (75%); and `bridge_funding`, no renewal but a state
# bridge that keeps the relief money at the same rate for two more years (through
# FY2030). All run on the same draws.

# %%
dss = sustainsim.simulate_scenarios(spec, draws=40_000)
p = xr.concat(
    [
        sustainsim.p_solvent(ds).expand_dims(scenario=["as written (25% renewal)"]),
        sustainsim.p_solvent(dss),
    ],
    dim="scenario",
)
ax = plotting.solvency_curve(p, by="scenario", school="district")
(100 * p.probability.sel(school="district", year=[2030, 2031, 2032, 2034]).to_pandas()).round(1)

# %%
cmp = sustainsim.analysis.compare(dss, "no_renewal").sel(school="district", year=2034)
(
    100
    * cmp[["a", "b", "difference", "lower", "upper", "se_paired"]]
    .to_dataframe()
    .drop(columns=["school", "year"], errors="ignore")
).round(1).add_suffix(" [%]")

# %% [markdown]
# The district stays solvent while the money flows. The curves separate from FY2030 on,
# when the relief money and the first grant term have ended. Through FY2034 the
# district is solvent in about a quarter to two-fifths of the futures, depending on the
# scenario. A likely renewal adds about 9 percentage points, and two more years of
# bridge money about 14. These are real improvements (the paired intervals are narrow),
# but none of the scenarios makes the district likely to stay solvent.
#
# ## 3. What renewal probability, or bridge, would close the gap?
#
# `sustainsim.run.grid.sweep` runs a grid of config overrides on common random numbers and
# returns P(solvent) at every point. First the grant's renewal probability (a
# probability of 1 is not allowed: a grant renewed for sure every three years would
# never end):

# %%
from sustainsim.run.grid import sweep

RENEWAL = "district.revenue.ngsi_grant.renewal_probability"
res = sweep(spec, {RENEWAL: [0.0, 0.25, 0.5, 0.75, 0.9]}, draws=20_000)
by_renewal = res.sel(school="district", year=2034)

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.errorbar(
    by_renewal[RENEWAL],
    by_renewal.probability,
    yerr=[by_renewal.probability - by_renewal.lower, by_renewal.upper - by_renewal.probability],
    marker="o",
    capsize=3,
)
ax.set_xlabel("probability the grant is renewed at each end")
ax.set_ylabel("P(district solvent through FY2034)")
ax.yaxis.set_major_formatter(PercentFormatter(1, decimals=0))
ax.set_ylim(0, 1)
ax.set_title("District solvency against the chance of renewal\n95% intervals, 20,000 common draws")
ax.grid(alpha=0.3)

# %% [markdown]
# **No renewal probability closes the gap.** Even a 90% chance of renewal leaves the
# district solvent through FY2034 in fewer than two futures in five. The grant is
# $600K a year against a median gap of $1.1M, and renewal only delays the cliff to
# FY2033.
#
# Now bridge funding and renewal together. The heatmap varies the last fiscal year of
# the federal relief money (FY2028 as written, up to three more years at $1.5M a year)
# against the renewal probability:

# %%
BRIDGE = "district.revenue.federal_relief.end"
res2 = sweep(spec, {RENEWAL: [0.0, 0.25, 0.5, 0.75, 0.9], BRIDGE: [2, 3, 4, 5]}, draws=20_000)
grid = res2.probability.sel(school="district", year=2034)
grid = grid.rename({RENEWAL: "renewal probability", BRIDGE: "last year of relief money"})
grid = grid.assign_coords(
    {"last year of relief money": 2026 + grid["last year of relief money"].values}
)
grid["last year of relief money"].attrs = {"long_name": "last fiscal year of relief money"}
grid["renewal probability"].attrs = {"long_name": "NGSI grant renewal probability"}
grid.attrs["long_name"] = "P(district solvent through FY2034)"
ax = plotting.heatmap(grid)

# %% [markdown]
# Bridge money helps more than renewal, year for year: $1.5M a year is larger than the
# gap, so every bridge year adds to the reserve. But even three more years of bridge
# and a likely renewal leave the district solvent through FY2034 in at most six
# futures in ten. One-time money moves the cliff; it does not close a recurring gap.
#
# A recurring lever does close part of the gap for good. Here is the same question with
# the central PL team cut from five positions to three or none, at the 25% renewal
# probability of the config:

# %%
TEAM = "district.cost.pl_central_team.positions"
res3 = sweep(spec, {TEAM: [5, 3, 0]}, draws=20_000)
by_team = res3.probability.sel(school="district", year=2034).to_series()
(100 * by_team).round(1).rename("P(solvent through FY2034) [%]").to_frame()

# %% [markdown]
# Even with no central team at all the district is solvent in barely more than half of
# the futures. Beyond the PL team there is a race between salaries and benefits on one
# side and per-pupil funding on the other. Scenario discovery makes that visible.
#
# ## 4. Which futures fail? Scenario discovery with PRIM
#
# `prim` (the Patient Rule Induction Method) searches the space of sampled inputs for a
# box, a range for each of a few inputs, where the cases of interest concentrate. Here
# the cases are draws in which the district becomes insolvent by FY2034. The inputs are
# each draw's funding, salary and health-premium growth, its number of recession years,
# the number and size of its cuts, each school's enrollment change, and the last year
# the grant paid. Three numbers describe a box:
#
# * **coverage**: the share of all failing draws that fall inside the box (how much of
#   the problem the box explains);
# * **density**: the share of draws inside the box that fail (how sure failure is in
#   that region);
# * **mass**: the share of all draws inside the box.
#
# PRIM peels away thin slices of the input space, one at a time, to raise density, and
# loses coverage as it goes. The trajectory below shows this trade-off. The default box
# is the one that holds the most failing draws beyond what a random box of the same size
# would (the largest coverage minus mass).

# %%
box = sustainsim.analysis.prim(ds, year=2034)
traj = box.trajectory
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
sc_ = ax.scatter(traj.coverage, traj.density, c=traj.n_restricted, cmap="viridis", s=25)
i = box.default_box
ax.scatter(
    traj.coverage[i],
    traj.density[i],
    s=160,
    facecolors="none",
    edgecolors="#B00000",
    lw=2,
    label=f"default box ({i})",
)
ax.set_xlabel("coverage: share of insolvent draws inside the box")
ax.set_ylabel("density: share of the box's draws that are insolvent")
ax.xaxis.set_major_formatter(PercentFormatter(1, decimals=0))
ax.yaxis.set_major_formatter(PercentFormatter(1, decimals=0))
fig.colorbar(sc_, ax=ax, label="number of inputs restricted")
ax.set_title("PRIM peeling trajectory: district insolvent by FY2034")
ax.legend(loc="lower left")
ax.grid(alpha=0.3)
print(f"{int(box.y.sum()):,} of {len(box.y):,} draws insolvent by FY2034 ({box.y.mean():.0%})")
print("inputs:", ", ".join(box.inputs))

# %%
print("default box:", box.describe())
print()
print("a denser box further along the trajectory:")
dense = int(traj.index[(traj.density >= 0.98)][0])
print(f"box {dense}:", box.describe(dense))
box.box()[["lower", "upper", "min", "max", "density_without"]]

# %% [markdown]
# The failing futures are the ones where **per-pupil funding grows by about 2% a year or
# less while salaries grow by about 2.4% a year or more**. That box holds most of the
# insolvent draws, and nine in ten draws inside it fail. Whether the grant was renewed
# is not among its restrictions. Denser boxes further along the trajectory add at
# least one cut and tighter growth limits. Failure is then nearly certain, but those
# boxes cover only about a third of the failing draws.
#
# For the district finance office the lesson is this. The grant cliff is the
# trigger, but the structural gap comes from the same race as everywhere else: funding
# that grows more slowly than salaries and benefits. Before converting more schools on
# temporary money, the district should plan how its recurring budget will carry the
# central PL team and the salary schedule if funding grows by only 2% a year, because
# renewal and bridge money only buy time.

# %% [markdown]
# ## Checks
#
# The claims made above, as assertions. The test suite runs this notebook from a fresh
# kernel; if a change to a config or to the library makes the story untrue, this cell fails.

# %%
# 1. the gap
assert cliff.mode()[0] == 2030, "the cliff is FY2030 unless the grant is renewed"
assert p_gap > 0.6 and 800_000 < median_gap < 1_500_000 and 250 < median_gap_pp < 600
assert 0.03 < float(gap_share.median()) < 0.08
# 2. scenarios at FY2034
pd_ = p.probability.sel(school="district", year=2034)
order = ["no_renewal", "as written (25% renewal)", "renewal_likely", "bridge_funding"]
assert all(
    float(pd_.sel(scenario=a)) < float(pd_.sel(scenario=b))
    for a, b in zip(order[:-1], order[1:], strict=True)
)
assert float(pd_.max()) < 0.5, "no scenario makes the district likely to stay solvent"
assert (p.probability.sel(school="district", year=2029) > 0.98).all(), (
    "solvent while the money flows"
)
assert (cmp.lower > 0).all(), "renewal and bridge help, beyond Monte Carlo noise"
assert 0.07 < float(cmp.difference.sel(scenario="renewal_likely")) < 0.11
assert 0.12 < float(cmp.difference.sel(scenario="bridge_funding")) < 0.16
# 3. sweeps
pr = by_renewal.probability.values
assert (np.diff(pr) > 0).all() and pr[-1] < 0.45, "no renewal probability closes the gap"
assert (grid.diff("renewal probability") >= 0).all() and (
    grid.diff("last year of relief money") >= 0
).all()
assert float(grid.max()) < 0.7, "bridge and renewal together still fall short"
assert by_team.is_monotonic_increasing and by_team.iloc[-1] < 0.65
# 4. PRIM
restricted = box.box()
restricted = restricted[~restricted.redundant].index
assert {"growth.funding", "growth.salary"} <= set(restricted)
assert not any("ngsi_grant" in k for k in restricted), "the grant is not what separates failures"
assert traj.density[box.default_box] > 0.85 and traj.coverage[box.default_box] > 0.6
assert traj.density[dense] >= 0.98 and 0.2 < traj.coverage[dense] < 0.45
print("all checks passed")
