"""Operations with no Kubernetes counterpart answer UnsupportedFeatureException saying why."""

from __future__ import annotations

import re
from typing import Any

import pytest

import kecs
from kecs.api import service_model
from kecs.mapping import cluster as cluster_mapping
from kecs.operations import unsupported
from kecs.operations.registry import unsupported_reasons

REGION, ACCOUNT = "us-east-1", "000000000000"
#: Values for required members by their (shape) type, enough for botocore to send the call.
_SAMPLES: dict[str, Any] = {"string": "x", "boolean": True, "integer": 1, "list": [], "map": {}}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _sample(shape: Any) -> Any:
    """The smallest value of ``shape`` botocore accepts (required members, one union member)."""
    if shape.type_name != "structure":
        return _SAMPLES[shape.type_name]
    wanted = list(shape.required_members)
    if shape.is_tagged_union and not wanted:
        wanted = list(shape.members)[:1]
    return {member: _sample(shape.members[member]) for member in wanted}


def _required(operation: str) -> dict[str, Any]:
    shape = service_model.operation_model(operation).input_shape
    return _sample(shape) if shape is not None else {}


@pytest.fixture
def ecs() -> Any:
    return kecs.client("ecs", region_name=REGION, backend=kecs.MemoryBackend())


REFUSED = sorted(unsupported_reasons())


def test_the_refused_operations_are_the_agent_gateway_and_exec_ones() -> None:
    expected = {
        *unsupported.AGENT_ONLY,
        *unsupported.EXPRESS_GATEWAY,
        *unsupported.GATEWAY,
        "ExecuteCommand",
    }
    assert set(REFUSED) == expected
    assert len(expected) == 21


@pytest.mark.parametrize("operation", [op for op in REFUSED if op != "ExecuteCommand"])
def test_each_answers_with_its_own_reason(ecs: Any, operation: str) -> None:
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException) as caught:
        getattr(ecs, _snake(operation))(**_required(operation))
    message = caught.value.response["Error"]["Message"]
    assert message == unsupported_reasons()[operation]
    assert operation in message


def test_agent_only_operations_point_at_the_kubelet(ecs: Any) -> None:
    for operation in unsupported.AGENT_ONLY:
        reason = unsupported_reasons()[operation]
        assert "called by the ECS container agent" in reason
        assert "kubelet" in reason


def test_gateways_point_at_create_service_with_load_balancers() -> None:
    for operation in [*unsupported.EXPRESS_GATEWAY, *unsupported.GATEWAY]:
        reason = unsupported_reasons()[operation]
        assert "CreateService with loadBalancers" in reason
        assert "Ingress" in reason


def test_execute_command_names_the_pod_and_container(ecs: Any) -> None:
    ecs.create_cluster()
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[
            {"name": "App_1", "image": "nginx", "memory": 64},
            {"name": "side", "image": "busybox", "memory": 64, "essential": False},
        ],
    )
    task = ecs.run_task(taskDefinition="web")["tasks"][0]
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException) as caught:
        ecs.execute_command(
            task=task["taskArn"], container="App_1", command="ls -l '/a b'", interactive=True
        )
    message = caught.value.response["Error"]["Message"]
    assert message.startswith(unsupported.EXECUTE_COMMAND)
    namespace = cluster_mapping.namespace_name(ACCOUNT, REGION, "default")
    match = re.search(r"kubectl exec -it -n (\S+) (\S+) -c (\S+) -- (.*)$", message)
    assert match is not None, message
    assert match.group(1) == namespace
    assert match.group(3) != "App_1"  # the Kubernetes name of the ECS container App_1
    assert match.group(4) == "ls -l '/a b'"
    task_id = task["taskArn"].rsplit("/", 1)[1]
    with pytest.raises(ecs.exceptions.UnsupportedFeatureException) as caught:
        ecs.execute_command(task=task_id, container="side", command="sh", interactive=False)
    assert "kubectl exec -n " in caught.value.response["Error"]["Message"]
    assert caught.value.response["Error"]["Message"].endswith("-c side -- sh")


def test_execute_command_refusals(ecs: Any) -> None:
    ecs.create_cluster()
    ecs.register_task_definition(
        family="two",
        containerDefinitions=[
            {"name": "a", "image": "nginx", "memory": 64},
            {"name": "b", "image": "nginx", "memory": 64},
        ],
    )
    task = ecs.run_task(taskDefinition="two")["tasks"][0]["taskArn"]
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="specify the container"):
        ecs.execute_command(task=task, command="sh", interactive=True)
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="not found"):
        ecs.execute_command(task=task, container="c", command="sh", interactive=True)
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="task was not found"):
        ecs.execute_command(task="0" * 32, command="sh", interactive=True)
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.execute_command(cluster="nope", task=task, command="sh", interactive=True)
