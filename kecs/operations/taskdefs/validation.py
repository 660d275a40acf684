"""RegisterTaskDefinition's rules, answered with AWS's wording where it is known.

botocore has already checked types and required members; what is left is what the ECS
service itself refuses. Every refusal is a :class:`~kecs.errors.ClientException`
(``InvalidParameterException`` for tags, as AWS does), never a Python error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from kecs.errors import ClientException
from kecs.operations import tagging
from kecs.operations.taskdefs import units

MAX_CONTAINERS = 10
MIN_CONTAINER_MEMORY_MIB = 6
_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
# ECS's documented image alphabet: letters, digits, - _ : . / # and @ (digests), up to 255.
_IMAGE = re.compile(r"[A-Za-z0-9_\-:./#@]{1,255}")
# A role ARN, or a role's short name (ECS accepts "ecsTaskExecutionRole" as well).
_ROLE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}|[\w+=,.@-]{1,64}")
NETWORK_MODES = ("bridge", "host", "awsvpc", "none")
COMPATIBILITIES = ("EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES")
PROTOCOLS = ("tcp", "udp")


class Sizes(NamedTuple):
    """Task-level sizes once parsed: CPU units and MiB (``None`` when not given)."""

    cpu: int | None
    memory: int | None


def validate(params: Mapping[str, Any]) -> Sizes:
    """Refuse what ECS refuses; return the parsed task-level sizes."""
    _check_family(params.get("family", ""))
    containers: Sequence[Mapping[str, Any]] = params.get("containerDefinitions") or ()
    if not containers:
        raise ClientException("Container list cannot be empty.")
    if len(containers) > MAX_CONTAINERS:
        raise ClientException("Too many containers.")
    mode = params.get("networkMode")
    if mode is not None and mode not in NETWORK_MODES:
        raise ClientException(
            f"Invalid networkMode '{mode}'. Valid values are {', '.join(NETWORK_MODES)}."
        )
    for role in ("taskRoleArn", "executionRoleArn"):
        value = params.get(role)
        if value and not _ROLE.fullmatch(value):
            raise ClientException("Role is not valid")
    requires = params.get("requiresCompatibilities") or ()
    for compatibility in requires:
        if compatibility not in COMPATIBILITIES:
            raise ClientException(
                f"Invalid requiresCompatibilities value '{compatibility}'. Valid values are "
                f"{', '.join(COMPATIBILITIES)}."
            )
    sizes = Sizes(
        units.parse_cpu(params["cpu"]) if params.get("cpu") else None,
        units.parse_memory(params["memory"]) if params.get("memory") else None,
    )
    if "FARGATE" in requires:
        _check_fargate(params, containers, sizes)
    elif sizes.cpu is not None and not (
        units.EC2_TASK_CPU_MIN <= sizes.cpu <= units.EC2_TASK_CPU_MAX
    ):
        raise ClientException(
            f"Invalid 'cpu' setting for task. The task cpu must be between "
            f"{units.EC2_TASK_CPU_MIN} and {units.EC2_TASK_CPU_MAX} CPU units."
        )
    volumes = _check_volumes(params.get("volumes") or ())
    _check_containers(containers, mode or "bridge", volumes, sizes)
    tagging.validate_tags(params.get("tags") or [])
    return sizes


def _check_family(family: str) -> None:
    if not family:
        raise ClientException("Family can not be blank.")
    if not _NAME.fullmatch(family):
        if len(family) > 255:
            raise ClientException("Family must be at most 255 characters long.")
        raise ClientException("Family contains invalid characters.")


def _check_volumes(volumes: Sequence[Mapping[str, Any]]) -> set[str]:
    names: set[str] = set()
    for volume in volumes:
        name = volume.get("name")
        if not name:
            raise ClientException("Volume.name should not be null or empty.")
        if not _NAME.fullmatch(name):
            raise ClientException("Volume.name contains invalid characters.")
        if name in names:
            raise ClientException(f"Duplicate volume name '{name}'. Volume names must be unique.")
        names.add(name)
    return names


def _check_containers(
    containers: Sequence[Mapping[str, Any]], mode: str, volumes: set[str], sizes: Sizes
) -> None:
    names: set[str] = set()
    for container in containers:
        name = container.get("name")
        if not name:
            raise ClientException("Container.name should not be null or empty.")
        if not _NAME.fullmatch(name):
            raise ClientException("Container.name contains invalid characters.")
        if name in names:
            raise ClientException(
                f"Duplicate container name '{name}'. Container names must be unique within "
                "a task definition."
            )
        names.add(name)
    for container in containers:
        _check_container(container, mode, volumes, names, sizes)
    if not any(c.get("essential", True) for c in containers):
        raise ClientException("Task definition must have at least one essential container.")
    if sizes.memory is not None:
        # What a container reserves is its memoryReservation, else its hard limit.
        reserved = sum(c.get("memoryReservation") or c.get("memory") or 0 for c in containers)
        if reserved > sizes.memory:
            field = (
                "memoryReservation"
                if any(c.get("memoryReservation") for c in containers)
                else "memory"
            )
            raise ClientException(
                f"The sum of all container '{field}' values cannot be greater than the value "
                "of the task 'memory'."
            )
    if sizes.cpu is not None and sum(c.get("cpu") or 0 for c in containers) > sizes.cpu:
        raise ClientException(
            "The sum of all container 'cpu' values cannot be greater than the value of the "
            "task 'cpu'."
        )


def _check_container(
    container: Mapping[str, Any], mode: str, volumes: set[str], names: set[str], sizes: Sizes
) -> None:
    name = container["name"]
    image = container.get("image")
    if not image:
        raise ClientException("Container.image should not be null or empty.")
    if not _IMAGE.fullmatch(image):
        raise ClientException("Container.image contains invalid characters.")
    _check_memory(container, sizes)
    if (container.get("cpu") or 0) < 0:
        raise ClientException(f"Invalid 'cpu' setting for container '{name}'.")
    for mapping in container.get("portMappings") or ():
        _check_port_mapping(name, mapping, mode)
    if mode == "awsvpc" and container.get("hostname"):
        raise ClientException("hostname is not supported on container when networkMode=awsvpc.")
    links = container.get("links") or ()
    if links and mode == "awsvpc":
        raise ClientException("Links are not supported when networkMode=awsvpc.")
    for link in links:
        target = link.partition(":")[0]
        if target not in names or target == name:
            raise ClientException(
                f"Invalid 'links' setting for container '{name}': container '{target}' "
                "does not exist in the task definition."
            )
    for dependency in container.get("dependsOn") or ():
        target = dependency["containerName"]
        if target not in names or target == name:
            raise ClientException(
                f"Invalid 'dependsOn' setting for container '{name}': container '{target}' "
                "does not exist in the task definition."
            )
    for source in container.get("volumesFrom") or ():
        target = source.get("sourceContainer")
        if target not in names or target == name:
            raise ClientException(
                f"Invalid 'volumesFrom' setting for container '{name}': container "
                f"'{target}' does not exist in the task definition."
            )
    for mount in container.get("mountPoints") or ():
        volume = mount.get("sourceVolume")
        if volume not in volumes:
            raise ClientException(
                f"Invalid 'mountPoints' setting for container '{name}': volume '{volume}' "
                "is not declared in the task definition's volumes."
            )


def _check_memory(container: Mapping[str, Any], sizes: Sizes) -> None:
    name = container["name"]
    memory, reservation = container.get("memory"), container.get("memoryReservation")
    if memory is None and reservation is None and sizes.memory is None:
        raise ClientException(
            f"Invalid setting for container '{name}'. At least one of 'memory' or "
            "'memoryReservation' must be specified."
        )
    for field, value in (("memory", memory), ("memoryReservation", reservation)):
        if value is not None and value < MIN_CONTAINER_MEMORY_MIB:
            raise ClientException(
                f"Invalid '{field}' setting for container '{name}'. The minimum is "
                f"{MIN_CONTAINER_MEMORY_MIB} MiB."
            )
    if memory is not None and reservation is not None and reservation > memory:
        raise ClientException(
            f"Invalid 'memoryReservation' setting for container '{name}'. "
            "'memoryReservation' must be less than or equal to 'memory'."
        )
    if memory is not None and sizes.memory is not None and memory > sizes.memory:
        raise ClientException(
            f"The 'memory' setting for container '{name}' is greater than for the task."
        )


def _check_port_mapping(name: str, mapping: Mapping[str, Any], mode: str) -> None:
    container_port, host_port = mapping.get("containerPort"), mapping.get("hostPort")
    if container_port is None and not mapping.get("containerPortRange"):
        raise ClientException(
            f"Invalid 'portMappings' setting for container '{name}': containerPort or "
            "containerPortRange must be specified."
        )
    for port in (container_port, host_port):
        if port is not None and not 0 <= port <= 65535:
            raise ClientException(
                f"Invalid 'portMappings' setting for container '{name}': port {port} is "
                "outside 0-65535."
            )
    protocol = mapping.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        raise ClientException(
            f"Invalid 'portMappings' setting for container '{name}': protocol '{protocol}' "
            "must be tcp or udp."
        )
    if (
        mode in ("awsvpc", "host")
        and host_port is not None
        and container_port is not None
        and host_port != container_port
    ):
        raise ClientException(
            f"When networkMode={mode}, the host ports and container ports in port mappings "
            "must match."
        )


def _check_fargate(
    params: Mapping[str, Any], containers: Sequence[Mapping[str, Any]], sizes: Sizes
) -> None:
    if params.get("networkMode") != "awsvpc":
        raise ClientException("Fargate only supports network mode \u2018awsvpc\u2019.")
    if sizes.cpu is None:
        raise ClientException("Fargate requires that 'cpu' be defined at the task level.")
    if sizes.memory is None:
        raise ClientException("Fargate requires that 'memory' be defined at the task level.")
    if not units.is_fargate_size(sizes.cpu, sizes.memory):
        raise ClientException(
            f"No Fargate configuration exists for given values: {sizes.cpu} CPU, "
            f"{sizes.memory} memory. See the Amazon ECS documentation for the valid values."
        )
    if params.get("ipcMode"):
        raise ClientException("Tasks using the Fargate launch type do not support ipcMode.")
    if not params.get("executionRoleArn") and any(
        (c.get("logConfiguration") or {}).get("logDriver") == "awslogs" for c in containers
    ):
        raise ClientException(
            "Fargate requires task definition to have execution role ARN to support log "
            "driver awslogs."
        )
