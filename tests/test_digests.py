"""The numbers do not move: every data variable of every shipped config's run, digest by digest.

The fixture was recorded before the layout refactor; a change that is meant to change
numbers regenerates it (``python -m tests.digests --write``) and says so in its commit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy

from tests import digests

RECORDED = json.loads(digests.FIXTURE.read_text())


def test_fixture_covers_every_shipped_config():
    recorded = {key.split("|")[0] for key in RECORDED["runs"]}
    assert recorded == set(digests.CONFIGS)


@pytest.fixture(scope="module")
def current():
    if (np.__version__, scipy.__version__) != (RECORDED["numpy"], RECORDED["scipy"]):
        pytest.skip(
            f"digests were recorded with numpy {RECORDED['numpy']}, scipy {RECORDED['scipy']}; "
            f"this is numpy {np.__version__}, scipy {scipy.__version__} (float kernels may differ)"
        )
    return digests.compute()


@pytest.mark.parametrize("run", sorted(RECORDED["runs"]))
def test_digests_unchanged(current, run):
    want, got = RECORDED["runs"][run], current["runs"][run]
    assert sorted(got) == sorted(want), "the set of variables changed"
    changed = [k for k in want if got[k] != want[k]]
    assert not changed, f"{run}: changed {changed}"
