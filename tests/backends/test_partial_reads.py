"""The port's cheaper reads (``get_metadata``, ``list_metadata``, ``find``), on every backend:
they return what ``get`` / ``list`` would, cut down, and the embedded backend answers ``find``
without walking every object."""

from __future__ import annotations

from typing import Any

import pytest

from kecs.backends import kinds
from kecs.backends.base import Backend, partial_metadata
from kecs.backends.errors import Invalid, NotFound
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.jsoncopy import copy_json
from tests.backends.contract import config_map, names, namespace, unique

PARTIAL = {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata"}


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {**PARTIAL, "metadata": obj["metadata"]}


def test_get_metadata_is_the_objects_metadata(backend: Backend, ns: str) -> None:
    created = backend.create(config_map("cm", ns, {"app": "a"}, {"big": "x" * 1000}))
    got = backend.get_metadata(kinds.CONFIG_MAP, "cm", ns)
    assert got == _metadata(backend.get(kinds.CONFIG_MAP, "cm", ns))
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    got["metadata"]["labels"]["app"] = "changed"  # the caller owns what it got
    assert backend.get(kinds.CONFIG_MAP, "cm", ns)["metadata"]["labels"] == {"app": "a"}


def test_get_metadata_of_a_missing_object_is_not_found(backend: Backend, ns: str) -> None:
    with pytest.raises(NotFound):
        backend.get_metadata(kinds.CONFIG_MAP, "absent", ns)


def test_list_metadata_pages_like_list(backend: Backend, ns: str) -> None:
    for index in range(5):
        backend.create(config_map(f"cm-{index}", ns, {"keep": "yes" if index != 2 else "no"}))
    full, partial = [], []
    for reader, into in ((backend.list, full), (backend.list_metadata, partial)):
        token = None
        while True:
            page = reader(
                kinds.CONFIG_MAP,
                ns,
                selector={"keep": "yes"},
                limit=2,
                continue_token=token,
                where=lambda obj: obj["metadata"]["name"] != "cm-3",
            )
            into.append(page.items)
            token = page.continue_token
            if not token:
                break
    assert [[_metadata(o) for o in page] for page in full] == partial
    assert [names(page) for page in full] == [["cm-0", "cm-1"], ["cm-4"]]


def test_list_metadata_gives_the_where_filter_whole_objects(backend: Backend, ns: str) -> None:
    backend.create(config_map("a", ns, data={"k": "1"}))
    backend.create(config_map("b", ns, data={"k": "2"}))
    page = backend.list_metadata(
        kinds.CONFIG_MAP, ns, where=lambda obj: (obj.get("data") or {}).get("k") == "2"
    )
    assert names(page.items) == ["b"]
    assert page.items[0]["kind"] == "PartialObjectMetadata"


def test_find_by_names_and_by_uids(backend: Backend, ns: str) -> None:
    made = [backend.create(config_map(f"cm-{i}", ns, {"n": str(i % 2)})) for i in range(4)]
    uids = {o["metadata"]["name"]: o["metadata"]["uid"] for o in made}
    assert names(backend.find(kinds.CONFIG_MAP, ns, names=["cm-2", "cm-0", "nope"])) == [
        "cm-0",
        "cm-2",
    ]
    by_uid = backend.find(kinds.CONFIG_MAP, ns, uids=[uids["cm-3"], uids["cm-1"], "0" * 32])
    assert by_uid == [backend.get(kinds.CONFIG_MAP, n, ns) for n in ("cm-1", "cm-3")]
    assert names(backend.find(kinds.CONFIG_MAP, ns, uids=list(uids.values()), selector="n=0")) == [
        "cm-0",
        "cm-2",
    ]
    both = backend.find(kinds.CONFIG_MAP, ns, names=["cm-1", "cm-2"], uids=[uids["cm-2"]])
    assert names(both) == ["cm-2"]
    meta_only = backend.find(kinds.CONFIG_MAP, ns, names=["cm-1"], metadata_only=True)
    assert meta_only == [_metadata(backend.get(kinds.CONFIG_MAP, "cm-1", ns))]
    assert backend.find(kinds.CONFIG_MAP, ns, names=[]) == []
    assert backend.find(kinds.CONFIG_MAP, ns, uids=[]) == []


def test_find_stays_in_its_namespace_and_kind(backend: Backend, make_ns: Any) -> None:
    first, second = make_ns(), make_ns()
    here = backend.create(config_map("same", first))
    there = backend.create(config_map("same", second))
    uids = [here["metadata"]["uid"], there["metadata"]["uid"]]
    assert backend.find(kinds.CONFIG_MAP, first, uids=uids) == [
        backend.get(kinds.CONFIG_MAP, "same", first)
    ]
    assert backend.find(kinds.SECRET, first, uids=uids) == []
    everywhere = backend.find(kinds.CONFIG_MAP, None, names=["same"], selector={}, uids=uids)
    assert [o["metadata"]["namespace"] for o in everywhere] == sorted([first, second])


def test_find_cluster_scoped_objects(backend: Backend, run_labels: dict[str, str]) -> None:
    name = unique("ns")
    created = backend.create(namespace(name, run_labels))
    try:
        found = backend.find(kinds.NAMESPACE, names=[name, unique("absent")])
        assert names(found) == [name]
        assert names(backend.find(kinds.NAMESPACE, uids=[created["metadata"]["uid"]])) == [name]
    finally:
        backend.delete(kinds.NAMESPACE, name)


def test_find_refuses_a_bad_selector(backend: Backend, ns: str) -> None:
    with pytest.raises(Invalid):
        backend.find(kinds.CONFIG_MAP, ns, names=["x"], selector="a in ()")


def test_the_embedded_find_does_not_walk_every_object(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryBackend(cluster=False)
    backend.create(namespace("ns"))
    made = [backend.create(config_map(f"cm-{i}", "ns")) for i in range(50)]

    def walked(*_: Any, **__: Any) -> Any:
        raise AssertionError("find walked the table")

    monkeypatch.setattr(backend._server.table, "iterate", walked)
    wanted = [made[7]["metadata"]["uid"], made[3]["metadata"]["uid"]]
    assert names(backend.find(kinds.CONFIG_MAP, "ns", uids=wanted)) == ["cm-3", "cm-7"]
    assert names(backend.find(kinds.CONFIG_MAP, "ns", names=["cm-9"])) == ["cm-9"]


def test_partial_metadata_shares_the_metadata() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    assert partial_metadata(obj) == {**PARTIAL, "metadata": {"name": "p"}}
    assert partial_metadata(obj)["metadata"] is obj["metadata"]


def test_copy_json_copies_every_container_and_shares_scalars() -> None:
    class Sub(dict[str, Any]):
        pass

    original = {"a": [1, {"b": "text"}, [2.5, None]], "c": Sub(d=[True]), "e": ("t",)}
    copied = copy_json(original)
    assert copied == original
    assert type(copied["c"]) is dict
    copied["a"][1]["b"] = "changed"
    copied["a"][2].append(3)
    copied["c"]["d"].append(False)
    assert original == {"a": [1, {"b": "text"}, [2.5, None]], "c": {"d": [True]}, "e": ("t",)}
    assert copied["e"] is original["e"]


def test_shared_reads_return_what_plain_reads_return(backend: Backend, ns: str) -> None:
    made = backend.create(config_map("cm", ns, {"app": "a"}, {"k": "v"}))
    uid = made["metadata"]["uid"]
    assert backend.find(kinds.CONFIG_MAP, ns, uids=[uid], shared=True) == backend.find(
        kinds.CONFIG_MAP, ns, uids=[uid]
    )
    assert backend.find(kinds.CONFIG_MAP, ns, names=["cm"], metadata_only=True, shared=True) == (
        backend.find(kinds.CONFIG_MAP, ns, names=["cm"], metadata_only=True)
    )
    assert backend.get_metadata(kinds.CONFIG_MAP, "cm", ns, shared=True) == backend.get_metadata(
        kinds.CONFIG_MAP, "cm", ns
    )
    assert backend.list_metadata(kinds.CONFIG_MAP, ns, shared=True) == backend.list_metadata(
        kinds.CONFIG_MAP, ns
    )


def test_what_a_shared_reader_holds_stays_as_it_was_read() -> None:
    backend = MemoryBackend(cluster=False)
    backend.create(namespace("ns"))
    backend.create(config_map("cm", "ns", {"app": "a"}, {"k": "v"}))
    (held,) = backend.find(kinds.CONFIG_MAP, "ns", names=["cm"], shared=True)
    meta = backend.get_metadata(kinds.CONFIG_MAP, "cm", "ns", shared=True)
    snapshot = copy_json([held, meta])
    backend.patch(kinds.CONFIG_MAP, "cm", {"data": {"k": "w"}, "metadata": {"labels": None}}, "ns")
    backend.delete(kinds.CONFIG_MAP, "cm", "ns")
    assert [held, meta] == snapshot


def test_a_shared_create_returns_the_object_as_created(backend: Backend, ns: str) -> None:
    created = backend.create(config_map("cm", ns, {"app": "a"}, {"k": "v"}), shared=True)
    assert created == backend.get(kinds.CONFIG_MAP, "cm", ns)


def test_the_embedded_find_by_names_sorts_dedupes_and_copies_unless_shared() -> None:
    backend = MemoryBackend(cluster=False)
    backend.create(namespace("ns"))
    for name in ("cm-b", "cm-a", "cm-c"):
        backend.create(config_map(name, "ns", {"app": name}))
    asked = ["cm-c", "absent", "cm-a", "cm-c"]
    assert names(backend.find(kinds.CONFIG_MAP, "ns", names=asked)) == ["cm-a", "cm-c"]
    assert backend.find(kinds.CONFIG_MAP, "empty", names=["cm-a"]) == []
    stored = backend._server.find(kinds.CONFIG_MAP, "ns", "cm-a")
    (shared,) = backend.find(kinds.CONFIG_MAP, "ns", names=["cm-a"], shared=True)
    (copied,) = backend.find(kinds.CONFIG_MAP, "ns", names=["cm-a"])
    (meta,) = backend.find(kinds.CONFIG_MAP, "ns", names=["cm-a"], metadata_only=True)
    assert shared is stored
    assert copied == stored and copied is not stored
    assert meta == _metadata(stored) and meta["metadata"] is not stored["metadata"]
