"""Load balancers of ECS services -> Services and Ingresses, through the service calls."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

import kecs
from kecs.backends import kinds
from kecs.backends.errors import Invalid
from kecs.mapping import labels, load_balancers
from tests.operations.wiring_helpers import (
    ValidatingBackend,
    backend,
    ecs,
    error,
    objects,
    register,
    selected,
)

__all__ = ["backend", "ecs"]  # fixtures

TG = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/{}/0123456789abcdef"
LB = {labels.RESOURCE: load_balancers.RESOURCE}


def web(port: int = 80, **mapping: Any) -> dict[str, Any]:
    return {
        "name": "web",
        "image": "nginx:1.27",
        "memory": 128,
        "portMappings": [{"containerPort": port, **mapping}],
        "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost"], "interval": 10},
    }


def target(name: str = "web-tg", port: int = 80) -> dict[str, Any]:
    return {"targetGroupArn": TG.format(name), "containerName": "web", "containerPort": port}


def attached(backend: ValidatingBackend) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return objects(backend, kinds.SERVICE, **LB), objects(backend, kinds.INGRESS, **LB)


def create(ecs: Any, *balancers: dict[str, Any], **extra: Any) -> None:
    ecs.create_service(
        serviceName="web",
        taskDefinition="web",
        desiredCount=2,
        loadBalancers=list(balancers),
        **extra,
    )


def test_an_alb_target_group_is_a_service_and_an_ingress(ecs: Any, backend: Any) -> None:
    register(ecs, "web", web())
    create(ecs, target(), healthCheckGracePeriodSeconds=120)
    (service,), (ingress,) = attached(backend)
    name = service["metadata"]["name"]
    assert ingress["metadata"]["name"] == name
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, 80)]
    assert service["metadata"]["annotations"][load_balancers.ANN_TARGET_GROUP_ARN] == TG.format(
        "web-tg"
    )
    assert ingress["spec"] == {
        "ingressClassName": "alb",
        "defaultBackend": {"service": {"name": name, "port": {"number": 80}}},
    }
    assert len(selected(backend, service)) == 2
    # healthCheckGracePeriodSeconds: liveness waits that long, readiness does not.
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["initialDelaySeconds"] == 120
    assert container["readinessProbe"].get("initialDelaySeconds", 0) < 120


@pytest.mark.parametrize(
    ("balancer", "mapping"),
    [
        (target("web-nlb"), {}),
        (target(), {"protocol": "udp"}),
        ({"loadBalancerName": "classic", "containerName": "web", "containerPort": 80}, {}),
    ],
    ids=["nlb-name", "udp", "classic"],
)
def test_nlb_and_classic_are_load_balancer_services(
    ecs: Any, backend: Any, balancer: dict[str, Any], mapping: dict[str, Any]
) -> None:
    register(ecs, "web", web(**mapping))
    create(ecs, balancer)
    (service,), ingresses = attached(backend)
    assert ingresses == []
    assert service["spec"]["type"] == "LoadBalancer"
    nlb = "service.beta.kubernetes.io/aws-load-balancer-type"
    assert (nlb in service["metadata"]["annotations"]) == ("loadBalancerName" not in balancer)


def test_the_service_tag_chooses_the_kind(ecs: Any, backend: Any) -> None:
    register(ecs, "web", web())
    create(ecs, target(), tags=[{"key": load_balancers.TYPE_TAG, "value": "network"}])
    (service,), ingresses = attached(backend)
    assert service["spec"]["type"] == "LoadBalancer" and ingresses == []


def test_a_port_the_container_does_not_map_is_refused(ecs: Any, backend: Any) -> None:
    register(ecs, "web", web())
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        create(ecs, target(port=8080))
    assert error(excinfo)[1] == "The container web does not have a container port 8080 defined."
    assert objects(backend, kinds.DEPLOYMENT) == [] and attached(backend) == ([], [])


def test_update_service_moves_the_load_balancer(ecs: Any, backend: Any) -> None:
    register(ecs, "web", web())
    create(ecs, target("blue"))
    (before,), _ = attached(backend)
    ecs.update_service(service="web", loadBalancers=[target("green-nlb")])
    (after,), ingresses = attached(backend)
    assert after["metadata"]["name"] != before["metadata"]["name"]
    assert after["spec"]["type"] == "LoadBalancer" and ingresses == []
    register(ecs, "web", web(8080))
    ecs.update_service(service="web", taskDefinition="web:2", loadBalancers=[target(port=8080)])
    (moved,), (ingress,) = attached(backend)
    assert moved["spec"]["ports"][0]["targetPort"] == 8080
    assert ingress["spec"]["defaultBackend"]["service"]["port"] == {"number": 8080}


def test_delete_service_removes_its_load_balancers(ecs: Any, backend: Any) -> None:
    register(ecs, "web", web())
    create(ecs, target(), target("other-nlb"))
    services, ingresses = attached(backend)
    assert (len(services), len(ingresses)) == (2, 1)
    ecs.delete_service(service="web", force=True)
    assert attached(backend) == ([], [])


class FailingIngresses(ValidatingBackend):
    """Refuses Ingress creates while ``failing`` (an admission webhook saying no)."""

    failing = True

    def create(
        self, obj: dict[str, Any], *, shared: bool = False, handed_over: bool = False
    ) -> dict[str, Any]:
        if obj.get("kind") == "Ingress" and self.failing:
            raise Invalid("admission webhook denied the request")
        return super().create(obj, shared=shared, handed_over=handed_over)


def test_a_failed_create_leaves_nothing_behind_and_a_retry_converges() -> None:
    world = FailingIngresses()
    client = kecs.client("ecs", region_name="us-east-1", backend=world)
    client.create_cluster(clusterName="default")
    register(client, "web", web())
    with pytest.raises(ClientError) as excinfo:
        create(client, target())
    assert excinfo.value.response["Error"]["Code"] == "ServerException"
    assert objects(world, kinds.DEPLOYMENT) == [] and objects(world, kinds.POD) == []
    assert objects(world, kinds.SERVICE) == [] and objects(world, kinds.INGRESS) == []
    world.failing = False
    create(client, target())
    services, ingresses = attached(world)
    assert (len(services), len(ingresses)) == (1, 1)
    assert len(objects(world, kinds.POD)) == 2
