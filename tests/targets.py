"""Backend targets: one ECS test, three places to run it.

- ``memory``: the embedded :class:`~kecs.MemoryBackend`, directly;
- ``k8s-http``: :class:`~kecs.KubernetesBackend` talking real HTTP, through the official
  client, to a fresh embedded backend served by :func:`kecs.serve_kubernetes_api`;
- ``k8s-real``: a real cluster, when ``KECS_TEST_KUBECONFIG`` names a kubeconfig (and
  optionally ``KECS_TEST_CONTEXT`` a context); skipped otherwise. Every kecs-made object is
  deleted before each test, so use a disposable cluster (kind, k3d).

A test (or module, via ``pytestmark``) opts in by taking the ``backend`` fixture and carrying
``@pytest.mark.backends("memory", "k8s-http", "k8s-real")`` (or :data:`ALL`); without the
marker the ``backend`` fixture is the embedded backend only. On ``k8s-http`` the backend
forwards what only the embedded backend has (``simulator``, ``advance``, its clock, ...) to the
served :class:`~kecs.MemoryBackend`, so tests that drive the simulation run there unchanged.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.base import Backend
from kecs.backends.errors import NotFound
from kecs.backends.memory import MemoryBackend

TARGETS = ("memory", "k8s-http", "k8s-real")
ALL = pytest.mark.backends(*TARGETS)
KUBECONFIG_ENV = "KECS_TEST_KUBECONFIG"
CONTEXT_ENV = "KECS_TEST_CONTEXT"
MANAGED = "app.kubernetes.io/managed-by=kecs"


def fast_retries() -> Any:
    from kecs.backends.kubernetes import RetryPolicy

    return RetryPolicy(attempts=8, initial=0.001, maximum=0.01, jitter=0.001, max_retry_after=0.01)


def served_backend_class() -> type:
    from kecs.backends.kubernetes import KubernetesBackend

    class ServedBackend(KubernetesBackend):  # type: ignore[misc, valid-type]
        """A KubernetesBackend on a served MemoryBackend; embedded-only hooks pass through."""

        memory: MemoryBackend
        server: Any

        def now(self) -> Any:
            return self.memory.now()

        def __getattr__(self, name: str) -> Any:
            if name in ("memory", "server") or name.startswith("__"):
                raise AttributeError(name)
            return getattr(self.memory, name)

        def close(self) -> None:
            super().close()
            self.server.close()

    return ServedBackend


def served(memory: MemoryBackend | None = None, **options: Any) -> Any:
    """A KubernetesBackend over HTTP on ``memory`` (fresh when omitted); ``close()`` it."""
    from kecs.apiserver import serve_kubernetes_api

    memory = memory if memory is not None else MemoryBackend()
    faults = options.pop("faults", None)
    server = serve_kubernetes_api(memory, faults=faults)
    options.setdefault("retry", fast_retries())
    backend = served_backend_class()(kubeconfig=server.kubeconfig_path, **options)
    backend.memory = memory
    backend.server = server
    return backend


def real(**options: Any) -> Any:
    """A KubernetesBackend on the cluster named by ``KECS_TEST_KUBECONFIG``, or a skip."""
    kubeconfig = os.environ.get(KUBECONFIG_ENV)
    if not kubeconfig:
        pytest.skip(f"set {KUBECONFIG_ENV} (and optionally {CONTEXT_ENV}) to run on a real cluster")
    from kecs.backends.kubernetes import KubernetesBackend

    return KubernetesBackend(
        kubeconfig=kubeconfig, context=os.environ.get(CONTEXT_ENV) or None, **options
    )


def wipe_kecs_objects(backend: Backend, timeout: float = 180.0) -> None:
    """Delete every kecs-labelled namespace (and so everything in it) and wait until gone.

    Stopped-task records are pods held by a finalizer; it is lifted first, or their
    namespaces would wait for kecs's retention sweep.
    """
    for pod in backend.list_all(kinds.POD, selector=MANAGED):
        if pod["metadata"].get("finalizers"):
            with contextlib.suppress(NotFound):
                meta = pod["metadata"]
                backend.patch(
                    kinds.POD, meta["name"], {"metadata": {"finalizers": None}}, meta["namespace"]
                )
    for ns in backend.list_all(kinds.NAMESPACE, selector=MANAGED):
        with contextlib.suppress(NotFound):
            backend.delete(kinds.NAMESPACE, ns["metadata"]["name"])
    for kind in (kinds.NODE,):
        for obj in backend.list_all(kind, selector=MANAGED):
            with contextlib.suppress(NotFound):
                backend.delete(kind, obj["metadata"]["name"])
    deadline = time.monotonic() + timeout
    while backend.list_all(kinds.NAMESPACE, selector=MANAGED):
        if time.monotonic() > deadline:
            raise TimeoutError("kecs namespaces did not terminate")
        time.sleep(1)


@contextlib.contextmanager
def open_target(name: str) -> Iterator[Backend]:
    if name == "memory":
        yield MemoryBackend()
    elif name == "k8s-http":
        backend = served()
        try:
            yield backend
        finally:
            backend.close()
    elif name == "k8s-real":
        backend = real()
        wipe_kecs_objects(backend)
        try:
            yield backend
        finally:
            backend.close()
    else:
        raise ValueError(f"unknown backend target {name!r}; known: {TARGETS}")


# -- the pytest hook and fixtures (re-exported by tests/conftest.py) --------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): run the test's `backend` fixture on these targets "
        "(memory, k8s-http, k8s-real; see tests/targets.py)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_target" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = (marker.args or TARGETS) if marker else ("memory",)
    metafunc.parametrize("backend_target", names, indirect=True)


@pytest.fixture
def backend_target(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "memory"))


@pytest.fixture
def backend(backend_target: str) -> Iterator[Backend]:
    """A fresh ECS world on the test's target (see the module docstring)."""
    with open_target(backend_target) as opened:
        yield opened
