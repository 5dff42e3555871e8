"""Several writes as one change, for whoever reacts to writes.

A write that touches several rows (a source and its creators, an annotation and its tags,
a text revision and the annotations carried over to it) runs inside `batch()`. A package
that reacts to each write through signals, such as the search index, may then wait for
the batch to end and react once to everything it changed: it keeps what it owes in the bag
that `pending(key, flush)` hands it, and `flush(bag)` runs when the outermost batch ends
without an error, still inside the writer's transaction. Outside a batch `pending` answers
None and the reaction happens at once.

The writer knows nothing of who reacts (the library does not know the search index), and
the reaction never depends on the order in which receivers were connected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Flush = Callable[[dict[str, Any]], None]

_local = threading.local()


@contextmanager
def batch() -> Iterator[None]:
    """Group the writes of the block; nested batches join the outermost one. If the block
    fails nothing is flushed (and its transaction writes nothing)."""
    if getattr(_local, "owed", None) is not None:
        yield
        return
    _local.owed = owed = {}
    try:
        yield
    finally:
        _local.owed = None
    for bag, flush in owed.values():
        flush(bag)


def pending(key: str, flush: Flush) -> dict[str, Any] | None:
    """The open batch's bag for `key` (created empty, with `flush` to run at its end), or
    None outside a batch."""
    owed = getattr(_local, "owed", None)
    if owed is None:
        return None
    if key not in owed:
        owed[key] = ({}, flush)
    return owed[key][0]


def in_batch() -> bool:
    return getattr(_local, "owed", None) is not None
