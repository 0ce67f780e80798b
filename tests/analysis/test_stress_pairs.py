"""Stress capacity of two models on common random numbers: a zero-variance pair by hand, the CLI."""

from __future__ import annotations

import pytest

import sustainsim
from sustainsim.analysis.stress_pairs import compare_stress_capacity
from sustainsim.cli.main import main

PAIR = """
[simulation]
years = 3
first_year = 2030
draws = 4
seed = 1

[models.lean]
cost = [{ name = "ops", kind = "fixed", amount = 90000 }]
[models.heavy]
cost = [{ name = "ops", kind = "fixed", amount = 110000 }]
[models.unused]

[[schools]]
name = "a"
model = "lean"
fund_balance = 50000
enrollment = { base = 100 }
revenue = [{ name = "pp", kind = "per_pupil", rate = 1000 }]

[[schools]]
name = "b"
model = "heavy"
fund_balance = 50000
enrollment = { base = 100 }
revenue = [{ name = "pp", kind = "per_pupil", rate = 1000 }]

[[schools]]
name = "c"
fund_balance = 50000
enrollment = { base = 100 }
"""

# Hand closed form. Revenue 100 pupils x $1,000 = $100,000 a year, all of it exposed, so a
# permanent cut x leaves the balance after t years at 50,000 + t (100,000 (1 - x) - cost):
#   lean (cost 90,000):   50,000 + t (10,000 - 100,000 x) >= 0 for t = 1, 2, 3
#       t = 3 binds: x <= 80,000 / 300,000 = 4/15 = 0.26667 (t = 1 allows 0.6)
#   heavy (cost 110,000): 50,000 + t (-10,000 - 100,000 x) >= 0
#       t = 3 binds: x <= 20,000 / 300,000 = 1/15 = 0.06667
# Nothing is random, so every draw, and every bootstrap replicate, has the same capacity:
# difference lean - heavy = 3/15 = 0.2 for both schools, with a zero-width interval. School
# "c" runs neither model and is not compared.
LEAN, HEAVY = 4 / 15, 1 / 15


def test_zero_variance_pair_matches_the_hand_closed_form():
    spec = sustainsim.loads_config(PAIR)
    out = compare_stress_capacity(spec, "lean", "heavy", 0.9, draws=20, tol=1e-5, boot=50)
    assert list(out.school.values) == ["a", "b"]
    for school in ("a", "b"):
        cap = out.capacity.sel(school=school)
        assert float(cap.sel(model="lean")) == pytest.approx(LEAN, abs=2e-5)
        assert float(cap.sel(model="heavy")) == pytest.approx(HEAVY, abs=2e-5)
        d = out.sel(school=school)
        assert float(d.difference) == pytest.approx(LEAN - HEAVY, abs=4e-5)
        assert float(d.difference_lower) == pytest.approx(float(d.difference), abs=1e-12)
        assert float(d.difference_upper) == pytest.approx(float(d.difference), abs=1e-12)
    # reversing the pair flips the sign
    rev = compare_stress_capacity(spec, "heavy", "lean", 0.9, draws=20, tol=1e-5, boot=50)
    assert float(rev.difference.sel(school="a")) == pytest.approx(HEAVY - LEAN, abs=4e-5)


def test_paired_interval_brackets_the_difference_on_random_draws():
    # enrollment noise: the same draws under both models, so the difference is far tighter
    # than either capacity's own interval
    text = PAIR.replace(
        "enrollment = { base = 100 }", "enrollment = { base = 100, volatility = 0.05 }"
    )
    spec = sustainsim.loads_config(text)
    out = compare_stress_capacity(spec, "lean", "heavy", 0.8, draws=2000, seed=3, boot=200)
    d = out.sel(school="a")
    assert float(d.difference_lower) <= float(d.difference) <= float(d.difference_upper)
    width = float(d.difference_upper - d.difference_lower)
    own = float((d.upper - d.lower).sel(model="lean"))
    assert 0 < width < own


def test_stress_compare_cli(tmp_path, capsys):
    cfg = tmp_path / "pair.toml"
    cfg.write_text(PAIR)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["stress", str(cfg), "--compare", "lean,heavy", "--draws", "10"]) == 0
    out = capsys.readouterr().out
    assert "each school run as lean and as heavy" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("a ", "b "))]
    # default tol 1e-3: 26.7% and 6.7% to within a tenth of a point, +20.0 pp [+20.0, +20.0]
    assert [r[0] for r in rows] == ["a", "b"]
    for r in rows:  # school, lean [lo, hi], heavy [lo, hi], difference [lo, hi]
        assert abs(float(r[1].rstrip("%")) - 100 * LEAN) <= 0.15
        assert abs(float(r[4].rstrip("%")) - 100 * HEAVY) <= 0.15
        assert r[7:] == ["+20.0", "pp", "[+20.0", "pp,", "+20.0", "pp]"]
    for bad, needle in [
        ("lean,nope", "'nope' is not a [models.NAME]"),
        ("lean,lean", "two different models"),
        ("unused,lean", None),  # fine: school a runs lean
    ]:
        code = main(["stress", str(cfg), "--compare", bad, "--draws", "10"])
        err = capsys.readouterr().err
        if needle is None:
            assert code == 0, err
        else:
            assert code == 2 and needle in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
