"""Rollbacks (circuit breaker, StopServiceDeployment) re-converge every object of the service.

A rolled-back service must have exactly the Kubernetes objects an UpdateService to the
rolled-back-to task definition made: its ClusterIP Service, discovery Services, load balancer
Services and Ingresses, and the Deployment's own metadata. The tests take a snapshot of the
objects while the old revision runs, let a new revision fail, and compare.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.mapping import labels, networking, task_keys
from kecs.operations import service_rollout
from tests.operations.service_helpers import (
    CLUSTER,
    CheckingBackend,
    backend,
    container,
    create,
    describe,
    ecs,
    namespace,
    register,
    wait_stable,
)

__all__ = ["backend", "ecs"]  # fixtures
BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
NO_ROLLBACK = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
TG = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web-tg/0123456789abcdef"
#: Fields the API server and the controllers own (and the Deployment's rollout revision).
SERVER_OWNED = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")


def web(*ports: int, image: str = "nginx:1.25") -> dict[str, Any]:
    mappings = [{"containerPort": p, "protocol": "tcp", "name": f"p{p}"} for p in ports]
    return container(image=image, portMappings=mappings)


def target(port: int = 80) -> dict[str, Any]:
    return {"targetGroupArn": TG, "containerName": "web", "containerPort": port}


def update(ecs: Any, **params: Any) -> dict[str, Any]:
    return dict(ecs.update_service(cluster=CLUSTER, service="web", **params)["service"])


def _shape(obj: Object) -> Object:
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_OWNED}
    notes = dict(meta.get("annotations") or {})
    notes.pop("deployment.kubernetes.io/revision", None)
    meta["annotations"] = notes
    spec = dict(obj.get("spec") or {})
    spec.pop("clusterIP", None)
    spec.pop("clusterIPs", None)
    return {"kind": obj["kind"], "metadata": meta, "spec": spec}


def snapshot(backend: CheckingBackend) -> dict[tuple[str, str], Object]:
    """Every object of the service kecs shaped: workload, Services, Ingresses."""
    found = {}
    for kind in (kinds.DEPLOYMENT, kinds.SERVICE, kinds.INGRESS):
        for obj in backend.list_all(kind, namespace(), selector={labels.SERVICE: "web"}):
            found[(obj["kind"], obj["metadata"]["name"])] = _shape(obj)
    return found


def service_ports(backend: CheckingBackend) -> dict[str, list[tuple[int, Any]]]:
    """Each Kubernetes Service of the service: its (port, targetPort) pairs."""
    return {
        s["metadata"]["name"]: [(p["port"], p["targetPort"]) for p in s["spec"]["ports"]]
        for s in backend.list_all(kinds.SERVICE, namespace(), selector={labels.SERVICE: "web"})
    }


def ingress_ports(backend: CheckingBackend) -> list[int]:
    return [
        i["spec"]["defaultBackend"]["service"]["port"]["number"]
        for i in backend.list_all(kinds.INGRESS, namespace(), selector={labels.SERVICE: "web"})
    ]


def fail_next_revision(
    ecs: Any, backend: CheckingBackend, *ports: int, **update_params: Any
) -> Any:
    """Register web:2 with ``ports`` and an image that cannot be pulled; update to it."""
    backend.simulator.fail_image_pulls("broken*")
    register(ecs, "web", web(*ports, image="broken:2"))
    return update(ecs, taskDefinition="web:2", **update_params)


def assert_rolled_back(ecs: Any, service: dict[str, Any]) -> None:
    assert service["taskDefinition"].endswith("web:1")
    (primary,) = service["deployments"]
    assert primary["taskDefinition"].endswith("web:1")
    wait_stable(ecs)


# -- the circuit breaker ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [((80,), (8080,)), ((80,), (80, 9090)), ((80, 9090), (80,)), ((80,), ())],
    ids=["port-changed", "port-added", "port-removed", "ports-gone"],
)
def test_breaker_rollback_restores_the_service_ports(
    ecs: Any, backend: CheckingBackend, old: tuple[int, ...], new: tuple[int, ...]
) -> None:
    register(ecs, "web", web(*old))
    create(ecs, deploymentConfiguration=BREAKER)
    before = snapshot(backend)
    assert service_ports(backend) == {
        k[1]: [(p, p) for p in old] for k in before if k[0] == "Service"
    }
    updated = fail_next_revision(ecs, backend, *new)
    assert_rolled_back(ecs, updated)
    assert snapshot(backend) == before
    assert backend.checked["Service"] > 0  # every write validated strictly


def test_breaker_rollback_restores_the_load_balancer(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs, "web", web(80))
    create(ecs, deploymentConfiguration=BREAKER, loadBalancers=[target(80)])
    before = snapshot(backend)
    assert ingress_ports(backend) == [80]
    updated = fail_next_revision(ecs, backend, 8080, loadBalancers=[target(8080)])
    assert_rolled_back(ecs, updated)
    assert updated["loadBalancers"] == [target(80)]
    assert ingress_ports(backend) == [80]
    assert all(ports == [(80, 80)] for ports in service_ports(backend).values())
    assert snapshot(backend) == before
    assert backend.checked["Ingress"] > 0


def test_breaker_rollback_removes_discovery_names_the_failed_revision_added(
    ecs: Any, backend: CheckingBackend
) -> None:
    register(ecs, "web", web(80))
    create(ecs, deploymentConfiguration=BREAKER)
    before = snapshot(backend)
    connect = {
        "enabled": True,
        "namespace": "internal",
        "services": [{"portName": "p8080", "discoveryName": "api"}],
    }
    updated = fail_next_revision(ecs, backend, 8080, serviceConnectConfiguration=connect)
    assert_rolled_back(ecs, updated)
    assert "serviceConnectConfiguration" not in updated
    discovery = {labels.RESOURCE: networking.DISCOVERY_RESOURCE}
    assert backend.list_all(kinds.SERVICE, namespace(), selector=discovery) == []
    assert snapshot(backend) == before


def test_without_rollback_the_failed_revision_keeps_its_objects(
    ecs: Any, backend: CheckingBackend
) -> None:
    register(ecs, "web", web(80))
    create(ecs, deploymentConfiguration=NO_ROLLBACK, loadBalancers=[target(80)])
    updated = fail_next_revision(ecs, backend, 8080, loadBalancers=[target(8080)])
    assert updated["deployments"][0]["rolloutState"] == "FAILED"
    assert updated["taskDefinition"].endswith("web:2")
    made = snapshot(backend)  # what UpdateService made for web:2
    assert ingress_ports(backend) == [8080]
    assert all(ports == [(8080, 8080)] for ports in service_ports(backend).values())
    describe(ecs)
    assert snapshot(backend) == made


# -- StopServiceDeployment ----------------------------------------------------------------------


def test_stop_service_deployment_restores_the_objects(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs, "web", web(80))
    create(ecs, loadBalancers=[target(80)])
    before = snapshot(backend)
    backend.simulator.slow_start("nginx:1.27", 60)
    register(ecs, "web", web(8080, 9090, image="nginx:1.27"))
    update(ecs, taskDefinition="web:2", loadBalancers=[target(8080)])
    assert ingress_ports(backend) == [8080]
    arn = describe(ecs)["currentServiceDeployment"]
    ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert_rolled_back(ecs, describe(ecs))
    assert snapshot(backend) == before


def test_a_rollback_to_a_task_definition_being_deleted(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs, "web", web(80))
    create(ecs)
    before = snapshot(backend)
    backend.simulator.slow_start("nginx:1.27", 60)
    register(ecs, "web", web(8080, image="nginx:1.27"))
    update(ecs, taskDefinition="web:2")
    ecs.deregister_task_definition(taskDefinition="web:1")
    ecs.delete_task_definitions(taskDefinitions=["web:1"])  # kept while a deployment uses it
    ecs.stop_service_deployment(serviceDeploymentArn=describe(ecs)["currentServiceDeployment"])
    assert_rolled_back(ecs, describe(ecs))
    assert snapshot(backend) == before


def test_a_rollback_without_its_task_definition_rolls_the_tasks_back(
    ecs: Any, backend: CheckingBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(ecs, "web", web(80))
    create(ecs)
    backend.simulator.slow_start("nginx:1.27", 60)
    register(ecs, "web", web(8080, image="nginx:1.27"))
    update(ecs, taskDefinition="web:2")
    # A revision that can no longer be read: its ports are unknown, so its template comes
    # back (from the ReplicaSet) and the Services stay as they are.
    monkeypatch.setattr(service_rollout, "task_definition", lambda ctx, arn: None)
    ecs.stop_service_deployment(serviceDeploymentArn=describe(ecs)["currentServiceDeployment"])
    assert_rolled_back(ecs, describe(ecs))
    assert all(ports == [(8080, 8080)] for ports in service_ports(backend).values())


def connect(discovery: str, port_name: str = "p80") -> dict[str, Any]:
    entry = {"portName": port_name, "discoveryName": discovery}
    return {"enabled": True, "namespace": "internal", "services": [entry]}


def _take_the_old_name(ecs: Any, backend: CheckingBackend) -> None:
    """web:1 answers as ``api``; web:2 (never placed: too big) as ``api2``; another service
    takes ``api`` meanwhile, so a rollback cannot have it back."""
    register(ecs, "web", web(80))
    create(ecs, deploymentConfiguration=BREAKER, serviceConnectConfiguration=connect("api"))
    backend.simulator.fail_fast_rollouts = False
    register(ecs, "web", {**web(80), "memory": 10_000_000})
    update(ecs, taskDefinition="web:2", serviceConnectConfiguration=connect("api2"))
    register(ecs, "other", web(80))
    ecs.create_service(
        cluster=CLUSTER, serviceName="other", taskDefinition="other", desiredCount=1,
        serviceConnectConfiguration=connect("api"),
    )  # fmt: skip


def _discovery_names(backend: CheckingBackend) -> dict[str, str]:
    discovery = {labels.RESOURCE: networking.DISCOVERY_RESOURCE}
    return {
        s["metadata"]["name"]: s["metadata"]["annotations"][task_keys.SERVICE_NAME]
        for s in backend.list_all(kinds.SERVICE, namespace(), selector=discovery)
    }


def test_stop_is_refused_when_the_old_names_are_taken(ecs: Any, backend: CheckingBackend) -> None:
    _take_the_old_name(ecs, backend)
    arn = describe(ecs)["currentServiceDeployment"]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert "already used by service other" in excinfo.value.response["Error"]["Message"]
    service = describe(ecs)  # nothing written: the deployment goes on
    assert service["taskDefinition"].endswith("web:2")
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert _discovery_names(backend) == {"api": "other", "api2": "web"}


def test_the_breaker_rolls_back_even_when_the_old_names_are_taken(
    ecs: Any, backend: CheckingBackend
) -> None:
    _take_the_old_name(ecs, backend)
    backend.advance(601)  # the progress deadline: the breaker trips
    service = describe(ecs)
    assert service["taskDefinition"].endswith("web:1")
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    # The tasks are back; the names stay as they were (another service holds ``api``).
    assert _discovery_names(backend) == {"api": "other", "api2": "web"}
    describe(ecs)


# -- a rollback interrupted half way converges on the next call -------------------------------


def _is_rollback_of(kind: str, port: int) -> Any:
    def refused(obj: Object) -> bool:
        if obj.get("kind") != kind:
            return False
        if kind == "Service":
            return [p["port"] for p in obj["spec"]["ports"]] == [port]
        containers = obj["spec"]["template"]["spec"]["containers"]
        return bool(containers[0]["image"] == "nginx:1.25")

    return refused


@pytest.mark.parametrize("kind", ["Service", "Deployment"])
def test_an_interrupted_rollback_is_finished_by_the_next_call(
    ecs: Any, backend: CheckingBackend, kind: str
) -> None:
    register(ecs, "web", web(80))
    create(ecs, deploymentConfiguration=BREAKER, loadBalancers=[target(80)])
    before = snapshot(backend)
    backend.fail_update = _is_rollback_of(kind, 80)
    with pytest.raises(ClientError) as excinfo:
        fail_next_revision(ecs, backend, 8080, loadBalancers=[target(8080)])
    assert excinfo.value.response["Error"]["Code"] == "ServerException"
    backend.fail_update = lambda obj: False
    assert_rolled_back(ecs, describe(ecs))
    assert snapshot(backend) == before
    history = ecs.list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
    assert [d["status"] for d in history] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL"]


def test_the_workload_records_the_rolled_back_spec(ecs: Any, backend: CheckingBackend) -> None:
    register(ecs, "web", web(80))
    create(ecs, deploymentConfiguration=BREAKER, loadBalancers=[target(80)])
    fail_next_revision(ecs, backend, 8080, loadBalancers=[target(8080)])
    (deployment,) = backend.list_all(kinds.DEPLOYMENT, namespace())
    notes = deployment["metadata"]["annotations"]
    spec = task_keys.json_value(notes, task_keys.SERVICE_SPEC, {})
    assert spec["taskDefinition"].endswith("web:1")
    assert spec["loadBalancers"] == [target(80)]
    assert notes[task_keys.TASK_DEFINITION_ARN].endswith("web:1")
