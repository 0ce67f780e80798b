"""Chunk temporaries come from the heap once a run has set glibc's thresholds."""

from __future__ import annotations

import platform

import pytest

from tests.conftest import python_child

#: a child process's helper: the bytes its heap ([heap] in /proc/self/maps) spans
_HEAP = """
import sys
import numpy as np
def heap():
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip().endswith("[heap]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                return hi - lo
    return 0
"""

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)


def _child(script: str, *args: str) -> str:
    """What ``script`` (after :data:`_HEAP`) prints in a fresh process."""
    return python_child(_HEAP + script, *args)


_COUNT = """
if sys.argv[1] == "set":
    from sustainsim.run.heap import keep_chunks_on_heap
    assert keep_chunks_on_heap() and keep_chunks_on_heap()
before = heap()
live = [np.ones(500_000) for _ in range(6)]  # six 4 MB blocks alive at once
print((heap() - before) // 2**20)
"""


@glibc_only
def test_blocks_below_the_threshold_get_no_mapping_of_their_own():
    """A fresh process maps each 4 MB block apart; after the call they come from the heap."""
    assert int(_child(_COUNT, "plain")) < 4
    assert int(_child(_COUNT, "set")) >= 22


def test_elsewhere_nothing_changes(monkeypatch):
    from sustainsim.run import heap

    monkeypatch.setattr(heap.platform, "system", lambda: "Darwin")
    assert heap._set_thresholds() is False


_TRIM = """
from sustainsim.run.heap import TRIM_THRESHOLD, keep_chunks_on_heap
assert keep_chunks_on_heap()
live = [np.ones(500_000) for _ in range(40)]  # 160 MB of chunk temporaries
big = heap()
del live  # the chunk is done: its temporaries are freed at the heap's top
print(big // 2**20, heap() // 2**20, TRIM_THRESHOLD // 2**20)
"""


@glibc_only
def test_a_chunks_temporaries_stay_mapped_for_the_next_chunk():
    """160 MB freed at the top of the heap is kept (a 64 MiB threshold gave it back)."""
    big, after, trim = (int(x) for x in _child(_TRIM).split())
    assert 150 <= big < trim  # freed at the top, below the threshold: not trimmed
    assert after >= big - 8
