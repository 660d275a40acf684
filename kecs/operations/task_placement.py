"""Where RunTask/StartTask put each task: launch type, capacity provider, node; and why not.

- ``launchType`` and ``capacityProviderStrategy`` exclude each other; with neither, the
  cluster's default capacity provider strategy applies, else the ``EC2`` launch type (ECS's
  rules). Every provider of a strategy must be associated with the cluster (``FARGATE`` and
  ``FARGATE_SPOT`` too, as on ECS). Tasks are spread over a strategy as ECS spreads them:
  each provider's ``base`` first, in order, then the rest in proportion to the weights.
  A ``FARGATE``/``FARGATE_SPOT`` task has launch type ``FARGATE``; any other provider's, ``EC2``.
- StartTask's container instances are Nodes (container instance id = the Node's uid without
  dashes); each task is pinned to its Node by a required node affinity on ``metadata.name``,
  so the scheduler still checks that it fits (``spec.nodeName`` would bypass that).
- The task definition must be compatible with each launch type (its ``compatibilities``);
  ``awsvpc`` tasks need ``networkConfiguration.awsvpcConfiguration`` with subnets, other
  network modes refuse one.
- A pod the scheduler declared unschedulable is not a task: RunTask/StartTask report a
  failure (its ``arn``: the cluster's, or StartTask's container instance) with ECS's reason
  (``RESOURCE:MEMORY``, ``RESOURCE:CPU``, ``RESOURCE:PORTS_TCP``, ``ATTRIBUTE`` for
  selectors/affinity/taints ...) and the scheduler's message as ``detail``, and the pod is
  deleted. The embedded cluster schedules at once, so this shows in the
  RunTask response; a real cluster schedules later, so there the task is returned
  PROVISIONING and stays so while it does not fit.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kecs import arns
from kecs.errors import InvalidParameterException
from kecs.mapping import capacity, ids, pod_state
from kecs.mapping.errors import MappingError
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.task_lookup import container_instance_id_of, nodes_by_instance_id

Params = dict[str, Any]

FARGATE = "FARGATE"
EC2 = "EC2"
FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
MAX_CONTAINER_INSTANCES = 10
#: Launch types the task definition's ``compatibilities`` speak for.
_CHECKED_LAUNCH_TYPES = frozenset({"EC2", "FARGATE", "EXTERNAL"})


@attrs.frozen
class Placement:
    launch_type: str
    capacity_provider: str | None = None
    #: StartTask: the Node the task must run on, and its container instance ARN.
    node: str | None = None
    instance_arn: str | None = None


def provider_sequence(strategy: Sequence[Mapping[str, Any]], count: int) -> list[str]:
    """The capacity provider of each of ``count`` tasks under ``strategy`` (base, then weight:
    :func:`kecs.mapping.capacity.provider_sequence`, the one rule services use too)."""
    try:
        return capacity.provider_sequence(strategy, count)
    except MappingError as exc:
        raise InvalidParameterException(str(exc)) from None


def run_placements(cluster: ClusterRef, params: Params, count: int) -> list[Placement]:
    launch_type = params.get("launchType")
    strategy = params.get("capacityProviderStrategy") or []
    if launch_type and strategy:
        raise InvalidParameterException(
            "Specify either Launch Type or Capacity Provider Strategy, but not both."
        )
    if not launch_type and not strategy:
        strategy = cluster.default_capacity_provider_strategy
    if launch_type or not strategy:
        return [Placement(launch_type or EC2)] * count
    associated = set(cluster.capacity_providers)
    for item in strategy:
        if item.get("capacityProvider") not in associated:
            raise InvalidParameterException(
                "The specified capacity provider strategy cannot contain a capacity provider "
                "that is not associated with the cluster. Associate the capacity provider with "
                "the cluster or specify a valid capacity provider and try again."
            )
    return [
        Placement(FARGATE if name in FARGATE_PROVIDERS else EC2, name)
        for name in provider_sequence(strategy, count)
    ]


def start_placements(ctx: RequestContext, cluster: ClusterRef, params: Params) -> list[Placement]:
    given: list[str] = params.get("containerInstances") or []
    if not given:
        raise InvalidParameterException("Container instances cannot be empty.")
    if len(given) > MAX_CONTAINER_INSTANCES:
        raise InvalidParameterException(
            f"containerInstances can have at most {MAX_CONTAINER_INSTANCES} items."
        )
    wanted = {value: container_instance_id_of(ctx, cluster.name, value) for value in given}
    nodes = nodes_by_instance_id(ctx, {i for i in wanted.values() if i})
    placements = []
    for value in given:
        instance_id = wanted[value]
        node = nodes.get(instance_id) if instance_id else None
        if node is None:
            raise InvalidParameterException(
                f"The referenced container instance was not found: {value}"
            )
        arn = arns.container_instance(
            ctx.region, ctx.account_id, cluster.name, ids.container_instance_id(node)
        )
        placements.append(Placement(EC2, None, node["metadata"]["name"], arn))
    return placements


def check_compatibility(
    task_definition: Mapping[str, Any], params: Params, placements: Sequence[Placement]
) -> None:
    """ECS's checks of launch types and network configuration against the definition."""
    launch_types = {p.launch_type for p in placements}
    compatible = task_definition.get("compatibilities") or task_definition.get(
        "requiresCompatibilities"
    )
    for launch_type in sorted(launch_types & _CHECKED_LAUNCH_TYPES):
        if compatible and launch_type not in compatible:
            raise InvalidParameterException(
                f"Task definition does not support launch_type {launch_type}."
            )
    config = params.get("networkConfiguration")
    if task_definition.get("networkMode") == "awsvpc":
        vpc = (config or {}).get("awsvpcConfiguration")
        if not vpc:
            raise InvalidParameterException(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified."
            )
        if not vpc.get("subnets"):
            raise InvalidParameterException("subnets can not be empty.")
    elif config:
        raise InvalidParameterException(
            "Network Configuration is not valid for the given networkMode of this task definition."
        )
    if params.get("platformVersion") and FARGATE not in launch_types:
        raise InvalidParameterException(
            "The platform version must be null when specifying an EC2 launch type."
        )


