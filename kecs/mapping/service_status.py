"""A service workload (+ its ReplicaSets / ControllerRevisions and task pods) -> the ECS
``Service`` structure DescribeServices returns (pure).

- identity, configuration: the ``kecs.dev/service-spec`` annotation (what CreateService /
  UpdateService set), status from ``kecs.dev/service-status`` (ACTIVE / DRAINING), tags from
  ``kecs.dev/tags``;
- ``desiredCount``: the Deployment's replicas (a DaemonSet's desired number scheduled);
  ``runningCount`` / ``pendingCount``: task pods whose lastStatus is RUNNING /
  PROVISIONING-PENDING-ACTIVATING (see :mod:`kecs.mapping.pod_state`);
- ``deployments``: the PRIMARY (newest revision) then every older revision still live (ACTIVE),
  see :mod:`kecs.mapping.rollouts`; ``rolloutStateReason`` as ECS words it;
- ``events``: :mod:`kecs.mapping.service_events`;
- ``currentServiceDeployment`` / ``currentServiceRevisions``: the PRIMARY's service deployment
  ARN and the live revisions (DescribeServiceDeployments / DescribeServiceRevisions answer
  from :mod:`kecs.mapping.service_history`).

``k8s_service`` (the Kubernetes Service of the port mappings) is accepted but ECS has no field
that shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.mapping import ids, k8s_time, rollouts, service_events, task_keys
from kecs.mapping.rollouts import Revision
from kecs.mapping.service_workload import (
    DAEMON,
    circuit_breaker_enabled,
    deployment_configuration,
    scheduling_strategy,
)

CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
FARGATE_FAMILY = "Linux"


def service_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The ECS service spec kept on the workload."""
    spec = task_keys.json_value(task_keys.annotations_of(workload), task_keys.SERVICE_SPEC, {})
    return dict(spec) if isinstance(spec, Mapping) else {}


def service_name(workload: Mapping[str, Any]) -> str:
    recorded = task_keys.annotations_of(workload).get(task_keys.SERVICE_NAME)
    return recorded or str(service_spec(workload).get("serviceName", ""))


def rollout_reason(deployment_id: str, state: str) -> str:
    if state == "COMPLETED":
        return f"ECS deployment {deployment_id} completed."
    if state == "FAILED":
        return CIRCUIT_BREAKER_REASON
    return f"ECS deployment {deployment_id} in progress."


@dataclass(frozen=True)
class RolloutView:
    """What a service's or a daemon's ECS structures are computed from: its identity and its
    Kubernetes revisions, oldest first (the last one is the PRIMARY). A daemon rolls out like
    a DAEMON service, so both views share these (:class:`kecs.mapping.daemon_status.DaemonView`)."""

    spec: Mapping[str, Any]
    name: str
    arn: str
    cluster_arn: str
    region: str
    account: str
    cluster_name: str
    revisions: tuple[Revision, ...]
    primary_state: str

    @property
    def primary(self) -> Revision:
        return self.revisions[-1]


@dataclass(frozen=True)
class ServiceView(RolloutView):
    """What the Service, its deployments and its history are computed from."""

    workload: Mapping[str, Any]
    primary_finished: datetime | None

    @property
    def active(self) -> list[Revision]:
        """Older revisions that still have tasks or desired replicas, newest first."""
        return [r for r in reversed(self.revisions[:-1]) if r.live]

    def state_of(self, revision: Revision) -> str:
        if revision is self.primary:
            return self.primary_state
        recorded = revision.annotations.get(task_keys.ROLLOUT_STATE)
        return recorded if recorded in ("IN_PROGRESS", "FAILED") else "COMPLETED"

    @property
    def desired(self) -> int:
        if self.workload.get("kind") == "DaemonSet":
            return int((self.workload.get("status") or {}).get("desiredNumberScheduled") or 0)
        return int((self.workload.get("spec") or {}).get("replicas") or 0)

    @property
    def status(self) -> str:
        return task_keys.annotations_of(self.workload).get(task_keys.SERVICE_STATUS) or "ACTIVE"


