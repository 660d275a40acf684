"""awsvpc, service discovery and Service Connect, wired into RunTask and the service calls.

The discovery Services are asserted as Kubernetes objects (name, ports, selector) and against
the pods they select: a name another task can resolve is a Service in the cluster's namespace
whose selector picks the service's running tasks.
"""

from __future__ import annotations

from typing import Any

import pytest

from kecs.backends import kinds
from kecs.mapping import labels, names, networking
from tests.operations.wiring_helpers import (
    backend,
    ecs,
    error,
    live_task_pods,
    namespace,
    objects,
    register,
    selected,
    task_pods,
)

__all__ = ["backend", "ecs"]  # fixtures

VPC = {
    "awsvpcConfiguration": {
        "subnets": ["subnet-aaaa1111", "subnet-bbbb2222"],
        "securityGroups": ["sg-0123abcd"],
        "assignPublicIp": "ENABLED",
    }
}
REGISTRY = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-abcdef"
DISCOVERY = {labels.RESOURCE: networking.DISCOVERY_RESOURCE}


def server(port: int = 8080, name: str = "http") -> dict[str, Any]:
    mapping = {"containerPort": port, "name": name, "appProtocol": "http"}
    return {"name": "app", "image": "nginx:1.27", "memory": 128, "portMappings": [mapping]}


def connect(discovery: str = "api", *aliases: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"portName": "http", "discoveryName": discovery}
    if aliases:
        entry["clientAliases"] = list(aliases)
    return {"enabled": True, "namespace": "internal", "services": [entry]}


def discovery_services(backend: Any) -> dict[str, dict[str, Any]]:
    return {s["metadata"]["name"]: s for s in objects(backend, kinds.SERVICE, **DISCOVERY)}


def ports(service: dict[str, Any]) -> list[tuple[int, Any, str]]:
    return [(p["port"], p["targetPort"], p["protocol"]) for p in service["spec"].get("ports", [])]


def test_awsvpc_tasks_carry_their_configuration_and_an_eni(ecs: Any, backend: Any) -> None:
    register(ecs, "web", server(), networkMode="awsvpc")
    (task,) = ecs.run_task(taskDefinition="web", networkConfiguration=VPC)["tasks"]
    (pod,) = task_pods(backend)
    notes = pod["metadata"]["annotations"]
    assert notes[networking.ANN_SUBNETS] == "subnet-aaaa1111,subnet-bbbb2222"
    assert notes[networking.ANN_SECURITY_GROUPS] == "sg-0123abcd"
    assert notes[networking.ANN_ASSIGN_PUBLIC_IP] == "ENABLED"
    (described,) = ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"]
    (eni,) = described["attachments"]
    details = {d["name"]: d["value"] for d in eni["details"]}
    assert eni["status"] == "ATTACHED"
    assert details["subnetId"] in VPC["awsvpcConfiguration"]["subnets"]
    assert details["privateIPv4Address"] == pod["status"]["podIP"]


def test_service_discovery_is_a_headless_service_of_the_tasks(ecs: Any, backend: Any) -> None:
    register(ecs, "web", server())
    registry = {"registryArn": REGISTRY, "containerName": "app", "containerPort": 8080}
    ecs.create_service(
        serviceName="web", taskDefinition="web", desiredCount=2, serviceRegistries=[registry]
    )
    (headless,) = discovery_services(backend).values()
    assert headless["metadata"]["name"] == "web"
    assert headless["spec"]["clusterIP"] == "None"
    assert ports(headless) == [(8080, 8080, "TCP")]
    assert headless["metadata"]["annotations"][networking.ANN_REGISTRY_ARN] == REGISTRY
    assert len(selected(backend, headless)) == 2
    assert {p["metadata"]["uid"] for p in selected(backend, headless)} == {
        p["metadata"]["uid"] for p in live_task_pods(backend)
    }


def test_service_connect_names_resolve_to_the_service_tasks(ecs: Any, backend: Any) -> None:
    register(ecs, "api", server())
    register(ecs, "client")
    aliases = ({"port": 80, "dnsName": "api.internal"}, {"port": 9000, "dnsName": "db.example.com"})
    ecs.create_service(
        serviceName="api",
        taskDefinition="api",
        desiredCount=2,
        serviceConnectConfiguration=connect("api", *aliases),
    )
    ecs.run_task(taskDefinition="client")  # another task, in the same namespace
    found = discovery_services(backend)
    dotted = networking.dns_service_name("db.example.com", "internal")
    assert set(found) == {"api", dotted}
    api = found["api"]
    assert api["spec"]["type"] == "ClusterIP"
    assert ports(api) == [(80, 8080, "TCP"), (8080, 8080, "TCP")]
    assert api["spec"]["selector"] == {
        labels.SERVICE: names.label_value("api"),
        labels.RESOURCE: "task",
    }
    assert api["metadata"]["namespace"] == namespace()
    assert found[dotted]["metadata"]["annotations"][networking.ANN_DNS_NAME] == "db.example.com"
    assert ports(found[dotted]) == [(9000, 8080, "TCP")]
    servers = selected(backend, api)
    assert len(servers) == 2
    assert all(p["metadata"]["labels"][labels.SERVICE] == "api" for p in servers)


