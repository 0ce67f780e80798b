"""SHA-256 digests of every data variable a shipped config's run produces.

The layout refactor ("the house in stages") must change no number: these digests were
recorded before anything moved, and ``tests/test_digests.py`` checks them after.
Regenerate (only when a change is *meant* to change numbers, and say so in the commit):

    python -m tests.digests --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import scipy

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).with_name("data") / "digests.json"
CONFIGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "configs").rglob("*.toml"))
DRAWS = 2_000
SEED = 20261201


def digest(values: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    a = np.ascontiguousarray(values)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    if a.dtype.kind in "OUS":
        h.update("\x00".join(map(str, a.ravel().tolist())).encode())
    else:
        h.update(a.tobytes())
    return h.hexdigest()


def dataset_digests(ds) -> dict[str, str]:
    """One digest per data variable and per coordinate of a Dataset."""
    out = {f"var:{k}": digest(ds[k].values) for k in sorted(ds.data_vars)}
    out.update({f"coord:{k}": digest(ds[k].values) for k in sorted(ds.coords)})
    return out


def compute() -> dict:
    import sustainsim

    try:
        from sustainsim.run import simulate_summary
    except ImportError:  # before the layout refactor
        from sustainsim.run.summary import simulate_summary

    runs: dict[str, dict[str, str]] = {}
    for path in CONFIGS:
        spec = sustainsim.load_config(ROOT / path)
        full = sustainsim.simulate(spec, draws=DRAWS, seed=SEED, lines=True, progress=False)
        runs[f"{path}|full"] = dataset_digests(full)
        summ = simulate_summary(spec, draws=DRAWS, seed=SEED, progress=False)
        runs[f"{path}|summary"] = dataset_digests(summ)
    return {
        "draws": DRAWS,
        "seed": SEED,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "runs": runs,
    }


if __name__ == "__main__":
    result = compute()
    if "--write" in sys.argv:
        FIXTURE.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        print(f"wrote {FIXTURE} ({len(result['runs'])} runs)")
    else:
        print(json.dumps(result, indent=1, sort_keys=True))
