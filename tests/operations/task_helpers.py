"""Fixtures and helpers shared by the task operation tests (``test_tasks*.py``).

:class:`StrictBackend` is the embedded backend with two checks added: every Pod a client
call creates validates strictly against the Kubernetes schema, and backend reads of many
objects (``list``, ``list_metadata``, ``find``) are counted by kind (to hold DescribeTasks and
ListTasks to one such read per call). What it hands out with ``shared=True`` (the caller
promised only to read it) is checked, when the test ends, to be exactly as it was handed out.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Collection, Iterator
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.base import Object, ObjectList, Selector, Where
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.jsoncopy import copy_json
from kecs.mapping import cluster as cluster_mapping
from kecs.mapping import labels
from tests.k8s_schema import validate_strict

REGION = "us-east-1"
ACCOUNT = "000000000000"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/default"

WEB = {
    "family": "web",
    "containerDefinitions": [
        {"name": "app", "image": "nginx:1.27", "memory": 256, "essential": True},
        {"name": "side", "image": "busybox", "memory": 64, "essential": False},
    ],
    "tags": [{"key": "team", "value": "blue"}],
}
FARGATE = {
    "family": "fg",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {"name": "app", "image": "nginx:1.27", "portMappings": [{"containerPort": 80}]}
    ],
}
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-12345678"]}}


class StrictBackend(MemoryBackend):
    """The embedded backend, checking every Pod created and counting reads of many objects
    (``list``, ``list_metadata``, ``find``) by kind."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.lists: Counter[str] = Counter()
        self.created_pods: list[Object] = []
        self.shared: list[tuple[Object, Object]] = []

    def _shared(self, objects: list[Object], shared: bool) -> list[Object]:
        if shared:
            self.shared.extend((obj, copy_json(obj)) for obj in objects)
        return objects

    def check_shared(self) -> None:
        """Nothing handed out as shared was changed by its reader."""
        for obj, snapshot in self.shared:
            assert obj == snapshot, f"a shared {obj.get('kind')} was modified by its reader"

    def get_metadata(
        self, kind: ResourceKind, name: str, namespace: str | None = None, *, shared: bool = False
    ) -> Object:
        found = super().get_metadata(kind, name, namespace, shared=shared)
        return self._shared([found], shared)[0]

    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        if obj.get("kind") == "Pod":
            validate_strict(obj)
            self.created_pods.append(copy.deepcopy(obj) if handed_over else obj)
        created = super().create(obj, shared=shared, handed_over=handed_over)
        return self._shared([created], shared)[0]

    def list(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        selector: Selector = None,
        limit: int | None = None,
        continue_token: str | None = None,
        where: Where = None,
    ) -> ObjectList:
        self.lists[kind.kind] += 1
        return super().list(
            kind,
            namespace,
            selector=selector,
            limit=limit,
            continue_token=continue_token,
            where=where,
        )

    def list_metadata(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        selector: Selector = None,
        limit: int | None = None,
        continue_token: str | None = None,
        where: Where = None,
        shared: bool = False,
    ) -> ObjectList:
        self.lists[kind.kind] += 1
        page = super().list_metadata(
            kind,
            namespace,
            selector=selector,
            limit=limit,
            continue_token=continue_token,
            where=where,
            shared=shared,
        )
        return ObjectList(self._shared(page.items, shared), page.continue_token)

    def find(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        names: Collection[str] | None = None,
        uids: Collection[str] | None = None,
        selector: Selector = None,
        metadata_only: bool = False,
        shared: bool = False,
    ) -> list[Object]:
        self.lists[kind.kind] += 1
        found = super().find(
            kind,
            namespace,
            names=names,
            uids=uids,
            selector=selector,
            metadata_only=metadata_only,
            shared=shared,
        )
        return self._shared(found, shared)


@pytest.fixture
def backend() -> Iterator[StrictBackend]:
    strict = StrictBackend()
    yield strict
    strict.check_shared()


def web_client(backend: MemoryBackend) -> Any:
    """A client on ``backend`` with the cluster ``default`` and the task definition WEB."""
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName="default")
    client.register_task_definition(**WEB)
    return client


@pytest.fixture
def ecs(backend: StrictBackend) -> Any:
    return web_client(backend)


def error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def namespace(cluster: str = "default") -> str:
    return cluster_mapping.namespace_name(ACCOUNT, REGION, cluster)


def task_pods(backend: MemoryBackend, cluster: str = "default") -> list[Object]:
    return backend.list_all(kinds.POD, namespace(cluster), selector={labels.RESOURCE: "task"})


def run(ecs: Any, **params: Any) -> list[dict[str, Any]]:
    """RunTask (``web`` unless told); the tasks, after checking nothing failed."""
    params.setdefault("taskDefinition", "web")
    response = ecs.run_task(**params)
    assert response["failures"] == []
    return list(response["tasks"])


def describe(ecs: Any, arn: str, **params: Any) -> dict[str, Any]:
    response = ecs.describe_tasks(tasks=[arn], **params)
    assert response["failures"] == []
    return dict(response["tasks"][0])


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]
