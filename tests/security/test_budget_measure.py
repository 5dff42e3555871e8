"""The measure the adversarial budgets use (tests/security/budgets.py) sees what it must:
memory held by Python and by C code, computing past the budget, and nothing that was freed
before the block began."""

from __future__ import annotations

import ctypes
import zlib
from time import process_time

import pytest

from tests.security.budgets import within


def test_python_memory_past_the_budget_fails():
    too_much = pytest.raises(AssertionError, match="peak memory grew by (9\\d|1\\d\\d) MB")
    with too_much, within(seconds=5, megabytes=64):
        held = [bytearray(2**20) for _ in range(96)]
        del held


def test_c_memory_past_the_budget_fails():
    """zlib's output is one C allocation that tracemalloc would see only as a bytes object;
    a C buffer from ctypes is never Python's: both count."""
    bomb = zlib.compress(b"\0" * 80 * 2**20)
    with pytest.raises(AssertionError, match="peak memory grew"), within(seconds=5, megabytes=64):
        buffer = ctypes.create_string_buffer(zlib.decompress(bomb), 80 * 2**20)
        del buffer


def test_memory_freed_before_the_block_is_not_counted_or_reused_unseen():
    released = [bytearray(2**20) for _ in range(96)]
    del released
    with within(seconds=5, megabytes=64) as spent:
        held = [bytearray(2**20) for _ in range(32)]
        del held
    assert 24 <= spent.megabytes <= 64


def test_computing_past_the_budget_fails():
    too_long = pytest.raises(AssertionError, match="computed 0.[3-9] s; the budget is 0.2 s")
    with too_long, within(seconds=0.2, megabytes=64):
        started = process_time()
        while process_time() - started < 0.3:
            pass


def test_the_blocks_own_errors_pass_through():
    with pytest.raises(KeyError), within(seconds=1, megabytes=64):
        raise KeyError("mine")
