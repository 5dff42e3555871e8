"""The budget of one request (or one call): how long it may take and how much memory it may
use, measured while it runs, for the adversarial tests (tests/security/test_budgets.py and
its neighbours).

    with within(seconds=5, megabytes=512) as spent:
        response = client.post(...)
    # the block took at most 5 s, and at most 512 MB were allocated at its peak

Memory is Python's own allocations at their peak (tracemalloc), which is where a text bomb
or a quadratic algorithm spends it (pypdf, Markdown, difflib and our code are Python);
tracemalloc slows Python down, so the time measured is an upper bound of the real one.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter

MB = 2**20


@dataclass
class Spent:
    seconds: float = 0.0
    megabytes: float = 0.0


@contextmanager
def within(*, seconds: float = 5.0, megabytes: float = 512.0) -> Iterator[Spent]:
    """Fail the test when the block takes longer than `seconds` or allocates more than
    `megabytes` at its peak. The block's own errors pass through unchanged."""
    spent = Spent()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start = perf_counter()
    try:
        yield spent
    finally:
        spent.seconds = perf_counter() - start
        spent.megabytes = tracemalloc.get_traced_memory()[1] / MB
        if not was_tracing:
            tracemalloc.stop()
    assert spent.seconds <= seconds, f"took {spent.seconds:.1f} s; the budget is {seconds} s"
    assert spent.megabytes <= megabytes, (
        f"allocated {spent.megabytes:.0f} MB at its peak; the budget is {megabytes} MB"
    )
