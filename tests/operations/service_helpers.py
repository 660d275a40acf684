"""Shared helpers of the service operation tests: a validating, counting backend and a world."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.base import Object, ObjectList, Selector, Where
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory import MemoryBackend
from kecs.mapping import cluster as cluster_mapping
from kecs.mapping import labels
from tests.k8s_schema import validate_strict

ACCOUNT = "000000000000"
REGION = "us-east-1"
CLUSTER = "prod"
#: Kinds kecs writes for services; every one it creates or replaces must validate strictly.
VALIDATED = frozenset(
    {kinds.DEPLOYMENT, kinds.DAEMON_SET, kinds.SERVICE, kinds.CONFIG_MAP, kinds.POD}
    | {kinds.INGRESS, kinds.SERVICE_ACCOUNT, kinds.ROLE, kinds.ROLE_BINDING}
)


class CheckingBackend(MemoryBackend):
    """A MemoryBackend that validates what kecs writes and counts what kecs asks for."""

    def __init__(self, **kwargs: Any) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.checked: Counter[str] = Counter()
        self.fail_create: set[ResourceKind] = set()
        #: Updates this refuses (a write failing half way through a call).
        self.fail_update: Callable[[Object], bool] = lambda obj: False
        super().__init__(**kwargs)

    def _check(self, obj: Object) -> None:
        kind = kinds.of(obj)
        if kind in VALIDATED:
            validate_strict(obj)
            self.checked[kind.kind] += 1

    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        self.calls[("create", obj.get("kind", ""))] += 1
        if kinds.of(obj) in self.fail_create:
            from kecs.backends.errors import Invalid

            raise Invalid(f"refused by the test: {obj['kind']}")
        self._check(obj)
        return super().create(obj, shared=shared, handed_over=handed_over)

    def update(self, obj: Object) -> Object:
        self.calls[("update", obj.get("kind", ""))] += 1
        if self.fail_update(obj):
            from kecs.backends.errors import Unavailable

            raise Unavailable(f"refused by the test: {obj['kind']}")
        self._check(obj)
        return super().update(obj)

    def patch(
        self,
        kind: ResourceKind,
        name: str,
        patch: Mapping[str, Any],
        namespace: str | None = None,
        **kwargs: Any,
    ) -> Object:
        self.calls[("patch", kind.kind)] += 1
        result = super().patch(kind, name, patch, namespace, **kwargs)
        if kind in VALIDATED:
            validate_strict(_without_server_fields(result))
        return result

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
        self.calls[("list", kind.kind)] += 1
        return super().list(
            kind,
            namespace,
            selector=selector,
            limit=limit,
            continue_token=continue_token,
            where=where,
        )

    def reads(self) -> int:
        return sum(n for (verb, _), n in self.calls.items() if verb == "list")


def _without_server_fields(obj: Object) -> Object:
    # Status is written by the embedded controllers, not by kecs; validate what kecs shaped.
    return {k: v for k, v in obj.items() if k != "status"}


@pytest.fixture
def backend() -> CheckingBackend:
    return CheckingBackend()


@pytest.fixture
def ecs(backend: CheckingBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName=CLUSTER)
    return client


def namespace(cluster: str = CLUSTER) -> str:
    return cluster_mapping.namespace_name(ACCOUNT, REGION, cluster)


def service_arn(name: str, cluster: str = CLUSTER) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}"


def error(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def container(name: str = "web", image: str = "nginx:1.25", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "memory": 128, "essential": True, **extra}


def register(ecs: Any, family: str = "web", *containers: dict[str, Any], **extra: Any) -> str:
    """Register a task definition; returns its ARN."""
    definitions = list(containers) or [
        container(portMappings=[{"containerPort": 80, "protocol": "tcp"}])
    ]
    response = ecs.register_task_definition(
        family=family, containerDefinitions=definitions, **extra
    )
    return str(response["taskDefinition"]["taskDefinitionArn"])


def create(ecs: Any, name: str = "web", count: int = 3, **extra: Any) -> dict[str, Any]:
    extra.setdefault("taskDefinition", "web")
    response = ecs.create_service(cluster=CLUSTER, serviceName=name, desiredCount=count, **extra)
    return dict(response["service"])


def describe(ecs: Any, name: str = "web", **extra: Any) -> dict[str, Any]:
    response = ecs.describe_services(cluster=CLUSTER, services=[name], **extra)
    assert response["failures"] == [], response["failures"]
    return dict(response["services"][0])


def objects(backend: MemoryBackend, kind: ResourceKind, resource: str = "service") -> list[Object]:
    return backend.list_all(kind, namespace(), selector={labels.RESOURCE: resource})


def task_pods(backend: MemoryBackend, live: bool = True) -> list[Object]:
    pods = objects(backend, kinds.POD, "task")
    if live:
        pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    return pods


def wait_stable(ecs: Any, *names: str) -> None:
    """The services_stable waiter, which must succeed on its first poll."""
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER,
        services=list(names or ["web"]),
        WaiterConfig={"Delay": 1, "MaxAttempts": 1},
    )
