"""The backend contract (API-server semantics kecs relies on), run against every backend,
plus what only the embedded backend promises (its clock, its initial namespaces)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.backends import kinds
from kecs.backends.base import Backend
from kecs.backends.errors import AlreadyExists, Conflict, Invalid, NotFound
from kecs.backends.memory import MemoryBackend
from tests.backends.contract import (
    config_map,
    deployment,
    eventually,
    names,
    namespace,
    unique,
)

RFC3339_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


# -- identity: uid, resourceVersion, creationTimestamp, namespace ----------------------------


def test_create_assigns_server_fields(backend: Backend, ns: str) -> None:
    created = backend.create(config_map("cm", ns, data={"a": "1"}))
    meta = created["metadata"]
    uuid.UUID(meta["uid"])
    assert isinstance(meta["resourceVersion"], str) and meta["resourceVersion"]
    assert RFC3339_SECONDS.fullmatch(meta["creationTimestamp"])
    assert meta["namespace"] == ns
    assert created["data"] == {"a": "1"}
    assert backend.get(kinds.CONFIG_MAP, "cm", ns) == created


def test_namespace_is_filled_in_for_namespaced_and_dropped_for_cluster_scoped(
    backend: Backend, ns: str, run_labels: dict[str, str]
) -> None:
    # A namespaced object created without a namespace lands in "default", as with kubectl.
    name = unique("cm")
    obj = config_map(name, ns)
    del obj["metadata"]["namespace"]
    try:
        assert backend.create(obj)["metadata"]["namespace"] == "default"
    finally:
        backend.delete(kinds.CONFIG_MAP, name, "default")
    cluster_scoped = namespace(unique("ns"), run_labels)
    cluster_scoped["metadata"]["namespace"] = ns
    created = backend.create(cluster_scoped)
    try:
        assert "namespace" not in created["metadata"]
    finally:
        backend.delete(kinds.NAMESPACE, created["metadata"]["name"])


def test_uids_are_unique_and_a_recreated_object_gets_a_new_one(backend: Backend, ns: str) -> None:
    uids = {backend.create(config_map(f"cm-{i}", ns))["metadata"]["uid"] for i in range(5)}
    assert len(uids) == 5
    first = backend.get(kinds.CONFIG_MAP, "cm-0", ns)["metadata"]["uid"]
    backend.delete(kinds.CONFIG_MAP, "cm-0", ns)
    again = backend.create(config_map("cm-0", ns))["metadata"]["uid"]
    assert again != first


def test_server_owned_fields_survive_an_update(backend: Backend, ns: str) -> None:
    created = backend.create(config_map("cm", ns))
    forged = config_map("cm", ns, data={"x": "y"})
    forged["metadata"]["uid"] = str(uuid.uuid4())
    forged["metadata"]["creationTimestamp"] = "2001-01-01T00:00:00Z"
    updated = backend.update(forged)
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert updated["data"] == {"x": "y"}


def test_generate_name(backend: Backend, ns: str) -> None:
    obj = config_map("", ns)
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "task-"
    created = backend.create(obj)
    name = created["metadata"]["name"]
    assert name.startswith("task-") and len(name) > len("task-")
    assert backend.get(kinds.CONFIG_MAP, name, ns)["metadata"]["uid"] == created["metadata"]["uid"]


# -- optimistic concurrency ------------------------------------------------------------------


def test_every_write_changes_the_resource_version(backend: Backend, ns: str) -> None:
    v1 = backend.create(config_map("cm", ns))["metadata"]["resourceVersion"]
    v2 = backend.update(config_map("cm", ns, data={"a": "1"}))["metadata"]["resourceVersion"]
    v3 = backend.patch(kinds.CONFIG_MAP, "cm", {"data": {"b": "2"}}, ns)["metadata"][
        "resourceVersion"
    ]
    assert len({v1, v2, v3}) == 3
    assert backend.get(kinds.CONFIG_MAP, "cm", ns)["metadata"]["resourceVersion"] == v3


def test_stale_update_conflicts(backend: Backend, ns: str) -> None:
    original = backend.create(config_map("cm", ns, data={"n": "0"}))
    first = dict(original, data={"n": "1"})
    backend.update(first)
    stale = dict(original, data={"n": "2"})
    with pytest.raises(Conflict):
        backend.update(stale)
    assert backend.get(kinds.CONFIG_MAP, "cm", ns)["data"] == {"n": "1"}


def test_update_with_the_current_version_succeeds(backend: Backend, ns: str) -> None:
    current = backend.create(config_map("cm", ns))
    for i in range(3):
        current["data"] = {"n": str(i)}
        current = backend.update(current)
    assert backend.get(kinds.CONFIG_MAP, "cm", ns)["data"] == {"n": "2"}


def test_update_without_a_version_is_unconditional(backend: Backend, ns: str) -> None:
    backend.create(config_map("cm", ns))
    backend.patch(kinds.CONFIG_MAP, "cm", {"data": {"a": "1"}}, ns)
    assert backend.update(config_map("cm", ns, data={"b": "2"}))["data"] == {"b": "2"}


def test_patch_with_a_stale_resource_version_conflicts(backend: Backend, ns: str) -> None:
    original = backend.create(config_map("cm", ns))
    version = original["metadata"]["resourceVersion"]
    patched = backend.patch(
        kinds.CONFIG_MAP, "cm", {"metadata": {"resourceVersion": version}, "data": {"a": "1"}}, ns
    )
    assert patched["data"] == {"a": "1"}
    with pytest.raises(Conflict):
        backend.patch(
            kinds.CONFIG_MAP,
            "cm",
            {"metadata": {"resourceVersion": version}, "data": {"a": "2"}},
            ns,
        )
    assert backend.get(kinds.CONFIG_MAP, "cm", ns)["data"] == {"a": "1"}


def test_concurrent_read_modify_write_loses_no_update(backend: Backend, ns: str) -> None:
    backend.create(config_map("counter", ns, data={"n": "0"}))
    threads, rounds = 4, 15

    def work() -> None:
        for _ in range(rounds):
            while True:
                obj = backend.get(kinds.CONFIG_MAP, "counter", ns)
                obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
                try:
                    backend.update(obj)
                    break
                except Conflict:
                    continue

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert backend.get(kinds.CONFIG_MAP, "counter", ns)["data"]["n"] == str(threads * rounds)


# -- generation ------------------------------------------------------------------------------


def test_generation_bumps_only_when_the_spec_changes(backend: Backend, ns: str) -> None:
    created = backend.create(deployment("web", ns))
    assert created["metadata"]["generation"] == 1

    labelled = backend.patch(kinds.DEPLOYMENT, "web", {"metadata": {"labels": {"x": "y"}}}, ns)
    assert labelled["metadata"]["generation"] == 1
    annotated = dict(labelled)
    annotated["metadata"] = dict(labelled["metadata"], annotations={"note": "n"})
    assert backend.update(annotated)["metadata"]["generation"] == 1

    scaled = backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 3}}, ns)
    assert scaled["metadata"]["generation"] == 2
    same = backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 3}}, ns)
    assert same["metadata"]["generation"] == 2

    replaced = deployment("web", ns, image="nginx:1.28")
    assert backend.update(replaced)["metadata"]["generation"] == 3


# -- not found / already exists / invalid ----------------------------------------------------


def test_missing_objects(backend: Backend, ns: str) -> None:
    with pytest.raises(NotFound):
        backend.get(kinds.CONFIG_MAP, "nope", ns)
    with pytest.raises(NotFound):
        backend.update(config_map("nope", ns))
    with pytest.raises(NotFound):
        backend.patch(kinds.CONFIG_MAP, "nope", {"data": {"a": "b"}}, ns)
    with pytest.raises(NotFound):
        backend.delete(kinds.CONFIG_MAP, "nope", ns)


def test_duplicate_create(backend: Backend, ns: str) -> None:
    backend.create(config_map("cm", ns, data={"a": "1"}))
    with pytest.raises(AlreadyExists):
        backend.create(config_map("cm", ns, data={"a": "2"}))
    assert backend.get(kinds.CONFIG_MAP, "cm", ns)["data"] == {"a": "1"}


def test_same_name_in_two_namespaces_are_two_objects(
    backend: Backend, make_ns: Callable[[], str]
) -> None:
    a, b = make_ns(), make_ns()
    backend.create(config_map("cm", a, data={"ns": "a"}))
    backend.create(config_map("cm", b, data={"ns": "b"}))
    assert backend.get(kinds.CONFIG_MAP, "cm", a)["data"] == {"ns": "a"}
    assert backend.get(kinds.CONFIG_MAP, "cm", b)["data"] == {"ns": "b"}


def test_namespaced_object_in_a_missing_namespace_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.create(config_map("cm", unique("missing")))


@pytest.mark.parametrize(
    "name", ["", "Upper", "under_score", "-lead", "trail-", "a" * 254, "sp ace", "a..b", "ü"]
)
def test_illegal_object_names_are_invalid(backend: Backend, ns: str, name: str) -> None:
    with pytest.raises(Invalid):
        backend.create(config_map(name, ns))


@pytest.mark.parametrize("name", ["a.b", "x" * 64, "Upper", "a_b"])
def test_namespace_and_service_names_must_be_labels(backend: Backend, ns: str, name: str) -> None:
    with pytest.raises(Invalid):
        backend.create(namespace(name))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"ports": [{"port": 80}]},
    }
    with pytest.raises(Invalid):
        backend.create(service)


@pytest.mark.parametrize(
    "labels",
    [{"bad key": "v"}, {"k": "bad value"}, {"k": "x" * 64}, {"-k": "v"}, {"a/b/c": "v"}],
)
def test_illegal_labels_are_invalid(backend: Backend, ns: str, labels: dict[str, str]) -> None:
    with pytest.raises(Invalid):
        backend.create(config_map("cm", ns, labels=labels))
    backend.create(config_map("cm", ns))
    with pytest.raises(Invalid):
        backend.patch(kinds.CONFIG_MAP, "cm", {"metadata": {"labels": labels}}, ns)


def test_oversized_annotations_are_invalid(backend: Backend, ns: str) -> None:
    obj = config_map("cm", ns)
    obj["metadata"]["annotations"] = {"big": "x" * (k8s_grammar.ANNOTATIONS_MAX_BYTES + 1)}
    with pytest.raises(Invalid):
        backend.create(obj)


def test_annotations_are_measured_in_utf8_bytes(backend: Backend, ns: str) -> None:
    # "é" is one character but two bytes: fits by characters, not by bytes.
    half = k8s_grammar.ANNOTATIONS_MAX_BYTES // 2
    obj = config_map("cm", ns)
    obj["metadata"]["annotations"] = {"k": "é" * half}
    with pytest.raises(Invalid):
        backend.create(obj)


def test_a_label_set_accepted_once_does_not_vouch_for_another(backend: Backend, ns: str) -> None:
    labels = {"app": "web", "tier": "front"}
    backend.create(config_map("a", ns, labels=labels))
    backend.create(config_map("b", ns, labels=dict(labels)))  # the same set again
    with pytest.raises(Invalid):
        backend.create(config_map("c", ns, labels={**labels, "tier": "bad value"}))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet="abcXYZ019-._", min_size=0, max_size=12))
def test_a_name_is_accepted_exactly_when_it_is_a_dns_subdomain(
    backend: Backend, ns: str, name: str
) -> None:
    legal = k8s_grammar.is_dns1123_subdomain(name)
    try:
        backend.create(config_map(name, ns))
    except Invalid:
        assert not legal
    except AlreadyExists:
        assert legal
    else:
        assert legal
        backend.delete(kinds.CONFIG_MAP, name, ns)


# -- deletion: namespace cascade and garbage collection --------------------------------------


def test_deleting_a_namespace_deletes_its_contents(
    backend: Backend, make_ns: Callable[[], str]
) -> None:
    doomed, kept = make_ns(), make_ns()
    backend.create(config_map("cm", doomed))
    backend.create(deployment("web", doomed))
    backend.create(config_map("cm", kept))
    backend.delete(kinds.NAMESPACE, doomed)

    def gone() -> None:
        for kind, name in ((kinds.CONFIG_MAP, "cm"), (kinds.DEPLOYMENT, "web")):
            with pytest.raises(NotFound):
                backend.get(kind, name, doomed)
        assert backend.list(kinds.CONFIG_MAP, doomed).items == []
        with pytest.raises(NotFound):
            backend.get(kinds.NAMESPACE, doomed)

    eventually(gone)
    assert backend.get(kinds.CONFIG_MAP, "cm", kept)["metadata"]["namespace"] == kept


def test_deleting_an_owner_collects_its_dependents_transitively(backend: Backend, ns: str) -> None:
    root = backend.create(config_map("root", ns))
    child = backend.create(config_map("child", ns, owners=[root]))
    backend.create(config_map("grandchild", ns, owners=[child]))
    other = backend.create(config_map("other", ns))
    backend.create(config_map("other-child", ns, owners=[other]))
    backend.delete(kinds.CONFIG_MAP, "root", ns)

    def collected() -> None:
        assert sorted(names(backend.list(kinds.CONFIG_MAP, ns).items)) == [
            "other",
            "other-child",
        ]

    eventually(collected)


def test_a_dependent_with_two_owners_lives_until_both_are_gone(backend: Backend, ns: str) -> None:
    a = backend.create(config_map("owner-a", ns))
    b = backend.create(config_map("owner-b", ns))
    backend.create(config_map("shared", ns, owners=[a, b]))
    backend.delete(kinds.CONFIG_MAP, "owner-a", ns)
    assert backend.get(kinds.CONFIG_MAP, "shared", ns)
    backend.delete(kinds.CONFIG_MAP, "owner-b", ns)

    def collected() -> None:
        with pytest.raises(NotFound):
            backend.get(kinds.CONFIG_MAP, "shared", ns)

    eventually(collected)


def test_cluster_scoped_owner_collects_namespaced_dependents(
    backend: Backend, ns: str, run_labels: dict[str, str]
) -> None:
    owner_ns = backend.create(namespace(unique("owner"), run_labels))
    backend.create(config_map("dependent", ns, owners=[owner_ns]))
    backend.delete(kinds.NAMESPACE, owner_ns["metadata"]["name"])

    def collected() -> None:
        with pytest.raises(NotFound):
            backend.get(kinds.CONFIG_MAP, "dependent", ns)

    eventually(collected)


# -- merge patch -----------------------------------------------------------------------------


def test_merge_patch_semantics(backend: Backend, ns: str) -> None:
    obj = config_map("cm", ns, labels={"keep": "1", "drop": "1"}, data={"a": "1", "b": "2"})
    obj["metadata"]["annotations"] = {"list": "x"}
    obj["binaryData"] = {"bin": "AAAA"}
    backend.create(obj)
    patched = backend.patch(
        kinds.CONFIG_MAP,
        "cm",
        {
            "metadata": {"labels": {"drop": None, "new": "2"}},
            "data": {"a": None, "c": "3"},
            "binaryData": None,
        },
        ns,
    )
    assert patched["metadata"]["labels"] == {"keep": "1", "new": "2"}
    assert patched["metadata"]["annotations"] == {"list": "x"}
    assert patched["data"] == {"b": "2", "c": "3"}
    assert "binaryData" not in patched
    assert backend.get(kinds.CONFIG_MAP, "cm", ns) == patched


def test_merge_patch_replaces_lists_whole(backend: Backend, ns: str) -> None:
    backend.create(deployment("web", ns))
    containers = [{"name": "side", "image": "busybox"}]
    patched = backend.patch(
        kinds.DEPLOYMENT, "web", {"spec": {"template": {"spec": {"containers": containers}}}}, ns
    )
    assert patched["spec"]["template"]["spec"]["containers"] == containers
    assert patched["spec"]["replicas"] == 1


def test_patch_cannot_rename_or_move_an_object(backend: Backend, ns: str) -> None:
    created = backend.create(config_map("cm", ns))
    patched = backend.patch(
        kinds.CONFIG_MAP, "cm", {"metadata": {"name": "other", "uid": "forged"}}, ns
    )
    assert patched["metadata"]["name"] == "cm"
    assert patched["metadata"]["uid"] == created["metadata"]["uid"]
    with pytest.raises(NotFound):
        backend.get(kinds.CONFIG_MAP, "other", ns)


# -- returned objects belong to the caller ---------------------------------------------------


def test_returned_and_passed_objects_are_copies(backend: Backend, ns: str) -> None:
    obj = config_map("cm", ns, labels={"a": "1"}, data={"k": "v"})
    created = backend.create(obj)
    obj["data"]["k"] = "mutated input"
    created["data"]["k"] = "mutated create result"
    created["metadata"]["labels"]["a"] = "2"
    got = backend.get(kinds.CONFIG_MAP, "cm", ns)
    got["data"]["k"] = "mutated get result"
    listed = backend.list(kinds.CONFIG_MAP, ns).items
    listed[0]["data"]["k"] = "mutated list result"
    patch = {"data": {"nested": "p"}}
    patched = backend.patch(kinds.CONFIG_MAP, "cm", patch, ns)
    patch["data"]["nested"] = "mutated patch"
    patched["data"]["nested"] = "mutated patch result"
    updated = backend.update(backend.get(kinds.CONFIG_MAP, "cm", ns))
    updated["data"]["k"] = "mutated update result"
    fresh = backend.get(kinds.CONFIG_MAP, "cm", ns)
    assert fresh["data"] == {"k": "v", "nested": "p"}
    assert fresh["metadata"]["labels"] == {"a": "1"}


# -- listing ---------------------------------------------------------------------------------


def test_list_is_scoped_to_a_namespace_or_spans_all(
    backend: Backend, make_ns: Callable[[], str], run_labels: dict[str, str]
) -> None:
    a, b = make_ns(), make_ns()
    for ns in (a, b):
        backend.create(config_map("one", ns, labels=run_labels))
        backend.create(config_map("two", ns, labels=run_labels))
    assert names(backend.list(kinds.CONFIG_MAP, a).items) == ["one", "two"]
    everywhere = backend.list_all(kinds.CONFIG_MAP, selector=run_labels)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everywhere] == sorted(
        (ns, n) for ns in (a, b) for n in ("one", "two")
    )


def test_list_where_filters_before_paging(backend: Backend, ns: str) -> None:
    for i in range(10):
        backend.create(config_map(f"cm-{i}", ns, data={"even": str(i % 2 == 0)}))
    page = backend.list(kinds.CONFIG_MAP, ns, limit=3, where=lambda o: o["data"]["even"] == "True")
    assert names(page.items) == ["cm-0", "cm-2", "cm-4"]
    assert page.continue_token
    evens = backend.list_all(kinds.CONFIG_MAP, ns, where=lambda o: o["data"]["even"] == "True")
    assert names(evens) == [f"cm-{i}" for i in range(0, 10, 2)]


def test_an_unreadable_continue_token_is_invalid(backend: Backend, ns: str) -> None:
    with pytest.raises(Invalid):
        backend.list(kinds.CONFIG_MAP, ns, limit=1, continue_token="%%% not a token %%%")


_object_names = st.lists(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True),
    min_size=0,
    max_size=25,
    unique=True,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    object_names=_object_names,
    namespaces=st.integers(1, 3),
    limit=st.integers(1, 30),
    select=st.sampled_from([None, "tier=web", "tier in (web,db)", "!tier", {"tier": "db"}]),
)
def test_paging_yields_the_full_list_in_order_without_duplicates(
    backend_factory: Callable[[], Backend],
    data: st.DataObject,
    object_names: list[str],
    namespaces: int,
    limit: int,
    select: str | dict[str, str] | None,
) -> None:
    backend = backend_factory()
    nss = [unique("page") for _ in range(namespaces)]
    for ns in nss:
        backend.create(namespace(ns))
    try:
        for name in object_names:
            ns = data.draw(st.sampled_from(nss), label="namespace")
            tier = data.draw(st.sampled_from([None, "web", "db"]), label="tier")
            backend.create(config_map(name, ns, labels={"tier": tier} if tier else None))
        for scope in [*nss, None]:
            full = backend.list(kinds.CONFIG_MAP, scope, selector=select).items
            mine = [o for o in full if o["metadata"]["namespace"] in nss]
            keys = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in mine]
            assert keys == sorted(set(keys))

            paged, token, pages = [], None, 0
            while True:
                page = backend.list(
                    kinds.CONFIG_MAP, scope, selector=select, limit=limit, continue_token=token
                )
                assert len(page.items) <= limit
                paged.extend(page.items)
                pages += 1
                token = page.continue_token
                if not token:
                    break
                assert pages <= len(full) + 1, "paging does not terminate"
            assert paged == full
    finally:
        for ns in nss:
            backend.delete(kinds.NAMESPACE, ns)


# -- what only the embedded backend promises ------------------------------------------------


def test_memory_backend_starts_with_the_usual_namespaces() -> None:
    backend = MemoryBackend()
    assert names(backend.list_all(kinds.NAMESPACE)) == sorted(
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    )
    ns = backend.get(kinds.NAMESPACE, "default")
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "default"


def test_memory_backend_timestamps_come_from_its_clock() -> None:
    moment = [datetime(2024, 2, 29, 23, 59, 58, 900_000, tzinfo=timezone.utc)]
    backend = MemoryBackend(clock=lambda: moment[0])
    assert backend.now() == moment[0]
    first = backend.create(config_map("a", "default"))
    assert first["metadata"]["creationTimestamp"] == "2024-02-29T23:59:58Z"
    moment[0] += timedelta(seconds=2)
    backend.patch(kinds.CONFIG_MAP, "a", {"data": {"x": "y"}}, "default")
    second = backend.create(config_map("b", "default"))
    assert second["metadata"]["creationTimestamp"] == "2024-03-01T00:00:00Z"
    assert backend.get(kinds.CONFIG_MAP, "a", "default")["metadata"]["creationTimestamp"] == (
        "2024-02-29T23:59:58Z"
    )


def test_memory_backend_resource_versions_increase() -> None:
    backend = MemoryBackend()
    versions = [
        int(backend.create(config_map(f"cm-{i}", "default"))["metadata"]["resourceVersion"])
        for i in range(3)
    ]
    versions.append(
        int(
            backend.patch(kinds.CONFIG_MAP, "cm-0", {"data": {}}, "default")["metadata"][
                "resourceVersion"
            ]
        )
    )
    assert versions == sorted(versions) and len(set(versions)) == 4


def test_memory_backends_are_separate_worlds() -> None:
    a, b = MemoryBackend(), MemoryBackend()
    a.create(config_map("cm", "default"))
    with pytest.raises(NotFound):
        b.get(kinds.CONFIG_MAP, "cm", "default")
