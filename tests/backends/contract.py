"""The backend contract: what every kecs backend must do, whatever stands behind it.

The tests in this directory take the ``backend`` fixture (``tests/backends/conftest.py``),
which is parametrised over :data:`BACKENDS`. Today that is the embedded
:class:`~kecs.MemoryBackend`; a real-cluster backend joins by adding a factory here (skipping
when no cluster is configured). The tests are written so they also hold on a shared real
cluster: each works in namespaces of its own or selects by a label unique to the test, and
waits with :func:`eventually` for what a real API server does asynchronously (namespace
termination, garbage collection).
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kecs.backends.base import Backend, Object
from kecs.backends.memory import MemoryBackend

T = TypeVar("T")


def _served() -> Backend:
    """KubernetesBackend over HTTP on a fresh embedded backend (tests/targets.py)."""
    from tests.targets import served

    backend = served()
    # The suite has no teardown for factories: stop the server when the backend goes away.
    weakref.finalize(backend, backend.server.close)
    return backend  # type: ignore[no-any-return]


def _real() -> Backend:
    """KubernetesBackend on the cluster named by KECS_TEST_KUBECONFIG, else the test skips."""
    from tests.targets import real

    return real()  # type: ignore[no-any-return]


#: Backend name -> factory of a fresh (or freshly isolated) backend.
BACKENDS: dict[str, Callable[[], Backend]] = {
    "memory": MemoryBackend,
    "k8s-http": _served,
    "k8s-real": _real,
}

#: Label carried by every object a contract test creates, with a value unique to the test.
RUN_LABEL = "test.kecs.dev/run"


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def namespace(name: str, labels: Mapping[str, str] | None = None) -> Object:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, None, labels)}


def config_map(
    name: str,
    ns: str,
    labels: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    owners: list[Object] | None = None,
) -> Object:
    obj: Object = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, ns, labels)}
    if data is not None:
        obj["data"] = dict(data)
    if owners:
        obj["metadata"]["ownerReferences"] = [owner_reference(o) for o in owners]
    return obj


def deployment(name: str, ns: str, image: str = "nginx:1.27", replicas: int = 1) -> Object:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, ns, labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }


def meta(name: str, ns: str | None, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if ns is not None:
        out["namespace"] = ns
    if labels:
        out["labels"] = dict(labels)
    return out


def owner_reference(owner: Object) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }


def names(objects: list[Object]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.2) -> T:
    """``check()``'s value once it stops raising ``AssertionError`` (immediately in memory)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)
