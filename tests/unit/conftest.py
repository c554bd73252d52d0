"""Fixtures for the unit tests: the buying counter's fixed clock (not the root `clock`, which is
the store node's) and a buying counter wired on in-memory fakes."""

from __future__ import annotations

import pytest
from buying_fakes import NOW, Counter, FakeStore

from recommerce.clock import FixedClock


@pytest.fixture
def buying_clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def counter(store: FakeStore, buying_clock: FixedClock) -> Counter:
    return Counter(store=store, clock=buying_clock)
