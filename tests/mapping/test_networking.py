"""awsvpc annotations and ENI attachments, service discovery and Service Connect Services
(kecs.mapping.networking)."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.labelsel import matches
from kecs.mapping import labels, networking, service_workload
from kecs.mapping.errors import MappingError
from tests.k8s_schema import validate_strict
from tests.strategies import dns_names

LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
WHERE = {"namespace": "ns", "account": "000000000000", "region": "us-east-1", "cluster_name": "c"}
VPC = {"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"]}}
TD = {
    "family": "api",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "nginx",
            "portMappings": [
                {"name": "http", "containerPort": 8080, "appProtocol": "http"},
                {"name": "dns", "containerPort": 53, "protocol": "udp"},
            ],
        }
    ],
}


def services(spec: dict[str, Any], **extra: Any) -> dict[str, dict[str, Any]]:
    objects, notes = networking.discovery_services(
        {"serviceName": "api", **spec}, TD, **WHERE, **extra
    )
    for obj in objects:
        validate_strict(obj)
        assert k8s_grammar.is_dns1035_label(obj["metadata"]["name"])
        assert obj["metadata"]["labels"][labels.RESOURCE] == "service-discovery"
    assert not notes
    return {obj["metadata"]["name"]: obj for obj in objects}


def test_pod_annotations() -> None:
    assert networking.pod_annotations(VPC) == {
        "kecs.dev/subnets": "subnet-a,subnet-b",
        "kecs.dev/security-groups": "sg-1",
        "kecs.dev/assign-public-ip": "DISABLED",
    }
    assert networking.pod_annotations(None) == {}


@settings(max_examples=50)
@given(task_id=st.text("0123456789abcdef", min_size=32, max_size=32))
def test_the_eni_is_in_one_of_the_subnets(task_id: str) -> None:
    attachment = networking.eni_attachment(
        task_id, last_status="RUNNING", pod_ip="10.0.0.7", network_configuration=VPC, region="r"
    )
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert details["subnetId"] in ("subnet-a", "subnet-b")
    assert details["privateIPv4Address"] == "10.0.0.7"
    assert details["privateDnsName"] == "ip-10-0-0-7.r.compute.internal"
    assert attachment["status"] == "ATTACHED"
    again = networking.eni_attachment(
        task_id, last_status="RUNNING", pod_ip="10.0.0.7", network_configuration=VPC, region="r"
    )
    assert again == attachment


def test_subnets_are_spread_over_tasks() -> None:
    chosen = {networking.subnet_for(f"{i:032x}", VPC) for i in range(40)}
    assert chosen == {"subnet-a", "subnet-b"}
    assert networking.subnet_for("x", None) is None


@pytest.mark.parametrize(
    ("status", "ip", "expected"),
    [
        ("STOPPED", "1.2.3.4", "DELETED"),
        ("DEPROVISIONING", None, "DETACHING"),
        ("PENDING", None, "PRECREATED"),
    ],
)
def test_attachment_status(status: str, ip: str | None, expected: str) -> None:
    attachment = networking.eni_attachment(
        "t", last_status=status, pod_ip=ip, network_configuration=None, region="r"
    )
    assert attachment["status"] == expected
    assert "subnetId" not in {d["name"] for d in attachment["details"]}


def test_an_a_record_registry_is_a_headless_service_without_ports() -> None:
    registry = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-abc"
    found = services({"serviceRegistries": [{"registryArn": registry}]})
    assert list(found) == ["api"]
    service = found["api"]
    assert service["spec"] == {
        "selector": service_workload.selector("api"),
        "clusterIP": "None",
        "publishNotReadyAddresses": False,
    }
    assert service["metadata"]["annotations"]["kecs.dev/registry-arn"] == registry


def test_an_srv_registry_names_its_port() -> None:
    found = services(
        {"serviceRegistries": [{"registryArn": "r", "containerName": "app", "containerPort": 53}]}
    )
    assert found["api"]["spec"]["ports"] == [
        {"name": "udp-53", "port": 53, "targetPort": 53, "protocol": "UDP"}
    ]


def test_service_connect_services_and_aliases() -> None:
    config = {
        "enabled": True,
        "namespace": "internal",
        "services": [
            {
                "portName": "http",
                "discoveryName": "api-v2",
                "clientAliases": [
                    {"port": 80, "dnsName": "api.internal"},
                    {"port": 8080},
                    {"port": 81, "dnsName": "Legacy.Example.com"},
                ],
            }
        ],
    }
    found = services({"serviceConnectConfiguration": config})
    legacy = networking.dns_service_name("legacy.example.com")
    assert set(found) == {"api-v2", "api", legacy}
    assert found["api-v2"]["spec"]["type"] == "ClusterIP"
    assert [p["port"] for p in found["api-v2"]["spec"]["ports"]] == [8080]  # merged alias
    assert found["api"]["spec"]["ports"] == [
        {"name": "tcp-80", "port": 80, "targetPort": 8080, "protocol": "TCP", "appProtocol": "http"}
    ]
    assert found[legacy]["metadata"]["annotations"]["kecs.dev/dns-name"] == "Legacy.Example.com"
    assert (
        found["api"]["metadata"]["annotations"]["kecs.dev/service-connect-namespace"] == "internal"
    )


def test_service_connect_defaults_and_errors() -> None:
    client_only = services({"serviceConnectConfiguration": {"enabled": True}})
    assert client_only == {}
    disabled = {"enabled": False, "services": [{"portName": "nope"}]}
    assert services({"serviceConnectConfiguration": disabled}) == {}
    defaulted = services(
        {"serviceConnectConfiguration": {"enabled": True, "services": [{"portName": "http"}]}},
        default_service_connect_namespace="ns1",
    )
    assert list(defaulted) == ["http"]
    with pytest.raises(MappingError, match="portName nope"):
        services(
            {"serviceConnectConfiguration": {"enabled": True, "services": [{"portName": "nope"}]}}
        )


def test_discovery_services_select_the_services_tasks() -> None:
    found = services({"serviceRegistries": [{"registryArn": "r", "port": 8080}]})
    template = service_workload.pod_template(
        {"metadata": {}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
        {"serviceName": "api"},
        cluster_name="c",
        account="000000000000",
        region="us-east-1",
        task_definition=TD,
    )
    assert matches(
        {"matchLabels": found["api"]["spec"]["selector"]}, template["metadata"]["labels"]
    )


def test_the_embedded_api_server_accepts_them() -> None:
    backend = MemoryBackend(nodes=0)
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}})
    config = {"enabled": True, "services": [{"portName": "http", "clientAliases": [{"port": 80}]}]}
    objects, _ = networking.discovery_services(
        {
            "serviceName": "api",
            "serviceConnectConfiguration": config,
            "serviceRegistries": [{"registryArn": "r"}],
        },
        TD,
        **WHERE,
    )
    for obj in objects:
        backend.create(obj)
    stored = {s["metadata"]["name"]: s for s in backend.list_all(kinds.SERVICE, "ns")}
    assert stored["http"]["spec"]["clusterIP"] not in ("", "None")
    assert stored["api"]["spec"]["clusterIP"] == "None"


@settings(max_examples=200)
@given(a=dns_names | st.text(max_size=80), b=dns_names | st.text(max_size=80), ns=dns_names)
def test_dns_service_names(a: str, b: str, ns: str) -> None:
    name = networking.dns_service_name(a, ns)
    assert k8s_grammar.is_dns1035_label(name)
    upper = a.translate(str.maketrans(string.ascii_lowercase, string.ascii_uppercase))
    assert name == networking.dns_service_name(upper, ns)  # DNS folds ASCII case
    if k8s_grammar.is_dns1035_label(a.translate(LOWER)):
        assert name == a.translate(LOWER)
        assert networking.dns_service_name(f"{a}.{ns}", ns) == name

    def normal(value: str) -> str:
        text = value.strip().rstrip(".").translate(LOWER)
        suffix = "." + ns
        return text[: -len(suffix)] if text.endswith(suffix) and len(text) > len(suffix) else text

    if normal(a) != normal(b):
        assert name != networking.dns_service_name(b, ns)
