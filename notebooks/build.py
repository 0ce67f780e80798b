"""Build the example notebooks from the cell lists in this file, execute them, save them.

The notebooks in this folder are generated: edit the cells here, then run

    python notebooks/build.py            # build, execute and save all five
    python notebooks/build.py 03 04      # only those whose file name contains "03" or "04"
    python notebooks/build.py --no-execute

Each notebook is executed top to bottom in a fresh ``python3`` kernel with this folder as
the working directory (configs are at ``../configs``) and saved with its outputs, figures
at 85 dpi. ``tests/test_notebooks.py`` executes the saved notebooks again and checks that
their sources match this file.

Every notebook ends with a "Checks" cell asserting the claims its prose makes, so a
notebook whose story stops being true fails the test suite.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
KERNEL = "python3"
CELL_TIMEOUT = 180  # seconds per cell


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str):
    return new_code_cell(textwrap.dedent(text).strip("\n"))


def setup(*extra: str, plotting: bool = True):
    """The first code cell: imports (``extra``: more import lines) and display settings."""
    imports = "\n".join(
        [
            "import matplotlib.pyplot as plt",
            *(line for line in extra if not line.startswith("from")),
            "import pandas as pd",
            "import xarray as xr",
            *(line for line in extra if line.startswith("from")),
        ]
    )
    return new_code_cell(
        "%matplotlib inline\n"
        "import warnings\n\n"
        f"{imports}\n\n"
        "with warnings.catch_warnings():  # tqdm notes that ipywidgets is missing: no matter here\n"
        '    warnings.filterwarnings("ignore", message="IProgress not found")\n'
        "    import sustainsim\n"
        + ("    from sustainsim import plotting\n" if plotting else "")
        + "\n"
        'plt.rcParams.update({"figure.dpi": 85, "savefig.dpi": 85})\n'
        'xr.set_options(display_style="text", display_width=100)\n'
        'pd.set_option("display.precision", 3)\n'
        'print("sustainsim", sustainsim.__version__)'
    )


CHECKS_INTRO = md(
    """
    ## Checks

    The claims made above, as assertions. The test suite runs this notebook from a fresh
    kernel; if a change to a config or to the library makes the story untrue, this cell fails.
    """
)

# ============================================================================ 01 quickstart
NB01 = [
    md(
        """
        # Quickstart: will this school stay solvent?

        This notebook walks through the whole sustainsim workflow on the **reference model**
        `ref10`: one school of 500 pupils whose budget balances today only because of a
        $400,000-a-year grant, and that grant ends somewhere between FY2028 and FY2032.
        Per-pupil funding grows 2% a year and costs 3%, enrollment drifts down about 1% a
        year, and in any year there is a 15% chance of a permanent state cut of 3-10%.

        You will:

        1. load a config and run a Monte Carlo simulation;
        2. read the results Dataset (dimensions, variables, units, provenance);
        3. turn it into the probability of staying solvent, year by year, with confidence
           intervals, and look at the spread of the fund balance;
        4. change one assumption and see the probability move, on the *same* random draws;
        5. save the results and read them back;
        6. compare with the single "central case" projection a budget office would present.

        Dollar amounts are nominal (not adjusted for inflation).
        """
    ),
    setup(),
    md(
        """
        ## 1. Load a config

        A config is a TOML file (the config language is described in `README.md`).
        `load_config` reads and validates it: a mistake is reported with the field path, the
        value and what is allowed, before anything runs. The result is a `Spec`, the
        validated model plus where it came from. Each shipped config starts with a comment
        block that says what it models.
        """
    ),
    code(
        """
        spec = sustainsim.load_config("../configs/reference/ref10.toml")
        print(spec)
        print()
        print(spec.text.split("[simulation]")[0])
        """
    ),
    md(
        """
        ## 2. Simulate

        `simulate` samples every uncertain input for each *draw* (one possible future), steps
        the budget through the years, and returns an `xarray.Dataset`. Here 50,000 draws take
        well under a second. The seed makes the run reproducible: the same config and seed
        give the same numbers on any machine, whatever the chunk size.
        """
    ),
    code(
        """
        ds = sustainsim.simulate(spec, draws=50_000, seed=1)
        ds
        """
    ),
    md(
        """
        ## 3. Read the Dataset

        Every path variable (enrollment, revenue, cost, surplus, fund balance) has the
        dimensions `draw x year x school`, and `year` holds fiscal years. Each variable's
        units and meaning are in its attributes, so plots and reports label themselves.

        The **sampled inputs** (how many cuts a draw saw, when its grant ended, how much its
        enrollment changed) are kept as variables over `draw`. Risk-driver analysis and
        scenario discovery use them (notebooks 03 and 04).
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        The Dataset's attributes carry its **provenance**: the package version, the seed, the
        sampler, and the full config text with its SHA-256 hash. So any figure or number can
        be traced back to the exact model that produced it.
        """
    ),
    code(
        """
        print("sampled inputs:", ", ".join(sustainsim.results.input_names(ds)))
        for key in ("sustainsim_version", "seed", "draws", "sampler", "config_source"):
            print(f"{key:20s} {ds.attrs[key]}")
        print(f"{'config_sha256':20s} {ds.attrs['config_sha256'][:16]}...")
        """
    ),
    md(
        """
        ## 4. The probability of staying solvent

        A draw is **solvent through year t** when its fund balance stayed at or above zero in
        every year up to and including t. `p_solvent` estimates that probability for each year,
        with its Monte Carlo standard error (`se`) and a 95% Wilson interval (`lower`,
        `upper`). With 50,000 draws the standard error is at most 0.22 percentage points, so
        the year-to-year changes below are real features of the model, not sampling noise.
        """
    ),
    code(
        """
        p = sustainsim.p_solvent(ds)
        table = p.sel(school="ref").to_dataframe()[["probability", "se", "lower", "upper"]]
        (100 * table).round(2).add_suffix(" [%]")
        """
    ),
    code(
        """
        ax = plotting.solvency_curve(p)
        """
    ),
    md(
        """
        The curve stays near 100% while the grant pays. It falls steeply from FY2029 as the
        grant ends in more and more draws: through FY2031 about three futures in five are
        still solvent, and through FY2036 about one in forty. **This school is not sustainable
        as designed.** The grant covers a structural deficit: costs grow 3% a year against
        2% for revenue, and cuts come on top. Once the grant ends, the $500,000 reserve runs
        out within a few years in almost every future.

        For a district finance office, when the curve starts to fall matters as much as where
        it ends. That is how long the district has to restructure the school's budget or find
        recurring money.

        The **fan chart** shows the spread of the fund balance itself. The shaded bands hold
        the middle 50% and the middle 90% of the draws, and the line is the median.
        """
    ),
    code(
        """
        ax = plotting.fan_chart(ds, school="ref")
        q = sustainsim.metrics.balance_quantiles(ds).sel(school="ref")
        median = q.sel(quantile=0.5)
        first_negative_median = int(median.year[median < 0][0])
        print(f"median fund balance first below zero in FY{first_negative_median}")
        print(
            f"FY2036 fund balance: median {plotting.format_usd(float(median.sel(year=2036)))}, "
            f"1 draw in 20 below {plotting.format_usd(float(q.sel(year=2036, quantile=0.05)))}"
        )
        """
    ),
    md(
        """
        ## 5. What if cuts were twice as likely?

        `spec.with_overrides` derives a variant of the model without touching the file. Its
        keys are dotted config paths. Run the variant with the **same seed**, and every draw
        sees the same enrollment shocks, grant end and cut sizes as before: only the one
        assumption differs. These are *common random numbers*. The difference between the
        two runs is the effect of the assumption, not Monte Carlo noise, and it is estimated
        more precisely than from two independent runs.

        Here, every year with a cut at a 15% annual chance also has one at 30%, so a draw can
        only get worse. P(solvent) falls draw by draw, not just on average.
        """
    ),
    code(
        """
        spec_hi = spec.with_overrides({"district.cuts.probability": 0.30})
        ds_hi = sustainsim.simulate(spec_hi, draws=50_000, seed=1)
        p_hi = sustainsim.p_solvent(ds_hi)

        both = xr.concat(
            [p, p_hi], dim=pd.Index(["cuts 15% a year (config)", "cuts 30% a year"], name="scenario")
        )
        ax = plotting.solvency_curve(both, school="ref")
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        Doubling the chance of a cut takes more than 20 percentage points off P(solvent through
        FY2031), and no single draw improves. The paired standard error is smaller than the
        unpaired one. The gain grows when two variants differ by less: small differences
        between policies can then be told apart with fewer draws.

        ## 6. Save and reload

        `write_netcdf` writes the Dataset to a NetCDF-4 file *atomically*: the file appears
        complete or not at all, so a reader never sees half a file. `open_results` reads it
        back fully into memory. Any NetCDF reader (`xarray.open_dataset`, R, Panoply) can open
        it, and the provenance attributes travel with the file. We write to a temporary
        folder here.
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        ## 7. The central case and the budget composition

        A budget office usually presents one projection. `central_case` gives it: a single
        draw with every uncertain input at its median and no rare event. The grant ends in its
        median year, enrollment follows its median path, and there is no budget cut. The
        central case keeps the budget line by line, and `plotting.composition` stacks the
        lines: revenue on the left bar of each year, cost on the right. The gap between the two
        tops is the year's surplus or deficit.
        """
    ),
    code(
        """
        central = sustainsim.central_case(spec)
        ax = plotting.composition(central)
        """
    ),
    code(
        """
        cb = central.fund_balance.sel(school="ref").squeeze("draw", drop=True)
        first_negative_central = int(cb.year[cb < 0][0])
        year_before = first_negative_central - 1
        print(f"central case: fund balance first below zero in FY{first_negative_central}")
        print(f"Monte Carlo:  median fund balance first below zero in FY{first_negative_median}")
        p_before = float(p.probability.sel(year=year_before, school="ref"))
        print(f"P(solvent through FY{year_before}) = {p_before:.0%}")
        """
    ),
    md(
        """
        The grant bar disappears after FY2030, and from then on the cost bars outgrow the
        revenue bars every year.

        **The central case is optimistic.** A cut is unlikely in any one year (15%), so the
        median year has none, and the central case never sees a cut. Over ten years, though,
        most futures see at least one. So the single projection first shows a negative
        balance a year *later* than the median simulated future does. In the last year in
        which the central case still shows a positive balance, fewer than half of the
        simulated futures are still solvent. This
        is the reason to simulate: a base-case projection cannot say how likely it is, and it
        is not the typical outcome when rare events can only hurt.
        """
    ),
    CHECKS_INTRO,
    code(
        """
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
        """
    ),
]

# ============================================================================ 02 LEAP Chicago
NB02 = [
    md(
        """
        # Personalized learning in Chicago: does the model sustain itself?

        A study of six Chicago schools that adopted personalized learning (PL) reported what
        the change cost and whether it lasted:

        * **Start-up:** at most 7% of total per-pupil funding ($233-$1,135 per pupil, $338K-$780K
          per school). About 40% went to technology and 21% to professional development (PD).
        * **Recurring:** IT was about 2% of the total budget by year five.
        * **What made it last:** staffing innovation (teacher-leaders with stipends). Under
          severe budget cuts the PL schools held up as well as or better than traditional
          schools.

        The config `configs/leap_chicago.toml` puts a PL school (`pl_k8`) and a traditional
        comparison school (`trad_k8`) side by side. They have the same size and funding and
        face the same district: the same funding growth, salary and health-premium growth,
        budget cuts (including FY16-style mid-year cuts), and enrollment shocks (correlated
        between the schools). The PL school plans in FY2027 while still running the
        traditional model and launches in FY2028. From then on it runs multi-age,
        team-taught rooms (two teachers per room of up to 56 or 62 pupils), teacher-leaders
        with stipends, 1:1 devices on a four-year refresh, adaptive-software licences and more
        PD. A planning-and-launch grant pays for its start-up.

        This notebook asks three questions a district finance office would ask before
        approving more conversions:

        1. Does the config reproduce the study's cost figures?
        2. Under expected and severe cuts, how likely is each school to stay solvent?
        3. How much of a permanent cut can each school absorb, and can it keep a reserve?
        """
    ),
    setup(),
    code(
        """
        spec = sustainsim.load_config("../configs/leap_chicago.toml")
        print(spec)
        for name, model in spec.config.models.items():
            print(f"model {name!r}: {model.description}")
        print("scenarios:", spec.scenario_names)
        """
    ),
    md(
        """
        ## 1. The seed-study figures, from the central case

        `central_case` runs one deterministic draw with every input at its median and keeps
        the budget line by line. `seed_study` computes the study's figures from it: start-up
        cost in total, per pupil and as a share of per-pupil funding, its technology and PD
        shares, and recurring IT as a share of the total budget in a given year.

        Which year is "year five"? Projected year 1 is FY2027, the planning year. The school
        launches in year 2 (FY2028), so **year 6 of the projection (FY2032) is the fifth year
        the school runs the PL model**. That is the year the study's "by year five" refers
        to, so we pass `year=6`.
        """
    ),
    code(
        """
        central = sustainsim.central_case(spec)
        seed = sustainsim.metrics.seed_study(central, projected_year=6)
        pl = {k: float(seed[k].sel(school="pl_k8")) for k in seed.data_vars}
        trad_it = float(seed["recurring_it_share"].sel(school="trad_k8"))
        pd.DataFrame(
            {
                "this config (pl_k8, central case)": [
                    plotting.format_usd(pl["startup_total"]),
                    f"${pl['startup_per_pupil']:,.0f}",
                    f"{pl['startup_share_of_funding']:.1%}",
                    f"{pl['technology_share_of_startup']:.0%}",
                    f"{pl['pd_share_of_startup']:.0%}",
                    f"{pl['recurring_it_share']:.1%} (trad_k8: {trad_it:.1%})",
                ],
                "Chicago study": [
                    "$338K-$780K",
                    "$233-$1,135",
                    "at most 7%",
                    "about 40%",
                    "about 21%",
                    "about 2%",
                ],
            },
            index=[
                "start-up cost per school",
                "start-up cost per pupil",
                "start-up / total per-pupil funding",
                "technology share of start-up",
                "PD share of start-up",
                f"recurring IT / total budget, FY{seed.attrs['it_year']}",
            ],
        )
        """
    ),
    md(
        """
        The config reproduces every figure in the study: start-up inside both ranges and
        under 7% of funding, the 40/21 technology/PD split, and about 2% recurring IT in year
        five. (The traditional school's computer carts cost about a quarter of that.)

        The composition plot of the PL school puts the start-up in proportion. The one-time
        lines and the start-up grant (FY2027-FY2028) are thin slices on top of a budget of
        $5.5-6.5 million, most of it staff. A PL conversion is cheap to start. Whether it
        lasts depends on the recurring budget.
        """
    ),
    code(
        """
        ax = plotting.composition(central, school="pl_k8")
        """
    ),
    md(
        """
        ## 2. Personalized vs traditional, under expected and severe cuts

        The config defines two scenarios on the same district:

        * `expected`: the config as written, with a 12% annual chance of a cut of 2-10%
          (mode 6.9%, the FY16 mid-year cut);
        * `severe_cuts`: the study's stress question, with a 30% annual chance of a cut of
          5-15% (mode 10%).

        `simulate_scenarios` runs both with the same seed. Every draw then has the same
        enrollment shocks and growth rates in both scenarios, and the cut-event uniforms are
        shared too. So the comparisons below are paired, draw by draw.
        """
    ),
    code(
        """
        ds = sustainsim.simulate_scenarios(spec, draws=40_000)
        p = sustainsim.p_solvent(ds)
        (
            100 * p.probability.sel(year=[2029, 2032, 2036]).to_dataframe()["probability"].unstack("school")
        ).round(1).add_suffix(" [%]")
        """
    ),
    code(
        """
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, layout="constrained")
        for ax, name in zip(axes, spec.scenario_names, strict=True):
            plotting.solvency_curve(p.sel(scenario=name), by="school", ax=ax)
            ax.set_title(f"P(solvent through year), scenario {name}\\n95% interval bands, 40,000 draws")
        """
    ),
    code(
        """
        ax = plotting.scenario_comparison(p)
        """
    ),
    md(
        """
        **The PL school is more likely to stay solvent than the traditional school, in both
        scenarios.** The two are level through the planning year. From the launch on, the
        traditional school's P(solvent) falls faster, and the gap widens every year. Severe
        cuts hurt both schools badly. But the PL school keeps a larger share of its
        expected-case probability, so it holds up as well as or better than the traditional
        school, as in the study.

        Two comparisons quantify this, each on common draws:

        * `compare(ds, "expected")`: the effect of severe cuts on each school (`b - a`);
        * `paired_difference`: PL minus traditional within each scenario, on the same draws.
        """
    ),
    code(
        """
        cmp = sustainsim.analysis.compare(ds, "expected").sel(year=2036, scenario="severe_cuts")
        (
            100
            * cmp[["a", "b", "difference", "se_paired", "se_unpaired"]]
            .to_dataframe()
            .drop(columns=["year", "scenario"], errors="ignore")
        ).round(2).add_suffix(" [%]")
        """
    ),
    code(
        """
        from sustainsim.analysis.paired import paired_difference

        solvent = sustainsim.metrics.solvent(ds)
        rows = {}
        for name in spec.scenario_names:
            s = solvent.sel(scenario=name, year=2036)
            d = paired_difference(s.sel(school="trad_k8", drop=True), s.sel(school="pl_k8", drop=True))
            rows[name] = {
                "P(solvent) trad_k8": float(d.a),
                "P(solvent) pl_k8": float(d.b),
                "PL minus traditional": float(d.difference),
                "95% CI low": float(d.lower),
                "95% CI high": float(d.upper),
            }
        pl_vs_trad = pd.DataFrame(rows).T
        for school in ("pl_k8", "trad_k8"):
            col = f"P(solvent) {school}"
            pl_vs_trad[f"{school} share kept vs expected"] = (
                pl_vs_trad[col] / pl_vs_trad.loc["expected", col]
            )
        (100 * pl_vs_trad).round(1).add_suffix(" [%]")
        """
    ),
    md(
        """
        Why does the PL school hold up better? **Not because it is cheaper.** In the central
        case (median enrollment, no cuts) its extras, about $150K a year for devices,
        licences, PD and teacher-leader stipends, cost more than it saves on homeroom
        teachers, and its balance stays below the traditional school's.

        The difference is in how its costs respond to enrollment, which is the staffing
        innovation the study credits. A traditional school staffs each grade at the
        class-size caps (28 in K-3, 31 in 4-8). A grade that grows a few pupils past a cap
        needs a whole extra teacher, and there are nine grades in which that can happen.
        Multi-age rooms pool the pupils of a whole band before rounding to rooms of two
        teachers, so the same enrollment swings add far fewer positions. Averaged over the
        simulated futures, the PL school spends about twice its extras less on homeroom
        teachers. Hold enrollment on its median path (no volatility) and the advantage
        reverses: the traditional school becomes the safer one.
        """
    ),
    code(
        """
        EXTRAS = ["devices", "professional_development", "teacher_leader_stipends"]


        def saving_and_extras(cost_lines, year=2032):
            diff = (cost_lines.sel(school="trad_k8") - cost_lines.sel(school="pl_k8")).sel(year=year)
            if "draw" in diff.dims:
                diff = diff.mean("draw")
            return float(diff.sel(cost_line="homeroom_teachers")), -float(diff.sel(cost_line=EXTRAS).sum())


        saved_central, extras_central = saving_and_extras(central.cost_lines)
        with_lines = sustainsim.simulate(spec, draws=10_000, lines=True)  # per-line costs, base config
        saved_mean, extras_mean = saving_and_extras(with_lines.cost_lines)
        print("FY2032, PL vs traditional:   homeroom teachers saved   PL extras")
        print(
            f"  central case               {plotting.format_usd(saved_central):>22s}   {plotting.format_usd(extras_central):>9s}"
        )
        print(
            f"  mean over 10,000 draws     {plotting.format_usd(saved_mean):>22s}   {plotting.format_usd(extras_mean):>9s}"
        )

        steady = spec.with_overrides(
            {"schools.pl_k8.enrollment.volatility": 0.0, "schools.trad_k8.enrollment.volatility": 0.0}
        )
        p_steady = sustainsim.p_solvent(sustainsim.simulate(steady, draws=40_000)).probability.sel(
            year=2036
        )
        print(
            "P(solvent through FY2036) with enrollment on its median path:",
            ", ".join(f"{k} {float(p_steady.sel(school=k)):.0%}" for k in ("pl_k8", "trad_k8")),
        )
        """
    ),
    md(
        """
        Neither school is comfortably sustainable over ten years, though. Even in the expected
        scenario the PL school is solvent through FY2036 in only a little over half of the
        futures. Salaries, and health premiums growing 3-8% a year, outpace per-pupil
        funding in both schools. The PL model buys time and resilience. It does not remove
        the district-wide squeeze.

        ## 3. Stress capacity: how large a permanent cut can each school absorb?

        `stress_capacity` finds the largest permanent cut, starting in FY2027, of the revenue
        exposed to cuts (student-based budget, supplemental aid, discretionary money) that
        keeps P(solvent) at a target. All cut sizes run on common draws, so P(solvent) falls
        steadily as the cut grows and bisection finds the crossing. The interval comes from
        the same search on the Wilson bounds of P. We use an 80% target over a five-year
        horizon (FY2027-FY2031), the span of a typical district multi-year forecast, with
        20,000 draws per evaluation.
        """
    ),
    code(
        """
        sc = sustainsim.analysis.stress_capacity(spec, target=0.8, year=2031, draws=20_000, tol=0.002)
        table = sc.to_dataframe()[["capacity", "lower", "upper", "p_no_cut", "p_at_capacity"]]
        (100 * table).round(1).add_suffix(" [%]")
        """
    ),
    md(
        """
        Under expected cuts the PL school could lose a few percent of its exposed revenue for
        good and still meet the target. The traditional school has almost no room, and under
        severe cuts neither school meets the target even without an extra cut (capacity 0).
        A capacity of a few percent is small next to a single FY16-style cut of 6.9%. That is
        the number to put in front of a board: how large a shock the plan survives, not only
        how likely it is to survive the shocks we expect.

        ## 4. Reserve compliance

        The GFOA recommends an unrestricted fund balance of at least two months of
        expenditure, and the config sets `[district.reserve] months = 2`.
        `p_reserve_compliant` estimates P(balance >= the reserve in every year through t).
        """
    ),
    code(
        """
        expected = ds.sel(scenario="expected")
        rows = {
            f"{m:g} month{'s' if m != 1 else ''} of expenditure": sustainsim.p_reserve_compliant(
                expected, months=m
            )
            .probability.sel(year=2031)
            .to_series()
            for m in (0.5, 1, 2)
        }
        (100 * pd.DataFrame(rows).T).round(1).add_suffix(" [%]")
        """
    ),
    md(
        """
        Neither school is ever compliant at two months. Each starts with $300,000, about
        two-thirds of a month of its $5.4 million budget, and compliance *through* a year
        requires every year up to it. GFOA's guidance is written for a district's general
        fund, not for a single school's carryover. At school level a smaller cushion is the
        realistic policy, and the district's own reserve carries the rest.

        Timing matters too. The PL school is thinnest in its planning year, when it pays
        start-up costs up front and the grant covers only part of them that year. So at one
        month its compliance through FY2031 is slightly *lower* than the traditional
        school's, although it is the more solvent school. After launch its cushion grows to
        about two months by FY2030 and then erodes slowly. The traditional school's cushion
        peaks lower, and in the median future it is gone by FY2035. The median reserve, in
        months of expenditure:
        """
    ),
    code(
        """
        months_held = (expected.fund_balance / (expected.cost / 12)).median("draw")
        fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
        for i, school in enumerate(["pl_k8", "trad_k8"]):
            ax.plot(
                months_held.year,
                months_held.sel(school=school),
                marker="os"[i],
                ls=["-", "--"][i],
                label=school,
            )
        ax.axhline(2, color="#B00000", ls=":", label="GFOA: two months")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("fiscal year")
        ax.set_ylabel("fund balance / monthly expenditure [months]")
        ax.set_title("Median reserve in months of expenditure, expected scenario")
        ax.legend()
        ax.grid(alpha=0.3)
        """
    ),
    CHECKS_INTRO,
    code(
        """
        # 1. the seed-study figures
        assert 338_000 <= pl["startup_total"] <= 780_000
        assert 233 <= pl["startup_per_pupil"] <= 1_135
        assert pl["startup_share_of_funding"] <= 0.07
        assert abs(pl["technology_share_of_startup"] - 0.40) < 0.03
        assert abs(pl["pd_share_of_startup"] - 0.21) < 0.03
        assert abs(pl["recurring_it_share"] - 0.02) < 0.004 and trad_it < pl["recurring_it_share"] / 2
        # 2. PL holds up as well as or better than traditional, in both scenarios
        for name in spec.scenario_names:
            for year in (2032, 2036):
                ps = p.probability.sel(scenario=name, year=year)
                assert float(ps.sel(school="pl_k8")) >= float(ps.sel(school="trad_k8")), (name, year)
            assert pl_vs_trad.loc[name, "95% CI low"] > 0, "PL's advantage is not Monte Carlo noise"
        assert (
            pl_vs_trad.loc["severe_cuts", "pl_k8 share kept vs expected"]
            >= pl_vs_trad.loc["severe_cuts", "trad_k8 share kept vs expected"]
        )
        assert (cmp.difference < -0.1).all(), "severe cuts hurt both schools badly"
        assert (cmp.se_paired < cmp.se_unpaired).all()
        assert saved_central < extras_central, "not cheaper in the central case"
        assert saved_mean > 1.5 * extras_mean > 0, "pooled staffing pays for the extras on average"
        assert float(p_steady.sel(school="trad_k8")) > float(p_steady.sel(school="pl_k8")), (
            "the advantage is about enrollment risk"
        )
        cb = central.fund_balance.squeeze("draw", drop=True)
        assert (cb.sel(school="pl_k8") < cb.sel(school="trad_k8")).all()
        assert 0.5 < float(p.probability.sel(scenario="expected", year=2036, school="pl_k8")) < 0.7
        # 3. stress capacity
        cap = sc.capacity.sel(scenario="expected")
        assert 0.01 < float(cap.sel(school="pl_k8")) < 0.069, "a few percent, less than one FY16 cut"
        assert float(cap.sel(school="pl_k8")) > float(cap.sel(school="trad_k8"))
        assert (sc.capacity.sel(scenario="severe_cuts") == 0).all()
        assert (sc.lower <= sc.capacity).all() and (sc.capacity <= sc.upper).all()
        # 4. reserves
        assert (sustainsim.p_reserve_compliant(ds).probability < 0.01).all(), "two months: never"
        assert float(months_held.sel(school="pl_k8", year=2027)) < float(
            months_held.sel(school="trad_k8", year=2027)
        )
        assert float(months_held.sel(school="pl_k8", year=2032)) > float(
            months_held.sel(school="trad_k8", year=2032)
        )
        assert 1.8 < float(months_held.sel(school="pl_k8").max()) < 2.2
        assert (
            float(months_held.sel(school="trad_k8", year=2034))
            > 0
            > float(months_held.sel(school="trad_k8", year=2035))
        )
        one_month = sustainsim.p_reserve_compliant(expected, months=1).probability.sel(year=2031)
        assert float(one_month.sel(school="pl_k8")) < float(one_month.sel(school="trad_k8"))
        print("all checks passed")
        """
    ),
]

# ============================================================================ 03 grant cliff
NB03 = [
    md(
        """
        # The grant cliff: what happens when the temporary money ends?

        `configs/ngsi_grant_cliff.toml` models a mid-sized district of six K-8 schools, about
        2,900 pupils. It converts two schools to personalized learning in each of FY2028,
        FY2029 and FY2030 (each plans the year before), on temporary money:

        * a philanthropic implementation grant of **$600K a year for FY2027-FY2029**, with a
          25% chance of being renewed for another three years;
        * one-time federal relief of **$1.5M a year for FY2027-FY2028**, the ESSER-style
          "fiscal cliff" (ESSER was 5-11% of state K-12 revenue and lapsed in 2024-25).

        The grants pay for a central PL team (five coaches and a manager, kept after the
        money ends) and the schools' start-up. State cuts cluster in bad years: the economy
        switches between normal years and recessions (about one year in four in the long
        run, lasting two years on average). A cut is likely in a recession year (50%) and rare
        otherwise (5%), and cuts recover a fifth a year. Salaries, health premiums and
        per-pupil funding all grow at uncertain rates.

        The questions, for the district as a whole (the six schools plus the central budget):

        1. How big is the **structural gap** when the temporary money ends?
        2. How likely is the district to stay solvent, year by year, under each funding
           scenario?
        3. What renewal probability, or how much bridge funding, would close the gap?
        4. Which futures fail? (scenario discovery with PRIM)
        """
    ),
    setup("import numpy as np", "from matplotlib.ticker import PercentFormatter"),
    code(
        """
        spec = sustainsim.load_config("../configs/ngsi_grant_cliff.toml")
        print(spec)
        ds = sustainsim.simulate(spec, draws=40_000)
        print(f"{ds.sizes['draw']:,} draws, fiscal years {int(ds.year[0])}-{int(ds.year[-1])}")
        """
    ),
    md(
        """
        ## 1. The structural gap

        `structural_gap` looks at the **cliff year**, the first fiscal year with no temporary
        money left. In that year it compares recurring cost (all cost but one-time start-up
        spending) with recurring revenue (all revenue but grants). A positive gap is a hole the
        district must fill every year from then on, by cutting recurring cost or finding
        recurring revenue. It is reported in dollars and per pupil, by draw.

        The cliff year itself is random. With no renewal the grant last pays in FY2029, so the
        cliff is FY2030. A renewal moves it to FY2033. After two renewals the grant still pays
        at the horizon, there is no cliff within it, and the gap is undefined (NaN).
        """
    ),
    code(
        """
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
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        In most futures the district faces a hole when the money ends. In the median future
        it is about **$1.1 million a year, some $400 per pupil**, about 4% of recurring
        revenue. This is the number a finance office has to plan for: it is what the central
        PL team and the growth of salaries and benefits cost beyond what the formula pays.
        The spread is wide because several years of uncertain salary, health and funding
        growth compound into it. In the futures where funding outgrows costs there is no gap.

        ## 2. P(solvent) by year and scenario

        The config defines three scenarios besides the base (a 25% chance of renewal):
        `no_renewal`; `renewal_likely` (75%); and `bridge_funding`, no renewal but a state
        bridge that keeps the relief money at the same rate for two more years (through
        FY2030). All run on the same draws.
        """
    ),
    code(
        """
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
        """
    ),
    code(
        """
        cmp = sustainsim.analysis.compare(dss, "no_renewal").sel(school="district", year=2034)
        (
            100
            * cmp[["a", "b", "difference", "lower", "upper", "se_paired"]]
            .to_dataframe()
            .drop(columns=["school", "year"], errors="ignore")
        ).round(1).add_suffix(" [%]")
        """
    ),
    md(
        """
        The district stays solvent while the money flows. The curves separate from FY2030 on,
        when the relief money and the first grant term have ended. Through FY2034 the
        district is solvent in about a quarter to two-fifths of the futures, depending on the
        scenario. A likely renewal adds about 9 percentage points, and two more years of
        bridge money about 14. These are real improvements (the paired intervals are narrow),
        but none of the scenarios makes the district likely to stay solvent.

        ## 3. What renewal probability, or bridge, would close the gap?

        `sustainsim.run.grid.sweep` runs a grid of config overrides on common random numbers and
        returns P(solvent) at every point. First the grant's renewal probability (a
        probability of 1 is not allowed: a grant renewed for sure every three years would
        never end):
        """
    ),
    code(
        """
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
        ax.set_title("District solvency against the chance of renewal\\n95% intervals, 20,000 common draws")
        ax.grid(alpha=0.3)
        """
    ),
    md(
        """
        **No renewal probability closes the gap.** Even a 90% chance of renewal leaves the
        district solvent through FY2034 in fewer than two futures in five. The grant is
        $600K a year against a median gap of $1.1M, and renewal only delays the cliff to
        FY2033.

        Now bridge funding and renewal together. The heatmap varies the last fiscal year of
        the federal relief money (FY2028 as written, up to three more years at $1.5M a year)
        against the renewal probability:
        """
    ),
    code(
        """
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
        """
    ),
    md(
        """
        Bridge money helps more than renewal, year for year: $1.5M a year is larger than the
        gap, so every bridge year adds to the reserve. But even three more years of bridge
        and a likely renewal leave the district solvent through FY2034 in at most six
        futures in ten. One-time money moves the cliff; it does not close a recurring gap.

        A recurring lever does close part of the gap for good. Here is the same question with
        the central PL team cut from five positions to three or none, at the 25% renewal
        probability of the config:
        """
    ),
    code(
        """
        TEAM = "district.cost.pl_central_team.positions"
        res3 = sweep(spec, {TEAM: [5, 3, 0]}, draws=20_000)
        by_team = res3.probability.sel(school="district", year=2034).to_series()
        (100 * by_team).round(1).rename("P(solvent through FY2034) [%]").to_frame()
        """
    ),
    md(
        """
        Even with no central team at all the district is solvent in barely more than half of
        the futures. Beyond the PL team there is a race between salaries and benefits on one
        side and per-pupil funding on the other. Scenario discovery makes that visible.

        ## 4. Which futures fail? Scenario discovery with PRIM

        `prim` (the Patient Rule Induction Method) searches the space of sampled inputs for a
        box, a range for each of a few inputs, where the cases of interest concentrate. Here
        the cases are draws in which the district becomes insolvent by FY2034. The inputs are
        each draw's funding, salary and health-premium growth, its number of recession years,
        the number and size of its cuts, each school's enrollment change, and the last year
        the grant paid. Three numbers describe a box:

        * **coverage**: the share of all failing draws that fall inside the box (how much of
          the problem the box explains);
        * **density**: the share of draws inside the box that fail (how sure failure is in
          that region);
        * **mass**: the share of all draws inside the box.

        PRIM peels away thin slices of the input space, one at a time, to raise density, and
        loses coverage as it goes. The trajectory below shows this trade-off. The default box
        is the one that holds the most failing draws beyond what a random box of the same size
        would (the largest coverage minus mass).
        """
    ),
    code(
        """
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
        """
    ),
    code(
        """
        print("default box:", box.describe())
        print()
        print("a denser box further along the trajectory:")
        dense = int(traj.index[(traj.density >= 0.98)][0])
        print(f"box {dense}:", box.describe(dense))
        box.box()[["lower", "upper", "min", "max", "density_without"]]
        """
    ),
    md(
        """
        The failing futures are the ones where **per-pupil funding grows by about 2% a year or
        less while salaries grow by about 2.4% a year or more**. That box holds most of the
        insolvent draws, and nine in ten draws inside it fail. Whether the grant was renewed
        is not among its restrictions. Denser boxes further along the trajectory add at
        least one cut and tighter growth limits. Failure is then nearly certain, but those
        boxes cover only about a third of the failing draws.

        For the district finance office the lesson is this. The grant cliff is the
        trigger, but the structural gap comes from the same race as everywhere else: funding
        that grows more slowly than salaries and benefits. Before converting more schools on
        temporary money, the district should plan how its recurring budget will carry the
        central PL team and the salary schedule if funding grows by only 2% a year, because
        renewal and bridge money only buy time.
        """
    ),
    CHECKS_INTRO,
    code(
        """
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
        """
    ),
]

# ============================================================================ 04 risk drivers
NB04 = [
    md(
        """
        # Risk drivers: what breaks the plan, and which lever matters most?

        The flagship config (`configs/flagship.toml`) is a Chicago K-8 personalized-learning
        school over ten years. It balances today only with a temporary implementation grant.
        It faces enrollment decline, district budget cuts like the FY16 mid-year cut, and
        salaries that may grow faster than per-pupil funding.

        Knowing *that* the school is at risk is not enough. A finance office needs to know
        *what* drives the risk, so that it can watch, hedge, or negotiate the right thing.
        This notebook answers that at four levels:

        1. **Risk drivers in one run**: which sampled inputs move a draw's outcome (rank
           correlations, regression, variance contributions, tornado chart).
        2. **Sobol indices over planning assumptions**: which uncertain *config parameters*
           (the cut probability, the mean funding growth, ...) matter most over plausible
           ranges.
        3. **A two-lever map**: P(solvent) over salary growth and funding growth.
        4. **Correlated inputs**: how much the answer changes when inputs move together.
        """
    ),
    setup("import numpy as np", "from matplotlib.ticker import PercentFormatter"),
    code(
        """
        spec = sustainsim.load_config("../configs/flagship.toml")
        ds = sustainsim.simulate(spec, draws=50_000)
        p_base = float(sustainsim.p_solvent(ds).probability.sel(school="pl_k8", year=2036))
        print(f"P(solvent through FY2036) = {p_base:.1%} over {ds.sizes['draw']:,} draws")
        print("sampled inputs:", ", ".join(sustainsim.results.input_names(ds)))
        """
    ),
    md(
        """
        ## 1. Risk drivers from one run

        Each draw records its sampled inputs: the mean funding growth over the ten years, the
        salary growth rate, the number of cuts and the share of revenue they cut, the
        enrollment change, and the grant's amount and end. `risk_drivers` relates them to a
        per-draw outcome, here *solvent through FY2036* (yes/no):

        * `spearman`: the rank correlation with the outcome, with a p-value and an interval;
        * `src`: standardized regression coefficients of a linear fit on all inputs (with its
          R²);
        * `contribution`: each input's share of the explained variance (the LMG/Shapley
          split, which adds up to R² even when inputs are correlated, as the number of cuts
          and their cumulative size are);
        * `decile_swing`: P(solvent) in the top decile of the input minus the bottom decile.
        """
    ),
    code(
        """
        rd = sustainsim.analysis.risk_drivers(ds, "solvent")
        print(f"R^2 of the linear fit: {float(rd.r2):.2f} (on ranks: {float(rd.rank_r2):.2f})")
        table = rd[["spearman", "src", "contribution", "decile_swing"]].to_dataframe()
        table.reindex(table.spearman.abs().sort_values(ascending=False).index).round(3)
        """
    ),
    md(
        """
        Two inputs dominate. **Salary growth** works against solvency and **funding growth**
        for it. Cuts come next (their number more than their cumulative size), then how long
        the grant pays: a draw whose grant pays an extra year meets the cliff with a bigger
        cushion. Enrollment change hardly matters for this school. Its teachers are staffed
        per pupil (27 per homeroom), so cost follows enrollment almost as closely as revenue
        does. A linear fit explains about half of the
        variation in a yes/no outcome, which is typical. The rank correlations and decile
        swings do not rely on it.

        The **tornado chart** shows the same ranking in the outcome's own units: P(solvent
        through FY2036) among the draws whose input is in its lowest 10%, and in its highest
        10%.
        """
    ),
    code(
        """
        tt = sustainsim.analysis.tornado_table(ds, "solvent")
        ax = plotting.tornado(tt)
        tt[["input", "low", "high", "base", "low_value", "high_value"]].round(3)
        """
    ),
    md(
        """
        With salary growth in its top 10% (above about 4.2% a year), P(solvent) falls from
        about 75% to under a third. With funding growth in its bottom 10% (below about 1.4% a
        year on average) it falls to under two in five. Those two rows are what a finance
        office should watch and negotiate: the salary settlement and the state's funding
        formula.

        ## 2. Sobol indices: which planning assumption matters most?

        Risk drivers explain variation *within* one model. A different question is which of
        the *assumptions* behind the model would change the answer most, if we got them wrong.
        `sobol_indices` varies config parameters over ranges we choose, runs the model at each
        point of a Sobol design on common random numbers, and splits the variance of
        P(solvent through FY2036) among the parameters:

        * `S1` (first order): the share of the variance explained by the parameter alone;
        * `ST` (total): including its interactions with the others. `ST - S1` is the part that
          only shows up in combination.

        The ranges are judgments, and the ranking depends on them. We vary five assumptions
        over what a budget office might plausibly debate. The mean per-pupil funding growth
        ranges over 0-4% and the salary growth over 2-5% a year (fixed within a run here,
        which replaces the config's triangular distribution). The annual cut probability
        ranges over 4-25%, the enrollment drift over -4% to +1% a year, and the chance that
        the grant is renewed over 0-60%. A small design (n = 256, i.e. 1,792 runs of 1,500
        draws) takes about ten seconds. The `*_conf` columns are bootstrap half-widths of 95%
        intervals; raise `n` to narrow them.
        """
    ),
    code(
        """
        ranges = {
            "district.growth.funding.rate.mean": (0.0, 0.04),
            "district.growth.salary": (0.02, 0.05),
            "district.cuts.probability": (0.04, 0.25),
            "schools.pl_k8.enrollment.drift": (-0.04, 0.01),
            "schools.pl_k8.revenue.implementation_grant.renewal_probability": (0.0, 0.6),
        }
        sobol = sustainsim.analysis.sobol_indices(spec, ranges, n=256, draws=1_500, progress=False)
        sobol_table = (
            sobol[["S1", "S1_conf", "ST", "ST_conf"]].to_dataframe().sort_values("ST", ascending=False)
        )
        sobol_table.round(3)
        """
    ),
    code(
        """
        fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
        y = np.arange(len(sobol_table))[::-1]
        ax.barh(
            y + 0.2,
            sobol_table.S1,
            0.4,
            xerr=sobol_table.S1_conf,
            label="first order S1",
            color="#0072B2",
            capsize=2,
        )
        ax.barh(
            y - 0.2,
            sobol_table.ST,
            0.4,
            xerr=sobol_table.ST_conf,
            label="total ST",
            color="#E69F00",
            hatch="//",
            capsize=2,
        )
        ax.set_yticks(y, labels=[k.split(".", 1)[1] for k in sobol_table.index])
        ax.set_xlabel("share of the variance of P(solvent through FY2036) [1]")
        ax.set_title("Sobol indices of five planning assumptions")
        ax.legend(loc="lower right")
        ax.axvline(0, color="black", lw=0.8)
        ax.grid(axis="x", alpha=0.3)
        """
    ),
    md(
        """
        Over these ranges the **mean funding growth** explains most of the variance and
        **salary growth** most of the rest. The cut probability, the enrollment drift and
        grant renewal barely register. `ST` is somewhat larger than `S1` for funding and
        salary, which points to an interaction: a fast salary settlement hurts more when
        funding is slow. (The difference is within the intervals of this small design; the
        heatmap below shows the interaction directly.) The practical message: before
        refining the enrollment forecast or the odds of renewal, pin down the funding
        outlook and the salary schedule.

        ## 3. A two-lever map: salary growth against funding growth

        `sustainsim.run.grid.sweep` runs every point of a grid on common random numbers, and
        `plotting.heatmap` draws the result. Here salary growth (fixed per run) goes against
        the mean per-pupil funding growth, 10,000 draws per point:
        """
    ),
    code(
        """
        from sustainsim.run.grid import sweep

        SALARY, FUNDING = "district.growth.salary", "district.growth.funding.rate.mean"
        res = sweep(
            spec,
            {SALARY: [0.02, 0.025, 0.03, 0.035, 0.04, 0.045], FUNDING: [0.01, 0.015, 0.02, 0.025, 0.03]},
            draws=10_000,
        )
        grid = res.probability.sel(school="pl_k8", year=2036).rename(
            {SALARY: "salary growth", FUNDING: "funding growth"}
        )
        grid["salary growth"].attrs = {"long_name": "salary growth", "units": "1/yr"}
        grid["funding growth"].attrs = {"long_name": "mean per-pupil funding growth", "units": "1/yr"}
        grid.attrs["long_name"] = "P(solvent through FY2036)"
        ax = plotting.heatmap(grid)
        """
    ),
    md(
        """
        The map reads along its diagonals. When salaries and funding grow at the same rate
        the school is almost surely solvent. With salaries ahead by one point a year,
        P(solvent) is about 85-95%; with salaries two points ahead it is about a half, and
        three points ahead it is under one in ten. The risk is not linear: the first point
        of salary growth above funding growth costs about ten points of P(solvent), the
        second about forty. A district can use the map directly in bargaining: given its
        best guess of funding growth, it shows the salary settlement the school can carry at
        the risk the board accepts.

        ## 4. Correlated inputs: how much does dependence change the answer?

        So far every input has been sampled independently. In reality some move together. A
        config can say so in a `[[correlations]]` table: a **rank correlation** among named
        random inputs, imposed through a Gaussian copula. Each input keeps exactly its own
        distribution; only how the inputs pair up across draws changes. The names are the
        inputs' stream names, which `sustainsim.run.source.discover_streams(spec)` lists. A group holds
        either per-draw inputs only, or per-year inputs only, which are then correlated year
        by year. In the config file it reads

        ```toml
        [[correlations]]
        inputs = ["district.growth.funding", "district.cuts.event"]
        matrix = [[1.0, 0.5], [0.5, 1.0]]
        ```

        and in a notebook `with_overrides` adds it without touching the file. We try two
        dependencies a finance office would recognize.

        **(a) Bad years come together.** In a year when state funding grows slowly, a cut is
        also more likely. Both are per-year inputs in the flagship config, so we correlate
        them year by year with a rank correlation of 0.5: a low funding draw then tends to go
        with a low cut-event uniform, which is what triggers a cut.
        """
    ),
    code(
        """
        from scipy import stats


        def correlated(spec, inputs, rank_corr):
            # the spec with one [[correlations]] group of two inputs
            matrix = [[1.0, rank_corr], [rank_corr, 1.0]]
            return spec.with_overrides({"correlations": [{"inputs": inputs, "matrix": matrix}]})


        def rho_in(d):
            # rank correlation of a run's mean funding growth with its number of cuts
            return stats.spearmanr(d["growth.funding"], d["cuts.count"]).statistic


        streams = sorted({name for name, _ in sustainsim.run.source.discover_streams(spec)})
        print("random inputs:", ", ".join(streams))

        bad_years = correlated(spec, ["district.growth.funding", "district.cuts.event"], 0.5)
        ds_bad = sustainsim.simulate(bad_years, draws=50_000)
        p_bad = float(sustainsim.p_solvent(ds_bad).probability.sel(school="pl_k8", year=2036))
        print("sampler:", ds_bad.attrs["sampler"])
        print(
            "rank corr(mean funding growth, number of cuts): "
            f"{rho_in(ds):+.2f} independent, {rho_in(ds_bad):+.2f} correlated"
        )
        print(f"P(solvent through FY2036): {p_base:.1%} independent, {p_bad:.1%} with bad years together")
        """
    ),
    md(
        """
        The dependence is real in the sampled inputs: draws with low funding growth now see
        more cuts. The answer moves by only about one percentage point, though. Cuts are
        occasional and partly recover, and the ten-year mean of funding growth averages the
        bad years out.

        **(b) Raises follow revenue.** Salary settlements tend to be more generous when state
        aid grows, and leaner when it doesn't. In the flagship config, though, salary growth
        is one rate per draw, while funding growth is drawn anew each year, and the config
        refuses to mix the two in one group:
        """
    ),
    code(
        """
        try:
            correlated(spec, ["district.growth.funding", "district.growth.salary"], 0.6)
        except sustainsim.ConfigError as err:
            print(err)
        """
    ),
    md(
        """
        So we model the decade's funding growth as one uncertain rate per draw, Normal(2%, 1%).
        That is how a planner debates it, and it is the variant whose answer we compare
        against. Then we set the rank correlation between the two rates from -0.3 to 0.9, on
        the config's seed each time.
        """
    ),
    code(
        """
        variant = spec.with_overrides(
            {"district.growth.funding": {"dist": "normal", "mean": 0.02, "sd": 0.01}}
        )
        pair = ["district.growth.funding", "district.growth.salary"]
        rows = {}
        for rho in [-0.3, 0.0, 0.3, 0.6, 0.9]:
            d = sustainsim.simulate(correlated(variant, pair, rho) if rho else variant, draws=50_000)
            ps = sustainsim.p_solvent(d).sel(school="pl_k8", year=2036)
            rows[rho] = {
                "achieved rank corr": stats.spearmanr(d["growth.funding"], d["growth.salary"]).statistic,
                "median salary growth": float(d["growth.salary"].median()),
                "P(solvent through FY2036)": float(ps.probability),
                "lower": float(ps.lower),
                "upper": float(ps.upper),
            }
        raises = pd.DataFrame(rows).T.rename_axis("requested rank corr")
        raises.round(3)
        """
    ),
    code(
        """
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        ax.errorbar(
            raises.index,
            raises["P(solvent through FY2036)"],
            yerr=[
                raises["P(solvent through FY2036)"] - raises.lower,
                raises.upper - raises["P(solvent through FY2036)"],
            ],
            marker="o",
            capsize=3,
        )
        ax.axvline(0, color="black", lw=0.8, ls=":")
        ax.set_xlabel("rank correlation of salary growth with funding growth [1]")
        ax.set_ylabel("P(solvent through FY2036)")
        ax.yaxis.set_major_formatter(PercentFormatter(1, decimals=0))
        ax.set_title("When raises follow revenue, the risk falls\\n95% intervals, 50,000 draws each")
        ax.grid(alpha=0.3)
        """
    ),
    md(
        """
        The variant is riskier than the config even without correlation (69% against 75%):
        one uncertain rate for the whole decade is more uncertain than yearly rates, which
        partly average out. The achieved rank correlations match the requested ones, and
        the distribution of salary growth is unchanged (same median). Only the pairing
        changes, yet P(solvent) rises by about five points at a correlation of 0.6 and by
        about ten at 0.9. A positive correlation between a revenue driver and a cost driver
        is a natural hedge: it narrows the spread of their difference, which is what the
        balance depends on. Leaving it out overstates the risk. A negative correlation
        (raises won in lean years) works the other way.

        Correlation matters most when the correlated inputs are the *dominant* drivers and
        push the balance in opposite directions, as salary and funding do here. It matters
        little between inputs that move the balance only occasionally, like funding and cuts
        in (a). Before adding correlations to a config, check the tornado chart: only the
        inputs at its top can change the answer much.
        """
    ),
    CHECKS_INTRO,
    code(
        """
        # 1. drivers
        ranked = rd.spearman.to_series().abs().sort_values(ascending=False)
        assert set(ranked.index[:2]) == {"growth.salary", "growth.funding"}
        assert (
            float(rd.spearman.sel(input="growth.salary"))
            < 0
            < float(rd.spearman.sel(input="growth.funding"))
        )
        assert abs(float(rd.spearman.sel(input="pl_k8.enrollment.change"))) < 0.05, (
            "enrollment hardly matters"
        )
        assert 0.3 < float(rd.r2) < 0.7
        assert set(tt.input[:2]) == {"growth.salary", "growth.funding"}
        top_salary = tt.set_index("input").loc["growth.salary", "high"]
        assert 0.25 < top_salary < 0.45 and 0.65 < p_base < 0.85
        assert tt.set_index("input").loc["growth.funding", "low"] < 0.5
        # 2. Sobol
        assert list(sobol_table.index[:2]) == [
            "district.growth.funding.rate.mean",
            "district.growth.salary",
        ]
        assert sobol_table.ST.iloc[2:].max() < 0.1
        # 3. the two-lever map
        assert (grid.diff("salary growth") <= 0.01).all() and (grid.diff("funding growth") >= -0.01).all()
        diag0 = float(grid.sel({"salary growth": 0.02, "funding growth": 0.02}))
        diag1 = float(grid.sel({"salary growth": 0.03, "funding growth": 0.02}))
        diag2 = float(grid.sel({"salary growth": 0.04, "funding growth": 0.02}))
        assert diag0 > 0.95 and 0.8 < diag1 < 0.95 and 0.4 < diag2 < 0.65
        diag3 = float(grid.sel({"salary growth": 0.045, "funding growth": 0.015}))
        assert diag3 < 0.12 and (diag0 - diag1) < (diag1 - diag2)
        # 4. correlations
        assert ds_bad.attrs["sampler"].endswith("gaussian_copula")
        assert rho_in(ds_bad) < -0.2 < rho_in(ds) + 0.2
        assert p_bad <= p_base and p_base - p_bad < 0.03, "bad years together: about a point"
        assert (abs(raises["achieved rank corr"] - raises.index) < 0.03).all()
        assert raises["median salary growth"].max() - raises["median salary growth"].min() < 0.001
        assert raises["P(solvent through FY2036)"].is_monotonic_increasing
        p_ind = raises.loc[0.0, "P(solvent through FY2036)"]
        assert 0.03 < raises.loc[0.6, "P(solvent through FY2036)"] - p_ind < 0.08
        assert raises.loc[0.6, "lower"] > raises.loc[0.0, "upper"], "beyond Monte Carlo noise"
        assert 0.07 < raises.loc[0.9, "P(solvent through FY2036)"] - p_ind < 0.14
        assert 0.03 < p_base - p_ind < 0.09, "one rate per decade is riskier than yearly rates"
        print("all checks passed")
        """
    ),
]

# ============================================================================ 05 calibration
NB05 = [
    md(
        """
        # Calibration: fitting the enrollment process to real district history

        Every config needs numbers for enrollment: a **drift** (mean annual log growth), a
        **volatility** (the standard deviation of the yearly surprise), a **persistence**
        (how much of last year's surprise carries over) and a **common loading** (how much of
        the surprise is shared by all districts in a year, like the COVID drop). Guessing them
        is the weakest step of a risk model. This notebook estimates them from history and
        then checks, out of sample, whether forecasts with the fitted process have honest
        prediction intervals.

        The data are Ohio's school districts in the U.S. Census Bureau's Annual Survey of
        School System Finances (F-33), FY2009-FY2022 (FY2014 missing). We keep the ~610
        *comparable* districts, those that stay comparable across all years. The file lives
        outside the repository in `shared/data/` (see its README). **If the folder is not
        there, the notebook generates a synthetic panel of the same shape from known
        parameters** and the same steps run on it. The fit should then recover the true
        parameters. The output below says which case ran.
        """
    ),
    setup("import numpy as np", "from matplotlib.ticker import PercentFormatter", plotting=False),
    code(
        """
        import os
        from pathlib import Path

        DATA = Path(os.environ.get("SUSTAINSIM_DATA_DIR", "../../shared/data"))
        PANEL = DATA / "ohio_f33_panel.csv"
        REAL = PANEL.is_file()
        COLUMNS = dict(entity="irn", year="fiscal_year", value="enrollment", filters={"comparable": 1})

        if REAL:
            panel = pd.read_csv(PANEL, usecols=["irn", "fiscal_year", "enrollment", "comparable"])
            TRUTH = None
            print(f"real data: {PANEL}")
        else:
            # a synthetic panel from the model itself, with known parameters
            TRUTH = {"drift": -0.012, "drift_sd": 0.01, "persistence": 0.05, "common_volatility": 0.015}
            rng = np.random.default_rng(1)
            n, years = 400, np.arange(2009, 2023)
            size = np.exp(rng.normal(np.log(1500), 0.9, n))
            drift = rng.normal(TRUTH["drift"], TRUTH["drift_sd"], n)
            own_sd = 0.012 + 0.6 / np.sqrt(size)  # small districts are more volatile
            phi = TRUTH["persistence"]
            level = np.empty((n, years.size))
            level[:, 0] = size
            own, common = rng.normal(0, own_sd / np.sqrt(1 - phi**2)), 0.0
            for t in range(1, years.size):
                common = phi * common + rng.normal(0, TRUTH["common_volatility"])
                own = phi * own + rng.normal(0, own_sd)
                level[:, t] = level[:, t - 1] * np.exp(drift + common + own)
            panel = pd.DataFrame(
                {
                    "irn": np.repeat(np.arange(n) + 100_000, years.size),
                    "fiscal_year": np.tile(years, n),
                    "enrollment": np.round(level.ravel()),
                    "comparable": 1,
                }
            )
            panel = panel[panel.fiscal_year != 2014]  # the real panel lacks FY2014 too
            print(
                f"{PANEL} not found: using a synthetic panel of {n} districts generated from known parameters"
            )

        kept = panel[panel.comparable == 1]
        print(
            f"{kept.irn.nunique()} districts, fiscal years {kept.fiscal_year.min()}-{kept.fiscal_year.max()}, "
            f"{len(kept):,} district-years; median enrollment {kept.enrollment.median():,.0f}"
        )
        """
    ),
    md(
        """
        ## 1. Fit

        `fit_enrollment` models each district's annual log growth as its own drift plus a
        deviation that follows an AR(1). The deviation's yearly innovation has a part common
        to all districts that year and a district's own part. The fit is a two-stage Gaussian
        (restricted) maximum likelihood. Drifts are partially pooled across districts, so a
        district with a short or noisy history borrows strength from the others. Each
        district also gets its own volatility, shrunk towards the pooled one, because small
        districts are far more volatile than large ones. Growth is only taken between
        consecutive years, so the missing FY2014 costs two growth values per district and
        biases nothing.
        """
    ),
    code(
        """
        fit = sustainsim.calibration.fit_enrollment(panel, **COLUMNS)
        summary = fit.summary()
        if TRUTH is not None:
            summary["truth"] = pd.Series(TRUTH)
        print(summary.to_string(float_format="{:.4f}".format, na_rep=""))
        """
    ),
    code(
        """
        fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
        shock = fit.common_shock
        ax.bar(shock.index, shock.values, color=np.where(shock.values < 0, "#D55E00", "#0072B2"))
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("fiscal year")
        ax.set_ylabel("common log-growth deviation [1/yr]")
        ax.yaxis.set_major_formatter(PercentFormatter(1, decimals=1))
        ax.set_title("The shock shared by all districts each year (year effect minus mean drift)")
        ax.grid(axis="y", alpha=0.3)
        """
    ),
    md(
        """
        On the Ohio data the mean drift is about **-1.3% a year**, with a spread of about one
        point between districts. The volatility is about **3.4% a year**, and the innovation
        hardly persists. The common loading of about 0.45 means some 20% of the variance of a
        district's yearly surprise (the loading squared) is shared with every other district
        that year. This is why enrollment risk does not diversify away across a district's
        schools, and why configs set `common_loading`. The public figures in the design notes
        (median drift -1.1% a year, log sd about 3.5%) agree. The common shock shows the
        drop of FY2010, after the Great Recession, and the COVID drop of FY2021, partly
        recovered in FY2022.

        `to_toml` turns the fit into the `[schools.enrollment]` table of a config. For a
        typical district it uses the mean drift, as a normal distribution whose spread
        combines the differences between districts with the uncertainty of the mean, plus the
        pooled volatility and the median size. For one named district (here one of median
        size) it uses that district's own drift, with its posterior sd, and its own
        volatility and loading:
        """
    ),
    code(
        """
        print(fit.to_toml())
        ed = fit.entity_drift
        example = (ed[ed.n_obs == ed.n_obs.max()].last_value - ed.last_value.median()).abs().idxmin()
        print("\\n".join(fit.to_toml(example).splitlines()[-7:]))
        """
    ),
    md(
        """
        These are **district-wide** parameters. A single school's enrollment is far more
        volatile (a log sd of about 15% in a bad year, per the design notes), so a school
        config should fit to school-level history where it exists. At the least it should
        raise the volatility and keep the common loading to tie the school to its district.

        The fragment drops into a config as it is, or into a notebook what-if through
        `with_overrides`. Here it replaces the reference school's assumed enrollment process
        (drift -1%, volatility 4%, no persistence or common shock), keeping its size of 500:
        """
    ),
    code(
        """
        ref = sustainsim.load_config("../configs/reference/ref10.toml")
        fitted = ref.with_overrides(
            {
                "schools.ref.enrollment.drift": {
                    "dist": "normal",
                    "mean": fit.drift,
                    "sd": float(np.hypot(fit.drift_sd, fit.drift_se)),
                },
                "schools.ref.enrollment.volatility": fit.volatility,
                "schools.ref.enrollment.persistence": fit.persistence,
                "schools.ref.enrollment.common_loading": fit.loading,
            }
        )
        runs = {}
        for label, s in [("assumed (ref10)", ref), ("fitted", fitted)]:
            r = sustainsim.simulate(s, draws=20_000, seed=1)
            ps = runs[label] = sustainsim.p_solvent(r).probability.sel(school="ref")
            chg = r["ref.enrollment.change"].quantile([0.05, 0.5, 0.95]).values
            print(
                f"{label:16s} P(solvent) FY2031 {float(ps.sel(year=2031)):.1%}, FY2036 {float(ps.sel(year=2036)):.1%}; "
                f"10-year enrollment change 5/50/95%: {chg[0]:+.0%} / {chg[1]:+.0%} / {chg[2]:+.0%}"
            )
        """
    ),
    md(
        """
        The fitted process is close to the reference model's assumption, and so are the
        answers. The fitted drift is a little more negative, and it is a distribution rather
        than one number, so the ten-year enrollment change is lower and somewhat wider, and
        P(solvent through FY2031) is a few points lower. Calibration confirms the assumption
        here rather than overturning it, and that is worth knowing too.

        ## 2. Back-test: are the prediction intervals honest?

        A fit that describes the past well can still forecast badly. `backtest_enrollment`
        runs a rolling-origin test: for every origin year it fits on the years up to that
        origin only, simulates every district 1-5 years ahead, and scores the forecast against
        what happened. The key score is **coverage**: the share of actual outcomes inside the
        central 50%, 80% and 95% prediction intervals. A well-calibrated forecast covers about
        50%, 80% and 95%. Less means overconfident intervals, and a school plan built on them
        understates enrollment risk. More means intervals wider than they need to be.

        We run it twice. Once with each district's own volatility (the default), and once with
        one pooled volatility for all districts.
        """
    ),
    code(
        """
        from sustainsim.calibration.backtest import coverage_table

        bt = sustainsim.calibration.backtest_enrollment(panel, **COLUMNS, horizon=5, draws=500, rng=1)
        bt_pooled = sustainsim.calibration.backtest_enrollment(
            panel, **COLUMNS, horizon=5, draws=500, rng=1, volatility="pooled"
        )
        print("origins:", bt.origin.values.tolist())
        fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained")
        sustainsim.plotting.plot_coverage(bt, ax=axes[0]).set_title("own volatility per district (default)")
        sustainsim.plotting.plot_coverage(bt_pooled, ax=axes[1]).set_title("one pooled volatility")
        coverage_table(bt).round(3)
        """
    ),
    code(
        """
        coverage_table(bt_pooled).round(3)
        """
    ),
    md(
        """
        With each district's own volatility, coverage is close to nominal at every horizon:
        about 50%, 80% and 95%. With one pooled volatility the intervals are too wide for the
        many large, stable districts, so they cover more than they should. (In the mirror
        case they would be too narrow for the small, volatile ones.) That is why the fit gives
        every district its own volatility.

        The `crps` column, the continuous ranked probability score of log enrollment, reads
        roughly as a relative error. It grows from about 2% one year ahead to about 5% five
        years ahead: a five-year enrollment forecast for a district is uncertain by about 5%
        either way, and a school's far more. The small positive `bias` says districts lost
        pupils a little more slowly after each origin than the fit to earlier years
        expected.

        On the synthetic panel (when the data folder is absent) the same steps run on data
        that the model itself generated, with one path of common shocks. Coverage is then
        only roughly nominal, and the fitted parameters should sit near the `truth` column
        above.
        """
    ),
    CHECKS_INTRO,
    code(
        """
        s = fit.summary()["estimate"]
        cov = bt.coverage
        p_ref, p_fit = runs["assumed (ref10)"], runs["fitted"]
        if REAL:
            assert -0.02 < s["drift"] < -0.005 and 0.025 < s["volatility"] < 0.045
            assert 0.3 < s["loading"] < 0.6 and abs(s["persistence"]) < 0.15
            shock = fit.common_shock
            assert shock.loc[2010] < -0.02 and shock.loc[2021] < -0.01 < 0.01 < shock.loc[2022]
            assert fit.n_entities > 550
            assert (abs(cov - cov.level) < 0.06).all(), "own volatility: close to nominal"
            pooled = bt_pooled.coverage
            for level in (0.5, 0.8):
                assert (
                    abs(pooled - pooled.level).sel(level=level) > abs(cov - cov.level).sel(level=level)
                ).all()
                assert (pooled.sel(level=level) > level).all(), "pooled: too wide"
            assert 0 < float(p_fit.sel(year=2031)) < float(p_ref.sel(year=2031)), "a few points lower"
        else:
            for k, v in TRUTH.items():
                assert abs(s[k] - v) < 0.02, (k, s[k], v)
            assert (abs(cov - cov.level) < 0.15).all(), "roughly nominal on one synthetic path"
        assert float(bt.crps.sel(horizon=1)) < float(bt.crps.sel(horizon=5)) < 0.1
        assert "[schools.enrollment]" in fit.to_toml() and "common_loading" in fit.to_toml()
        print("all checks passed", "(real data)" if REAL else "(synthetic panel)")
        """
    ),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": NB01,
    "02_chicago_personalized_learning.ipynb": NB02,
    "03_grant_cliff.ipynb": NB03,
    "04_risk_drivers.ipynb": NB04,
    "05_calibration.ipynb": NB05,
}


def make_notebook(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` without outputs."""
    nb = new_notebook(cells=[nbformat.from_dict(dict(c)) for c in NOTEBOOKS[name]])
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path = HERE) -> nbformat.NotebookNode:
    """Run ``nb`` top to bottom in a fresh kernel with working directory ``cwd`` (in place)."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
    )
    client.execute()
    return nb


def build(name: str, run: bool = True) -> Path:
    nb = make_notebook(name)
    path = HERE / name
    if run:
        try:
            execute(nb)
        finally:  # saved even when a cell fails, to show where
            nb.metadata["language_info"] = {"name": "python"}
            nbformat.write(nb, path)
    else:
        nbformat.write(nb, path)
    return path


def main(argv: list[str]) -> int:
    run = "--no-execute" not in argv
    wanted = [a for a in argv if not a.startswith("--")]
    names = [n for n in NOTEBOOKS if not wanted or any(w in n for w in wanted)]
    for name in names:
        t0 = time.perf_counter()
        path = build(name, run)
        size = path.stat().st_size / 1024
        print(f"{name}: {time.perf_counter() - t0:5.1f} s, {size:6.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
