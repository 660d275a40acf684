"""Fixtures of the backend contract suite (see ``contract.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from kecs.backends.base import Backend
from kecs.backends.errors import NotFound
from kecs.backends.kinds import NAMESPACE
from tests.backends import contract


@pytest.fixture(params=sorted(contract.BACKENDS))
def backend_factory(request: pytest.FixtureRequest) -> Callable[[], Backend]:
    return contract.BACKENDS[request.param]


@pytest.fixture
def backend(backend_factory: Callable[[], Backend]) -> Backend:
    return backend_factory()


def _new_namespace(backend: Backend, created: list[str]) -> str:
    name = contract.unique("ns")
    backend.create(contract.namespace(name))
    created.append(name)
    return name


@pytest.fixture
def make_ns(backend: Backend) -> Iterator[Callable[[], str]]:
    """Creates namespaces for the test; whatever is left is deleted afterwards."""
    created: list[str] = []
    yield lambda: _new_namespace(backend, created)
    for name in created:
        with contextlib.suppress(NotFound):
            backend.delete(NAMESPACE, name)


@pytest.fixture
def ns(make_ns: Callable[[], str]) -> str:
    """A fresh namespace for the test."""
    return make_ns()


@pytest.fixture
def run_labels() -> dict[str, str]:
    """A label unique to the test, to select only its own cluster-scoped objects."""
    return {contract.RUN_LABEL: contract.unique("run")}