def test_a_discovery_name_held_by_another_service_is_refused(ecs: Any, backend: Any) -> None:
    register(ecs, "api", server())
    ecs.create_service(
        serviceName="one", taskDefinition="api", desiredCount=1,
        serviceConnectConfiguration=connect("api"),
    )  # fmt: skip
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.create_service(
            serviceName="two", taskDefinition="api", desiredCount=1,
            serviceConnectConfiguration=connect("api"),
        )  # fmt: skip
    assert error(excinfo)[1] == (
        "The DNS name api (Service api) is already used by service one in this cluster."
    )
    assert [d["metadata"]["annotations"]["kecs.dev/service-name"]
            for d in objects(backend, kinds.DEPLOYMENT)] == ["one"]  # fmt: skip
    assert task_pods(backend, **{labels.SERVICE: "two"}) == []
    assert ecs.describe_services(services=["two"])["failures"][0]["reason"] == "MISSING"


def test_a_kubernetes_service_kecs_did_not_make_is_not_taken_over(ecs: Any, backend: Any) -> None:
    register(ecs, "api", server())
    backend.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "api", "namespace": namespace()},
            "spec": {"ports": [{"port": 1}], "selector": {"app": "mine"}},
        }
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.create_service(
            serviceName="api", taskDefinition="api", desiredCount=1,
            serviceConnectConfiguration=connect("api"),
        )  # fmt: skip
    assert "a Kubernetes Service kecs did not make" in error(excinfo)[1]
    assert backend.get(kinds.SERVICE, "api", namespace())["spec"]["selector"] == {"app": "mine"}


def test_a_leftover_of_the_same_service_is_replaced(ecs: Any, backend: Any) -> None:
    register(ecs, "web", server())
    registry = {"registryArn": REGISTRY, "containerName": "app", "containerPort": 8080}
    ecs.create_service(
        serviceName="web", taskDefinition="web", desiredCount=1, serviceRegistries=[registry]
    )
    (leftover,) = discovery_services(backend).values()
    # The workload goes, its discovery Service stays (a half-finished clean-up).
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    backend.delete(kinds.DEPLOYMENT, deployment["metadata"]["name"], namespace())
    newer = {**registry, "containerPort": 8080, "port": 80}
    ecs.create_service(
        serviceName="web", taskDefinition="web", desiredCount=1, serviceRegistries=[newer]
    )
    (replaced,) = discovery_services(backend).values()
    assert replaced["metadata"]["uid"] != leftover["metadata"]["uid"]
    assert ports(replaced) == [(80, 8080, "TCP")]


def test_update_service_follows_ports_and_settings(ecs: Any, backend: Any) -> None:
    register(ecs, "api", server())
    ecs.create_service(
        serviceName="api", taskDefinition="api", desiredCount=1,
        serviceConnectConfiguration=connect("api", {"port": 80, "dnsName": "front"}),
    )  # fmt: skip
    register(ecs, "api", server(9090))
    ecs.update_service(service="api", taskDefinition="api:2")
    found = discovery_services(backend)
    assert ports(found["api"]) == [(9090, 9090, "TCP")]
    assert ports(found["front"]) == [(80, 9090, "TCP")]
    ecs.update_service(
        service="api", serviceConnectConfiguration=connect("api2", {"port": 81, "dnsName": "f2"})
    )
    assert set(discovery_services(backend)) == {"api2", "f2"}
    ecs.update_service(service="api", serviceConnectConfiguration={"enabled": False})
    assert discovery_services(backend) == {}


def test_delete_service_removes_its_names(ecs: Any, backend: Any) -> None:
    register(ecs, "api", server())
    registry = {"registryArn": REGISTRY, "containerName": "app", "containerPort": 8080}
    ecs.create_service(
        serviceName="api", taskDefinition="api", desiredCount=1, serviceRegistries=[registry],
        serviceConnectConfiguration=connect("api-sc"),
    )  # fmt: skip
    assert set(discovery_services(backend)) == {"api", "api-sc"}
    ecs.delete_service(service="api", force=True)
    assert discovery_services(backend) == {}
    ecs.create_service(
        serviceName="api", taskDefinition="api", desiredCount=1, serviceRegistries=[registry]
    )
    assert set(discovery_services(backend)) == {"api"}


def test_an_unknown_port_name_refuses_the_service(ecs: Any, backend: Any) -> None:
    register(ecs, "api", server(name="web"))
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.create_service(
            serviceName="api", taskDefinition="api", desiredCount=1,
            serviceConnectConfiguration=connect("api"),
        )  # fmt: skip
    assert "portName http" in error(excinfo)[1]
    assert objects(backend, kinds.DEPLOYMENT) == [] and discovery_services(backend) == {}
