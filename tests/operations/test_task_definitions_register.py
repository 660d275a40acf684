"""RegisterTaskDefinition through the botocore client: AWS's validation and returned shape."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

import kecs
from kecs.api import service_model
from kecs.backends.base import Backend
from kecs.operations.context import RequestContext
from kecs.operations.registry import handler_for
from tests import targets

EC2: dict[str, Any] = {
    "family": "web",
    "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memory": 128}],
}
FARGATE: dict[str, Any] = {
    "family": "web",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::000000000000:role/exec",
    "containerDefinitions": [{"name": "app", "image": "nginx"}],
}


# Runs on every backend target: embedded, over HTTP, and a real cluster (tests/targets.py).
pytestmark = targets.ALL


@pytest.fixture
def ecs(backend: Backend) -> Any:
    return kecs.client("ecs", backend=backend)


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "nginx", "memory": 128, **fields}


def refused(ecs: Any, params: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        ecs.register_task_definition(**params)
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


CLIENT_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("blank family", with_(EC2, family=""), "Family can not be blank."),
    ("family chars", with_(EC2, family="my web"), "Family contains invalid characters."),
    ("family dot", with_(EC2, family="web.v2"), "Family contains invalid characters."),
    ("family length", with_(EC2, family="f" * 256), "Family must be at most 255 characters long."),
    ("no containers", with_(EC2, containerDefinitions=[]), "Container list cannot be empty."),
    (
        "eleven containers",
        with_(EC2, containerDefinitions=[container(name=f"c{i}") for i in range(11)]),
        "Too many containers.",
    ),
    (
        "container without name",
        with_(EC2, containerDefinitions=[{"image": "nginx", "memory": 128}]),
        "Container.name should not be null or empty.",
    ),
    (
        "container name chars",
        with_(EC2, containerDefinitions=[container(name="my app")]),
        "Container.name contains invalid characters.",
    ),
    (
        "duplicate container names",
        with_(EC2, containerDefinitions=[container(), container()]),
        "Duplicate container name 'app'. Container names must be unique within a task definition.",
    ),
    (
        "no image",
        with_(EC2, containerDefinitions=[{"name": "app", "memory": 128}]),
        "Container.image should not be null or empty.",
    ),
    (
        "empty image",
        with_(EC2, containerDefinitions=[container(image="")]),
        "Container.image should not be null or empty.",
    ),
    (
        "placeholder image",
        with_(EC2, containerDefinitions=[container(image="<IMAGE1_NAME>")]),
        "Container.image contains invalid characters.",
    ),
    (
        "no memory on EC2",
        with_(EC2, containerDefinitions=[{"name": "app", "image": "nginx"}]),
        "Invalid setting for container 'app'. At least one of 'memory' or "
        "'memoryReservation' must be specified.",
    ),
    (
        "tiny memory",
        with_(EC2, containerDefinitions=[container(memory=4)]),
        "Invalid 'memory' setting for container 'app'. The minimum is 6 MiB.",
    ),
    (
        "tiny reservation",
        with_(EC2, containerDefinitions=[container(memory=None, memoryReservation=5)]),
        "Invalid 'memoryReservation' setting for container 'app'. The minimum is 6 MiB.",
    ),
    (
        "reservation above memory",
        with_(EC2, containerDefinitions=[container(memory=128, memoryReservation=256)]),
        "Invalid 'memoryReservation' setting for container 'app'. 'memoryReservation' must "
        "be less than or equal to 'memory'.",
    ),
    (
        "container memory above task memory",
        with_(EC2, memory="512", containerDefinitions=[container(memory=1024)]),
        "The 'memory' setting for container 'app' is greater than for the task.",
    ),
    (
        "reservations above task memory",
        with_(
            EC2,
            memory="512",
            containerDefinitions=[
                container(name="a", memory=None, memoryReservation=300),
                container(name="b", memory=None, memoryReservation=300),
            ],
        ),
        "The sum of all container 'memoryReservation' values cannot be greater than the "
        "value of the task 'memory'.",
    ),
    (
        "container cpu above task cpu",
        with_(EC2, cpu="256", containerDefinitions=[container(cpu=512)]),
        "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.",
    ),
    (
        "no essential container",
        with_(EC2, containerDefinitions=[container(essential=False)]),
        "Task definition must have at least one essential container.",
    ),
    (
        "unknown network mode",
        with_(EC2, networkMode="overlay"),
        "Invalid networkMode 'overlay'. Valid values are bridge, host, awsvpc, none.",
    ),
    ("task role template", with_(EC2, taskRoleArn="{{task-role-arn}}"), "Role is not valid"),
    (
        "role ARN with a non-numeric account",
        with_(EC2, taskRoleArn="arn:aws:iam::ACCOUNT_ID:role/app"),
        "Role is not valid",
    ),
    (
        "execution role placeholder",
        with_(EC2, executionRoleArn="arn:aws:iam::${ACCOUNT}:role/x"),
        "Role is not valid",
    ),
    (
        "unknown compatibility",
        with_(EC2, requiresCompatibilities=["MARS"]),
        "Invalid requiresCompatibilities value 'MARS'. Valid values are EC2, FARGATE, "
        "EXTERNAL, MANAGED_INSTANCES.",
    ),
    (
        "cpu words",
        with_(EC2, cpu="lots"),
        "Invalid 'cpu' setting for task: 'lots'. Specify CPU units (for example '1024') or "
        "vCPUs (for example '1 vCPU').",
    ),
    (
        "fractional cpu units",
        with_(EC2, cpu="1024.5"),
        "Invalid 'cpu' setting for task: '1024.5'. Specify CPU units (for example '1024') or "
        "vCPUs (for example '1 vCPU').",
    ),
    (
        "memory words",
        with_(EC2, memory="2 TB"),
        "Invalid 'memory' setting for task: '2 TB'. Specify MiB (for example '2048') or GB "
        "(for example '2GB').",
    ),
    (
        "EC2 task cpu too small",
        with_(EC2, cpu="64"),
        "Invalid 'cpu' setting for task. The task cpu must be between 128 and 196608 CPU units.",
    ),
    (
        "Fargate bridge",
        with_(FARGATE, networkMode="bridge"),
        "Fargate only supports network mode \u2018awsvpc\u2019.",
    ),
    (
        "Fargate default network mode",
        {k: v for k, v in FARGATE.items() if k != "networkMode"},
        "Fargate only supports network mode \u2018awsvpc\u2019.",
    ),
    (
        "Fargate without cpu",
        {k: v for k, v in FARGATE.items() if k != "cpu"},
        "Fargate requires that 'cpu' be defined at the task level.",
    ),
    (
        "Fargate without memory",
        {k: v for k, v in FARGATE.items() if k != "memory"},
        "Fargate requires that 'memory' be defined at the task level.",
    ),
    (
        "Fargate 512/512",
        with_(FARGATE, cpu="512", memory="512"),
        "No Fargate configuration exists for given values: 512 CPU, 512 memory. See the "
        "Amazon ECS documentation for the valid values.",
    ),
    (
        "Fargate 256/4096",
        with_(FARGATE, cpu="256", memory="4096"),
        "No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the "
        "Amazon ECS documentation for the valid values.",
    ),
    (
        "Fargate 8192 off-step",
        with_(FARGATE, cpu="8192", memory="17408"),
        "No Fargate configuration exists for given values: 8192 CPU, 17408 memory. See the "
        "Amazon ECS documentation for the valid values.",
    ),
    (
        "Fargate ipcMode",
        with_(FARGATE, ipcMode="host"),
        "Tasks using the Fargate launch type do not support ipcMode.",
    ),
    (
        "Fargate awslogs without execution role",
        with_(
            {k: v for k, v in FARGATE.items() if k != "executionRoleArn"},
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "nginx",
                    "logConfiguration": {"logDriver": "awslogs", "options": {}},
                }
            ],
        ),
        "Fargate requires task definition to have execution role ARN to support log driver "
        "awslogs.",
    ),
    (
        "awsvpc host port differs",
        with_(
            EC2,
            networkMode="awsvpc",
            containerDefinitions=[
                container(portMappings=[{"containerPort": 80, "hostPort": 8080}])
            ],
        ),
        "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
    ),
    (
        "host mode host port differs",
        with_(
            EC2,
            networkMode="host",
            containerDefinitions=[container(portMappings=[{"containerPort": 80, "hostPort": 81}])],
        ),
        "When networkMode=host, the host ports and container ports in port mappings must match.",
    ),
    (
        "awsvpc hostname",
        with_(EC2, networkMode="awsvpc", containerDefinitions=[container(hostname="box")]),
        "hostname is not supported on container when networkMode=awsvpc.",
    ),
    (
        "awsvpc links",
        with_(
            EC2,
            networkMode="awsvpc",
            containerDefinitions=[container(links=["db"]), container(name="db")],
        ),
        "Links are not supported when networkMode=awsvpc.",
    ),
    (
        "link to nobody",
        with_(EC2, containerDefinitions=[container(links=["db:database"])]),
        "Invalid 'links' setting for container 'app': container 'db' does not exist in the "
        "task definition.",
    ),
    (
        "dependsOn nobody",
        with_(
            EC2,
            containerDefinitions=[
                container(dependsOn=[{"containerName": "db", "condition": "START"}])
            ],
        ),
        "Invalid 'dependsOn' setting for container 'app': container 'db' does not exist in "
        "the task definition.",
    ),
    (
        "volumesFrom nobody",
        with_(EC2, containerDefinitions=[container(volumesFrom=[{"sourceContainer": "data"}])]),
        "Invalid 'volumesFrom' setting for container 'app': container 'data' does not exist "
        "in the task definition.",
    ),
    (
        "mount of undeclared volume",
        with_(
            EC2,
            containerDefinitions=[
                container(mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}])
            ],
        ),
        "Invalid 'mountPoints' setting for container 'app': volume 'data' is not declared in "
        "the task definition's volumes.",
    ),
    (
        "duplicate volumes",
        with_(EC2, volumes=[{"name": "data"}, {"name": "data"}]),
        "Duplicate volume name 'data'. Volume names must be unique.",
    ),
    (
        "volume without name",
        with_(EC2, volumes=[{"host": {"sourcePath": "/x"}}]),
        "Volume.name should not be null or empty.",
    ),
    (
        "port mapping without port",
        with_(EC2, containerDefinitions=[container(portMappings=[{"protocol": "tcp"}])]),
        "Invalid 'portMappings' setting for container 'app': containerPort or "
        "containerPortRange must be specified.",
    ),
    (
        "port out of range",
        with_(EC2, containerDefinitions=[container(portMappings=[{"containerPort": 70000}])]),
        "Invalid 'portMappings' setting for container 'app': port 70000 is outside 0-65535.",
    ),
    (
        "unknown protocol",
        with_(
            EC2,
            containerDefinitions=[
                container(portMappings=[{"containerPort": 80, "protocol": "sctp"}])
            ],
        ),
        "Invalid 'portMappings' setting for container 'app': protocol 'sctp' must be tcp or udp.",
    ),
]


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    for c in params.get("containerDefinitions", []):
        for key in [k for k, v in c.items() if v is None]:
            del c[key]
    return params


@pytest.mark.parametrize(
    ("params", "message"),
    [pytest.param(_drop_none(p), m, id=case) for case, p, m in CLIENT_ERRORS],
)
def test_refusals_are_client_exceptions_with_aws_wording(
    ecs: Any, params: dict[str, Any], message: str
) -> None:
    assert refused(ecs, params) == ("ClientException", message)


def test_refusal_is_the_modelled_exception_class(ecs: Any) -> None:
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.register_task_definition(**with_(EC2, family="bad family"))


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([{"key": "aws:owner", "value": "x"}], "reserved for AWS use"),
        ([{"key": "k" * 129, "value": "x"}], "Tag key must be between 1 and 128 characters."),
        ([{"key": f"k{i}", "value": "v"} for i in range(51)], "at most 50 tags"),
    ],
)
def test_bad_tags_are_invalid_parameter(ecs: Any, tags: list[dict[str, str]], message: str) -> None:
    code, text = refused(ecs, with_(EC2, tags=tags))
    assert code == "InvalidParameterException"
    assert message in text


def test_refused_registration_allocates_no_revision(ecs: Any) -> None:
    refused(ecs, with_(EC2, cpu="lots"))
    assert ecs.register_task_definition(**EC2)["taskDefinition"]["revision"] == 1


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        ("1024", "2048", ("1024", "2048")),
        ("1 vCPU", "2GB", ("1024", "2048")),
        ("1vCPU", "2 GB", ("1024", "2048")),
        ("0.25 vcpu", "0.5GB", ("256", "512")),
        (".25 vcpu", "1 gb", ("256", "1024")),
        (" 2 VCPU ", "4096", ("2048", "4096")),
    ],
)
def test_task_cpu_and_memory_are_normalised_to_units(
    ecs: Any, cpu: str, memory: str, expected: tuple[str, str]
) -> None:
    td = ecs.register_task_definition(**with_(FARGATE, cpu=cpu, memory=memory))["taskDefinition"]
    assert (td["cpu"], td["memory"]) == expected
    assert "FARGATE" in td["compatibilities"]


@pytest.mark.parametrize(
    ("cpu", "memories"),
    [
        (256, [512, 1024, 2048]),
        (512, [1024, 2048, 3072, 4096]),
        (1024, [2048, 8192]),
        (2048, [4096, 16384]),
        (4096, [8192, 30720]),
        (8192, [16384, 20480, 61440]),
        (16384, [32768, 40960, 122880]),
    ],
)
def test_every_fargate_size_boundary_registers(ecs: Any, cpu: int, memories: list[int]) -> None:
    for memory in memories:
        ecs.register_task_definition(**with_(FARGATE, cpu=str(cpu), memory=str(memory)))


def test_fargate_accepts_container_memory_from_the_task(ecs: Any) -> None:
    td = ecs.register_task_definition(**FARGATE)["taskDefinition"]
    assert "memory" not in td["containerDefinitions"][0]


def test_registered_definition_has_aws_defaults(ecs: Any) -> None:
    params = with_(
        EC2,
        containerDefinitions=[
            container(
                portMappings=[{"containerPort": 80}, {"containerPort": 53, "protocol": "udp"}]
            )
        ],
    )
    td = ecs.register_task_definition(**params)["taskDefinition"]
    assert td["taskDefinitionArn"] == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"
    assert td["family"] == "web"
    assert td["revision"] == 1
    assert td["status"] == "ACTIVE"
    assert td["registeredBy"] == "arn:aws:iam::000000000000:root"
    assert isinstance(td["registeredAt"], datetime.datetime)
    assert td["volumes"] == []
    assert td["placementConstraints"] == []
    assert td["compatibilities"] == ["EXTERNAL", "EC2"]
    (c,) = td["containerDefinitions"]
    assert c["cpu"] == 0
    assert c["essential"] is True
    for key in ("environment", "mountPoints", "volumesFrom", "systemControls"):
        assert c[key] == []
    assert c["portMappings"] == [
        {"containerPort": 80, "hostPort": 0, "protocol": "tcp"},
        {"containerPort": 53, "hostPort": 0, "protocol": "udp"},
    ]
    assert "cpu" not in td and "memory" not in td and "networkMode" not in td


def test_awsvpc_host_port_defaults_to_container_port(ecs: Any) -> None:
    params = with_(FARGATE, containerDefinitions=[container(portMappings=[{"containerPort": 80}])])
    td = ecs.register_task_definition(**params)["taskDefinition"]
    assert td["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 80, "hostPort": 80, "protocol": "tcp"}
    ]
    assert td["compatibilities"] == ["EC2", "FARGATE"]


def test_empty_role_arns_mean_no_role(ecs: Any) -> None:
    td = ecs.register_task_definition(**with_(EC2, taskRoleArn="", executionRoleArn=""))[
        "taskDefinition"
    ]
    assert "taskRoleArn" not in td and "executionRoleArn" not in td


def test_short_role_names_are_accepted(ecs: Any) -> None:
    params = with_(EC2, taskRoleArn="appRole", executionRoleArn="ecsTaskExecutionRole")
    td = ecs.register_task_definition(**params)["taskDefinition"]
    assert (td["taskRoleArn"], td["executionRoleArn"]) == ("appRole", "ecsTaskExecutionRole")


def test_request_members_are_echoed(ecs: Any) -> None:
    params = with_(
        FARGATE,
        taskRoleArn="arn:aws:iam::000000000000:role/task",
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        ephemeralStorage={"sizeInGiB": 30},
        pidMode="task",
        enableFaultInjection=False,
    )
    td = ecs.register_task_definition(**params)["taskDefinition"]
    for key in ("taskRoleArn", "runtimePlatform", "ephemeralStorage", "pidMode"):
        assert td[key] == params[key]
    assert td["enableFaultInjection"] is False
    assert td["requiresCompatibilities"] == ["FARGATE"]


@pytest.mark.parametrize(
    ("changes", "compatibilities"),
    [
        ({}, ["EC2", "FARGATE"]),
        ({"cpu": "256", "memory": "4096"}, None),  # refused: not a Fargate size
        ({"requiresCompatibilities": ["EC2"], "cpu": "300"}, ["EC2"]),
        ({"requiresCompatibilities": ["EC2"], "networkMode": "bridge"}, ["EXTERNAL", "EC2"]),
        ({"requiresCompatibilities": ["EC2"], "networkMode": "host"}, ["EXTERNAL", "EC2"]),
        (
            {
                "requiresCompatibilities": ["EC2"],
                "volumes": [{"name": "d", "host": {"sourcePath": "/d"}}],
            },
            ["EC2"],
        ),
        ({"requiresCompatibilities": ["EC2"], "pidMode": "host"}, ["EC2"]),
        (
            {"requiresCompatibilities": ["FARGATE", "MANAGED_INSTANCES"]},
            ["EC2", "FARGATE", "MANAGED_INSTANCES"],
        ),
    ],
)
def test_compatibilities_are_derived(
    ecs: Any, changes: dict[str, Any], compatibilities: list[str] | None
) -> None:
    params = with_(FARGATE, **changes)
    if compatibilities is None:
        refused(ecs, params)
        return
    td = ecs.register_task_definition(**params)["taskDefinition"]
    assert td["compatibilities"] == compatibilities


def test_requires_attributes_are_derived(ecs: Any) -> None:
    params = with_(
        FARGATE,
        cpu="512",
        memory="1024",
        taskRoleArn="arn:aws:iam::000000000000:role/task",
        containerDefinitions=[
            {
                "name": "app",
                "image": "000000000000.dkr.ecr.us-east-1.amazonaws.com/app:1",
                "logConfiguration": {"logDriver": "awslogs", "options": {}},
                "secrets": [
                    {"name": "A", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/a"},
                    {
                        "name": "B",
                        "valueFrom": "arn:aws:secretsmanager:us-east-1:000000000000:secret:b",
                    },
                ],
                "healthCheck": {"command": ["CMD-SHELL", "true"]},
                "dependsOn": [{"containerName": "side", "condition": "START"}],
                "environmentFiles": [{"type": "s3", "value": "arn:aws:s3:::b/e.env"}],
            },
            {"name": "side", "image": "busybox", "essential": False},
        ],
    )
    td = ecs.register_task_definition(**params)["taskDefinition"]
    names = [a["name"] for a in td["requiresAttributes"]]
    assert len(names) == len(set(names))
    assert set(names) == {
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "com.amazonaws.ecs.capability.docker-remote-api.1.19",
        "ecs.capability.execution-role-awslogs",
        "com.amazonaws.ecs.capability.ecr-auth",
        "ecs.capability.execution-role-ecr-pull",
        "ecs.capability.secrets.ssm.environment-variables",
        "ecs.capability.secrets.asm.environment-variables",
        "ecs.capability.container-health-check",
        "ecs.capability.container-ordering",
        "ecs.capability.env-files.s3",
        "com.amazonaws.ecs.capability.task-iam-role",
        "com.amazonaws.ecs.capability.docker-remote-api.1.18",
        "ecs.capability.task-eni",
    }


def test_register_returns_tags(ecs: Any) -> None:
    tags = [{"key": "team", "value": "web"}]
    response = ecs.register_task_definition(**with_(EC2, tags=tags))
    assert response["tags"] == tags
    assert "tags" not in response["taskDefinition"]


def _check_against_shape(value: Any, shape: Any, path: str) -> None:
    """Every member of ``value`` exists in the botocore ``shape`` with the right JSON type."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            _check_against_shape(item, shape.members[key], f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            _check_against_shape(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for key, item in value.items():
            _check_against_shape(key, shape.key, f"{path} key")
            _check_against_shape(item, shape.value, f"{path}[{key}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, path
    elif kind == "integer" or kind == "long":
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, int | float | datetime.datetime), path


