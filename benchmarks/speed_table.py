"""The Speed table from pytest-benchmark results: speed.md and the README's Speed section.

    python benchmarks/speed_table.py                       # results/speed.json -> speed.md, README
    python benchmarks/speed_table.py --before before.json  # a "before -> after" column too
    python benchmarks/speed_table.py --no-readme           # speed.md only

Reads the JSON ``pytest benchmarks/test_speed.py --benchmark-json ...`` writes (best of the
rounds, ``stats.min``), one row per row of issue 16's table, and writes
``benchmarks/results/speed.md`` (with the machine) and the table between the
``<!-- speed:begin -->`` / ``<!-- speed:end -->`` markers of README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"
CMD = "python -m pytest benchmarks/test_speed.py -k {k} --benchmark-json OUT.json"


def _best(data: dict) -> dict[str, dict]:
    return {b["name"]: b for b in data["benchmarks"]}


def _s(b: dict[str, dict], name: str, stat: str = "min") -> float:
    return float(b[name]["stats"][stat])


def _ref10(b):
    ref = _s(b, "test_ref10_numpy")
    sim, one = _s(b, "test_ref10_simulate[default]"), _s(b, "test_ref10_simulate[one]")
    return (
        f"{sim:.2f} s ({1e6 / sim / 1e6:.1f} M draws/s), {sim / ref:.2f}x numpy ({ref:.2f} s); "
        f"on one thread {one:.2f} s, {one / ref:.2f}x"
    )


def _per_school(b):
    one, many = _s(b, "test_per_school[1]"), _s(b, "test_per_school[100]")
    return f"{many / one:.2f}x ({one:.2f} s for 1 x 1e6, {many:.2f} s for 100 x 1e4)"


def _s100(b):
    x = b["test_100_schools_20_years"]
    n = x["extra_info"]["draws"]
    return f"{_s(b, 'test_100_schools_20_years'):.1f} s" + ("" if n == 100_000 else f" ({n:,})")


def _s600(b):
    return f"{_s(b, 'test_600_schools_10_years'):.1f} s"


def _cli(b):
    alone = _s(b, "test_cli_simulate_alone")
    proc, inproc = _s(b, "test_cli_process"), _s(b, "test_cli_in_process")
    # the medians too: a round whose new results.nc lands on memory the host took back
    # costs up to 1 s more (benchmarks/page_cache.py), so best and median differ most here
    sides = (("new process", "test_cli_process"), ("in process", "test_cli_in_process"))
    medians = ", ".join(f"{what} {_s(b, name, 'median'):.1f} s" for what, name in sides)
    return (
        f"{proc / alone:.1f}x as a new process ({proc:.1f} s, imports counted), "
        f"{inproc / alone:.1f}x in process ({inproc:.1f} s); simulate {alone:.2f} s; "
        f"medians: {medians}"
    )


def _workers(b):
    one, two = _s(b, "test_workers[1]"), _s(b, "test_workers[2]")
    text = f"{two / one:.2f}x ({two:.2f} s vs {one:.2f} s)"
    if "test_workers[threads]" in b:
        th = _s(b, "test_workers[threads]")
        text += f"; one process by default {th / one:.2f}x ({th:.2f} s)"
    return text


def _stream(b):
    x = b["test_stream_1e8"]["extra_info"]
    n = x["draws"]
    text = f"{x['seconds_in_child']:.0f} s, peak {x['peak_rss_mib'] / 1024:.2f} GiB" + (
        "" if n == 100_000_000 else f" ({n:,} draws)"
    )
    one = b.get("test_stream_1e8_one_thread")
    if one is not None:  # the default runs on threads; the one-thread figure beside it
        one = one["extra_info"]
        text += (
            f" by default; {one['seconds_in_child']:.0f} s, peak "
            f"{one['peak_rss_mib'] / 1024:.2f} GiB on one thread"
        )
    else:
        text += " serial"
    w = b.get("test_stream_1e8_two_workers")
    if w is not None:
        w = w["extra_info"]
        text += (
            f"; {w['seconds_in_child']:.0f} s, peak {w['peak_rss_mib'] / 1024:.2f} GiB"
            f" over {w['processes']} processes on two workers"
        )
    return text


#: (the issue's row, its goal, the figure from the results, the -k of the command)
ROWS: list[tuple[str, str, Callable[[dict], str], str]] = [
    ("`simulate` ref10, 1e6 draws, against hand-written numpy", "<= 0.75x", _ref10, "ref10"),
    (
        "cost per school-draw, 100 schools against 1 (one thread)",
        "<= 1.25x",
        _per_school,
        "per_school",
    ),
    ("100 schools x 20 years x 1e5 draws, summary mode", "< 10 s", _s100, "100_schools"),
    ("600 schools x 10 years x 1e4 draws, summary mode", "< 5 s", _s600, "600_schools"),
    ("`sustainsim run ref10 --draws 1000000 --no-report` against `simulate`", "<= 3x", _cli, "cli"),
    (
        "two worker processes against one (one thread), 4e6 draws",
        "<= 0.55x",
        _workers,
        "workers",
    ),
    ("1e8 draws streaming", "< 30 s, < 1 GiB", _stream, "stream_1e8"),
]


def _figure(fn, b) -> str:
    try:
        return fn(b)
    except KeyError:
        return "not measured"


def table(after: dict, before: dict | None = None) -> list[str]:
    """The Markdown table: a row per row of the issue, before -> after when given."""
    a = _best(after)
    head = ["case", "goal"] + (["before", "after"] if before else ["figure"]) + ["command"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, goal, fn, k in ROWS:
        cells = [case, goal]
        if before:
            cells.append(_figure(fn, _best(before)))
        cells += [_figure(fn, a), f"`{CMD.format(k=k)}`"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine(data: dict) -> str:
    """One line on the machine and the run, from pytest-benchmark's ``machine_info``."""
    m = data["machine_info"]
    cpu = m.get("cpu", {})
    load = next(
        (b["extra_info"]["loadavg"] for b in data["benchmarks"] if "loadavg" in b["extra_info"]),
        None,
    )
    when = data.get("datetime", "")[:19].replace("T", " ")
    return (
        f"{cpu.get('brand_raw', m.get('processor', '?'))}, {cpu.get('count', os.cpu_count())} "
        f"CPUs, {m['system']} {m['release']}, Python {m['python_version']}; {when}"
        + (f"; load average {load[0]:.1f} at the end (shared machine)" if load else "")
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", type=Path, default=HERE / "results" / "speed.json")
    ap.add_argument("--before", type=Path)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "speed.md")
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument("--note", default="", help="a line on how the run was made")
    args = ap.parse_args(argv)
    after = json.loads(args.after.read_text())
    before = json.loads(args.before.read_text()) if args.before else None
    rows = table(after, before)
    note = [
        f"Machine: {machine(after)}.",
        "Best of the rounds after a warm-up (pytest-benchmark `min`); the machine is shared,",
        "so the figures are noisy (up to 2x between runs). No timing is asserted in tests.",
    ]
    if before:
        note.insert(1, f"Before: {machine(before)}.")
    if args.note:
        note.append(args.note)
    md = ["# sustainsim speed (issue 16's table)", "", *rows, "", *note, ""]
    args.out.write_text("\n".join(md))
    print("\n".join(md))
    if not args.no_readme:
        text = README.read_text()
        if BEGIN not in text or END not in text:
            print(f"README.md has no {BEGIN} ... {END} block", file=sys.stderr)
            return 1
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        block = "\n".join([BEGIN, *rows, "", *note, END])
        README.write_text(head + block + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
