"""Task definition revisions remembered between calls (``RequestContext.memo``): a cheaper
read, never a stale one, and never changed by the calls that read it."""

from __future__ import annotations

import json
from typing import Any

import kecs
from kecs.backends import kinds
from kecs.mapping import labels
from kecs.operations.context import Memo

TD = {
    "family": "web",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "nginx:1.27",
            "memory": 128,
            "environment": [{"name": "A", "value": "1"}],
            "portMappings": [{"containerPort": 80}],
        }
    ],
    "tags": [{"key": "team", "value": "a"}],
}


def _memo_of(ecs: Any) -> Memo:
    memo: Memo = ecs._kecs_handler.context.memo
    return memo


def _remembered(memo: Memo) -> dict[str, Any]:
    return {repr(key): value for key, (_, value) in memo._entries.items()}


def test_another_client_deregistering_is_seen_at_once() -> None:
    backend = kecs.MemoryBackend()
    first = kecs.client("ecs", backend=backend)
    second = kecs.client("ecs", backend=backend)
    arn = first.register_task_definition(**TD)["taskDefinition"]["taskDefinitionArn"]
    assert first.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == (
        "ACTIVE"
    )
    second.deregister_task_definition(taskDefinition=arn)
    described = first.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    assert described["taskDefinition"]["status"] == "INACTIVE"
    assert described["tags"] == TD["tags"]
    second.tag_resource(resourceArn=arn, tags=[{"key": "more", "value": "b"}])
    tags = first.describe_task_definition(taskDefinition=arn, include=["TAGS"])["tags"]
    assert {t["key"] for t in tags} == {"team", "more"}


def test_a_revision_deleted_and_its_name_reused_is_read_again() -> None:
    backend = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=backend)
    arn = ecs.register_task_definition(**TD)["taskDefinition"]["taskDefinitionArn"]
    ecs.describe_task_definition(taskDefinition=arn)
    # Someone rewrites the PodTemplate behind kecs's back (same name, new object).
    pods = backend.list(kinds.POD_TEMPLATE, labels.SYSTEM_NAMESPACE).items
    (template,) = [p for p in pods if p["metadata"]["annotations"].get(labels.ANN_FAMILY) == "web"]
    backend.delete(kinds.POD_TEMPLATE, template["metadata"]["name"], labels.SYSTEM_NAMESPACE)
    td = json.loads(template["metadata"]["annotations"][labels.ANN_TASK_DEFINITION])
    td["containerDefinitions"][0]["image"] = "nginx:changed"
    template["metadata"]["annotations"][labels.ANN_TASK_DEFINITION] = json.dumps(td)
    for field in ("uid", "resourceVersion", "creationTimestamp"):
        del template["metadata"][field]
    backend.create(template)
    described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    assert described["containerDefinitions"][0]["image"] == "nginx:changed"


def _snapshot(memo: Memo) -> dict[str, str]:
    return {
        key: json.dumps(value, sort_keys=True, default=repr)
        for key, value in _remembered(memo).items()
    }


def test_calls_that_read_remembered_revisions_leave_them_unchanged() -> None:
    backend = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=backend)
    ecs.create_cluster()
    ecs.register_task_definition(**TD)
    ecs.describe_task_definition(taskDefinition="web")
    memo = _memo_of(ecs)
    before = _snapshot(memo)
    assert before != {}
    run = {
        "taskDefinition": "web",
        "overrides": {
            "containerOverrides": [
                {"name": "app", "environment": [{"name": "B", "value": "2"}], "memory": 64}
            ]
        },
        "tags": [{"key": "x", "value": "y"}],
        "propagateTags": "TASK_DEFINITION",
    }
    ecs.run_task(**run)
    arns = ecs.list_tasks()["taskArns"]
    ecs.describe_tasks(tasks=arns, include=["TAGS"])
    ecs.describe_task_definition(taskDefinition="web:1", include=["TAGS"])
    after = _snapshot(memo)
    assert {key: after[key] for key in before} == before
    # RunTask remembered its plan; running it again (and describing) changes none either.
    assert len(after) > len(before)
    ecs.run_task(**run)
    ecs.describe_tasks(tasks=ecs.list_tasks()["taskArns"], include=["TAGS"])
    again = _snapshot(memo)
    assert {key: again[key] for key in after} == after


def test_the_memo_is_bounded_and_checks_versions() -> None:
    memo = Memo(size=3)
    for index in range(5):
        memo.put(("k", index), ("uid", "1"), index)
    assert len(memo) == 3
    assert memo.get(("k", 0), ("uid", "1")) is None
    assert memo.get(("k", 4), ("uid", "1")) == 4
    assert memo.get(("k", 4), ("uid", "2")) is None
    memo.clear()
    assert len(memo) == 0
