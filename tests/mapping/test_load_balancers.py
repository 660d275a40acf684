"""ECS load balancers -> Services and Ingresses (kecs.mapping.load_balancers)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.labelsel import matches
from kecs.mapping import labels, load_balancers, service_workload
from kecs.mapping.errors import MappingError
from tests.k8s_schema import validate_strict

WHERE = {"namespace": "ns", "account": "000000000000", "region": "us-east-1", "cluster_name": "c"}


def tg(name: str) -> str:
    return (
        f"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/{name}/0123456789abcdef"
    )


def td(*mappings: dict[str, Any]) -> dict[str, Any]:
    default = [{"containerPort": 80}]
    return {
        "family": "web",
        "containerDefinitions": [
            {"name": "web", "image": "nginx", "portMappings": list(mappings) or default}
        ],
    }


def objects(
    entries: list[dict[str, Any]], definition: dict[str, Any] | None = None, **spec: Any
) -> list[dict[str, Any]]:
    result = load_balancers.load_balancer_objects(
        {"serviceName": "web", "loadBalancers": entries, **spec}, definition or td(), **WHERE
    )
    for obj in result:
        validate_strict(obj)
        assert k8s_grammar.is_dns1035_label(obj["metadata"]["name"])
        assert obj["metadata"]["labels"][labels.RESOURCE] == "load-balancer"
        assert obj["metadata"]["labels"][labels.SERVICE] == "web"
    return result


def test_an_alb_target_group_is_a_service_and_an_ingress() -> None:
    service, ingress = objects(
        [{"targetGroupArn": tg("web-tg"), "containerName": "web", "containerPort": 80}]
    )
    assert service["kind"] == "Service" and ingress["kind"] == "Ingress"
    assert service["metadata"]["name"] == ingress["metadata"]["name"]
    assert service["metadata"]["name"].startswith("web-tg-")
    assert service["spec"] == {
        "type": "ClusterIP",
        "selector": service_workload.selector("web"),
        "ports": [{"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP"}],
    }
    assert ingress["spec"] == {
        "ingressClassName": "alb",
        "defaultBackend": {
            "service": {"name": service["metadata"]["name"], "port": {"number": 80}}
        },
    }
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert service["metadata"]["annotations"]["kecs.dev/target-group-arn"] == tg("web-tg")


def test_an_nlb_target_group_is_a_load_balancer_service() -> None:
    (service,) = objects(
        [{"targetGroupArn": tg("web-nlb"), "containerName": "web", "containerPort": 80}]
    )
    assert service["spec"]["type"] == "LoadBalancer"
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"


def test_a_classic_load_balancer() -> None:
    (service,) = objects(
        [{"loadBalancerName": "legacy", "containerName": "web", "containerPort": 80}]
    )
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"]["kecs.dev/load-balancer-name"] == "legacy"
    assert (
        "service.beta.kubernetes.io/aws-load-balancer-type"
        not in service["metadata"]["annotations"]
    )


@pytest.mark.parametrize(
    ("entry", "mapping", "tags", "expected"),
    [
        ({"loadBalancerName": "x"}, {}, [], "CLASSIC"),
        (
            {"targetGroupArn": tg("a")},
            {},
            [{"key": "kecs.dev/load-balancer-type", "value": "NLB"}],
            "NLB",
        ),
        (
            {"targetGroupArn": tg("net-tg")},
            {},
            [{"key": "kecs.dev/load-balancer-type", "value": "application"}],
            "ALB",
        ),
        ({"targetGroupArn": tg("a")}, {"protocol": "udp"}, [], "NLB"),
        ({"targetGroupArn": tg("tcp-thing")}, {"appProtocol": "grpc"}, [], "ALB"),
        ({"targetGroupArn": tg("my_tcp_tg")}, {}, [], "NLB"),
        ({"targetGroupArn": tg("my.tls.tg")}, {}, [], "NLB"),
        ({"targetGroupArn": tg("internet")}, {}, [], "ALB"),  # "net" is a word, not a prefix
        ({"targetGroupArn": tg("web")}, {}, [], "ALB"),
    ],
)
def test_the_kind_rule(
    entry: dict[str, Any], mapping: dict[str, Any], tags: list[Any], expected: str
) -> None:
    assert load_balancers.kind_of(entry, mapping, tags) == expected


def test_udp_ports_reach_an_nlb_over_udp() -> None:
    (service,) = objects(
        [{"targetGroupArn": tg("dns"), "containerName": "web", "containerPort": 53}],
        td({"containerPort": 53, "protocol": "udp"}),
    )
    assert service["spec"]["ports"][0]["protocol"] == "UDP"


def test_every_entry_gets_its_own_objects() -> None:
    entries = [
        {"targetGroupArn": tg("a"), "containerName": "web", "containerPort": 80},
        {"targetGroupArn": tg("a"), "containerName": "web", "containerPort": 8080},
        {"targetGroupArn": tg("b-nlb"), "containerName": "web", "containerPort": 80},
    ]
    found = objects(entries, td({"containerPort": 80}, {"containerPort": 8080}))
    names = [(o["kind"], o["metadata"]["name"]) for o in found]
    assert len(set(names)) == len(names) == 5
    assert objects(entries, td({"containerPort": 80}, {"containerPort": 8080})) == found


def test_errors() -> None:
    with pytest.raises(
        MappingError, match=r"The container web does not have a container port 81 defined\."
    ):
        objects([{"targetGroupArn": tg("a"), "containerName": "web", "containerPort": 81}])
    with pytest.raises(MappingError, match="does not exist"):
        objects([{"targetGroupArn": tg("a"), "containerName": "db", "containerPort": 80}])
    with pytest.raises(MappingError, match="containerName and containerPort"):
        objects([{"targetGroupArn": tg("a")}])
    entry = {"targetGroupArn": tg("a"), "containerName": "web", "containerPort": 80}
    with pytest.raises(MappingError, match="at most 5"):
        objects([entry] * 6)


def test_the_service_selects_the_service_tasks_and_the_api_server_accepts_them() -> None:
    found = objects([{"targetGroupArn": tg("a"), "containerName": "web", "containerPort": 80}])
    template = service_workload.pod_template(
        {"metadata": {}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        {"serviceName": "web"},
        cluster_name="c",
        account="000000000000",
        region="us-east-1",
        task_definition=td(),
    )
    assert matches({"matchLabels": found[0]["spec"]["selector"]}, template["metadata"]["labels"])
    backend = MemoryBackend(nodes=0)
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}})
    for obj in found:
        backend.create(obj)
    assert len(backend.list_all(kinds.INGRESS, "ns")) == 1


@settings(max_examples=100)
@given(
    name=st.from_regex(r"[A-Za-z0-9-]{1,32}", fullmatch=True),
    service=st.text(min_size=1, max_size=255),
    port=st.integers(1, 65535),
)
def test_object_names_are_legal_and_deterministic(name: str, service: str, port: int) -> None:
    entry = {"targetGroupArn": tg(name), "containerName": "web", "containerPort": port}
    where = {"account": "000000000000", "region": "r", "cluster_name": "c"}
    first = load_balancers.object_name(entry, service_name=service, **where)
    assert k8s_grammar.is_dns1035_label(first)
    assert first == load_balancers.object_name(entry, service_name=service, **where)
    other = {**entry, "containerPort": port % 65535 + 1}
    assert first != load_balancers.object_name(other, service_name=service, **where)
