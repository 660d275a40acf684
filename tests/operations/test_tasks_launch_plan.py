"""RunTask/StartTask plans remembered between calls (``task_launch.Plan`` in the context's
memo): the same pods as building them afresh, never a stale plan, and no stored pod holding
any part of the plan's (the backend copies what it keeps of the pods it is given)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.mapping import labels, task_keys
from kecs.mapping.common import copy_json
from kecs.operations.context import Memo
from kecs.operations.task_launch import PLANS, REQUEST_DIGEST
from tests.operations.task_helpers import (
    FARGATE,
    NETWORK,
    WEB,
    StrictBackend,
    error,
    namespace,
    run,
    web_client,
)


def _containers(value: Any) -> Iterator[Any]:
    """Every dict and list in ``value`` (itself included)."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _containers(item)
    elif isinstance(value, list):
        yield value
        for item in value:
            yield from _containers(item)


def _ids(value: Any) -> set[int]:
    return {id(part) for part in _containers(value)}


class GivenPodsBackend(StrictBackend):
    """Keeps every Pod given to ``create`` (RunTask's are the plan's with a name and token of
    their own, not handed over) and checks the backend neither changed it nor stored any of
    its dicts or lists (the stored pod is the backend's own), to compare with the memo."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.given: list[Object] = []
        # Every part of every stored pod, kept alive (so their ids are not reused).
        self.parts: list[Any] = []
        self.seen: set[int] = set()
        self.lose_next_find = False

    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        if obj.get("kind") != "Pod":  # (task definitions hand theirs over)
            return super().create(obj, shared=shared, handed_over=handed_over)
        assert not handed_over
        before = copy_json(obj)
        self.given.append(obj)
        try:
            stored = super().create(obj, shared=True)
        finally:
            assert obj == before, "the backend changed a pod it was given"
        parts = list(_containers(stored))
        assert not {id(part) for part in parts} & _ids(obj), "a given pod's part was stored"
        self.parts.extend(parts)
        self.seen |= {id(part) for part in parts}
        return stored if shared else copy_json(stored)

    def find(
        self,
        kind: Any,
        namespace: str | None = None,
        *,
        names: Collection[str] | None = None,
        uids: Collection[str] | None = None,
        selector: Any = None,
        metadata_only: bool = False,
        shared: bool = False,
    ) -> list[Object]:
        if kind is kinds.POD and self.lose_next_find:
            # As if the pod were deleted between RunTask's create and its read.
            self.lose_next_find = False
            return []
        return super().find(
            kind,
            namespace,
            names=names,
            uids=uids,
            selector=selector,
            metadata_only=metadata_only,
            shared=shared,
        )


@pytest.fixture
def backend() -> Iterator[GivenPodsBackend]:
    checking = GivenPodsBackend()
    yield checking
    checking.check_shared()


@pytest.fixture
def ecs(backend: GivenPodsBackend) -> Any:
    return web_client(backend)


def _memo(ecs: Any) -> Memo:
    memo: Memo = ecs._kecs_handler.context.memo
    return memo


def _plans(memo: Memo) -> list[Any]:
    return [
        value
        for key, (_, value) in memo._entries.items()
        if isinstance(key, tuple) and key[0] == PLANS
    ]


def _pod(backend: GivenPodsBackend, task: dict[str, Any]) -> Object:
    """The stored pod of ``task`` (its id is the pod's uid without dashes)."""
    cluster = task["clusterArn"].rsplit("/", 1)[1]
    task_id = task["taskArn"].rsplit("/", 1)[1]
    (pod,) = [
        p
        for p in backend.list_all(kinds.POD, namespace(cluster), selector={labels.RESOURCE: "task"})
        if p["metadata"]["uid"].replace("-", "") == task_id
    ]
    return pod


def _request_view(pod: Object) -> Object:
    """What a pod says about its request: all but its name, token and server fields."""
    meta = pod["metadata"]
    annotations = {k: v for k, v in meta["annotations"].items() if k != task_keys.CLIENT_TOKEN}
    return {
        "labels": meta["labels"],
        "annotations": annotations,
        "finalizers": meta.get("finalizers"),
        "spec": {k: v for k, v in pod["spec"].items() if k != "nodeName"},
    }


VARIANTS: list[dict[str, Any]] = [
    {},
    {"count": 3},
    {"startedBy": "me", "group": "g1"},
    {"overrides": {"containerOverrides": [{"name": "app", "memory": 128}]}},
    {"tags": [{"key": "a", "value": "1"}], "propagateTags": "TASK_DEFINITION"},
    {"enableECSManagedTags": True, "enableExecuteCommand": True},
    {"placementConstraints": [{"type": "distinctInstance"}]},
    {"placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}]},
    {"referenceId": "ref-1"},
]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(v) or "plain")
def test_a_remembered_plan_makes_the_pods_a_fresh_one_makes(
    ecs: Any, backend: GivenPodsBackend, variant: dict[str, Any]
) -> None:
    memo = _memo(ecs)
    fresh = run(ecs, **variant)  # builds the plan
    assert len(_plans(memo)) == 1
    remembered = run(ecs, **variant)  # uses it
    assert len(_plans(memo)) == 1
    memo.clear()
    rebuilt = run(ecs, **variant)
    for first, second, third in zip(fresh, remembered, rebuilt, strict=True):
        pods = [_pod(backend, task) for task in (first, second, third)]
        assert len({p["metadata"]["name"] for p in pods}) == 3
        tokens = {p["metadata"]["annotations"][task_keys.CLIENT_TOKEN] for p in pods}
        assert len(tokens) == 3  # botocore's fresh token on each call
        assert _request_view(pods[1]) == _request_view(pods[0])
        assert _request_view(pods[2]) == _request_view(pods[0])


def test_stored_pods_share_nothing_with_the_plan(ecs: Any, backend: GivenPodsBackend) -> None:
    run(ecs, count=4, startedBy="x")
    run(ecs, count=4, startedBy="x")
    (plan,) = _plans(_memo(ecs))
    assert not _ids(dict(plan.pods)) & backend.seen
    assert len(backend.given) == 8
    # Nor did the backend's changes to the pods it stored reach the plan.
    for pod in plan.pods.values():
        assert "uid" not in pod["metadata"] and "status" not in pod
        assert pod["metadata"]["annotations"][task_keys.CLIENT_TOKEN] == "-"


def test_start_task_pins_copies_of_one_plan(ecs: Any, backend: GivenPodsBackend) -> None:
    (probe,) = run(ecs)
    instance = probe["containerInstanceArn"]
    for _ in range(2):
        response = ecs.start_task(taskDefinition="web", containerInstances=[instance, instance])
        assert response["failures"] == []
    plans = _plans(_memo(ecs))
    assert len(plans) == 2  # RunTask's and StartTask's
    for pod in backend.given[1:]:
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        assert all(t["matchFields"][-1]["key"] == "metadata.name" for t in terms)
    for plan in plans:
        for pod in plan.pods.values():
            terms = (
                pod["spec"]
                .get("affinity", {})
                .get("nodeAffinity", {})
                .get("requiredDuringSchedulingIgnoredDuringExecution", {})
                .get("nodeSelectorTerms", [])
            )
            assert not any(t.get("matchFields") for t in terms)


def test_a_retried_create_gives_a_new_pod(ecs: Any, backend: GivenPodsBackend) -> None:
    run(ecs)
    backend.lose_next_find = True
    (task,) = run(ecs)
    # The first create stored its pod; the retry gave another (refused: it exists).
    assert len(backend.given) == 3
    assert backend.given[1] is not backend.given[2]
    assert _pod(backend, task)["metadata"]["name"] == backend.given[1]["metadata"]["name"]


def _revision_of(backend: GivenPodsBackend, task: dict[str, Any]) -> str:
    return str(_pod(backend, task)["metadata"]["labels"][labels.REVISION])


def test_a_changed_task_definition_is_never_run_from_an_old_plan(
    ecs: Any, backend: GivenPodsBackend
) -> None:
    (task,) = run(ecs)
    assert _revision_of(backend, task) == "1"
    ecs.register_task_definition(**{**WEB, "cpu": "512"})
    (task,) = run(ecs)
    assert _revision_of(backend, task) == "2"
    assert _pod(backend, task)["metadata"]["annotations"][task_keys.TASK_CPU] == "512"
    ecs.deregister_task_definition(taskDefinition="web:2")
    (task,) = run(ecs)
    assert _revision_of(backend, task) == "1"
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.run_task(taskDefinition="web:2")
    assert error(excinfo) == ("ClientException", "TaskDefinition is inactive")


def test_retagging_the_task_definition_reaches_propagated_tags(
    ecs: Any, backend: GivenPodsBackend
) -> None:
    (task,) = run(ecs, propagateTags="TASK_DEFINITION")
    assert task["tags"] == [{"key": "team", "value": "blue"}]
    arn = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "red"}])
    (task,) = run(ecs, propagateTags="TASK_DEFINITION")
    assert task["tags"] == [{"key": "team", "value": "red"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
    (task,) = run(ecs, propagateTags="TASK_DEFINITION")
    assert "tags" not in task


def test_another_cluster_or_a_changed_cluster_gets_its_own_plan(
    ecs: Any, backend: GivenPodsBackend
) -> None:
    ecs.create_cluster(clusterName="other")
    (here,) = run(ecs)
    (there,) = run(ecs, cluster="other")
    assert there["clusterArn"].endswith("/other")
    assert _pod(backend, there)["metadata"]["namespace"] == namespace("other")
    assert _pod(backend, there)["metadata"]["labels"][labels.CLUSTER] == "other"
    assert _pod(backend, here)["metadata"]["labels"][labels.CLUSTER] == "default"
    # The cluster's default capacity provider strategy decides where a task runs.
    ecs.register_task_definition(**FARGATE)
    ecs.put_cluster_capacity_providers(
        cluster="default",
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )
    for _ in range(2):
        (task,) = run(ecs, taskDefinition="fg", networkConfiguration=NETWORK)
        assert task["capacityProviderName"] == "FARGATE"
    ecs.put_cluster_capacity_providers(
        cluster="default",
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
    )
    (task,) = run(ecs, taskDefinition="fg", networkConfiguration=NETWORK)
    assert task["capacityProviderName"] == "FARGATE_SPOT"


def test_different_parameters_never_share_a_plan(ecs: Any, backend: GivenPodsBackend) -> None:
    seen = []
    for variant in VARIANTS:
        for task in run(ecs, **variant):
            seen.append(_request_view(_pod(backend, task))["annotations"][REQUEST_DIGEST])
    assert len(_plans(_memo(ecs))) == len(VARIANTS)
    assert len(set(seen)) == len(VARIANTS)
    (task,) = run(ecs, group="g2", startedBy="me")
    labels_ = _pod(backend, task)["metadata"]["labels"]
    assert labels_[labels.GROUP] == "g2" and labels_[labels.STARTED_BY] == "me"


def test_a_refused_request_remembers_no_plan(ecs: Any) -> None:
    """An invalid request remembers nothing, and is refused again the same way."""
    for _ in range(2):
        with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
            ecs.run_task(
                taskDefinition="web",
                overrides={"containerOverrides": [{"name": "nope", "memory": 1}]},
            )
        assert error(excinfo) == (
            "InvalidParameterException",
            "Override for container named nope is not a container in the TaskDefinition.",
        )
    assert _plans(_memo(ecs)) == []
