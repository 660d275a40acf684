"""Task lookup helpers: a task id's pod uid as Kubernetes writes it."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kecs.operations.task_lookup import _dashed_uid


@given(st.uuids())
def test_a_task_id_gives_the_uid_its_pod_has(uid: uuid.UUID) -> None:
    assert _dashed_uid(uid.hex) == str(uid)
    assert _dashed_uid(uid.hex.upper()) == str(uid)


def test_an_id_that_is_no_uuid_is_refused_as_before() -> None:
    with pytest.raises(ValueError):
        _dashed_uid("not-hex")
