"""Fixtures: a KubernetesBackend over HTTP on an embedded backend, with faults on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kecs.apiserver import FaultInjector
from kecs.backends.kubernetes import RetryPolicy
from kecs.backends.memory import MemoryBackend
from tests import targets


class Sleeps(list[float]):
    """Records the waits a RetryPolicy asked for instead of taking them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=5, initial=0.5, maximum=4.0, jitter=0.0, sleep=sleeps)


@pytest.fixture
def memory() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def make_backend(memory: MemoryBackend, policy: RetryPolicy) -> Iterator[Callable[..., Any]]:
    """``make_backend(faults=FaultInjector(...), **options)`` -> a served KubernetesBackend."""
    opened: list[Any] = []

    def make(faults: FaultInjector | None = None, **options: Any) -> Any:
        options.setdefault("retry", policy)
        backend = targets.served(memory, faults=faults, **options)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


@pytest.fixture
def kube(make_backend: Callable[..., Any]) -> Any:
    return make_backend()


def failing(*faults: str, times: int = 1, retry_after: int = 0) -> FaultInjector:
    """The next ``times`` resource requests fail with ``faults`` (in turn), then none."""
    return FaultInjector(
        rate=1.0, faults=faults, max_in_a_row=times, budget=times, retry_after=retry_after
    )
