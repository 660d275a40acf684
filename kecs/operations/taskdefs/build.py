"""The ``taskDefinition`` structure as AWS returns it after RegisterTaskDefinition.

AWS echoes the request, fills container defaults (``cpu: 0``, ``essential: true``, empty
lists), normalises task ``cpu``/``memory`` to unit strings, and adds what it derives:
``compatibilities`` (where the definition could run) and ``requiresAttributes`` (the agent
capabilities it needs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kecs import arns
from kecs.operations.taskdefs import units
from kecs.operations.taskdefs.validation import Sizes

#: Container members AWS always returns, with the value it fills in when absent.
_CONTAINER_LIST_DEFAULTS = ("portMappings", "environment", "mountPoints", "volumesFrom")
#: Task-level members AWS always returns as lists.
_TASK_LIST_DEFAULTS = ("volumes", "placementConstraints")
#: Request members that are not part of the task definition itself.
_NOT_STORED = frozenset({"tags"})
_CAP = "com.amazonaws.ecs.capability."
_ECS_CAP = "ecs.capability."


def task_definition(
    params: Mapping[str, Any],
    sizes: Sizes,
    *,
    region: str,
    account: str,
    revision: int,
    registered_at: float,
) -> dict[str, Any]:
    """The ``taskDefinition`` for revision ``revision`` of the request ``params``."""
    family = params["family"]
    mode = params.get("networkMode")
    td: dict[str, Any] = {
        "taskDefinitionArn": arns.task_definition(region, account, family, revision),
        "containerDefinitions": [_container(c, mode) for c in params["containerDefinitions"]],
    }
    for key, value in params.items():
        if key in _NOT_STORED or key == "containerDefinitions":
            continue
        if key in ("taskRoleArn", "executionRoleArn") and not value:
            continue  # an empty role ARN means "no role", as AWS treats it
        td[key] = value
    for key in _TASK_LIST_DEFAULTS:
        td.setdefault(key, [])
    if sizes.cpu is not None:
        td["cpu"] = str(sizes.cpu)
    else:
        td.pop("cpu", None)
    if sizes.memory is not None:
        td["memory"] = str(sizes.memory)
    else:
        td.pop("memory", None)
    td["revision"] = revision
    td["status"] = "ACTIVE"
    td["requiresAttributes"] = [{"name": n} for n in requires_attributes(td)]
    td["compatibilities"] = compatibilities(td, sizes)
    td["registeredAt"] = registered_at
    td["registeredBy"] = f"arn:aws:iam::{account}:root"
    return td


def _container(container: Mapping[str, Any], mode: str | None) -> dict[str, Any]:
    out = dict(container)
    out.setdefault("cpu", 0)
    out.setdefault("essential", True)
    for key in _CONTAINER_LIST_DEFAULTS:
        out.setdefault(key, [])
    out.setdefault("systemControls", [])
    if out["portMappings"]:
        out["portMappings"] = [_port_mapping(m, mode) for m in out["portMappings"]]
    return out


def _port_mapping(mapping: Mapping[str, Any], mode: str | None) -> dict[str, Any]:
    out = dict(mapping)
    out.setdefault("protocol", "tcp")
    if "hostPort" not in out and "containerPort" in out:
        # awsvpc/host publish the container port itself; bridge picks a dynamic host port.
        out["hostPort"] = out["containerPort"] if mode in ("awsvpc", "host") else 0
    return out


def _fargate_capable(td: Mapping[str, Any], sizes: Sizes) -> bool:
    if td.get("networkMode") != "awsvpc" or not units.is_fargate_size(sizes.cpu, sizes.memory):
        return False
    if td.get("ipcMode") or td.get("pidMode") == "host" or td.get("placementConstraints"):
        return False
    for volume in td.get("volumes") or ():
        if (volume.get("host") or {}).get("sourcePath") or volume.get("dockerVolumeConfiguration"):
            return False
    for c in td["containerDefinitions"]:
        if c.get("links") or c.get("privileged") or c.get("hostname"):
            return False
        log_driver = (c.get("logConfiguration") or {}).get("logDriver")
        if log_driver not in (None, "awslogs", "splunk", "awsfirelens"):
            return False
        if log_driver == "awslogs" and not td.get("executionRoleArn"):
            return False
    return True


def compatibilities(td: Mapping[str, Any], sizes: Sizes) -> list[str]:
    """Where this definition could run (AWS's ``compatibilities``)."""
    result = ["EC2"]
    if td.get("networkMode") != "awsvpc":
        result.insert(0, "EXTERNAL")
    if _fargate_capable(td, sizes):
        result.append("FARGATE")
    if "MANAGED_INSTANCES" in (td.get("requiresCompatibilities") or ()):
        result.append("MANAGED_INSTANCES")
    return result


def requires_attributes(td: Mapping[str, Any]) -> list[str]:
    """The container-agent capabilities this definition needs, in AWS's naming."""
    # Insertion-ordered set: the first time a capability is needed fixes its place (setting
    # an existing key again does not move it).
    found: dict[str, None] = {}
    execution_role = bool(td.get("executionRoleArn"))
    containers: Sequence[Mapping[str, Any]] = td["containerDefinitions"]
    for c in containers:
        _container_attributes(c, execution_role, found)
    if td.get("taskRoleArn"):
        found[_CAP + "task-iam-role"] = None
    mode = td.get("networkMode")
    if mode:
        found[_CAP + "docker-remote-api.1.18"] = None
    if mode == "awsvpc":
        found[_ECS_CAP + "task-eni"] = None
    for volume in td.get("volumes") or ():
        efs = volume.get("efsVolumeConfiguration")
        if efs:
            found[_ECS_CAP + "efs"] = None
            if efs.get("authorizationConfig"):
                found[_ECS_CAP + "efsAuth"] = None
        if volume.get("dockerVolumeConfiguration"):
            found[_CAP + "docker-remote-api.1.25"] = None
    if td.get("proxyConfiguration"):
        found[_ECS_CAP + "aws-appmesh"] = None
    return list(found)


def _container_attributes(
    c: Mapping[str, Any], execution_role: bool, found: dict[str, None]
) -> None:
    log = c.get("logConfiguration") or {}
    driver = log.get("logDriver")
    if driver:
        found[_CAP + f"logging-driver.{driver}"] = None
    if driver == "awslogs":
        found[_CAP + "docker-remote-api.1.19"] = None
        if execution_role:
            found[_ECS_CAP + "execution-role-awslogs"] = None
    if ".dkr.ecr." in (c.get("image") or ""):
        found[_CAP + "ecr-auth"] = None
        if execution_role:
            found[_ECS_CAP + "execution-role-ecr-pull"] = None
    for secret in [*(c.get("secrets") or ()), *(log.get("secretOptions") or ())]:
        source = secret.get("valueFrom", "")
        kind = "asm" if ":secretsmanager:" in source else "ssm"
        found[_ECS_CAP + f"secrets.{kind}.environment-variables"] = None
    if c.get("healthCheck"):
        found[_ECS_CAP + "container-health-check"] = None
    if c.get("dependsOn"):
        found[_ECS_CAP + "container-ordering"] = None
    if c.get("environmentFiles"):
        found[_ECS_CAP + "env-files.s3"] = None
    firelens = c.get("firelensConfiguration")
    if firelens:
        found[_ECS_CAP + f"firelens.{firelens.get('type', 'fluentbit')}"] = None
    if c.get("repositoryCredentials"):
        found[_CAP + "private-registry-authentication.secretsmanager"] = None
    if c.get("links"):
        found[_CAP + "docker-remote-api.1.17"] = None