def view(
    workload: Mapping[str, Any],
    replica_sets: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
) -> ServiceView:
    spec = service_spec(workload)
    name = service_name(workload)
    revisions = rollouts.revisions(workload, replica_sets, rollouts.task_pods(pods, now))
    primary = revisions[-1]
    state = rollouts.rollout_state(workload, primary, circuit_breaker=circuit_breaker_enabled(spec))
    return ServiceView(
        workload=workload,
        spec=spec,
        name=name,
        arn=arns.service(region, account, cluster_name, name),
        cluster_arn=arns.cluster(region, account, cluster_name),
        region=region,
        account=account,
        cluster_name=cluster_name,
        revisions=tuple(revisions),
        primary_state=state,
        primary_finished=rollouts.finished_at(workload, primary, state, primary=True),
    )


def launch_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """launchType or capacityProviderStrategy, and the Fargate platform, of one revision."""
    out: dict[str, Any] = {}
    strategy = [s for s in settings.get("capacityProviderStrategy") or [] if isinstance(s, Mapping)]
    if strategy:
        out["capacityProviderStrategy"] = [dict(s) for s in strategy]
    else:
        out["launchType"] = settings.get("launchType") or "EC2"
    fargate = settings.get("launchType") == "FARGATE" or any(
        str(s.get("capacityProvider", "")).startswith("FARGATE") for s in strategy
    )
    if fargate:
        out["platformVersion"] = settings.get("platformVersion") or "LATEST"
        out["platformFamily"] = FARGATE_FAMILY
    return out


def deployment_arn(v: ServiceView, revision: Revision) -> str:
    deployment_id = ids.service_deployment_id(revision.key)
    return arns.service_deployment(v.region, v.account, v.cluster_name, v.name, deployment_id)


def revision_arn(v: ServiceView, revision: Revision) -> str:
    revision_id = ids.service_revision_id(revision.key)
    return arns.service_revision(v.region, v.account, v.cluster_name, v.name, revision_id)


def revision_summary(v: ServiceView, revision: Revision) -> dict[str, Any]:
    """A ``ServiceRevisionSummary`` / ``ServiceCurrentRevisionSummary``."""
    return {
        "arn": revision_arn(v, revision),
        "requestedTaskCount": v.desired if revision is v.primary else revision.replicas,
        "runningTaskCount": revision.running,
        "pendingTaskCount": revision.pending,
    }


def revision_updated_at(revision: Revision, finished: datetime | None) -> datetime | None:
    times = [revision.created, finished]
    for task in revision.tasks:
        meta = task.pod.get("metadata") or {}
        times.append(task.created)
        times.append(k8s_time.parse(meta.get("deletionTimestamp")))
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _deployment(v: ServiceView, revision: Revision) -> dict[str, Any]:
    primary = revision is v.primary
    state = v.state_of(revision)
    finished = v.primary_finished if primary else None
    created = revision.created or k8s_time.parse(
        (v.workload.get("metadata") or {}).get("creationTimestamp")
    )
    out: dict[str, Any] = {
        "id": revision.deployment_id,
        "status": "PRIMARY" if primary else "ACTIVE",
        "taskDefinition": revision.task_definition or str(v.spec.get("taskDefinition") or ""),
        "desiredCount": v.desired if primary else revision.replicas,
        "pendingCount": revision.pending,
        "runningCount": revision.running,
        "failedTasks": revision.failed,
        "rolloutState": state,
        "rolloutStateReason": rollout_reason(revision.deployment_id, state),
    }
    if created is not None:
        out["createdAt"] = created
        out["updatedAt"] = revision_updated_at(revision, finished) or created
    settings = revision.settings_or(v.spec)
    out.update(launch_settings(settings))
    if settings.get("networkConfiguration"):
        out["networkConfiguration"] = settings["networkConfiguration"]
    return out


