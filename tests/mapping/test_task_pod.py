"""Standalone task -> Pod: schema, labels, annotations, overrides."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.mapping import labels, names, task_keys
from kecs.mapping.errors import MappingError
from kecs.mapping.overrides import overridden_task_definition
from kecs.mapping.task_pod import task_pod
from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import validate_strict
from tests.mapping.k8s_checks import problems
from tests.strategies import env_names, shellish
from tests.strategies_k8s import REGION, WHERE, described, simple_td, task_definition_examples

EXAMPLES = settings(
    max_examples=50, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "taskdefs"


def make(td: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    template = to_pod_template(td, region=REGION).template
    return task_pod(
        template, name="task-1", namespace="ns-1", task_definition=td, **WHERE, **kwargs
    )


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == name)


def assert_legal(pod: dict[str, Any]) -> None:
    validate_strict(pod)
    assert problems({"metadata": pod["metadata"], "spec": pod["spec"]}) == []
    for key, value in pod["metadata"]["labels"].items():
        assert k8s_grammar.is_qualified_name(key) and k8s_grammar.is_label_value(value)


@st.composite
def overrides_for(draw: st.DrawFn, td: dict[str, Any]) -> dict[str, Any]:
    names_ = [c["name"] for c in td["containerDefinitions"]]
    chosen = draw(st.lists(st.sampled_from(names_), unique=True, max_size=len(names_)))
    result: dict[str, Any] = {"containerOverrides": []}
    for name in chosen:
        override: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            override["command"] = draw(st.lists(shellish, min_size=1, max_size=3))
        if draw(st.booleans()):
            override["environment"] = draw(
                st.lists(st.fixed_dictionaries({"name": env_names, "value": shellish}), max_size=3)
            )
        for key in ("cpu", "memory", "memoryReservation"):
            if draw(st.booleans()):
                override[key] = draw(st.integers(0 if key == "cpu" else 6, 4096))
        result["containerOverrides"].append(override)
    if draw(st.booleans()):
        result["cpu"] = draw(st.sampled_from(["256", "1024", "2 vCPU"]))
    if draw(st.booleans()):
        result["memory"] = draw(st.sampled_from(["512", "2048", "4GB"]))
    if draw(st.booleans()):
        result["ephemeralStorage"] = {"sizeInGiB": draw(st.integers(21, 200))}
    return result


@EXAMPLES
@given(st.data())
def test_any_task_definition_and_overrides_give_a_legal_deterministic_pod(data: Any) -> None:
    td = data.draw(task_definition_examples())
    overrides = data.draw(overrides_for(td))
    template = to_pod_template(td, region=REGION).template
    frozen = copy.deepcopy(template)
    kwargs: dict[str, Any] = {
        "overrides": overrides,
        "started_by": data.draw(st.one_of(st.none(), st.text(max_size=40))),
        "group": data.draw(st.one_of(st.none(), st.text(min_size=1, max_size=40))),
        "launch_type": data.draw(st.sampled_from([None, "EC2", "FARGATE"])),
        "tags": [{"key": "k", "value": "v"}],
    }
    pod = task_pod(template, name="t", namespace="n", task_definition=td, **WHERE, **kwargs)
    assert_legal(pod)
    assert template == frozen  # the stored template is never changed
    assert pod == task_pod(template, name="t", namespace="n", task_definition=td, **WHERE, **kwargs)
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["finalizers"] == [labels.TASK_RECORD_FINALIZER]
    assert json.loads(pod["metadata"]["annotations"][task_keys.OVERRIDES]) == overrides


def test_labels_annotations_and_finalizer() -> None:
    td = simple_td()
    pod = make(
        td,
        started_by="ci/deploy job",
        group="batch",
        launch_type="FARGATE",
        capacity_provider="FARGATE_SPOT",
        tags=[{"key": "team", "value": "a"}],
        client_token="tok-1",
        enable_execute_command=True,
        network_configuration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
        platform_version="1.4.0",
    )
    assert_legal(pod)
    meta = pod["metadata"]
    assert (meta["name"], meta["namespace"]) == ("task-1", "ns-1")
    assert meta["labels"] == {
        labels.FAMILY: "web",
        labels.MANAGED_BY: "kecs",
        labels.RESOURCE: "task",
        labels.ACCOUNT: "000000000000",
        labels.REGION: "us-east-1",
        labels.CLUSTER: "default",
        labels.REVISION: "1",
        labels.STARTED_BY: names.label_value("ci/deploy job"),
        labels.GROUP: "batch",
        labels.LAUNCH_TYPE: "FARGATE",
        labels.CAPACITY_PROVIDER: "FARGATE_SPOT",
    }
    ann = meta["annotations"]
    assert ann[task_keys.STARTED_BY] == "ci/deploy job"
    assert ann[task_keys.GROUP] == "batch"
    assert ann[task_keys.TASK_DEFINITION_ARN] == td["taskDefinitionArn"]
    assert json.loads(ann[task_keys.TAGS]) == [{"key": "team", "value": "a"}]
    assert ann[task_keys.CLIENT_TOKEN] == "tok-1"
    assert ann[task_keys.ENABLE_EXECUTE_COMMAND] == "true"
    assert json.loads(ann[task_keys.NETWORK_CONFIGURATION])["awsvpcConfiguration"]["subnets"] == [
        "subnet-1"
    ]
    assert meta["finalizers"] == ["kecs.dev/task-record"]
    assert pod["spec"]["restartPolicy"] == "Never"


def test_default_group_is_the_family() -> None:
    pod = make(simple_td())
    assert pod["metadata"]["annotations"][task_keys.GROUP] == "family:web"
    assert task_keys.OVERRIDES not in pod["metadata"]["annotations"]


TD = simple_td(
    {
        "name": "app",
        "image": "nginx",
        "command": ["serve"],
        "environment": [{"name": "A", "value": "1"}, {"name": "KEEP", "value": "k"}],
        "secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/s"}],
        "cpu": 256,
        "memory": 512,
    },
    {"name": "side", "image": "busybox"},
)


def test_command_and_environment_overrides() -> None:
    overrides = {
        "containerOverrides": [
            {
                "name": "app",
                "command": ["echo", "$(HOME)"],
                "environment": [
                    {"name": "A", "value": "2"},
                    {"name": "B", "value": "3"},
                    {"name": "S", "value": "plain"},
                ],
                "environmentFiles": [{"value": "arn:aws:s3:::b/f.env", "type": "s3"}],
            }
        ]
    }
    pod = make(TD, overrides=overrides)
    assert_legal(pod)
    app = container(pod, "app")
    assert app["args"] == ["echo", "$$(HOME)"]  # Docker passes $(HOME) verbatim
    assert app["env"] == [
        {"name": "A", "value": "2"},
        {"name": "KEEP", "value": "k"},
        {"name": "B", "value": "3"},
        {"name": "S", "value": "plain"},
    ]
    notes = json.loads(pod["metadata"]["annotations"][task_keys.NOTES])
    assert any("environmentFiles" in n for n in notes)
    assert container(pod, "side") == container(make(TD), "side")


def test_resource_overrides() -> None:
    overrides = {
        "containerOverrides": [
            {
                "name": "app",
                "cpu": 1024,
                "memory": 1024,
                "memoryReservation": 256,
                "resourceRequirements": [{"type": "GPU", "value": "1"}],
            }
        ]
    }
    app = container(make(TD, overrides=overrides), "app")
    assert app["resources"]["requests"] == {"cpu": "1", "memory": "256Mi"}
    assert app["resources"]["limits"] == {"memory": "1024Mi", "nvidia.com/gpu": "1"}


def test_task_level_overrides() -> None:
    overrides = {
        "cpu": "1024",
        "memory": "2048",
        "taskRoleArn": "arn:aws:iam::000000000000:role/other",
        "executionRoleArn": "arn:aws:iam::000000000000:role/exec2",
        "ephemeralStorage": {"sizeInGiB": 50},
    }
    pod = make(TD, overrides=overrides)
    assert_legal(pod)
    ann = pod["metadata"]["annotations"]
    assert (ann[task_keys.TASK_CPU], ann[task_keys.TASK_MEMORY]) == ("1024", "2048")
    assert ann[task_keys.TASK_ROLE_ARN] == "arn:aws:iam::000000000000:role/other"
    assert ann[task_keys.EXECUTION_ROLE_ARN] == "arn:aws:iam::000000000000:role/exec2"
    assert ann[task_keys.EPHEMERAL_STORAGE] == "50"
    side = container(pod, "side")  # the container without its own cpu gets the rest of the task
    assert side["resources"]["requests"]["cpu"] == "750m"
    assert side["resources"]["limits"]["ephemeral-storage"] == "25600Mi"


def test_unknown_container_override_is_refused_with_ecs_wording() -> None:
    with pytest.raises(MappingError) as raised:
        make(TD, overrides={"containerOverrides": [{"name": "nope", "command": ["x"]}]})
    assert str(raised.value) == (
        "Override for container named nope is not a container in the TaskDefinition."
    )
    assert isinstance(raised.value, ValueError)


def test_overridden_task_definition_leaves_the_input_alone() -> None:
    frozen = copy.deepcopy(TD)
    result = overridden_task_definition(TD, {"containerOverrides": [{"name": "app", "cpu": 0}]})
    assert frozen == TD
    assert result["containerDefinitions"][0]["cpu"] == 0


def _corpus() -> list[Path]:
    return sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not _corpus(), reason="task definition corpus not present")
def test_every_corpus_task_definition_runs_as_a_legal_pod() -> None:
    count = 0
    for path in _corpus():
        try:
            body = json.loads(path.read_text())
        except ValueError:
            continue
        body = body.get("taskDefinition", body) if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("containerDefinitions"), list):
            continue
        if not all(isinstance(c, dict) for c in body["containerDefinitions"]):
            continue
        td = described({**body, "family": str(body.get("family") or "corpus")})
        pod = make(td, launch_type="EC2")
        validate_strict(pod)
        count += 1
    assert count > 50
