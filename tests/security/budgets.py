"""The budget of one request (or one call): how much time and memory it may take, measured
while it runs, for the adversarial tests (tests/security/test_budgets.py and its neighbours).

    with within(seconds=5, megabytes=512) as spent:
        response = client.post(...)
    # the block computed for at most 5 s and allocated at most 512 MB at its peak

Time is the CPU time of this process (the test client runs the request in it): on a machine
shared with other work, wall time stretches with the load while CPU time does not, and an
input that takes the server down does so by computing (724 s for one PDF, 16 s for one
comment). Wall time is checked too, with WALL_SLACK times the budget, for a request that
would wait rather than compute. Memory is Python's own allocations at their peak
(tracemalloc), where a text bomb or a quadratic algorithm spends it (pypdf, Markdown's
output, difflib and our code); tracemalloc slows Python down, so the times measured are
upper bounds of the real ones.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter, process_time

MB = 2**20
WALL_SLACK = 4


@dataclass
class Spent:
    seconds: float = 0.0  # CPU time of this process
    wall: float = 0.0
    megabytes: float = 0.0


@contextmanager
def within(*, seconds: float = 5.0, megabytes: float = 512.0) -> Iterator[Spent]:
    """Fail the test when the block computes for longer than `seconds` (or waits for longer
    than WALL_SLACK times that) or allocates more than `megabytes` at its peak. The block's
    own errors pass through unchanged."""
    spent = Spent()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    cpu, wall = process_time(), perf_counter()
    try:
        yield spent
    finally:
        spent.seconds = process_time() - cpu
        spent.wall = perf_counter() - wall
        spent.megabytes = tracemalloc.get_traced_memory()[1] / MB
        if not was_tracing:
            tracemalloc.stop()
    assert spent.seconds <= seconds, f"computed {spent.seconds:.1f} s; the budget is {seconds} s"
    assert spent.wall <= WALL_SLACK * seconds, (
        f"took {spent.wall:.1f} s of wall time; the budget is {seconds} s of CPU time"
    )
    assert spent.megabytes <= megabytes, (
        f"allocated {spent.megabytes:.0f} MB at its peak; the budget is {megabytes} MB"
    )
