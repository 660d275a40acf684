"""Deregister, delete, tags, storage in the backend, shared worlds and concurrent revisions."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

import kecs
from kecs import arns
from kecs.backends import kinds
from kecs.mapping import labels
from kecs.mapping.taskdef import to_pod_template
from kecs.operations import tagging
from kecs.operations.context import RequestContext
from kecs.operations.registry import handlers
from kecs.operations.taskdefs import store as td_store
from tests import targets
from tests.k8s_schema import validate_strict

CONTAINERS = [{"name": "app", "image": "nginx", "memory": 64}]


# Runs on every backend target: embedded, over HTTP, and a real cluster (tests/targets.py).
pytestmark = targets.ALL


@pytest.fixture
def ecs(backend: kecs.MemoryBackend) -> Any:
    return kecs.client("ecs", backend=backend)


def register(ecs: Any, family: str = "web", **extra: Any) -> dict[str, Any]:
    td: dict[str, Any] = ecs.register_task_definition(
        family=family, containerDefinitions=CONTAINERS, **extra
    )["taskDefinition"]
    return td


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**params)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


# -- deregister ----------------------------------------------------------------------------


def test_deregister_makes_inactive_with_timestamp(ecs: Any) -> None:
    registered = register(ecs)
    out = ecs.deregister_task_definition(taskDefinition="web:1")["taskDefinition"]
    assert out["status"] == "INACTIVE"
    assert out["deregisteredAt"] >= registered["registeredAt"]
    described = ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]
    assert described == out


def test_deregister_by_arn(ecs: Any) -> None:
    arn = register(ecs)["taskDefinitionArn"]
    assert ecs.deregister_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == (
        "INACTIVE"
    )


def test_deregister_twice_is_a_no_op(ecs: Any) -> None:
    register(ecs)
    first = ecs.deregister_task_definition(taskDefinition="web:1")["taskDefinition"]
    again = ecs.deregister_task_definition(taskDefinition="web:1")["taskDefinition"]
    assert again == first


def test_deregister_needs_a_revision(ecs: Any) -> None:
    register(ecs)
    assert error_of(ecs.deregister_task_definition, taskDefinition="web") == (
        "ClientException",
        "Revision is missing.",
    )


@pytest.mark.parametrize("reference", ["web:2", "nope:1", "web:x"])
def test_deregister_unknown(ecs: Any, reference: str) -> None:
    register(ecs)
    assert error_of(ecs.deregister_task_definition, taskDefinition=reference) == (
        "ClientException",
        "Unable to describe task definition.",
    )


def test_revisions_are_never_reused(ecs: Any) -> None:
    for _ in range(2):
        register(ecs)
    ecs.deregister_task_definition(taskDefinition="web:2")
    ecs.delete_task_definitions(taskDefinitions=["web:2"])
    assert register(ecs)["revision"] == 3


# -- delete --------------------------------------------------------------------------------


def test_delete_inactive_and_report_failures(ecs: Any) -> None:
    for _ in range(3):
        register(ecs)
    ecs.deregister_task_definition(taskDefinition="web:2")
    ecs.deregister_task_definition(taskDefinition="web:3")
    arn3 = arns.task_definition("us-east-1", "000000000000", "web", 3)
    out = ecs.delete_task_definitions(
        taskDefinitions=["web:1", "web:2", arn3, "web:9", "web", "arn:aws:ecs:nonsense"]
    )
    assert [(td["revision"], td["status"]) for td in out["taskDefinitions"]] == [
        (2, "DELETE_IN_PROGRESS"),
        (3, "DELETE_IN_PROGRESS"),
    ]
    assert all("deleteRequestedAt" in td for td in out["taskDefinitions"])
    assert out["failures"] == [
        {
            "arn": arns.task_definition("us-east-1", "000000000000", "web", 1),
            "reason": "The specified task definition is still in ACTIVE status. Please "
            "deregister the target and try again.",
        },
        {
            "arn": "web:9",
            "reason": "The specified task definition does not exist. Specify a valid account, "
            "family, revision and try again.",
        },
        {
            "arn": "web",
            "reason": "The specified task definition identifier is invalid. Specify a valid "
            "name or ARN and try again.",
        },
        {
            "arn": "arn:aws:ecs:nonsense",
            "reason": "The specified task definition identifier is invalid. Specify a valid "
            "name or ARN and try again.",
        },
    ]
    # DELETE_IN_PROGRESS revisions stay describable and listable by that status.
    assert ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]["status"] == (
        "DELETE_IN_PROGRESS"
    )
    assert ecs.list_task_definitions(status="DELETE_IN_PROGRESS")["taskDefinitionArns"] == [
        arns.task_definition("us-east-1", "000000000000", "web", r) for r in (2, 3)
    ]
    assert ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"] == []


def test_delete_again_returns_it_again(ecs: Any) -> None:
    register(ecs)
    ecs.deregister_task_definition(taskDefinition="web:1")
    first = ecs.delete_task_definitions(taskDefinitions=["web:1"])["taskDefinitions"]
    again = ecs.delete_task_definitions(taskDefinitions=["web:1"])
    assert again["taskDefinitions"] == first and again["failures"] == []
    # Deregistering a revision being deleted leaves it being deleted.
    out = ecs.deregister_task_definition(taskDefinition="web:1")["taskDefinition"]
    assert out["status"] == "DELETE_IN_PROGRESS"


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (0, "size of TaskDefinition references list must be greater than 0"),
        (11, "Size of TaskDefinition references list cannot exceed 10"),
    ],
)
def test_delete_list_size(ecs: Any, count: int, message: str) -> None:
    refs = [f"web:{i + 1}" for i in range(count)]
    assert error_of(ecs.delete_task_definitions, taskDefinitions=refs) == (
        "InvalidParameterException",
        message,
    )


# -- tags ----------------------------------------------------------------------------------


def _ctx(backend: kecs.MemoryBackend) -> RequestContext:
    return RequestContext(backend, "us-east-1", "000000000000")


def test_tag_accessors_read_and_edit(backend: kecs.MemoryBackend, ecs: Any) -> None:
    arn = arns.parse(register(ecs, tags=[{"key": "a", "value": "1"}])["taskDefinitionArn"])
    assert arn is not None
    handlers()  # the accessors are registered when the handler modules load
    found = tagging.accessors("task-definition")
    assert found is not None
    reader, writer = found
    assert reader(_ctx(backend), arn) == [{"key": "a", "value": "1"}]
    writer(_ctx(backend), arn, lambda current: [*current, {"key": "b", "value": "2"}])
    assert ecs.describe_task_definition(taskDefinition="web:1", include=["TAGS"])["tags"] == [
        {"key": "a", "value": "1"},
        {"key": "b", "value": "2"},
    ]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:ecs:us-east-1:000000000000:task-definition/web:7",
        "arn:aws:ecs:us-east-1:000000000000:task-definition/web",
        "arn:aws:ecs:us-west-2:000000000000:task-definition/web:1",
    ],
)
def test_tag_accessors_refuse_unknown(backend: kecs.MemoryBackend, ecs: Any, arn: str) -> None:
    register(ecs)
    handlers()
    found = tagging.accessors("task-definition")
    assert found is not None
    reader, writer = found
    parsed = arns.parse(arn)
    assert parsed is not None
    ctx = _ctx(backend)
    for call in (lambda: reader(ctx, parsed), lambda: writer(ctx, parsed, list)):
        with pytest.raises(kecs.ECSError) as info:
            call()
        assert (info.value.code, info.value.message) == (
            "ClientException",
            "Unable to describe task definition.",
        )


def test_tag_operations_through_the_client(ecs: Any) -> None:
    arn = register(ecs)["taskDefinitionArn"]
    try:
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "web"}])
    except ecs.exceptions.UnsupportedFeatureException:  # pragma: no cover - tags.py absent
        pytest.skip("TagResource is not wired yet")
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "web"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []
    missing = arn.replace(":1", ":5")
    assert error_of(ecs.list_tags_for_resource, resourceArn=missing) == (
        "ClientException",
        "Unable to describe task definition.",
    )


# -- storage -------------------------------------------------------------------------------


def test_pod_template_is_stored_in_the_backend(backend: kecs.MemoryBackend, ecs: Any) -> None:
    tags = [{"key": "team", "value": "web"}]
    td = register(ecs, family="Web_App", tags=tags)
    key = td_store.family_key("000000000000", "us-east-1", "Web_App")
    obj = backend.get(kinds.POD_TEMPLATE, f"td-{key}-1", labels.SYSTEM_NAMESPACE)
    meta = obj["metadata"]
    assert meta["labels"] == {
        **labels.ownership("000000000000", "us-east-1", "task-definition"),
        labels.FAMILY: key,
        labels.REVISION: "1",
        labels.STATUS: "ACTIVE",
    }
    stored = json.loads(meta["annotations"][labels.ANN_TASK_DEFINITION])
    assert stored["taskDefinitionArn"] == td["taskDefinitionArn"]
    assert stored["registeredAt"] == td["registeredAt"].timestamp()
    assert json.loads(meta["annotations"][labels.ANN_TAGS]) == tags
    mapped = to_pod_template(stored, region="us-east-1")
    assert obj["template"] == mapped.template
    assert json.loads(meta["annotations"][labels.ANN_NOTES]) == [str(n) for n in mapped.notes]
    validate_strict(obj)
    ns = backend.get(kinds.NAMESPACE, labels.SYSTEM_NAMESPACE)
    assert ns["metadata"]["labels"][labels.MANAGED_BY] == "kecs"


def test_status_label_follows_the_status(backend: kecs.MemoryBackend, ecs: Any) -> None:
    register(ecs)
    ecs.deregister_task_definition(taskDefinition="web:1")
    selector = {labels.STATUS: "INACTIVE", labels.RESOURCE: "task-definition"}
    found = backend.list(kinds.POD_TEMPLATE, labels.SYSTEM_NAMESPACE, selector=selector).items
    assert [o["metadata"]["labels"][labels.REVISION] for o in found] == ["1"]


def test_two_clients_on_one_backend_share_task_definitions(backend: kecs.MemoryBackend) -> None:
    one = kecs.client("ecs", backend=backend)
    two = kecs.client("ecs", backend=backend)
    register(one)
    assert register(two)["revision"] == 2
    assert two.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["revision"] == 1
    one.deregister_task_definition(taskDefinition="web:2")
    assert two.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"] == 1


def test_regions_and_accounts_do_not_mix(backend: kecs.MemoryBackend) -> None:
    east = kecs.client("ecs", region_name="us-east-1", backend=backend)
    west = kecs.client("ecs", region_name="us-west-2", backend=backend)
    other = kecs.client("ecs", region_name="us-east-1", account_id="111111111111", backend=backend)
    register(east)
    register(east)
    assert register(west)["revision"] == 1
    assert register(other)["taskDefinitionArn"] == (
        "arn:aws:ecs:us-east-1:111111111111:task-definition/web:1"
    )
    assert east.list_task_definitions()["taskDefinitionArns"] == [
        arns.task_definition("us-east-1", "000000000000", "web", r) for r in (1, 2)
    ]
    assert west.list_task_definitions()["taskDefinitionArns"] == [
        arns.task_definition("us-west-2", "000000000000", "web", 1)
    ]
    assert other.list_task_definition_families()["families"] == ["web"]
    assert error_of(west.describe_task_definition, taskDefinition="web:2")[0] == "ClientException"
    east_arn = arns.task_definition("us-east-1", "000000000000", "web", 1)
    assert error_of(other.describe_task_definition, taskDefinition=east_arn)[0] == (
        "ClientException"
    )


def test_concurrent_registrations_get_distinct_revisions(backend: kecs.MemoryBackend) -> None:
    threads, per_thread = 8, 25
    revisions: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        client = kecs.client("ecs", backend=backend)
        start.wait()
        try:
            for _ in range(per_thread):
                revision = register(client, "hot")["revision"]
                with lock:
                    revisions.append(revision)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sorted(revisions) == list(range(1, threads * per_thread + 1))
    listed = kecs.client("ecs", backend=backend).get_paginator("list_task_definitions")
    arns_listed = [a for page in listed.paginate() for a in page["taskDefinitionArns"]]
    assert len(arns_listed) == threads * per_thread


def test_lost_races_are_retried(backend: kecs.MemoryBackend, monkeypatch: Any) -> None:
    """A Conflict on the family record is retried with a fresh read."""
    ecs = kecs.client("ecs", backend=backend)
    register(ecs)
    real_update = backend.update
    conflicts = iter(range(3))

    def flaky_update(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] == "ConfigMap" and next(conflicts, None) is not None:
            from kecs.backends.errors import Conflict

            raise Conflict("lost a race")
        return real_update(obj)

    monkeypatch.setattr(backend, "update", flaky_update)
    assert register(ecs)["revision"] == 2


def test_a_registration_slipping_in_between_read_and_write_wins_the_race(
    backend: kecs.MemoryBackend, monkeypatch: Any
) -> None:
    """The family record is read without a copy: losing to a real concurrent allocation is
    a Conflict, retried, and the record the loser read is left as it was."""
    ecs, other = kecs.client("ecs", backend=backend), kecs.client("ecs", backend=backend)
    register(ecs)
    real_update = backend.update
    raced: list[int] = []

    def racing_update(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] == "ConfigMap" and not raced:
            before = backend.get(kinds.CONFIG_MAP, obj["metadata"]["name"], labels.SYSTEM_NAMESPACE)
            raced.append(0)  # the other registration's own update goes straight through
            raced[0] = register(other)["revision"]
            assert before["data"]["revisions"] == "A"
        return real_update(obj)

    monkeypatch.setattr(backend, "update", racing_update)
    assert register(ecs)["revision"] == 3
    assert raced == [2]
    records = backend.list(kinds.CONFIG_MAP, labels.SYSTEM_NAMESPACE).items
    assert [r["data"]["revisions"] for r in records] == ["AAA"]


def _parts(value: Any) -> list[Any]:
    """Every dict and list in ``value``."""
    if isinstance(value, dict):
        return [value, *(p for item in value.values() for p in _parts(item))]
    if isinstance(value, list):
        return [value, *(p for item in value for p in _parts(item))]
    return []


def test_a_store_refused_for_want_of_the_namespace_hands_over_a_new_object(
    backend: kecs.MemoryBackend, monkeypatch: Any
) -> None:
    """What is handed over is given up: when the namespace went away between allocating the
    revision and storing it, the second attempt hands over a PodTemplate built anew."""
    from kecs.backends.errors import NotFound

    ecs = kecs.client("ecs", backend=backend)
    register(ecs)
    real_create = backend.create
    handed: list[Any] = []  # kept alive, so no id is reused

    def create(obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        if options.get("handed_over"):
            assert not {id(p) for p in _parts(obj)} & {id(p) for p in handed}
            handed.extend(_parts(obj))
        if obj["kind"] == "PodTemplate" and len(handed) == len(_parts(obj)):
            raise NotFound("namespaces not found")  # the first PodTemplate only
        return real_create(obj, **options)

    monkeypatch.setattr(backend, "create", create)
    td = register(ecs)
    assert td["revision"] == 2
    described = ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert described == td


def test_endless_conflicts_end_in_a_client_exception(
    backend: kecs.MemoryBackend, monkeypatch: Any
) -> None:
    from kecs.backends.errors import Conflict

    ecs = kecs.client("ecs", backend=backend)
    register(ecs)

    def always(obj: dict[str, Any]) -> dict[str, Any]:
        raise Conflict("lost a race")

    monkeypatch.setattr(backend, "update", always)
    monkeypatch.setattr(td_store, "MAX_ATTEMPTS", 5)
    assert error_of(
        ecs.register_task_definition, family="web", containerDefinitions=CONTAINERS
    ) == (
        "ClientException",
        "Too many concurrent attempts to create a new revision of the specified family.",
    )


def test_failed_store_leaves_an_unused_revision(
    backend: kecs.MemoryBackend, monkeypatch: Any
) -> None:
    """A revision whose PodTemplate could not be written is never listed nor reused."""
    from kecs.backends.errors import Unavailable

    ecs = kecs.client("ecs", backend=backend)
    register(ecs)
    real_create = backend.create

    def failing(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] == "PodTemplate":
            raise Unavailable("backend down")
        return real_create(obj)

    monkeypatch.setattr(backend, "create", failing)
    code, _ = error_of(ecs.register_task_definition, family="web", containerDefinitions=CONTAINERS)
    assert code == "ServerException"
    monkeypatch.setattr(backend, "create", real_create)
    assert register(ecs)["revision"] == 3
    listed = ecs.list_task_definitions()["taskDefinitionArns"]
    assert listed == [arns.task_definition("us-east-1", "000000000000", "web", r) for r in (1, 3)]
    for status in ("INACTIVE", "DELETE_IN_PROGRESS"):
        assert ecs.list_task_definitions(status=status)["taskDefinitionArns"] == []


def test_oversized_definition_is_refused_and_its_revision_skipped(ecs: Any) -> None:
    huge = [{"name": f"V{i}", "value": "x" * 1000} for i in range(70)]
    code, message = error_of(
        ecs.register_task_definition,
        family="web",
        containerDefinitions=[{**CONTAINERS[0], "environment": huge}],
    )
    assert code == "ClientException"
    assert message.endswith("the maximum size of a task definition is 64 KiB.")
    assert register(ecs)["revision"] == 2
    assert ecs.list_task_definitions()["taskDefinitionArns"] == [
        arns.task_definition("us-east-1", "000000000000", "web", 2)
    ]
