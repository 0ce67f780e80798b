# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quickstart: will this school stay solvent?
#
# This notebook walks through the whole sustainsim workflow on the **reference model**
# `ref10`: one school of 500 pupils whose budget balances today only because of a
# $400,000-a-year grant, and that grant ends somewhere between FY2028 and FY2032.
# Per-pupil funding grows 2% a year and costs 3%, enrollment drifts down about 1% a
# year, and in any year there is a 15% chance of a permanent state cut of 3-10%.
#
# You will:
#
# 1. load a config and run a Monte Carlo simulation;
# 2. read the results Dataset (dimensions, variables, units, provenance);
# 3. turn it into the probability of staying solvent, year by year, with confidence
#    intervals, and look at the spread of the fund balance;
# 4. change one assumption and see the probability move, on the *same* random draws;
# 5. save the results and read them back;
# 6. compare with the single "central case" projection a budget office would present.
#
# Dollar amounts are nominal (not adjusted for inflation).

# %%
import nbsetup  # noqa: F401  (nbsetup.py in this folder: small inline figures, display options)
import pandas as pd
import xarray as xr

import sustainsim
from sustainsim import plotting

print("sustainsim", sustainsim.__version__)

# %% [markdown]
# ## 1. Load a config
#
# A config is a TOML file (the config language is described in `README.md`).
# `load_config` reads and validates it: a mistake is reported with the field path, the
# value and what is allowed, before anything runs. The result is a `Spec`, the
# validated model plus where it came from. Each shipped config starts with a comment
# block that says what it models.

# %%
spec = sustainsim.load_config("../configs/reference/ref10.toml")
print(spec)
print()
print(spec.text.split("[simulation]")[0])

# %% [markdown]
# ## 2. Simulate
#
# `simulate` samples every uncertain input for each *draw* (one possible future), steps
# the budget through the years, and returns an `xarray.Dataset`. Here 50,000 draws take
# well under a second. The seed makes the run reproducible: the same config and seed
# give the same numbers on any machine, whatever the chunk size.

# %%
ds = sustainsim.simulate(spec, draws=50_000, seed=1)
ds

# %% [markdown]
# ## 3. Read the Dataset
#
# Every path variable (enrollment, revenue, cost, surplus, fund balance) has the
# dimensions `draw x year x school`, and `year` holds fiscal years. Each variable's
# units and meaning are in its attributes, so plots and reports label themselves.
#
# The **sampled inputs** (how many cuts a draw saw, when its grant ended, how much its
# enrollment changed) are kept as variables over `draw`. Risk-driver analysis and
# scenario discovery use them (notebooks 03 and 04).

# %%
print("dims:", dict(ds.sizes))
pd.DataFrame(
    {
        name: {
            "dims": ", ".join(var.dims),
            "units": var.attrs.get("units", ""),
            "meaning": var.attrs.get("long_name", ""),
        }
        for name, var in ds.data_vars.items()
    }
).T

# %% [markdown]
# The Dataset's attributes carry its **provenance**: the package version, the seed, the
# sampler, and the full config text with its SHA-256 hash. So any figure or number can
# be traced back to the exact model that produced it.

# %%
print("sampled inputs:", ", ".join(ds.inputs.names))
for key in ("sustainsim_version", "seed", "draws", "sampler", "config_source"):
    print(f"{key:20s} {ds.attrs[key]}")
print(f"{'config_sha256':20s} {ds.attrs['config_sha256'][:16]}...")

# %% [markdown]
# ## 4. The probability of staying solvent
#
# A draw is **solvent through year t** when its fund balance stayed at or above zero in
# every year up to and including t. `p_solvent` estimates that probability for each year,
# with its Monte Carlo standard error (`se`) and a 95% Wilson interval (`lower`,
# `upper`). With 50,000 draws the standard error is at most 0.22 percentage points, so
# the year-to-year changes below are real features of the model, not sampling noise.

# %%
p = sustainsim.p_solvent(ds)
table = p.sel(school="ref").to_dataframe()[["probability", "se", "lower", "upper"]]
(100 * table).round(2).add_suffix(" [%]")

# %%
ax = plotting.solvency_curve(p)

# %% [markdown]
# The curve stays near 100% while the grant pays. It falls steeply from FY2029 as the
# grant ends in more and more draws: through FY2031 about three futures in five are
# still solvent, and through FY2036 about one in forty. **This school is not sustainable
# as designed.** The grant covers a structural deficit: costs grow 3% a year against
# 2% for revenue, and cuts come on top. Once the grant ends, the $500,000 reserve runs
# out within a few years in almost every future.
#
# For a district finance office, when the curve starts to fall matters as much as where
# it ends. That is how long the district has to restructure the school's budget or find
# recurring money.
#
# The **fan chart** shows the spread of the fund balance itself. The shaded bands hold
# the middle 50% and the middle 90% of the draws, and the line is the median.

# %%
ax = plotting.fan_chart(ds, school="ref")
q = sustainsim.metrics.balance_quantiles(ds).sel(school="ref")
median = q.sel(quantile=0.5)
first_negative_median = int(median.year[median < 0][0])
print(f"median fund balance first below zero in FY{first_negative_median}")
print(
    f"FY2036 fund balance: median {plotting.format_usd(float(median.sel(year=2036)))}, "
    f"1 draw in 20 below {plotting.format_usd(float(q.sel(year=2036, quantile=0.05)))}"
)

