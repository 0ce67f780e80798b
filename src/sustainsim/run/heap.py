"""The C heap of a process that runs chunks: chunk-sized temporaries kept on the heap.

Every chunk allocates the same temporaries again (a school's ``(years, draws)`` arrays,
a megabyte or so). glibc's ``malloc`` serves blocks above its mmap threshold (128 KiB at
first, raised only as blocks are freed) with a fresh mapping and returns them to the
kernel when freed, and it trims the heap's top as soon as a few megabytes are free: the
next chunk then faults every page in again. Where touching fresh memory is dear (a virtual
machine that hands freed pages back to its host: up to ~30 us a 4 KiB page, measured
here), that made a fresh process's summary run of ref10 a third slower than a warm one
(1.75 s against 1.30 s for 4e6 draws).

:func:`keep_chunks_on_heap` sets the mmap threshold to 32 MiB (glibc's own ceiling for
its dynamic threshold) and the trim threshold to 256 MiB, once per process, so blocks up
to 32 MiB come from the heap and stay mapped between chunks: at most 256 MiB more is kept
than is in use (per malloc arena). The trim threshold is above what one chunk of a full
run allocates besides its outputs: 106 MB for the flagship's salary schedules and staff
lines and 250 MB for teacher_leader at 32,768 draws (measured with ``tracemalloc``), 13
MB for ref10. At 64 MiB the flagship's chunks were handed back to the kernel every time:
its 200,000 draws took 0.47 s on one thread instead of 0.21 s. Elsewhere (macOS,
Windows, musl) it does nothing. The numbers of a run are the same either way; only where
its memory comes from changes.
"""

from __future__ import annotations

import ctypes
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_chunks_on_heap"]

#: blocks at least this large get their own mapping [bytes] (glibc's DEFAULT_MMAP_THRESHOLD_MAX)
MMAP_THRESHOLD = 32 * 2**20
#: free memory at the heap's top returned to the kernel past this [bytes]
TRIM_THRESHOLD = 256 * 2**20
# mallopt(3) parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_done: bool | None = None


def keep_chunks_on_heap() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if they are set.

    Returns False where the C library is not glibc (nothing is changed) or ``mallopt``
    refuses; later calls return the first call's answer without calling it again.
    """
    global _done
    if _done is None:
        _done = _set_thresholds()
    return _done


def _set_thresholds() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - glibc has mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return ok and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
