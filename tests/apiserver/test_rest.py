"""The served Kubernetes API subset, over raw HTTP: discovery, CRUD, selectors, paging,
patches, deletion options, the status subresource, Tables and Status errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kecs
from kecs.apiserver import KubernetesApiServer, serve_kubernetes_api
from kecs.apiserver.tables import human_duration
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from tests.backends.contract import config_map, deployment

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def memory() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def server(memory: MemoryBackend) -> Iterator[KubernetesApiServer]:
    with serve_kubernetes_api(memory) as served:
        yield served


def call(
    server: KubernetesApiServer,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    accept: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Content-Type", content_type)
    request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- discovery -------------------------------------------------------------------------------


def test_discovery(server: KubernetesApiServer) -> None:
    assert call(server, "GET", "/version")[1]["major"] == "1"
    assert call(server, "GET", "/api")[1]["versions"] == ["v1"]
    groups = {g["name"] for g in call(server, "GET", "/apis")[1]["groups"]}
    assert {"apps", "networking.k8s.io", "rbac.authorization.k8s.io"} <= groups
    core = {r["name"]: r for r in call(server, "GET", "/api/v1")[1]["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and core["pods"]["namespaced"]
    assert core["pods"]["categories"] == ["all"] and "list" in core["pods"]["verbs"]
    assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert not core["namespaces"]["namespaced"]
    apps = call(server, "GET", "/apis/apps/v1")[1]
    assert apps["groupVersion"] == "apps/v1"
    assert {r["name"] for r in apps["resources"]} >= {"deployments", "replicasets", "daemonsets"}
    assert call(server, "GET", "/apis/apps")[1]["preferredVersion"]["version"] == "v1"
    assert call(server, "GET", "/openapi/v2")[0] == 404
    assert call(server, "GET", "/apis/nope/v1")[0] == 404


# -- CRUD and errors -------------------------------------------------------------------------


def test_create_get_update_delete(server: KubernetesApiServer) -> None:
    base = "/api/v1/namespaces/default/configmaps"
    code, created = call(server, "POST", base, config_map("cm", "default", data={"a": "1"}))
    assert code == 201 and created["metadata"]["uid"]
    assert call(server, "GET", f"{base}/cm")[1] == created
    created["data"] = {"a": "2"}
    code, updated = call(server, "PUT", f"{base}/cm", created)
    assert code == 200 and updated["data"] == {"a": "2"}
    code, status = call(server, "DELETE", f"{base}/cm", {"propagationPolicy": "Foreground"})
    assert code == 200 and status["status"] == "Success"
    assert status["details"]["uid"] == created["metadata"]["uid"]


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "reason"),
    [
        ("GET", "/api/v1/namespaces/default/configmaps/missing", None, 404, "NotFound"),
        ("POST", "/api/v1/namespaces/default/configmaps", "dup", 409, "AlreadyExists"),
        ("PUT", "/api/v1/namespaces/default/configmaps/dup", "stale", 409, "Conflict"),
        ("POST", "/api/v1/namespaces/default/configmaps", "bad-name", 422, "Invalid"),
        ("POST", "/api/v1/namespaces/other/configmaps", "dup", 400, "BadRequest"),
        (
            "GET",
            "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20()",
            None,
            422,
            "Invalid",
        ),
        ("GET", "/api/v1/widgets", None, 404, "NotFound"),
        ("GET", "/api/v1/namespaces/default/pods/p/log", None, 404, "NotFound"),
        ("DELETE", "/api/v1/namespaces/default/configmaps", None, 405, "MethodNotAllowed"),
    ],
)
def test_errors_are_status_objects(
    server: KubernetesApiServer,
    memory: MemoryBackend,
    method: str,
    path: str,
    body: str | None,
    code: int,
    reason: str,
) -> None:
    existing = memory.create(config_map("dup", "default"))
    memory.patch(kinds.CONFIG_MAP, "dup", {"data": {"x": "y"}}, "default")
    payload = {
        None: None,
        "dup": config_map("dup", "default"),
        "stale": existing,
        "bad-name": config_map("Bad_Name", "default"),
    }[body]
    got_code, status = call(server, method, path, payload)
    assert (got_code, status["kind"], status["reason"], status["code"]) == (
        code,
        "Status",
        reason,
        code,
    )
    assert status["status"] == "Failure" and status["message"]


# -- listing ---------------------------------------------------------------------------------


def test_list_selectors_and_paging(server: KubernetesApiServer, memory: MemoryBackend) -> None:
    for i in range(5):
        memory.create(
            config_map(f"cm-{i}", "default", labels={"n": "even" if i % 2 == 0 else "odd"})
        )
    base = "/api/v1/namespaces/default/configmaps"
    _, listed = call(server, "GET", f"{base}?labelSelector=n%3Deven")
    assert listed["kind"] == "ConfigMapList" and listed["apiVersion"] == "v1"
    assert [o["metadata"]["name"] for o in listed["items"]] == ["cm-0", "cm-2", "cm-4"]
    _, first = call(server, "GET", f"{base}?limit=2")
    token = first["metadata"]["continue"]
    _, second = call(server, "GET", f"{base}?limit=10&continue={token}")
    assert [o["metadata"]["name"] for o in second["items"]] == ["cm-2", "cm-3", "cm-4"]
    assert "continue" not in second["metadata"]
    _, by_name = call(server, "GET", "/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-3")
    assert [o["metadata"]["name"] for o in by_name["items"]] == ["cm-3"]
    _, not_default = call(
        server, "GET", "/api/v1/configmaps?fieldSelector=metadata.namespace!%3Ddefault"
    )
    assert all(o["metadata"]["namespace"] != "default" for o in not_default["items"])
    assert call(server, "GET", f"{base}?fieldSelector=nonsense")[0] == 400


def test_tables_for_kubectl_get(server: KubernetesApiServer) -> None:
    ecs = kecs.client("ecs", backend=server.backend)
    ecs.create_cluster(clusterName="web")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 64}]
    )
    ecs.create_service(cluster="web", serviceName="web", taskDefinition="web", desiredCount=2)
    _, pods = call(server, "GET", "/api/v1/pods", accept=TABLE)
    assert pods["kind"] == "Table"
    assert [c["name"] for c in pods["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert [row["cells"][1:4] for row in pods["rows"]] == [["1/1", "Running", 0]] * 2
    assert pods["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    _, deployments = call(server, "GET", "/apis/apps/v1/deployments", accept=TABLE)
    assert deployments["rows"][0]["cells"][1:4] == ["2/2", 2, 2]
    _, one = call(
        server,
        "GET",
        "/api/v1/namespaces?fieldSelector=metadata.name%3Ddefault&includeObject=Object",
        accept=TABLE,
    )
    assert one["rows"][0]["cells"][:2] == ["default", "Active"]
    assert one["rows"][0]["object"]["kind"] == "Namespace"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600 + 60, "3h1m"),
     (30 * 3600, "30h"), (3 * 86400 + 3600, "3d1h"), (400 * 86400, "400d"), (-5, "<invalid>")],
)  # fmt: skip
def test_ages_read_like_kubectls(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


# -- patches, deletion, status ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        ("application/merge-patch+json", {"metadata": {"labels": {"x": "1"}}, "data": {"a": None}}),
        (
            "application/strategic-merge-patch+json",
            {"metadata": {"labels": {"x": "1"}}, "data": {"a": None}, "$retainKeys": ["data"]},
        ),
        (
            "application/json-patch+json",
            [
                {"op": "add", "path": "/metadata/labels", "value": {"x": "1"}},
                {"op": "remove", "path": "/data/a"},
                {"op": "test", "path": "/data/b", "value": "2"},
            ],
        ),
    ],
)
def test_patch_formats(
    server: KubernetesApiServer, memory: MemoryBackend, content_type: str, patch: Any
) -> None:
    memory.create(config_map("cm", "default", data={"a": "1", "b": "2"}))
    path = "/api/v1/namespaces/default/configmaps/cm"
    code, patched = call(server, "PATCH", path, patch, content_type=content_type)
    assert code == 200, patched
    assert patched["metadata"]["labels"] == {"x": "1"} and patched["data"] == {"b": "2"}


def test_unsupported_patches_are_refused(
    server: KubernetesApiServer, memory: MemoryBackend
) -> None:
    memory.create(config_map("cm", "default"))
    path = "/api/v1/namespaces/default/configmaps/cm"
    assert call(server, "PATCH", path, {}, content_type="application/apply-patch+yaml")[0] == 415
    bad = [{"op": "test", "path": "/data/none", "value": 1}]
    assert call(server, "PATCH", path, bad, content_type="application/json-patch+json")[0] == 400


def test_delete_preconditions(server: KubernetesApiServer, memory: MemoryBackend) -> None:
    memory.create(config_map("cm", "default"))
    path = "/api/v1/namespaces/default/configmaps/cm"
    code, status = call(server, "DELETE", path, {"preconditions": {"uid": "not-it"}})
    assert (code, status["reason"]) == (409, "Conflict")
    assert call(server, "DELETE", path, {"propagationPolicy": "Sideways"})[0] == 400
    assert call(server, "DELETE", path, {"propagationPolicy": "Background"})[0] == 200


def test_status_subresource(server: KubernetesApiServer, memory: MemoryBackend) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
    }
    memory.create(service)
    path = "/api/v1/namespaces/default/services/lb/status"
    code, current = call(server, "GET", path)
    assert code == 200 and current["kind"] == "Service"
    ingress = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
    code, patched = call(
        server, "PATCH", path, {"status": ingress}, content_type="application/merge-patch+json"
    )
    assert code == 200, patched
    assert memory.get(kinds.SERVICE, "lb", "default")["status"] == ingress
    current = memory.get(kinds.SERVICE, "lb", "default")
    current["status"] = {"loadBalancer": {}}
    code, replaced = call(server, "PUT", path, current)
    assert code == 200 and replaced["status"] == {"loadBalancer": {}}


def test_kubeconfig_points_at_the_server(server: KubernetesApiServer) -> None:
    config = json.loads(Path(server.kubeconfig_path).read_text())
    assert config["clusters"][0]["cluster"]["server"] == server.url
    assert config["current-context"] == "kecs"
    assert server.url.startswith("http://127.0.0.1:")


def test_delete_options_reach_the_embedded_backend(
    server: KubernetesApiServer, memory: MemoryBackend
) -> None:
    ecs = kecs.client("ecs", backend=memory)
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="t", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 64}]
    )
    [task] = ecs.run_task(cluster="c", taskDefinition="t")["tasks"]
    [pod] = [
        p
        for p in memory.list_all(kinds.POD)
        if p["metadata"]["uid"].replace("-", "") in task["taskArn"]
    ]
    meta = pod["metadata"]
    path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
    code, answer = call(server, "DELETE", path, {"gracePeriodSeconds": 5})
    # The task's record finalizer keeps the pod, terminating: it comes back as the answer.
    assert code == 200 and answer["kind"] == "Pod"
    assert answer["metadata"]["deletionTimestamp"]
    assert call(server, "DELETE", path, {"gracePeriodSeconds": "soon"})[0] == 400


def test_kubernetes_backend_sends_delete_options(memory: MemoryBackend) -> None:
    from tests import targets

    memory.create(deployment("web", "default"))
    kube = targets.served(memory)
    try:
        kube.delete(kinds.DEPLOYMENT, "web", "default", propagation_policy="Orphan")
    finally:
        kube.close()
    # Orphaned: the ReplicaSet the Deployment made outlives it.
    assert memory.list_all(kinds.REPLICA_SET, "default")
