"""Backend.create_or_replace: the port's one upsert, on every backend target."""

from __future__ import annotations

from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.base import Backend
from kecs.backends.errors import AlreadyExists, Conflict
from kecs.backends.memory import MemoryBackend


def config_map(value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "record", "namespace": "default"},
        "data": {"value": value},
    }


@pytest.mark.backends("memory", "k8s-http")
def test_creates_then_replaces(backend: Backend) -> None:
    backend.create_or_replace(config_map("one"))
    backend.create_or_replace(config_map("two"))
    assert backend.get(kinds.CONFIG_MAP, "record", "default")["data"] == {"value": "two"}


def test_a_racing_writer_is_retried() -> None:
    class Racy(MemoryBackend):
        """Someone else writes the object between our read and our update, once."""

        raced = False

        def update(self, obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            if not self.raced:
                self.raced = True
                super().update(config_map("theirs"))
            return super().update(obj, **kwargs)

    backend = Racy()
    backend.create(config_map("old"))
    backend.create_or_replace(config_map("ours"))
    assert backend.raced
    assert backend.get(kinds.CONFIG_MAP, "record", "default")["data"] == {"value": "ours"}


def test_gives_up_as_a_conflict() -> None:
    class Stuck(MemoryBackend):
        def create(self, obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            if obj["kind"] == "ConfigMap":
                raise AlreadyExists("taken")
            return super().create(obj, **kwargs)

    with pytest.raises(Conflict):
        Stuck().create_or_replace(config_map("x"), attempts=3)
