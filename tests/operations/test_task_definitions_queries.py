"""DescribeTaskDefinition, ListTaskDefinitions and ListTaskDefinitionFamilies via the client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

import kecs
from kecs.backends.base import Backend
from tests import targets

ARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/"


# Runs on every backend target: embedded, over HTTP, and a real cluster (tests/targets.py).
pytestmark = targets.ALL


@pytest.fixture
def ecs(backend: Backend) -> Any:
    return kecs.client("ecs", backend=backend)


def register(ecs: Any, family: str, image: str = "nginx", **extra: Any) -> dict[str, Any]:
    td: dict[str, Any] = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "app", "image": image, "memory": 64}],
        **extra,
    )["taskDefinition"]
    return td


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**params)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


# -- describe ------------------------------------------------------------------------------


def test_describe_by_arn_family_revision_and_family(ecs: Any) -> None:
    first = register(ecs, "web", image="nginx:1")
    second = register(ecs, "web", image="nginx:2")
    assert (
        ecs.describe_task_definition(taskDefinition=first["taskDefinitionArn"])["taskDefinition"]
        == first
    )
    assert ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"] == second
    assert ecs.describe_task_definition(taskDefinition="web")["taskDefinition"] == second


def test_bare_family_is_the_latest_active_revision(ecs: Any) -> None:
    for _ in range(3):
        register(ecs, "web")
    ecs.deregister_task_definition(taskDefinition="web:3")
    assert ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"] == 2
    ecs.deregister_task_definition(taskDefinition="web:1")
    ecs.deregister_task_definition(taskDefinition="web:2")
    assert error_of(ecs.describe_task_definition, taskDefinition="web") == (
        "ClientException",
        "Unable to describe task definition.",
    )
    # Explicit revisions stay describable whatever their status.
    assert ecs.describe_task_definition(taskDefinition="web:3")["taskDefinition"]["status"] == (
        "INACTIVE"
    )


@pytest.mark.parametrize(
    "reference",
    [
        "nope",
        "web:9",
        "web:0",
        "web:-1",
        "web:x",
        ":1",
        "web:1:2",
        "bad family",
        f"{ARN}nope:1",
        "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:1",
        "arn:aws:ecs:us-east-1:111111111111:task-definition/web:1",
        "arn:aws:ecs:us-east-1:000000000000:service/web:1",
        "arn:aws:ecs:garbage",
    ],
)
def test_describe_unknown_is_unable_to_describe(ecs: Any, reference: str) -> None:
    register(ecs, "web")
    assert error_of(ecs.describe_task_definition, taskDefinition=reference) == (
        "ClientException",
        "Unable to describe task definition.",
    )


def test_describe_include_tags(ecs: Any) -> None:
    tags = [{"key": "team", "value": "web"}, {"key": "tier", "value": ""}]
    register(ecs, "web", tags=tags)
    register(ecs, "plain")
    assert ecs.describe_task_definition(taskDefinition="web:1", include=["TAGS"])["tags"] == tags
    assert "tags" not in ecs.describe_task_definition(taskDefinition="web:1")
    assert ecs.describe_task_definition(taskDefinition="plain", include=["TAGS"])["tags"] == []


# -- ListTaskDefinitions -------------------------------------------------------------------


def arns(*refs: str) -> list[str]:
    return [ARN + ref for ref in refs]


@pytest.fixture
def populated(ecs: Any) -> Any:
    for family, count in (("b", 3), ("a", 2), ("B", 1), ("a-b", 1)):
        for _ in range(count):
            register(ecs, family)
    ecs.deregister_task_definition(taskDefinition="b:2")
    ecs.deregister_task_definition(taskDefinition="a:1")
    ecs.delete_task_definitions(taskDefinitions=["a:1"])
    return ecs


def test_list_active_sorted_by_family_then_revision(populated: Any) -> None:
    listed = populated.list_task_definitions()["taskDefinitionArns"]
    assert listed == arns("B:1", "a:2", "a-b:1", "b:1", "b:3")


def test_list_desc_reverses_family_and_revision(populated: Any) -> None:
    listed = populated.list_task_definitions(sort="DESC")["taskDefinitionArns"]
    assert listed == arns("b:3", "b:1", "a-b:1", "a:2", "B:1")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ACTIVE", ["B:1", "a:2", "a-b:1", "b:1", "b:3"]),
        ("INACTIVE", ["b:2"]),
        ("DELETE_IN_PROGRESS", ["a:1"]),
    ],
)
def test_list_by_status(populated: Any, status: str, expected: list[str]) -> None:
    assert populated.list_task_definitions(status=status)["taskDefinitionArns"] == arns(*expected)


def test_family_prefix_is_an_exact_family(populated: Any) -> None:
    assert populated.list_task_definitions(familyPrefix="a")["taskDefinitionArns"] == arns("a:2")
    assert populated.list_task_definitions(familyPrefix="b", sort="DESC")[
        "taskDefinitionArns"
    ] == arns("b:3", "b:1")
    assert populated.list_task_definitions(familyPrefix="nope")["taskDefinitionArns"] == []


@pytest.mark.parametrize("sort", ["ASC", "DESC"])
@pytest.mark.parametrize("page_size", [1, 2, 3, 100])
def test_pages_concatenate_to_the_full_list(populated: Any, sort: str, page_size: int) -> None:
    full = populated.list_task_definitions(sort=sort)["taskDefinitionArns"]
    pages = []
    token = None
    while True:
        extra = {"nextToken": token} if token else {}
        page = populated.list_task_definitions(sort=sort, maxResults=page_size, **extra)
        assert len(page["taskDefinitionArns"]) <= page_size
        pages.extend(page["taskDefinitionArns"])
        token = page.get("nextToken")
        if not token:
            break
    assert pages == full


def test_last_page_has_no_token(populated: Any) -> None:
    assert "nextToken" not in populated.list_task_definitions(maxResults=5)
    assert "nextToken" in populated.list_task_definitions(maxResults=4)


def test_paginator_lists_everything(ecs: Any) -> None:
    for i in range(25):
        register(ecs, f"fam-{i:02d}")
    for _ in range(5):
        register(ecs, "fam-07")
    paginator = ecs.get_paginator("list_task_definitions")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p["taskDefinitionArns"]) for p in pages] == [7, 7, 7, 7, 2]
    listed = [a for p in pages for a in p["taskDefinitionArns"]]
    assert len(listed) == len(set(listed)) == 30
    assert listed == ecs.list_task_definitions()["taskDefinitionArns"]
    built = paginator.paginate(PaginationConfig={"PageSize": 4, "MaxItems": 9}).build_full_result()
    assert built["taskDefinitionArns"] == listed[:9]
    assert "NextToken" in built


def test_token_survives_changes_between_pages(ecs: Any) -> None:
    for _ in range(4):
        register(ecs, "web")
    first = ecs.list_task_definitions(maxResults=2)
    register(ecs, "web")
    ecs.deregister_task_definition(taskDefinition="web:3")
    rest = ecs.list_task_definitions(maxResults=10, nextToken=first["nextToken"])
    assert rest["taskDefinitionArns"] == arns("web:4", "web:5")


@pytest.mark.parametrize("token", ["garbage!", "e30", "WyJhIl0", "WzEsMl0", "W10"])
def test_bad_token_is_invalid_parameter(populated: Any, token: str) -> None:
    code, _ = error_of(populated.list_task_definitions, nextToken=token)
    assert code == "InvalidParameterException"
    code, _ = error_of(populated.list_task_definition_families, nextToken=token + "x")
    assert code == "InvalidParameterException"


@pytest.mark.parametrize("bad", [0, 101, -5])
def test_max_results_bounds(populated: Any, bad: int) -> None:
    for call in (populated.list_task_definitions, populated.list_task_definition_families):
        assert error_of(call, maxResults=bad) == (
            "InvalidParameterException",
            f"maxResults must be between 1 and 100, but was {bad}.",
        )


def test_default_page_is_100(ecs: Any) -> None:
    for _ in range(101):
        register(ecs, "many")
    first = ecs.list_task_definitions()
    assert len(first["taskDefinitionArns"]) == 100
    rest = ecs.list_task_definitions(nextToken=first["nextToken"])
    assert rest["taskDefinitionArns"] == arns("many:101")


def test_empty_world_lists_nothing(ecs: Any) -> None:
    assert ecs.list_task_definitions()["taskDefinitionArns"] == []
    assert ecs.list_task_definition_families()["families"] == []


# -- ListTaskDefinitionFamilies ------------------------------------------------------------


def test_families_by_status(populated: Any) -> None:
    populated.deregister_task_definition(taskDefinition="a-b:1")
    assert populated.list_task_definition_families()["families"] == ["B", "a", "b"]
    assert populated.list_task_definition_families(status="ACTIVE")["families"] == ["B", "a", "b"]
    assert populated.list_task_definition_families(status="INACTIVE")["families"] == ["a-b"]
    assert populated.list_task_definition_families(status="ALL")["families"] == [
        "B",
        "a",
        "a-b",
        "b",
    ]


def test_families_prefix_is_a_prefix(populated: Any) -> None:
    assert populated.list_task_definition_families(familyPrefix="a")["families"] == ["a", "a-b"]
    assert populated.list_task_definition_families(familyPrefix="a-")["families"] == ["a-b"]
    assert populated.list_task_definition_families(familyPrefix="z")["families"] == []


def test_families_paginator(ecs: Any) -> None:
    for i in range(12):
        register(ecs, f"svc-{i:02d}")
    paginator = ecs.get_paginator("list_task_definition_families")
    pages = list(paginator.paginate(familyPrefix="svc-", PaginationConfig={"PageSize": 5}))
    assert [len(p["families"]) for p in pages] == [5, 5, 2]
    assert [f for p in pages for f in p["families"]] == [f"svc-{i:02d}" for i in range(12)]


@pytest.mark.parametrize(
    ("call", "status"),
    [("list_task_definitions", "ALL"), ("list_task_definition_families", "DELETE_IN_PROGRESS")],
)
def test_unknown_status_is_invalid_parameter(ecs: Any, call: str, status: str) -> None:
    code, message = error_of(getattr(ecs, call), status=status)
    assert code == "InvalidParameterException"
    assert message.startswith(f"Invalid status '{status}'.")
