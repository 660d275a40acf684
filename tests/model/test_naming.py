"""snake_case <-> camelCase renames are derived from (and checked against) botocore's model."""

from __future__ import annotations

import botocore.session
import pytest

from kecs.model.naming import IRREGULAR, naive_camel, to_camel, to_snake

MODEL = botocore.session.get_session().get_service_model("ecs")
MEMBERS = sorted(
    {
        member
        for name in MODEL.shape_names
        if (shape := MODEL.shape_for(name)).type_name == "structure"
        for member in shape.members
    }
)


def test_every_member_of_every_structure_round_trips() -> None:
    broken = [m for m in MEMBERS if to_camel(to_snake(m)) != m]
    assert broken == []


def test_irregular_table_is_exactly_what_the_model_needs() -> None:
    needed = {to_snake(m): m for m in MEMBERS if naive_camel(to_snake(m)) != m}
    assert needed == IRREGULAR


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("bindIP", "bind_ip"),
        ("enableECSManagedTags", "enable_ecs_managed_tags"),
        ("managedEBSVolume", "managed_ebs_volume"),
        ("totalLocalStorageGB", "total_local_storage_gb"),
        ("webACLArn", "web_acl_arn"),
        ("containerDefinitions", "container_definitions"),
        ("sizeInGiB", "size_in_gi_b"),
        ("readonlyRootFilesystem", "readonly_root_filesystem"),
    ],
)
def test_examples(camel: str, snake: str) -> None:
    assert to_snake(camel) == snake
    assert to_camel(snake) == camel


def test_snake_names_are_unique() -> None:
    assert len({to_snake(m) for m in MEMBERS}) == len(MEMBERS)