def test_wire_response_matches_botocore_output_shape() -> None:
    ctx = RequestContext(kecs.MemoryBackend(), "eu-west-1", "123456789012")
    params = with_(
        FARGATE,
        cpu="1 vCPU",
        memory="2GB",
        volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}],
        containerDefinitions=[
            container(
                portMappings=[{"containerPort": 80, "name": "http", "appProtocol": "http"}],
                mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}],
                environment=[{"name": "A", "value": "1"}],
                logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
                dockerLabels={"a": "b"},
            )
        ],
        tags=[{"key": "a", "value": "b"}],
    )
    model = service_model.operation_model("RegisterTaskDefinition")
    response = handler_for("RegisterTaskDefinition")(ctx, params)  # type: ignore[misc]
    _check_against_shape(response, model.output_shape, "RegisterTaskDefinition")
    describe = service_model.operation_model("DescribeTaskDefinition")
    found = handler_for("DescribeTaskDefinition")(  # type: ignore[misc]
        ctx, {"taskDefinition": "web:1", "include": ["TAGS"]}
    )
    _check_against_shape(found, describe.output_shape, "DescribeTaskDefinition")
    assert found["taskDefinition"] == response["taskDefinition"]


def test_every_request_member_but_tags_is_a_task_definition_member() -> None:
    """What Register accepts can be echoed in the TaskDefinition structure AWS returns."""
    model = service_model.service_model()
    request = model.operation_model("RegisterTaskDefinition").input_shape.members
    returned = model.shape_for("TaskDefinition").members
    assert set(request) - {"tags"} <= set(returned)
