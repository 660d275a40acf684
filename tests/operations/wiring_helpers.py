"""Shared by the issue-5 wiring tests (``test_*_wiring.py``): an embedded backend that
validates every object kecs writes strictly, and readers for what the calls made."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory import MemoryBackend
from kecs.mapping import cluster as cluster_mapping
from kecs.mapping import labels
from tests.k8s_schema import validate_strict

REGION = "us-east-1"
ACCOUNT = "000000000000"
#: What kecs writes in a cluster's namespace for tasks and services.
CHECKED = frozenset(
    {"Pod", "Service", "Ingress", "ServiceAccount", "Role", "RoleBinding", "Deployment"}
    | {"DaemonSet"}
)


class ValidatingBackend(MemoryBackend):
    """The embedded backend; every object of :data:`CHECKED` written must validate strictly."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.written: list[Object] = []

    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        if obj.get("kind") in CHECKED:
            validate_strict(obj)
            self.written.append(copy.deepcopy(obj) if handed_over else obj)
        return super().create(obj, shared=shared, handed_over=handed_over)

    def update(self, obj: Object) -> Object:
        stored = super().update(obj)
        if stored.get("kind") in CHECKED:
            validate_strict(stored)
            self.written.append(stored)
        return stored


@pytest.fixture
def backend() -> ValidatingBackend:
    return ValidatingBackend()


@pytest.fixture
def ecs(backend: ValidatingBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="default")
    return client


def namespace(cluster: str = "default") -> str:
    return cluster_mapping.namespace_name(ACCOUNT, REGION, cluster)


def objects(
    backend: MemoryBackend, kind: ResourceKind, cluster: str = "default", **selector: str
) -> list[Object]:
    return backend.list_all(kind, namespace(cluster), selector=selector or None)


def task_pods(backend: MemoryBackend, cluster: str = "default", **selector: str) -> list[Object]:
    return objects(backend, kinds.POD, cluster, **{labels.RESOURCE: "task", **selector})


def live_task_pods(backend: MemoryBackend, cluster: str = "default") -> list[Object]:
    return [p for p in task_pods(backend, cluster) if not p["metadata"].get("deletionTimestamp")]


def selected(backend: MemoryBackend, service: Object) -> list[Object]:
    """The pods a Kubernetes Service sends traffic to (running, with an IP, selector matches)."""
    wanted = service["spec"]["selector"]
    return [
        p
        for p in backend.list_all(kinds.POD, service["metadata"]["namespace"], selector=wanted)
        if p.get("status", {}).get("podIP") and not p["metadata"].get("deletionTimestamp")
    ]


def node_labels(backend: MemoryBackend, pod: Object) -> dict[str, str]:
    node = backend.get(kinds.NODE, pod["spec"]["nodeName"])
    return dict(node["metadata"].get("labels") or {})


def error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def register(ecs: Any, family: str, *containers: dict[str, Any], **extra: Any) -> str:
    """Register a task definition; its ARN."""
    definitions = list(containers) or [{"name": "app", "image": "nginx:1.27", "memory": 128}]
    response = ecs.register_task_definition(
        family=family, containerDefinitions=definitions, **extra
    )
    return str(response["taskDefinition"]["taskDefinitionArn"])
