"""The budget of one request (or one call): how much time and memory it may take, measured
while it runs, for the adversarial tests (tests/security/test_budgets.py and its neighbours).

    with within(seconds=5, megabytes=512) as spent:
        response = client.post(...)
    # the block computed for at most 5 s and its peak memory grew by at most 512 MB

Time is the CPU time of this process (the test client runs the request in it): on a machine
shared with other work, wall time stretches with the load while CPU time does not, and an
input that takes the server down does so by computing (724 s for one PDF, 16 s for one
comment). Wall time is checked too, with WALL_SLACK times the budget, for a request that
would wait rather than compute.

Memory is the growth of the process's peak resident set (Linux's VmHWM, reset before the
block through /proc/self/clear_refs, with the C heap's free memory handed back first): what
the server would really hold, C libraries' allocations included (lxml, pypdf's zlib,
PDFium), and measured without slowing the block down. Where that is not available (not
Linux), Python's own allocations at their peak (tracemalloc), which slows allocating code
down by up to five times, so the times measured there are upper bounds of the real ones:
20,000 nested elements parse in 0.35 s without it and 1.6 s with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter, process_time

MB = 2**20
WALL_SLACK = 4
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class Spent:
    seconds: float = 0.0  # CPU time of this process
    wall: float = 0.0
    megabytes: float = 0.0


def _resident(field: str) -> int:
    """VmRSS (now) or VmHWM (the peak since the last reset) of this process, in bytes."""
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _peak_can_be_reset() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return _resident("VmHWM") > 0
    except (OSError, LookupError):
        return False


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)
_RESIDENT = _peak_can_be_reset()


class _Peak:
    """The growth of this process's peak memory while it is open."""

    def start(self) -> None:
        gc.collect()
        if _RESIDENT:
            # glibc: hand freed heap back, so that the block does not reuse it unseen
            if hasattr(_LIBC, "malloc_trim"):
                _LIBC.malloc_trim(0)
            _CLEAR_REFS.write_text("5")
            self.base = _resident("VmRSS")
        else:
            self.tracing = tracemalloc.is_tracing()
            if not self.tracing:
                tracemalloc.start()
            tracemalloc.reset_peak()

    def stop(self) -> float:
        if _RESIDENT:
            return max(0, _resident("VmHWM") - self.base) / MB
        peak = tracemalloc.get_traced_memory()[1] / MB
        if not self.tracing:
            tracemalloc.stop()
        return peak


@contextmanager
def within(*, seconds: float = 5.0, megabytes: float = 512.0) -> Iterator[Spent]:
    """Fail the test when the block computes for longer than `seconds` (or waits for longer
    than WALL_SLACK times that) or its peak memory grows by more than `megabytes`. The
    block's own errors pass through unchanged."""
    spent = Spent()
    peak = _Peak()
    peak.start()
    cpu, wall = process_time(), perf_counter()
    try:
        yield spent
    finally:
        spent.seconds = process_time() - cpu
        spent.wall = perf_counter() - wall
        spent.megabytes = peak.stop()
    assert spent.seconds <= seconds, f"computed {spent.seconds:.1f} s; the budget is {seconds} s"
    assert spent.wall <= WALL_SLACK * seconds, (
        f"took {spent.wall:.1f} s of wall time; the budget is {seconds} s of CPU time"
    )
    assert spent.megabytes <= megabytes, (
        f"its peak memory grew by {spent.megabytes:.0f} MB; the budget is {megabytes} MB"
    )