def deployments(v: ServiceView) -> list[dict[str, Any]]:
    return [_deployment(v, r) for r in [v.primary, *v.active]]


def _events(v: ServiceView, running: int, pending: int) -> list[dict[str, Any]]:
    finished: dict[str, datetime] = {}
    for revision in v.revisions[:-1]:
        moment = rollouts.finished_at(v.workload, revision, "COMPLETED", primary=False)
        if moment is not None and v.state_of(revision) == "COMPLETED":
            finished[revision.deployment_id] = moment
    steady = (
        v.primary_state == "COMPLETED"
        and not v.active
        and running == v.desired
        and pending == 0
        and v.status == "ACTIVE"
    )
    return service_events.events(
        service_name=v.name,
        service_arn=v.arn,
        revisions=list(v.revisions),
        primary_state=v.primary_state,
        primary_finished=v.primary_finished,
        finished=finished,
        steady=steady,
    )


def _role_arn(role: str, account: str) -> str:
    return role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}"


def workload_to_service(
    workload: Mapping[str, Any],
    replica_sets: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    k8s_service: Mapping[str, Any] | None = None,
    now: datetime,
    include_tags: bool = False,
) -> dict[str, Any]:
    """The ECS ``Service`` (wire shape, ``datetime`` timestamps) of one service workload."""
    del k8s_service  # no ECS field shows it (see the module docstring)
    v = view(
        workload,
        replica_sets,
        pods,
        region=region,
        account=account,
        cluster_name=cluster_name,
        now=now,
    )
    spec = v.spec
    running = sum(r.running for r in v.revisions)
    pending = sum(r.pending for r in v.revisions)
    service: dict[str, Any] = {
        "serviceArn": v.arn,
        "serviceName": v.name,
        "clusterArn": v.cluster_arn,
        "loadBalancers": list(spec.get("loadBalancers") or []),
        "serviceRegistries": list(spec.get("serviceRegistries") or []),
        "status": v.status,
        "desiredCount": v.desired,
        "runningCount": running,
        "pendingCount": pending,
        "taskDefinition": str(spec.get("taskDefinition") or v.primary.task_definition or ""),
        "deploymentConfiguration": deployment_configuration(spec),
        "deployments": deployments(v),
        "events": _events(v, running, pending),
        "placementConstraints": list(spec.get("placementConstraints") or []),
        "placementStrategy": list(spec.get("placementStrategy") or []),
        "schedulingStrategy": DAEMON if scheduling_strategy(spec) == DAEMON else "REPLICA",
        "deploymentController": dict(spec.get("deploymentController") or {"type": "ECS"}),
        "createdBy": str(spec.get("createdBy") or f"arn:aws:iam::{account}:root"),
        "enableECSManagedTags": bool(spec.get("enableECSManagedTags", False)),
        "propagateTags": str(spec.get("propagateTags") or "NONE"),
        "enableExecuteCommand": bool(spec.get("enableExecuteCommand", False)),
        "currentServiceDeployment": deployment_arn(v, v.primary),
        "currentServiceRevisions": [revision_summary(v, r) for r in [v.primary, *v.active]],
    }
    service.update(launch_settings(spec))
    created = k8s_time.parse((workload.get("metadata") or {}).get("creationTimestamp"))
    if created is not None:
        service["createdAt"] = created
    if spec.get("role"):
        service["roleArn"] = _role_arn(str(spec["role"]), account)
    for key in (
        "networkConfiguration",
        "healthCheckGracePeriodSeconds",
        "availabilityZoneRebalancing",
    ):
        if spec.get(key) is not None:
            service[key] = spec[key]
    if include_tags:
        tags = task_keys.json_value(task_keys.annotations_of(workload), task_keys.TAGS, None)
        if not isinstance(tags, list):
            tags = spec.get("tags") or []
        service["tags"] = [dict(t) for t in tags if isinstance(t, Mapping)]
    return service
