"""API-server semantics the controllers rely on: finalizers, graceful deletion, status, defaults."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest

from kecs.backends import kinds
from kecs.backends.errors import Conflict, Invalid, NotFound
from kecs.backends.memory import MemoryBackend, apiserver, pod_specs, validation
from tests.backends.memory.helpers import NS, START, container, deployment, fresh, pod

FINALIZER = "example.com/keep"


def config_map(name: str, finalizers: list[str] | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "namespace": NS}
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "b"}}


# -- finalizers --------------------------------------------------------------------------------


def test_delete_of_an_object_with_finalizers_marks_it_and_keeps_it(backend: MemoryBackend) -> None:
    backend.create(config_map("cm", [FINALIZER]))
    backend.delete(kinds.CONFIG_MAP, "cm", NS)
    kept = backend.get(kinds.CONFIG_MAP, "cm", NS)
    assert kept["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:00Z"
    assert kept["metadata"]["deletionGracePeriodSeconds"] == 0
    backend.delete(kinds.CONFIG_MAP, "cm", NS)  # deleting again changes nothing
    assert backend.get(kinds.CONFIG_MAP, "cm", NS) == kept


def test_removing_the_last_finalizer_of_a_deleting_object_removes_it(
    backend: MemoryBackend,
) -> None:
    backend.create(config_map("cm", [FINALIZER, "example.com/other"]))
    backend.delete(kinds.CONFIG_MAP, "cm", NS)
    backend.patch(kinds.CONFIG_MAP, "cm", {"metadata": {"finalizers": ["example.com/other"]}}, NS)
    assert backend.get(kinds.CONFIG_MAP, "cm", NS)["metadata"]["finalizers"] == [
        "example.com/other"
    ]
    current = backend.get(kinds.CONFIG_MAP, "cm", NS)
    current["metadata"]["finalizers"] = []
    backend.update(current)
    with pytest.raises(NotFound):
        backend.get(kinds.CONFIG_MAP, "cm", NS)


def test_a_deleting_object_cannot_get_new_finalizers(backend: MemoryBackend) -> None:
    backend.create(config_map("cm", [FINALIZER]))
    backend.delete(kinds.CONFIG_MAP, "cm", NS)
    with pytest.raises(Invalid, match="no new finalizers can be added"):
        backend.patch(
            kinds.CONFIG_MAP, "cm", {"metadata": {"finalizers": [FINALIZER, "example.com/x"]}}, NS
        )


def test_clients_cannot_set_or_clear_deletion_fields(backend: MemoryBackend) -> None:
    created = backend.create(
        {
            **config_map("cm"),
            "metadata": {"name": "cm", "deletionTimestamp": "2020-01-01T00:00:00Z"},
        }
    )
    assert "deletionTimestamp" not in created["metadata"]
    backend.create(config_map("kept", [FINALIZER]))
    backend.delete(kinds.CONFIG_MAP, "kept", NS)
    current = backend.get(kinds.CONFIG_MAP, "kept", NS)
    del current["metadata"]["deletionTimestamp"]
    assert backend.update(current)["metadata"]["deletionTimestamp"]


def test_stale_updates_conflict_and_patches_may_carry_a_precondition(
    backend: MemoryBackend,
) -> None:
    first = backend.create(config_map("cm"))
    backend.patch(kinds.CONFIG_MAP, "cm", {"data": {"a": "c"}}, NS)
    with pytest.raises(Conflict):
        backend.update(first)
    with pytest.raises(Conflict):
        backend.patch(
            kinds.CONFIG_MAP, "cm", {"metadata": {"resourceVersion": "1"}, "data": {"a": "d"}}, NS
        )


# -- graceful pod deletion ---------------------------------------------------------------------


def test_a_running_pod_is_deleted_gracefully(backend: MemoryBackend) -> None:
    backend.create(pod("p", finalizers=[FINALIZER]))
    backend.delete(kinds.POD, "p", NS)
    gone = backend.get(kinds.POD, "p", NS)
    meta, status = gone["metadata"], gone["status"]
    assert meta["deletionGracePeriodSeconds"] == 0  # the kubelet finished: grace 0 delete
    assert meta["deletionTimestamp"] == "2026-01-01T12:00:00Z"
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 143 and terminated["reason"] == "Error"
    assert terminated["finishedAt"] == "2026-01-01T12:00:00Z"
    backend.patch(kinds.POD, "p", {"metadata": {"finalizers": None}}, NS)
    with pytest.raises(NotFound):
        backend.get(kinds.POD, "p", NS)


def test_a_pod_without_finalizers_is_gone_once_terminated(backend: MemoryBackend) -> None:
    backend.create(pod("p"))
    backend.delete(kinds.POD, "p", NS)
    with pytest.raises(NotFound):
        backend.get(kinds.POD, "p", NS)


def test_a_slow_stop_keeps_the_pod_terminating_until_the_grace_period(
    backend: MemoryBackend,
) -> None:
    backend.simulator.slow_stop("nginx:*", 10)
    backend.create(pod("p", terminationGracePeriodSeconds=30))
    backend.delete(kinds.POD, "p", NS)
    terminating = backend.get(kinds.POD, "p", NS)
    assert terminating["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:30Z"
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert "running" in terminating["status"]["containerStatuses"][0]["state"]
    # Removing finalizers does not cut a grace period short; the kubelet ends it.
    backend.advance(9)
    assert backend.get(kinds.POD, "p", NS)["status"]["phase"] == "Running"
    backend.advance(1)
    with pytest.raises(NotFound):
        backend.get(kinds.POD, "p", NS)


def test_a_container_slower_than_the_grace_period_is_killed(backend: MemoryBackend) -> None:
    backend.simulator.slow_stop("nginx:*", 60)
    backend.create(pod("p", finalizers=[FINALIZER], terminationGracePeriodSeconds=5))
    backend.delete(kinds.POD, "p", NS)
    backend.advance(5)
    terminated = backend.get(kinds.POD, "p", NS)["status"]["containerStatuses"][0]["state"]
    assert terminated["terminated"]["exitCode"] == 137
    assert terminated["terminated"]["finishedAt"] == "2026-01-01T12:00:05Z"


def test_force_delete_skips_the_grace_period(backend: MemoryBackend) -> None:
    backend.simulator.slow_stop("nginx:*", 10)
    backend.create(pod("p"))
    backend.delete(kinds.POD, "p", NS, grace_period_seconds=0)
    with pytest.raises(NotFound):
        backend.get(kinds.POD, "p", NS)


def test_an_unscheduled_pod_is_deleted_at_once(backend: MemoryBackend) -> None:
    backend.create(pod("p", finalizers=[FINALIZER], nodeSelector={"no": "such-node"}))
    backend.delete(kinds.POD, "p", NS)
    meta = backend.get(kinds.POD, "p", NS)["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 0


# -- status as a subresource ---------------------------------------------------------------------


def test_create_and_update_do_not_set_a_pods_status(backend: MemoryBackend) -> None:
    created = backend.create({**pod("p"), "status": {"phase": "Succeeded"}})
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    running = backend.get(kinds.POD, "p", NS)
    assert running["status"]["phase"] == "Running"
    backend.patch(kinds.POD, "p", {"status": {"phase": "Failed"}}, NS)
    assert backend.get(kinds.POD, "p", NS)["status"]["phase"] == "Running"


def test_the_status_subresource_changes_only_status(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 1))
    patched = backend.patch_status(
        kinds.DEPLOYMENT, "web", {"status": {"observedGeneration": 99}, "spec": {"replicas": 5}}, NS
    )
    assert patched["status"]["observedGeneration"] == 99
    assert patched["spec"]["replicas"] == 1
    current = backend.get(kinds.DEPLOYMENT, "web", NS)
    current["metadata"]["labels"] = {"changed": "yes"}
    current["status"] = {"replicas": 7}
    updated = backend.update_status(current)
    assert updated["status"] == {"replicas": 7}
    assert "labels" not in updated["metadata"]


def test_generation_follows_spec_changes_only(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 1))
    first = backend.get(kinds.DEPLOYMENT, "web", NS)
    assert first["metadata"]["generation"] == 1
    assert first["status"]["observedGeneration"] == 1
    backend.patch(kinds.DEPLOYMENT, "web", {"metadata": {"labels": {"a": "b"}}}, NS)
    assert backend.get(kinds.DEPLOYMENT, "web", NS)["metadata"]["generation"] == 1
    backend.patch(kinds.DEPLOYMENT, "web", {"spec": {"replicas": 2}}, NS)
    assert backend.get(kinds.DEPLOYMENT, "web", NS)["metadata"]["generation"] == 2
    bound = backend.get(kinds.POD, backend.list(kinds.POD, NS).items[0]["metadata"]["name"], NS)
    assert bound["metadata"]["generation"] == 1  # binding is not a spec change by a user


# -- defaulting and validation -------------------------------------------------------------------


def test_workloads_and_pods_are_defaulted_like_a_real_api_server(backend: MemoryBackend) -> None:
    created = backend.create(deployment("web", 1))
    spec = created["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    template = spec["template"]["spec"]
    assert template["restartPolicy"] == "Always"
    assert template["terminationGracePeriodSeconds"] == 30
    assert template["dnsPolicy"] == "ClusterFirst"
    assert template["schedulerName"] == "default-scheduler"
    assert "serviceAccountName" not in template  # admission fills pods, not templates
    limited = container(resources={"limits": {"cpu": "500m", "memory": "256Mi"}})
    made = backend.create(pod("p", limited))
    assert made["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "500m",
        "memory": "256Mi",
    }
    assert made["status"]["qosClass"] == "Guaranteed"
    assert made["spec"]["serviceAccountName"] == "default"
    tolerations = {t["key"]: t for t in made["spec"]["tolerations"]}
    assert tolerations["node.kubernetes.io/not-ready"]["tolerationSeconds"] == 300


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ({}, "BestEffort"),
        ({"requests": {"cpu": "100m"}}, "Burstable"),
        ({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m"}}, "Guaranteed"),
        ({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}, "Burstable"),
    ],
)
def test_qos_class(backend: MemoryBackend, resources: dict[str, object], qos: str) -> None:
    created = backend.create(pod("p", container(resources=resources)))
    assert created["status"]["qosClass"] == qos


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"selector": {"matchLabels": {"app": "other"}}}, "`selector` does not match template"),
        ({"selector": {}}, "empty selector is invalid"),
        ({"replicas": -1}, "must be greater than or equal to 0"),
        ({"strategy": {"type": "Recreate", "rollingUpdate": {}}}, "may not be specified"),
        ({"strategy": {"type": "Rolling"}}, 'Unsupported value: "Rolling"'),
        ({"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}, "may not be 0"),
        ({"strategy": {"rollingUpdate": {"maxUnavailable": "120%"}}}, "greater than 100%"),
        ({"strategy": {"rollingUpdate": {"maxSurge": "x"}}}, "valid percent string"),
    ],
)
def test_invalid_deployments_are_refused(
    backend: MemoryBackend, change: dict[str, object], message: str
) -> None:
    obj = deployment("web", 1)
    obj["spec"].update(change)
    with pytest.raises(Invalid, match=re.escape(message)):
        backend.create(obj)


def test_workload_templates_must_restart_always(backend: MemoryBackend) -> None:
    obj = deployment("web", 1)
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    with pytest.raises(Invalid, match='Unsupported value: "Never": supported values: "Always"'):
        backend.create(obj)


def test_a_deployments_selector_is_immutable(backend: MemoryBackend) -> None:
    backend.create(deployment("web", 1))
    current = backend.get(kinds.DEPLOYMENT, "web", NS)
    current["spec"]["selector"] = {"matchLabels": {"app": "web", "x": "y"}}
    current["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    with pytest.raises(Invalid, match="field is immutable"):
        backend.update(current)


def test_pod_specs_are_immutable_but_images_and_deadlines(backend: MemoryBackend) -> None:
    backend.create(pod("p"))
    with pytest.raises(Invalid, match="pod updates may not change fields"):
        backend.patch(kinds.POD, "p", {"spec": {"restartPolicy": "Never"}}, NS)
    backend.patch(kinds.POD, "p", {"spec": {"activeDeadlineSeconds": 60}}, NS)
    current = backend.get(kinds.POD, "p", NS)
    current["spec"]["containers"][0]["image"] = "nginx:1.28"
    updated = backend.update(current)
    status = backend.get(kinds.POD, "p", NS)["status"]["containerStatuses"][0]
    assert updated["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert status["image"] == "docker.io/library/nginx:1.28"
    assert status["restartCount"] == 1  # the kubelet restarted it with the new image


def test_pods_need_containers_with_unique_names(backend: MemoryBackend) -> None:
    with pytest.raises(Invalid, match=r"spec\.containers: Required value"):
        backend.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}})
    with pytest.raises(Invalid, match='Duplicate value: "a"'):
        backend.create(pod("p", container("a"), container("a")))


def test_generated_names_use_kubernetes_alphabet(backend: MemoryBackend) -> None:
    created = backend.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x" * 70 + "-"}}
    )
    name = created["metadata"]["name"]
    assert len(name) == 63
    assert re.fullmatch(r"x{58}[bcdfghjklmnpqrstvwxz2456789]{5}", name)


def test_services_get_a_cluster_ip_and_keep_it(backend: MemoryBackend) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    created = backend.create(service)
    ip = created["spec"]["clusterIP"]
    assert ip.startswith("10.96.") and created["spec"]["clusterIPs"] == [ip]
    assert created["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert created["spec"]["type"] == "ClusterIP"
    updated = backend.update(service | {"metadata": {"name": "web", "namespace": NS}})
    assert updated["spec"]["clusterIP"] == ip


# -- namespaces --------------------------------------------------------------------------------


def test_a_namespace_terminates_until_its_last_finalizer_goes(backend: MemoryBackend) -> None:
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    backend.create(
        {
            **config_map("cm", [FINALIZER]),
            "metadata": {"name": "cm", "namespace": "team", "finalizers": [FINALIZER]},
        }
    )
    backend.create(pod("p", ns="team"))
    backend.delete(kinds.NAMESPACE, "team")
    ns = backend.get(kinds.NAMESPACE, "team")
    assert ns["status"]["phase"] == "Terminating"
    assert backend.list(kinds.POD, "team").items == []
    with pytest.raises(Conflict, match="being terminated"):
        backend.create(pod("q", ns="team"))
    backend.patch(kinds.CONFIG_MAP, "cm", {"metadata": {"finalizers": None}}, "team")
    with pytest.raises(NotFound):
        backend.get(kinds.NAMESPACE, "team")


# -- the plain store ----------------------------------------------------------------------------


def test_without_a_cluster_objects_keep_what_they_are_written_with() -> None:
    plain = MemoryBackend(cluster=False)
    assert plain.list(kinds.NODE).items == []
    created = plain.create({**pod("p"), "status": {"phase": "Succeeded"}})
    assert created["status"] == {"phase": "Succeeded"}
    assert "restartPolicy" not in created["spec"]
    plain.patch(kinds.POD, "p", {"status": {"phase": "Failed"}}, NS)
    assert plain.get(kinds.POD, "p", NS)["status"] == {"phase": "Failed"}
    plain.delete(kinds.POD, "p", NS)
    with pytest.raises(NotFound):
        plain.get(kinds.POD, "p", NS)


def test_the_clock_is_the_base_clock_plus_what_was_advanced() -> None:
    backend = fresh()
    assert backend.now() == START
    later = backend.advance(90)
    assert (later - START).total_seconds() == 90 == (backend.now() - START).total_seconds()
    with pytest.raises(ValueError):
        backend.advance(-1)


def test_listing_stays_sorted_and_paged_across_writes(backend: MemoryBackend) -> None:
    for name in ("m", "c", "x", "a"):
        backend.create(config_map(name))
    backend.delete(kinds.CONFIG_MAP, "c", NS)
    backend.create(config_map("c"))  # removed and put back: listed once
    backend.create(config_map("b"))
    first = backend.list(kinds.CONFIG_MAP, NS, limit=2)
    assert [o["metadata"]["name"] for o in first.items] == ["a", "b"]
    backend.create(config_map("bb"))  # written between pages: still found in order
    rest = backend.list(kinds.CONFIG_MAP, NS, continue_token=first.continue_token)
    assert [o["metadata"]["name"] for o in rest.items] == ["bb", "c", "m", "x"]
    assert rest.continue_token is None


def test_equal_pod_spec_parts_are_stored_once_and_stay_independent(
    backend: MemoryBackend,
) -> None:
    tolerate = [{"key": "gpu", "operator": "Exists"}]
    env = [{"name": "A", "value": "1"}]
    for name in ("a", "b"):
        backend.create(pod(name, container(env=env), tolerations=tolerate))
    stored = [backend._server.find(kinds.POD, NS, name) for name in ("a", "b")]
    assert stored[0] is not None and stored[1] is not None
    assert stored[0]["spec"]["containers"] is stored[1]["spec"]["containers"]
    assert stored[0]["spec"]["tolerations"] is stored[1]["spec"]["tolerations"]
    # What a client reads is its own, and writing one pod leaves the other as it was.
    read = backend.get(kinds.POD, "a", NS)
    read["spec"]["containers"][0]["env"].append({"name": "B", "value": "2"})
    changed = [container(image="nginx:1.28", env=env)]
    backend.patch(kinds.POD, "a", {"spec": {"containers": changed}}, NS)
    assert backend.get(kinds.POD, "b", NS)["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"}
    ]
    assert backend.get(kinds.POD, "b", NS)["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_a_pod_spec_written_before_becomes_what_it_became_then(backend: MemoryBackend) -> None:
    limits = {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    first = backend.create(pod("a", container(**limits), restartPolicy="Never"))
    again = backend.create(pod("b", container(**limits), restartPolicy="Never"))
    # the same defaulting, validation and QoS class as the first time ...
    assert again["spec"] == first["spec"]
    assert first["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert again["status"]["qosClass"] == first["status"]["qosClass"] == "Guaranteed"
    stored = [backend._server.find(kinds.POD, NS, name) for name in ("a", "b")]
    assert stored[0] is not None and stored[1] is not None
    # ... sharing the parts, each pod with a spec dict of its own
    assert stored[0]["spec"]["containers"] is stored[1]["spec"]["containers"]
    assert stored[0]["spec"] is not stored[1]["spec"]
    # A spec equal only up to JSON types (1 and True) is a different spec.
    typed = [container(stdin=True), container(stdin=1)]
    made = [backend.create(pod(f"t{i}", c))["spec"]["containers"][0] for i, c in enumerate(typed)]
    assert made[0]["stdin"] is True and type(made[1]["stdin"]) is int


def _parts(value: object) -> list[object]:
    """Every dict and list in ``value`` (itself included)."""
    if isinstance(value, dict):
        return [value, *(p for item in value.values() for p in _parts(item))]
    if isinstance(value, list):
        return [value, *(p for item in value for p in _parts(item))]
    return []


def test_a_given_pod_is_only_read_whether_its_spec_is_remembered_or_not(
    backend: MemoryBackend,
) -> None:
    """A pod's spec is lent to the server, not copied first: it reads it (to find the spec
    it remembers) and copies it only to default it; the caller's pod stays as it was."""
    limits = {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    for name in ("a", "b"):  # the first spec is worked out anew, the second remembered
        given = pod(name, container(**limits), restartPolicy="Never")
        before = copy.deepcopy(given)
        backend.create(given, shared=True)
        assert given == before
        stored = backend._server.find(kinds.POD, NS, name)
        assert stored is not None and "enableServiceLinks" in stored["spec"]  # defaulted
        assert not {id(p) for p in _parts(stored)} & {id(p) for p in _parts(given)}
    refused = pod("c", container("x"), container("x"))
    before = copy.deepcopy(refused)
    with pytest.raises(Invalid):
        backend.create(refused)
    assert refused == before


def test_a_refused_pod_spec_is_refused_every_time(backend: MemoryBackend) -> None:
    for name in ("a", "b"):
        with pytest.raises(Invalid, match="Duplicate value"):
            backend.create(pod(name, container("x"), container("x")))


def test_remembered_pod_specs_are_bounded(
    backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pod_specs, "MAX_SPECS", 2)
    for index in range(4):
        backend.create(pod(f"p{index}", container(image=f"nginx:1.{index}")))
    assert len(backend._server.pod_specs) == 2
    backend.create(pod("again", container(image="nginx:1.0")))  # forgotten: worked out anew
    assert backend.get(kinds.POD, "again", NS)["spec"]["containers"][0]["image"] == "nginx:1.0"


def test_format_timestamp_answers_for_the_moment_given() -> None:
    later = START + timedelta(seconds=61)
    assert apiserver.format_timestamp(START) == "2026-01-01T12:00:00Z"
    assert apiserver.format_timestamp(START) == "2026-01-01T12:00:00Z"  # remembered
    assert apiserver.format_timestamp(later) == "2026-01-01T12:01:01Z"
    assert apiserver.format_timestamp(START) == "2026-01-01T12:00:00Z"


def test_remembered_label_sets_are_bounded(
    backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validation, "_VALID_LABEL_SETS", {})
    monkeypatch.setattr(validation, "_MAX_VALID_LABEL_SETS", 2)
    for index in range(5):
        backend.create(pod(f"p{index}", labels={"app": f"a{index}"}))
    assert 1 <= len(validation._VALID_LABEL_SETS) <= 2
    with pytest.raises(Invalid):
        backend.create(pod("bad", labels={"app": "not valid"}))
