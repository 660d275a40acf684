"""Identifiers derived from objects: stable, and exactly the UUIDs the standard library makes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from kecs.mapping import ids


@given(task=st.text(max_size=40), name=st.text(max_size=30))
def test_container_and_attachment_ids_are_uuid5s(task: str, name: str) -> None:
    namespace = ids._ID_NAMESPACE
    assert ids.container_id(task, name) == str(uuid.uuid5(namespace, f"container\0{task}\0{name}"))
    assert ids.attachment_id(task) == str(uuid.uuid5(namespace, f"attachment\0{task}"))
    parsed = uuid.UUID(ids.container_id(task, name))
    assert parsed.version == 5 and parsed.variant == uuid.RFC_4122


def test_container_ids_are_stable_and_distinct() -> None:
    task = "0123456789abcdef0123456789abcdef"
    assert ids.container_id(task, "app") == ids.container_id(task, "app")
    assert ids.container_id(task, "app") != ids.container_id(task, "side")
    assert ids.container_id(task, "app") != ids.attachment_id(task)
