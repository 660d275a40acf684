"""Properties of the task definition -> pod template mapping, over generated inputs."""

from __future__ import annotations

import copy
import json
from typing import Any

import botocore.session
import botocore.validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs.mapping import labels
from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import as_pod, as_pod_template, validate_strict
from tests.mapping.k8s_checks import problems
from tests.strategies import botocore_shaped, task_definitions

EXAMPLES = settings(
    max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _validator() -> Any:
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    validator = botocore.validate.ParamValidator()
    return lambda params: validator.validate(params, shape)


_VALIDATE = _validator()


def assert_valid_output(td: dict[str, Any]) -> None:
    mapping = to_pod_template(td)
    template = mapping.template
    validate_strict(as_pod_template(template))
    validate_strict(as_pod(template))
    assert problems(template) == []
    json.dumps(template)  # JSON-ready
    for note in mapping.notes:
        assert str(note) == f"{note.path}: {note.message}"


@EXAMPLES
@given(task_definitions())
def test_valid_task_definitions_map_to_valid_objects(td: dict[str, Any]) -> None:
    assert not _VALIDATE(td).has_errors(), _VALIDATE(td).generate_report()
    assert_valid_output(td)


@EXAMPLES
@given(botocore_shaped())
def test_total_on_anything_botocore_accepts(td: dict[str, Any]) -> None:
    assert not _VALIDATE(td).has_errors(), _VALIDATE(td).generate_report()
    assert_valid_output(td)


@settings(max_examples=40)
@given(task_definitions())
def test_deterministic_and_input_untouched(td: dict[str, Any]) -> None:
    before = copy.deepcopy(td)
    first = to_pod_template(td)
    assert td == before
    again = to_pod_template(json.loads(json.dumps(td)))
    assert first == again
    assert json.dumps(first.template) == json.dumps(again.template)


@settings(max_examples=40)
@given(task_definitions())
def test_container_names_injective_and_recorded(td: dict[str, Any]) -> None:
    template = to_pod_template(td).template
    spec = template["spec"]
    k8s_names = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
    ecs_names = [c["name"] for c in td["containerDefinitions"]]
    assert len(set(k8s_names)) == len(ecs_names)
    recorded = json.loads(template["metadata"]["annotations"][labels.ANN_CONTAINER_NAMES])
    assert sorted(recorded.values()) == sorted(ecs_names)
    assert sorted(recorded) == sorted(k8s_names)


@settings(max_examples=40)
@given(st.lists(st.text(min_size=0, max_size=70), min_size=1, max_size=12))
def test_any_container_names_stay_distinct(ecs_names: list[str]) -> None:
    td = {"family": "f", "containerDefinitions": [{"name": n, "image": "x"} for n in ecs_names]}
    spec = to_pod_template(td).template["spec"]
    k8s_names = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
    assert len(set(k8s_names)) == len(k8s_names) == len(ecs_names)


@pytest.mark.parametrize("depth", [50, 2000])
def test_long_dependency_and_volumes_from_chains_do_not_recurse(depth: int) -> None:
    containers = [
        {
            "name": f"c{i}",
            "image": "x",
            "essential": i == depth - 1,
            "dependsOn": [{"containerName": f"c{i - 1}", "condition": "START"}] if i else [],
            "volumesFrom": [{"sourceContainer": f"c{i - 1}"}] if i else [],
        }
        for i in range(depth)
    ]
    mapping = to_pod_template({"family": "f", "containerDefinitions": containers})
    assert len(mapping.template["spec"]["initContainers"]) == depth - 1


@EXAMPLES
@given(botocore_shaped(colliding=True))
def test_total_when_references_collide(td: dict[str, Any]) -> None:
    assert not _VALIDATE(td).has_errors(), _VALIDATE(td).generate_report()
    assert_valid_output(td)


def test_probes_never_share_dicts() -> None:
    """Readiness, liveness and startup probes are separate objects (callers edit them)."""
    from kecs.mapping.taskdef import to_pod_template

    td = {
        "family": "f",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx",
                "memory": 64,
                "healthCheck": {"command": ["CMD-SHELL", "true"]},
            },
            {
                "name": "app",
                "image": "nginx",
                "memory": 64,
                "dependsOn": [{"containerName": "web", "condition": "HEALTHY"}],
            },
        ],
    }
    template = to_pod_template(td).template
    containers = template["spec"]["containers"] + template["spec"].get("initContainers", [])
    probes = [
        c[k]
        for c in containers
        for k in ("readinessProbe", "livenessProbe", "startupProbe")
        if k in c
    ]
    assert len(probes) >= 2
    assert len({id(p) for p in probes}) == len(probes)
    assert len({id(p["exec"]) for p in probes}) == len(probes)


def _containers(value: Any, found: list[int]) -> list[int]:
    """The ids of every dict and list in ``value`` (each occurrence once)."""
    if isinstance(value, dict):
        found.append(id(value))
        for item in value.values():
            _containers(item, found)
    elif isinstance(value, list):
        found.append(id(value))
        for item in value:
            _containers(item, found)
    return found


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(task_definitions(), botocore_shaped()))
def test_the_template_is_all_new_dicts_and_lists(td: dict[str, Any]) -> None:
    """RegisterTaskDefinition hands the template over to the backend, which stores it as it
    is: it must share no dict or list with the task definition (returned and remembered) nor
    repeat one inside itself."""
    template = to_pod_template(td).template
    inside = _containers(template, [])
    assert len(set(inside)) == len(inside)
    assert not set(inside) & set(_containers(td, []))
