"""EXTERNAL services and task sets -> ConfigMap record, Deployments, Service (pure)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.mapping import labels, names, task_set_status, task_sets
from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import validate_strict
from tests.strategies import ecs_names
from tests.strategies_k8s import REGION, WHERE, simple_td

EXAMPLES = settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
TD = simple_td({"name": "web", "image": "nginx", "portMappings": [{"containerPort": 80}]})
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)
OWNER = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "record", "uid": "5f0c2a4e-1c1d-4f7e-9a51-0d1e2f3a4b5c"},
}


def spec(name: str = "web", **extra: Any) -> dict[str, Any]:
    return {
        "serviceName": name,
        "desiredCount": 4,
        "deploymentController": {"type": "EXTERNAL"},
        **extra,
    }


def build(
    service_spec: dict[str, Any], task_set: dict[str, Any], status: str = "ACTIVE"
) -> dict[str, Any]:
    template = to_pod_template(TD, region=REGION).template
    deployment, _ = task_sets.task_set_deployment(
        template,
        service_spec,
        task_set,
        owner=OWNER,
        namespace="ns-1",
        task_definition=TD,
        status=status,
        updated_at=NOW,
        **WHERE,
    )
    return deployment


@given(st.integers(0, 10_000), st.floats(0, 100, allow_nan=False))
def test_computed_desired_count_is_the_share_rounded_up(desired: int, percent: float) -> None:
    count = task_sets.computed_desired_count(desired, {"value": percent, "unit": "PERCENT"})
    assert 0 <= count <= desired
    exact = desired * percent / 100
    assert count >= exact - 1e-6 and count < exact + 1
    assert count == math.ceil(round(exact, 6))
    more = task_sets.computed_desired_count(desired, {"value": min(percent + 1, 100)})
    assert more >= count  # monotone in the scale


def test_computed_desired_count_edges() -> None:
    assert task_sets.computed_desired_count(3, {"value": 100.0}) == 3
    assert task_sets.computed_desired_count(3, {"value": 0.0}) == 0
    assert task_sets.computed_desired_count(3, None) == 0
    assert task_sets.computed_desired_count(3, {"value": 33.3333333}) == 1  # noise, not a task
    assert task_sets.computed_desired_count(1, {"value": 0.1}) == 1


@EXAMPLES
@given(ecs_names, st.floats(0, 100, allow_nan=False), st.sampled_from(["ACTIVE", "DRAINING"]))
def test_records_and_task_set_deployments_are_legal(name: str, percent: float, status: str) -> None:
    record = task_sets.service_record(spec(name), namespace="ns-1", **WHERE)
    validate_strict(record)
    assert k8s_grammar.is_dns1123_label(record["metadata"]["name"])
    set_id = task_sets.new_id(name)
    deployment = build(
        spec(name),
        {
            "id": set_id,
            "taskDefinition": TD["taskDefinitionArn"],
            "scale": {"value": percent, "unit": "PERCENT"},
        },
        status,
    )
    validate_strict(deployment)
    meta = deployment["metadata"]
    assert k8s_grammar.is_dns1123_label(meta["name"])
    assert meta["labels"][labels.RESOURCE] == task_sets.RESOURCE
    assert meta["labels"][labels.SERVICE] == names.label_value(name)
    for value in meta["labels"].values():
        assert k8s_grammar.is_label_value(value)
    wanted = 0 if status == "DRAINING" else task_sets.computed_desired_count(4, {"value": percent})
    assert deployment["spec"]["replicas"] == wanted
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(pod_labels[k] == v for k, v in selector.items())
    assert task_sets.task_set_of(deployment)["id"] == set_id


@EXAMPLES
@given(
    st.lists(
        st.text("abcdef0123456789", min_size=4, max_size=8), min_size=2, max_size=6, unique=True
    )
)
def test_task_set_names_and_selectors_are_distinct(seeds: list[str]) -> None:
    ids = [task_sets.new_id(seed) for seed in seeds]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("ecs-svc/") and len(i) == 27 for i in ids)
    deployments = [
        build(spec(), {"id": i, "taskDefinition": TD["taskDefinitionArn"], "scale": {"value": 50}})
        for i in ids
    ]
    assert len({d["metadata"]["name"] for d in deployments}) == len(ids)
    selectors = [tuple(sorted(d["spec"]["selector"]["matchLabels"].items())) for d in deployments]
    assert len(set(selectors)) == len(ids)
    assert build(spec(), {"id": ids[0], "taskDefinition": "x", "scale": {}}) != deployments[0]


def test_the_primary_service_selects_only_the_primary_tasks() -> None:
    set_id = task_sets.new_id("a")
    service = task_sets.primary_service(
        spec(), set_id, namespace="ns-1", task_definition=TD, **WHERE
    )
    assert service is not None
    validate_strict(service)
    deployment = build(spec(), {"id": set_id, "taskDefinition": "x", "scale": {"value": 1}})
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    no_ports = simple_td({"name": "w", "image": "busybox"})
    assert (
        task_sets.primary_service(spec(), set_id, namespace="n", task_definition=no_ports, **WHERE)
        is None
    )


def test_task_set_reads_back_from_its_deployment() -> None:
    set_id = task_sets.new_id("b")
    deployment = build(
        spec(),
        {
            "id": set_id,
            "taskDefinition": TD["taskDefinitionArn"],
            "scale": {"value": 50.0, "unit": "PERCENT"},
            "externalId": "blue",
            "launchType": "FARGATE",
        },
    )
    deployment["metadata"].update(creationTimestamp="2024-01-01T00:00:00Z", generation=1)
    deployment["status"] = {"observedGeneration": 1}
    task_set = task_set_status.to_task_set(deployment, [], now=NOW, **WHERE)
    assert task_set["id"] == set_id and task_set["externalId"] == "blue"
    assert task_set["taskSetArn"].endswith(f":task-set/{WHERE['cluster_name']}/web/{set_id}")
    assert task_set["computedDesiredCount"] == 2
    assert task_set["stabilityStatus"] == "STABILIZING"  # no task runs yet
    assert (task_set["launchType"], task_set["platformVersion"]) == ("FARGATE", "LATEST")
    deployment["spec"]["replicas"] = 0
    steady = task_set_status.to_task_set(deployment, [], now=NOW, **WHERE)
    assert steady["stabilityStatus"] == "STEADY_STATE"
    record = task_sets.service_record(spec(), namespace="ns-1", **WHERE)
    service = task_set_status.external_service(record, [deployment], [], now=NOW, **WHERE)
    assert service["taskSets"] == [steady]
    assert service["deploymentController"] == {"type": "EXTERNAL"}
    assert (service["desiredCount"], service["runningCount"]) == (4, 0)
