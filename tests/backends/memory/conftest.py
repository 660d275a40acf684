"""A fresh embedded cluster per test: fixed clock, fixed seed, three default nodes."""

from __future__ import annotations

import pytest

from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import fresh


@pytest.fixture
def backend() -> MemoryBackend:
    return fresh()
