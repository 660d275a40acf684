"""The kubelet checks a container's Secret and ConfigMap sources before starting it."""

from __future__ import annotations

from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.memory.helpers import NS, container, pod, state


def secret_env(name: str = "db", key: str = "password", **extra: Any) -> dict[str, Any]:
    ref = {"name": name, "key": key, **extra}
    return {"name": "PASSWORD", "valueFrom": {"secretKeyRef": ref}}


def secret(name: str = "db", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS},
        "data": data,
    }


def get(backend: MemoryBackend) -> dict[str, Any]:
    return backend.get(kinds.POD, "p", NS)


def test_a_missing_secret_keeps_the_container_waiting(backend: MemoryBackend) -> None:
    backend.create(pod("p", container("app", env=[secret_env()])))
    obj = get(backend)
    assert obj["status"]["phase"] == "Pending"
    assert state(obj) == (
        "waiting",
        {"reason": "CreateContainerConfigError", "message": 'secret "db" not found'},
    )


def test_a_missing_key_is_reported(backend: MemoryBackend) -> None:
    backend.create(secret(other="eA=="))
    backend.create(pod("p", container("app", env=[secret_env()])))
    kind, detail = state(get(backend))
    assert (kind, detail["reason"]) == ("waiting", "CreateContainerConfigError")
    assert detail["message"] == f"couldn't find key password in Secret {NS}/db"


def test_the_container_starts_once_the_secret_is_written(backend: MemoryBackend) -> None:
    backend.create(pod("p", container("app", env=[secret_env()])))
    backend.create(secret(password="cw=="))
    obj = get(backend)
    assert obj["status"]["phase"] == "Running"
    assert state(obj)[0] == "running"


@pytest.mark.parametrize(
    "spec",
    [
        {"env": [secret_env(optional=True)]},
        {"envFrom": [{"secretRef": {"name": "db", "optional": True}}]},
    ],
)
def test_optional_sources_may_be_missing(backend: MemoryBackend, spec: dict[str, Any]) -> None:
    backend.create(pod("p", container("app", **spec)))
    assert get(backend)["status"]["phase"] == "Running"


def test_env_from_a_missing_config_map(backend: MemoryBackend) -> None:
    backend.create(pod("p", container("app", envFrom=[{"configMapRef": {"name": "settings"}}])))
    assert state(get(backend))[1]["message"] == 'configmap "settings" not found'
