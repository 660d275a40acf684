"""ECS service -> Deployment / DaemonSet / Service."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.mapping import labels, names, task_keys
from kecs.mapping.service_workload import (
    NO_DEADLINE,
    capacity_provider,
    daemon_set,
    deployment,
    deployment_configuration,
    propagated_tags,
    rolling_update,
    service,
    workload,
    workload_name,
)
from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import validate_strict
from tests.mapping.k8s_checks import problems
from tests.strategies import ecs_names
from tests.strategies_k8s import REGION, WHERE, service_spec, simple_td, task_definition_examples

EXAMPLES = settings(
    max_examples=50, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
TD = simple_td(
    {
        "name": "web",
        "image": "nginx",
        "portMappings": [
            {"containerPort": 80, "appProtocol": "http"},
            {"containerPort": 53, "protocol": "udp"},
            {"containerPort": 80},
        ],
        "healthCheck": {"command": ["CMD", "true"]},
    },
    {"name": "metrics", "image": "prom", "portMappings": [{"containerPort": 9090}]},
)


def build(spec: dict[str, Any], td: dict[str, Any] = TD, **kwargs: Any) -> dict[str, Any]:
    template = to_pod_template(td, region=REGION).template
    return workload(template, spec, namespace="ns-1", task_definition=td, **WHERE, **kwargs)


def assert_legal(obj: dict[str, Any]) -> None:
    validate_strict(obj)
    template = obj["spec"]["template"]
    assert problems(template) == []
    for key, value in obj["metadata"]["labels"].items():
        assert k8s_grammar.is_qualified_name(key) and k8s_grammar.is_label_value(value)
    selector = obj["spec"]["selector"]["matchLabels"]
    assert selector.items() <= template["metadata"]["labels"].items()


@st.composite
def specs(draw: st.DrawFn, td: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceName": draw(ecs_names),
        "taskDefinition": td["taskDefinitionArn"],
        "desiredCount": draw(st.integers(0, 10)),
    }
    if draw(st.booleans()):
        spec["schedulingStrategy"] = draw(st.sampled_from(["REPLICA", "DAEMON"]))
    config: dict[str, Any] = {}
    if draw(st.booleans()):
        config["maximumPercent"] = draw(st.integers(0, 400))
    if draw(st.booleans()):
        config["minimumHealthyPercent"] = draw(st.integers(0, 200))
    if draw(st.booleans()):
        config["deploymentCircuitBreaker"] = {"enable": draw(st.booleans()), "rollback": True}
    if config:
        spec["deploymentConfiguration"] = config
    if draw(st.booleans()):
        spec["launchType"] = draw(st.sampled_from(["EC2", "FARGATE", "EXTERNAL"]))
    elif draw(st.booleans()):
        spec["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE", "weight": 1}]
    if draw(st.booleans()):
        spec["healthCheckGracePeriodSeconds"] = draw(st.integers(0, 600))
    for key in ("enableExecuteCommand", "enableECSManagedTags"):
        if draw(st.booleans()):
            spec[key] = draw(st.booleans())
    if draw(st.booleans()):
        spec["propagateTags"] = draw(st.sampled_from(["SERVICE", "TASK_DEFINITION", "NONE"]))
        spec["tags"] = [{"key": "team", "value": draw(st.text(max_size=10))}]
    return spec


@EXAMPLES
@given(st.data())
def test_any_service_gives_legal_deterministic_objects(data: Any) -> None:
    td = data.draw(task_definition_examples())
    spec = data.draw(specs(td))
    template = to_pod_template(td, region=REGION).template
    frozen = copy.deepcopy(template)
    obj = workload(template, spec, namespace="n", task_definition=td, **WHERE)
    assert_legal(obj)
    assert template == frozen
    assert obj == workload(template, spec, namespace="n", task_definition=td, **WHERE)
    assert k8s_grammar.is_dns1035_label(obj["metadata"]["name"])
    assert json.loads(obj["metadata"]["annotations"][task_keys.SERVICE_SPEC]) == spec
    pod_template = obj["spec"]["template"]
    assert pod_template["spec"]["restartPolicy"] == "Always"
    assert pod_template["metadata"]["finalizers"] == [labels.TASK_RECORD_FINALIZER]
    k8s_service = service(spec, namespace="n", task_definition=td, **WHERE)
    if k8s_service is not None:
        validate_strict(k8s_service)
        assert k8s_service["metadata"]["name"] == obj["metadata"]["name"]
        ports = k8s_service["spec"]["ports"]
        assert len({p["name"] for p in ports}) == len(ports)
        assert all(k8s_grammar.is_dns1123_label(p["name"]) for p in ports)


@given(ecs_names, ecs_names)
def test_workload_names_are_dns1035_and_distinct(a: str, b: str) -> None:
    first = workload_name(a, account="1", region="r", cluster_name="c")
    assert k8s_grammar.is_dns1035_label(first)
    assert (first == workload_name(b, account="1", region="r", cluster_name="c")) == (a == b)


def test_replica_service_deployment() -> None:
    spec = service_spec(
        TD, desiredCount=3, propagateTags="SERVICE", tags=[{"key": "t", "value": "v"}]
    )
    obj = build(spec)
    assert_legal(obj)
    assert obj["kind"] == "Deployment"
    assert obj["spec"]["replicas"] == 3
    assert obj["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "100%", "maxUnavailable": "0%"},
    }
    assert obj["spec"]["progressDeadlineSeconds"] == NO_DEADLINE
    meta = obj["metadata"]
    assert meta["labels"][labels.RESOURCE] == "service"
    assert meta["labels"][labels.SERVICE] == "web"
    assert meta["annotations"][task_keys.SERVICE_STATUS] == "ACTIVE"
    assert json.loads(meta["annotations"][task_keys.TAGS]) == [{"key": "t", "value": "v"}]
    template = obj["spec"]["template"]
    assert template["metadata"]["labels"][labels.SERVICE] == "web"
    assert template["metadata"]["labels"][labels.RESOURCE] == "task"
    ann = template["metadata"]["annotations"]
    assert ann[task_keys.GROUP] == "service:web"
    assert task_keys.STARTED_BY not in ann  # derived from the ReplicaSet
    assert json.loads(ann[task_keys.TAGS]) == [{"key": "t", "value": "v"}]
    assert json.loads(ann[task_keys.SERVICE_REVISION]) == {"launchType": "FARGATE"}


@pytest.mark.parametrize(
    ("config", "strategy", "expected"),
    [
        ({}, "REPLICA", {"maxSurge": "100%", "maxUnavailable": "0%"}),
        (
            {"maximumPercent": 150, "minimumHealthyPercent": 50},
            "REPLICA",
            {"maxSurge": "50%", "maxUnavailable": "50%"},
        ),
        (
            {"maximumPercent": 100, "minimumHealthyPercent": 100},
            "REPLICA",
            {"maxSurge": "1", "maxUnavailable": "0%"},
        ),
        (
            {"maximumPercent": 500, "minimumHealthyPercent": 0},
            "REPLICA",
            {"maxSurge": "100%", "maxUnavailable": "100%"},
        ),
        ({}, "DAEMON", {"maxSurge": "0%", "maxUnavailable": "100%"}),
    ],
)
def test_rolling_update(config: dict[str, Any], strategy: str, expected: dict[str, str]) -> None:
    spec = {"deploymentConfiguration": config, "schedulingStrategy": strategy}
    assert rolling_update(spec) == expected


def test_deployment_configuration_defaults() -> None:
    assert deployment_configuration({}) == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
    }
    daemon = deployment_configuration({"schedulingStrategy": "DAEMON"})
    assert (daemon["maximumPercent"], daemon["minimumHealthyPercent"]) == (100, 0)


def test_circuit_breaker_sets_a_progress_deadline() -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    obj = build(service_spec(TD, deploymentConfiguration=breaker))
    assert obj["spec"]["progressDeadlineSeconds"] == 600


def test_grace_period_delays_liveness_only() -> None:
    obj = build(service_spec(TD, healthCheckGracePeriodSeconds=120))
    web = obj["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["initialDelaySeconds"] == 120
    assert web["readinessProbe"].get("initialDelaySeconds", 0) == 0


def test_daemon_service() -> None:
    obj = build(service_spec(TD, schedulingStrategy="DAEMON", launchType="EC2"))
    assert_legal(obj)
    assert obj["kind"] == "DaemonSet"
    assert obj["spec"]["updateStrategy"]["rollingUpdate"] == {
        "maxSurge": "0%",
        "maxUnavailable": "100%",
    }
    assert daemon_set is not deployment


def test_kubernetes_service_ports() -> None:
    spec = service_spec(TD, serviceName="My_Web")
    obj = service(spec, namespace="ns-1", task_definition=TD, **WHERE)
    assert obj is not None
    validate_strict(obj)
    assert obj["spec"]["type"] == "ClusterIP"
    assert obj["spec"]["selector"] == {
        labels.SERVICE: names.label_value("My_Web"),
        labels.RESOURCE: "task",
    }
    assert obj["spec"]["ports"] == [
        {"name": "udp-53", "port": 53, "targetPort": 53, "protocol": "UDP"},
        {"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP", "appProtocol": "http"},
        {"name": "tcp-9090", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
    ]
    assert obj["metadata"]["name"] == build(spec)["metadata"]["name"]
    no_ports = simple_td()
    assert service(service_spec(no_ports), namespace="n", task_definition=no_ports, **WHERE) is None


def test_propagated_tags() -> None:
    spec = {"serviceName": "web", "tags": [{"key": "s", "value": "1"}]}
    td_tags = [{"key": "td", "value": "2"}]
    assert propagated_tags({**spec, "propagateTags": "SERVICE"}, cluster_name="c") == spec["tags"]
    assert (
        propagated_tags(
            {**spec, "propagateTags": "TASK_DEFINITION"},
            cluster_name="c",
            task_definition_tags=td_tags,
        )
        == td_tags
    )
    assert propagated_tags(spec, cluster_name="c") == []
    assert propagated_tags({**spec, "enableECSManagedTags": True}, cluster_name="c") == [
        {"key": "aws:ecs:serviceName", "value": "web"},
        {"key": "aws:ecs:clusterName", "value": "c"},
    ]


def test_capacity_provider_of_new_tasks() -> None:
    strategy = [
        {"capacityProvider": "FARGATE", "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
    ]
    assert capacity_provider({"capacityProviderStrategy": strategy}) == "FARGATE_SPOT"
    strategy[0]["base"] = 1
    assert capacity_provider({"capacityProviderStrategy": strategy}) == "FARGATE"
    assert capacity_provider({}) is None
    obj = build(service_spec(TD, launchType=None, capacityProviderStrategy=strategy))
    template_meta = obj["spec"]["template"]["metadata"]
    assert template_meta["annotations"][task_keys.CAPACITY_PROVIDER] == "FARGATE"
    assert template_meta["annotations"][task_keys.LAUNCH_TYPE] == "FARGATE"
