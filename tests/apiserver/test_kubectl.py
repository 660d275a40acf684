"""The real ``kubectl`` lists, describes and prints the objects of an ECS service created
through kecs on the embedded cluster served over HTTP. Skipped only when kubectl is absent
(``apt-get install kubernetes-client``; .ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import kecs
from kecs.apiserver import KubernetesApiServer, serve_kubernetes_api
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.mapping import labels

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[KubernetesApiServer, MemoryBackend]]:
    memory = MemoryBackend()
    ecs = kecs.client("ecs", backend=memory)
    ecs.create_cluster(clusterName="demo")
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[
            {
                "name": "nginx",
                "image": "nginx:1.27",
                "memory": 256,
                "portMappings": [{"containerPort": 80}],
            }
        ],
    )
    ecs.create_service(cluster="demo", serviceName="web", taskDefinition="web", desiredCount=2)
    with serve_kubernetes_api(memory) as server:
        yield server, memory


@pytest.fixture(scope="module")
def kubectl(
    world: tuple[KubernetesApiServer, MemoryBackend], tmp_path_factory: pytest.TempPathFactory
) -> Any:
    server, _ = world
    home = tmp_path_factory.mktemp("kubectl-home")
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": server.kubeconfig_path}

    def run(*args: str) -> str:
        assert KUBECTL is not None
        done = subprocess.run(
            [KUBECTL, "--cache-dir", str(Path(home) / "cache"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    return run


def service_objects(memory: MemoryBackend) -> tuple[str, str, list[str]]:
    selector = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE}
    [deployment] = memory.list_all(kinds.DEPLOYMENT, selector=selector)
    namespace = deployment["metadata"]["namespace"]
    pods = [p["metadata"]["name"] for p in memory.list_all(kinds.POD, namespace)]
    return namespace, deployment["metadata"]["name"], pods


def test_get_lists_deployments_services_and_pods(
    kubectl: Any, world: tuple[KubernetesApiServer, MemoryBackend]
) -> None:
    namespace, deployment, pods = service_objects(world[1])
    out = kubectl("get", "deployments,services,pods", "-A")
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert ["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] in lines
    assert [namespace, f"deployment.apps/{deployment}", "2/2", "2", "2"] in [
        line[:5] for line in lines
    ]
    assert any(
        line[:4] == [namespace, f"service/{deployment}", "ClusterIP", line[3]] for line in lines
    )
    assert any(
        line[:2] == [namespace, f"service/{deployment}"] and "80/TCP" in line for line in lines
    )
    running = [line for line in lines if line[1].startswith("pod/")]
    assert sorted(line[1] for line in running) == sorted(f"pod/{p}" for p in pods)
    assert all(line[2:5] == ["1/1", "Running", "0"] for line in running)


def test_describe_pod(kubectl: Any, world: tuple[KubernetesApiServer, MemoryBackend]) -> None:
    namespace, _, pods = service_objects(world[1])
    out = kubectl("describe", "pod", "-n", namespace, pods[0])
    assert "Name:" in out and pods[0] in out
    assert "Status:" in out and "Running" in out
    assert "Controlled By:  ReplicaSet/" in out
    assert "kecs.dev/cluster=demo" in out
    assert "nginx:1.27" in out


def test_describe_deployment_finds_its_replica_set(
    kubectl: Any, world: tuple[KubernetesApiServer, MemoryBackend]
) -> None:
    namespace, deployment, _ = service_objects(world[1])
    out = kubectl("describe", "deployment", "-n", namespace, deployment)
    assert "2 desired | 2 updated | 2 total | 2 available" in out
    assert f"NewReplicaSet:   {deployment}-" in out


def test_get_yaml_is_the_stored_object(
    kubectl: Any, world: tuple[KubernetesApiServer, MemoryBackend]
) -> None:
    namespace, deployment, _ = service_objects(world[1])
    printed = yaml.safe_load(
        kubectl("get", "deployment", "-n", namespace, deployment, "-o", "yaml")
    )
    stored = world[1].get(kinds.DEPLOYMENT, deployment, namespace)
    assert printed["metadata"]["annotations"] == stored["metadata"]["annotations"]
    assert printed["spec"]["replicas"] == 2
    assert printed["metadata"]["labels"][labels.SERVICE] == "web"


def test_task_definitions_and_cluster_namespaces(kubectl: Any) -> None:
    templates = kubectl("get", "podtemplates", "-n", labels.SYSTEM_NAMESPACE, "-o", "name")
    assert any(line.startswith("podtemplate/td-web-") for line in templates.splitlines())
    namespaces = kubectl("get", "ns", "-l", "kecs.dev/resource=cluster", "-o", "name")
    assert [line for line in namespaces.splitlines() if line.startswith("namespace/demo-")]


def test_kubectl_can_change_objects(
    kubectl: Any, world: tuple[KubernetesApiServer, MemoryBackend]
) -> None:
    namespace, deployment, _ = service_objects(world[1])
    kubectl("annotate", "deployment", "-n", namespace, deployment, "note=hello")
    assert (
        world[1].get(kinds.DEPLOYMENT, deployment, namespace)["metadata"]["annotations"]["note"]
        == "hello"
    )
