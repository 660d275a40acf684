"""``create(..., handed_over=True)``: the caller gives its dict up, so the embedded backend
stores it without a copy; every backend creates the same object either way."""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Backend
from kecs.backends.memory import MemoryBackend
from tests.backends.contract import config_map

SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp")


def _without_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_FIELDS}
    return {**obj, "metadata": meta}


def test_a_handed_over_create_makes_the_same_object(backend: Backend, ns: str) -> None:
    copied = backend.create(config_map("copied", ns, {"app": "a"}, {"k": "v"}))
    handed = backend.create(config_map("handed", ns, {"app": "a"}, {"k": "v"}), handed_over=True)
    assert handed["metadata"]["uid"] != copied["metadata"]["uid"]
    expected = _without_server_fields(copied)
    expected["metadata"]["name"] = "handed"
    assert _without_server_fields(handed) == expected
    assert backend.get(kinds.CONFIG_MAP, "handed", ns) == handed


def test_the_embedded_backend_keeps_a_handed_over_dict_instead_of_a_copy() -> None:
    backend = MemoryBackend()
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})
    given = config_map("cm", "n", {"app": "a"}, {"k": "v"})
    stored = backend.create(given, handed_over=True, shared=True)
    assert stored is given
    kept = config_map("kept", "n", {"app": "a"}, {"k": "v"})
    assert backend.create(kept, shared=True) is not kept
    assert "uid" not in kept["metadata"]  # without the promise, the caller's dict is untouched