def pin_to_node(pod: dict[str, Any], node: str) -> None:
    """Require ``node`` (by name) in every node selector term of the pod (AND, not OR)."""
    field = {"key": "metadata.name", "operator": "In", "values": [node]}
    affinity = pod["spec"].setdefault("affinity", {}).setdefault("nodeAffinity", {})
    required = affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.get("nodeSelectorTerms") or [{}]
    for term in terms:
        term["matchFields"] = [*(term.get("matchFields") or ()), copy.deepcopy(field)]
    required["nodeSelectorTerms"] = terms


def _scheduler_verdict(pod: Mapping[str, Any]) -> str | None:
    if pod_state.scheduled(pod):
        return None
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == "Unschedulable"
        ):
            return str(condition.get("message") or "")
    return None


def failure_reason(message: str) -> str:
    """ECS's placement failure reason for kube-scheduler's message."""
    text = message.lower()
    for needle, reason in (
        ("insufficient memory", "RESOURCE:MEMORY"),
        ("insufficient cpu", "RESOURCE:CPU"),
        ("free ports", "RESOURCE:PORTS_TCP"),
        ("gpu", "RESOURCE:GPU"),
        ("insufficient ephemeral-storage", "RESOURCE:EPHEMERAL_STORAGE"),
        ("too many pods", "RESOURCE:TASKS"),
        ("no nodes available", "No Container Instances were found in your cluster."),
    ):
        if needle in text:
            return reason
    return "ATTRIBUTE"


def unplaced(pod: Mapping[str, Any], cluster_arn: str) -> Params | None:
    """The RunTask failure for a pod no node can take, or ``None`` if it is (or may be) placed."""
    message = _scheduler_verdict(pod)
    if message is None:
        return None
    return {"arn": cluster_arn, "reason": failure_reason(message), "detail": message}