# %% [markdown]
# ## 5. What if cuts were twice as likely?
#
# `spec.with_overrides` derives a variant of the model without touching the file. Its
# keys are dotted config paths. Run the variant with the **same seed**, and every draw
# sees the same enrollment shocks, grant end and cut sizes as before: only the one
# assumption differs. These are *common random numbers*. The difference between the
# two runs is the effect of the assumption, not Monte Carlo noise, and it is estimated
# more precisely than from two independent runs.
#
# Here, every year with a cut at a 15% annual chance also has one at 30%, so a draw can
# only get worse. P(solvent) falls draw by draw, not just on average.

# %%
spec_hi = spec.with_overrides({"district.cuts.probability": 0.30})
ds_hi = sustainsim.simulate(spec_hi, draws=50_000, seed=1)
p_hi = sustainsim.p_solvent(ds_hi)

both = xr.concat(
    [p, p_hi], dim=pd.Index(["cuts 15% a year (config)", "cuts 30% a year"], name="scenario")
)
ax = plotting.solvency_curve(both, school="ref")

# %%
from sustainsim.analysis.paired import paired_difference

s_base, s_hi = sustainsim.metrics.solvent(ds), sustainsim.metrics.solvent(ds_hi)
d = paired_difference(s_base.sel(year=2031, school="ref"), s_hi.sel(year=2031, school="ref"))
print(
    f"P(solvent through FY2031): {float(d.a):.1%} -> {float(d.b):.1%}, change "
    f"{float(d.difference):+.1%} (95% CI {float(d.lower):+.1%} to {float(d.upper):+.1%})"
)
print(
    f"standard error of the change: {float(d.se_paired):.2%} on common draws, "
    f"{float(d.se_unpaired):.2%} had the runs used independent draws"
)
print("draws solvent with more cuts but insolvent with fewer:", int((s_hi & ~s_base).sum()))

# %% [markdown]
# Doubling the chance of a cut takes more than 20 percentage points off P(solvent through
# FY2031), and no single draw improves. The paired standard error is smaller than the
# unpaired one. The gain grows when two variants differ by less: small differences
# between policies can then be told apart with fewer draws.
#
# ## 6. Save and reload
#
# `write_netcdf` writes the Dataset to a NetCDF-4 file *atomically*: the file appears
# complete or not at all, so a reader never sees half a file. `open_results` reads it
# back fully into memory. Any NetCDF reader (`xarray.open_dataset`, R, Panoply) can open
# it, and the provenance attributes travel with the file. We write to a temporary
# folder here.

# %%
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    path = sustainsim.write_netcdf(ds, Path(tmp) / "ref10.nc")
    size_mb = path.stat().st_size / 1e6
    back = sustainsim.open_results(path)

p_back = sustainsim.p_solvent(back)
print(
    f"{size_mb:.0f} MB on disk; seed {back.attrs['seed']}, config {back.attrs['config_sha256'][:16]}..."
)
print("same fund balances after the round trip:", back.fund_balance.equals(ds.fund_balance))
print("same P(solvent):", p_back.probability.equals(p.probability))

# %% [markdown]
# ## 7. The central case and the budget composition
#
# A budget office usually presents one projection. `central_case` gives it: a single
# draw with every uncertain input at its median and no rare event. The grant ends in its
# median year, enrollment follows its median path, and there is no budget cut. The
# central case keeps the budget line by line, and `plotting.composition` stacks the
# lines: revenue on the left bar of each year, cost on the right. The gap between the two
# tops is the year's surplus or deficit.

# %%
central = sustainsim.central_case(spec)
ax = plotting.composition(central)

# %%
cb = central.fund_balance.sel(school="ref").squeeze("draw", drop=True)
first_negative_central = int(cb.year[cb < 0][0])
year_before = first_negative_central - 1
print(f"central case: fund balance first below zero in FY{first_negative_central}")
print(f"Monte Carlo:  median fund balance first below zero in FY{first_negative_median}")
p_before = float(p.probability.sel(year=year_before, school="ref"))
print(f"P(solvent through FY{year_before}) = {p_before:.0%}")

# %% [markdown]
# The grant bar disappears after FY2030, and from then on the cost bars outgrow the
# revenue bars every year.
#
# **The central case is optimistic.** A cut is unlikely in any one year (15%), so the
# median year has none, and the central case never sees a cut. Over ten years, though,
# most futures see at least one. So the single projection first shows a negative
# balance a year *later* than the median simulated future does. In the last year in
# which the central case still shows a positive balance, fewer than half of the
# simulated futures are still solvent. This
# is the reason to simulate: a base-case projection cannot say how likely it is, and it
# is not the typical outcome when rare events can only hurt.

# %% [markdown]
# ## Checks
#
# The claims made above, as assertions. The test suite runs this notebook from a fresh
# kernel; if a change to a config or to the library makes the story untrue, this cell fails.

# %%
pr = p.probability.sel(school="ref")
assert (pr.diff("year") <= 0).all(), "P(solvent through t) can only fall over t"
assert float(pr.sel(year=2028)) > 0.95, "solvent while the grant pays"
assert 0.5 < float(pr.sel(year=2031)) < 0.7, "about three in five through FY2031"
assert 0.01 < float(pr.sel(year=2036)) < 0.05, "about one in forty through FY2036"
assert (p_hi.probability <= p.probability).all(), "more cuts never help"
assert int((s_hi & ~s_base).sum()) == 0, "no draw improves with more cuts"
assert float(d.difference) < -0.20, "more than 20 points lost through FY2031"
assert float(d.se_paired) < float(d.se_unpaired), "common random numbers sharpen the difference"
assert back.fund_balance.equals(ds.fund_balance) and p_back.probability.equals(p.probability)
assert back.attrs["config_sha256"] == ds.attrs["config_sha256"]
assert first_negative_central == first_negative_median + 1, "the central case is a year late"
assert p_before < 0.5, "fewer than half solvent when the central case still is"
print("all checks passed")
