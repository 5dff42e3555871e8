"""core.batching: several writes as one change for whoever reacts to them."""

from __future__ import annotations

import pytest

from core import batching


def bag_of(flushed: list):
    return batching.pending("test", lambda bag: flushed.append(dict(bag)))


def test_outside_a_batch_there_is_nothing_to_defer():
    assert batching.pending("test", lambda bag: None) is None
    assert not batching.in_batch()


def test_what_a_batch_owes_is_flushed_once_when_it_ends():
    flushed: list = []
    with batching.batch():
        bag_of(flushed).setdefault("ids", set()).add(1)
        bag_of(flushed)["ids"].add(2)
        assert flushed == []  # not before the end
    assert flushed == [{"ids": {1, 2}}]


def test_a_nested_batch_joins_the_outermost_one():
    flushed: list = []
    with batching.batch():
        with batching.batch():
            bag_of(flushed)["inner"] = True
        assert flushed == []
    assert flushed == [{"inner": True}]


def test_a_failed_batch_flushes_nothing_and_ends():
    flushed: list = []
    with pytest.raises(RuntimeError), batching.batch():
        bag_of(flushed)["written"] = True
        raise RuntimeError("the write failed")
    assert flushed == []
    assert not batching.in_batch()


def test_each_key_has_its_own_bag_flushed_in_the_order_first_used():
    order: list = []
    with batching.batch():
        batching.pending("second", lambda bag: order.append("second"))
        batching.pending("first", lambda bag: order.append("first"))
    assert order == ["second", "first"]
