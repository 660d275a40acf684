"""EXTERNAL / CODE_DEPLOY services and their task sets, read back (pure).

A task set Deployment and its task pods -> the ECS ``TaskSet``; the service's record and its
task sets -> the ECS ``Service`` (rules in :mod:`kecs.mapping.task_sets`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.mapping import k8s_time, pod_state, rollouts, service_status, service_workload, task_keys
from kecs.mapping.task_sets import (
    ACTIVE,
    PRIMARY,
    STABILIZING,
    STEADY_STATE,
    UPDATED_AT,
    controller,
    pods_of,
    status_of,
    task_set_of,
)


def _observed(deployment: Mapping[str, Any]) -> bool:
    generation = int((deployment.get("metadata") or {}).get("generation") or 0)
    observed = int((deployment.get("status") or {}).get("observedGeneration") or 0)
    return observed >= generation


def _latest(deployment: Mapping[str, Any], tasks: Sequence[rollouts.TaskPod]) -> datetime | None:
    times = [
        k8s_time.parse(task_keys.annotations_of(deployment).get(UPDATED_AT)),
        k8s_time.parse((deployment.get("metadata") or {}).get("creationTimestamp")),
    ]
    for task in tasks:
        times.append(task.created)
        times.append(k8s_time.parse((task.pod.get("metadata") or {}).get("deletionTimestamp")))
        times += [c.started_at() for c in pod_state.containers(task.pod)]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def to_task_set(
    deployment: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
    include_tags: bool = False,
) -> dict[str, Any]:
    """The ECS ``TaskSet`` of one task set Deployment (``pods``: its task pods, or more)."""
    task_set = task_set_of(deployment)
    notes = task_keys.annotations_of(deployment)
    service_name = notes.get(task_keys.SERVICE_NAME) or ""
    set_id = str(task_set.get("id") or "")
    tasks = rollouts.task_pods(pods_of(deployment, pods), now)
    desired = int((deployment.get("spec") or {}).get("replicas") or 0)
    running = sum(1 for t in tasks if t.running)
    pending = sum(1 for t in tasks if t.pending)
    live = sum(1 for t in tasks if t.state.last_status != "STOPPED")
    steady = _observed(deployment) and running == desired and pending == 0 and live == desired
    # CreateTaskSet records the moment to the microsecond; creationTimestamp has seconds.
    created = k8s_time.parse(task_set.get("createdAt")) or k8s_time.parse(
        (deployment.get("metadata") or {}).get("creationTimestamp")
    )
    out: dict[str, Any] = {
        "id": set_id,
        "taskSetArn": arns.task_set(region, account, cluster_name, service_name, set_id),
        "serviceArn": arns.service(region, account, cluster_name, service_name),
        "clusterArn": arns.cluster(region, account, cluster_name),
        "status": status_of(deployment),
        "taskDefinition": str(task_set.get("taskDefinition") or ""),
        "computedDesiredCount": desired,
        "pendingCount": pending,
        "runningCount": running,
        "loadBalancers": list(task_set.get("loadBalancers") or []),
        "serviceRegistries": list(task_set.get("serviceRegistries") or []),
        "scale": dict(task_set.get("scale") or {"value": 0.0, "unit": "PERCENT"}),
        "stabilityStatus": STEADY_STATE if steady else STABILIZING,
    }
    for key in ("startedBy", "externalId", "networkConfiguration"):
        if task_set.get(key):
            out[key] = task_set[key]
    out.update(service_status.launch_settings(task_set))
    if created is not None:
        out["createdAt"] = created
    updated = k8s_time.parse(notes.get(UPDATED_AT)) or created
    if updated is not None:
        out["updatedAt"] = updated
    moment = _latest(deployment, tasks)
    if moment is not None:
        out["stabilityStatusAt"] = moment
    if include_tags:
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        out["tags"] = (
            [dict(t) for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []
        )
    return out


def _order(task_set: Mapping[str, Any]) -> tuple[int, float, str]:
    rank = {PRIMARY: 0, ACTIVE: 1}.get(str(task_set.get("status")), 2)
    created = task_set.get("createdAt")
    moment = created.timestamp() if isinstance(created, datetime) else 0.0
    return rank, -moment, str(task_set.get("id"))


def task_set_list(
    deployments: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
    include_tags: bool = False,
) -> list[dict[str, Any]]:
    """The ``TaskSet`` of each Deployment: the PRIMARY first, then ACTIVE, then DRAINING ones,
    newest first within each."""
    found = [
        to_task_set(
            d,
            pods,
            region=region,
            account=account,
            cluster_name=cluster_name,
            now=now,
            include_tags=include_tags,
        )
        for d in deployments
    ]
    return sorted(found, key=_order)


def external_service(
    record: Mapping[str, Any],
    deployments: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
    include_tags: bool = False,
) -> dict[str, Any]:
    """The ECS ``Service`` of an EXTERNAL / CODE_DEPLOY service record and its task sets."""
    spec = service_status.service_spec(record)
    name = service_status.service_name(record)
    notes = task_keys.annotations_of(record)
    task_sets = task_set_list(
        deployments,
        pods,
        region=region,
        account=account,
        cluster_name=cluster_name,
        now=now,
        include_tags=include_tags,
    )
    service: dict[str, Any] = {
        "serviceArn": arns.service(region, account, cluster_name, name),
        "serviceName": name,
        "clusterArn": arns.cluster(region, account, cluster_name),
        "loadBalancers": list(spec.get("loadBalancers") or []),
        "serviceRegistries": list(spec.get("serviceRegistries") or []),
        "status": notes.get(task_keys.SERVICE_STATUS) or ACTIVE,
        "desiredCount": int(spec.get("desiredCount") or 0),
        "runningCount": sum(t["runningCount"] for t in task_sets),
        "pendingCount": sum(t["pendingCount"] for t in task_sets),
        "deploymentConfiguration": service_workload.deployment_configuration(spec),
        "taskSets": task_sets,
        "deployments": [],
        "events": [],
        "placementConstraints": list(spec.get("placementConstraints") or []),
        "placementStrategy": list(spec.get("placementStrategy") or []),
        "schedulingStrategy": service_workload.REPLICA,
        "deploymentController": {"type": controller(spec)},
        "createdBy": str(spec.get("createdBy") or f"arn:aws:iam::{account}:root"),
        "enableECSManagedTags": bool(spec.get("enableECSManagedTags", False)),
        "propagateTags": str(spec.get("propagateTags") or "NONE"),
        "enableExecuteCommand": bool(spec.get("enableExecuteCommand", False)),
    }
    if spec.get("taskDefinition"):
        service["taskDefinition"] = str(spec["taskDefinition"])
    if spec.get("launchType") or spec.get("capacityProviderStrategy"):
        service.update(service_status.launch_settings(spec))
    created = k8s_time.parse((record.get("metadata") or {}).get("creationTimestamp"))
    if created is not None:
        service["createdAt"] = created
    role = spec.get("role")
    if role:
        role = str(role)
        service["roleArn"] = (
            role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}"
        )
    for key in (
        "networkConfiguration",
        "healthCheckGracePeriodSeconds",
        "availabilityZoneRebalancing",
        "platformVersion",
    ):
        if spec.get(key) is not None:
            service[key] = spec[key]
    if include_tags:
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        service["tags"] = (
            [dict(t) for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []
        )
    return service
