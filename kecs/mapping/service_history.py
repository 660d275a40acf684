"""A service's rollout history -> ``ServiceDeployment`` / ``ServiceRevision`` structures (pure).

One Kubernetes revision (ReplicaSet / ControllerRevision) is both an ECS *service revision*
(the configuration it runs) and the *service deployment* that rolled it out; their ARNs carry
ids derived from the revision (:mod:`kecs.mapping.ids`)::

    arn:aws:ecs:{region}:{account}:service-deployment/{cluster}/{service}/{21 characters}
    arn:aws:ecs:{region}:{account}:service-revision/{cluster}/{service}/{19 digits}

Service deployment status: the PRIMARY's rolloutState IN_PROGRESS -> IN_PROGRESS, COMPLETED
-> SUCCESSFUL, FAILED -> STOPPED (ROLLBACK_REQUESTED with the circuit breaker's rollback). An
older revision: SUCCESSFUL, or -- annotated FAILED by the circuit breaker -- ROLLBACK_SUCCESSFUL
(rolled back) or STOPPED. Its source revisions are the revisions live beside it (the PRIMARY)
or the one before it (older deployments); ``finishedAt`` is when it completed, else when the next
revision replaced it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kecs.mapping import rollouts, service_status, task_containers
from kecs.mapping.rollouts import Revision
from kecs.mapping.service_status import (
    CIRCUIT_BREAKER_REASON,
    ServiceView,
    deployment_arn,
    revision_arn,
    revision_summary,
)
from kecs.mapping.service_workload import deployment_configuration

BREAKER_MIN, BREAKER_MAX = 3, 200


def breaker_threshold(desired: int) -> int:
    """ECS's circuit breaker threshold: half the desired count, within 3..200."""
    return min(max(math.ceil(desired / 2), BREAKER_MIN), BREAKER_MAX)


def _status(v: ServiceView, revision: Revision, rollback: bool) -> tuple[str, str | None]:
    state = v.state_of(revision)
    if revision is v.primary:
        if state == "COMPLETED":
            return "SUCCESSFUL", None
        if state == "FAILED":
            return ("ROLLBACK_REQUESTED" if rollback else "STOPPED"), CIRCUIT_BREAKER_REASON
        return "IN_PROGRESS", None
    if state == "FAILED":
        return ("ROLLBACK_SUCCESSFUL" if rollback else "STOPPED"), CIRCUIT_BREAKER_REASON
    return "SUCCESSFUL", None


def _next(v: ServiceView, revision: Revision) -> Revision | None:
    index = v.revisions.index(revision)
    return v.revisions[index + 1] if index + 1 < len(v.revisions) else None


def _previous(v: ServiceView, revision: Revision) -> Revision | None:
    index = v.revisions.index(revision)
    return v.revisions[index - 1] if index > 0 else None


def service_deployment(v: ServiceView, revision: Revision) -> dict[str, Any]:
    """The ``ServiceDeployment`` that rolled out ``revision``."""
    config = deployment_configuration(v.spec)
    breaker = config["deploymentCircuitBreaker"]
    rollback = bool(breaker["enable"] and breaker["rollback"])
    status, reason = _status(v, revision, rollback)
    primary = revision is v.primary
    state = v.state_of(revision)
    successor = _next(v, revision)
    finished = rollouts.finished_at(v.workload, revision, state, primary=primary)
    if finished is None and successor is not None:
        finished = successor.created
    out: dict[str, Any] = {
        "serviceDeploymentArn": deployment_arn(v, revision),
        "serviceArn": v.arn,
        "clusterArn": v.cluster_arn,
        "status": status,
        "targetServiceRevision": revision_summary(v, revision),
        "sourceServiceRevisions": [
            revision_summary(v, r)
            for r in (v.active if primary else [p for p in [_previous(v, revision)] if p])
        ],
        "deploymentConfiguration": config,
        "deploymentCircuitBreaker": _breaker(v, revision, breaker["enable"], state),
    }
    if reason:
        out["statusReason"] = reason
    if revision.created is not None:
        out["createdAt"] = out["startedAt"] = revision.created
    if status in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL") and finished is not None:
        out["finishedAt"] = finished
    if status == "STOPPED" and finished is not None:
        out["stoppedAt"] = finished
    if status.startswith("ROLLBACK") and successor is not None:
        out["rollback"] = {
            "reason": CIRCUIT_BREAKER_REASON,
            "serviceRevisionArn": revision_arn(v, successor),
        }
        if successor.created is not None:
            out["rollback"]["startedAt"] = successor.created
    updated = service_status.revision_updated_at(revision, finished)
    if updated is not None:
        out["updatedAt"] = updated
    return out


def _breaker(v: ServiceView, revision: Revision, enabled: bool, state: str) -> dict[str, Any]:
    if not enabled:
        return {"status": "DISABLED"}
    status = {"FAILED": "TRIGGERED", "COMPLETED": "MONITORING_COMPLETE"}.get(state, "MONITORING")
    desired = v.desired if revision is v.primary else revision.replicas
    return {
        "status": status,
        "failureCount": revision.failed,
        "threshold": breaker_threshold(desired),
    }


def brief(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ServiceDeploymentBrief`` ListServiceDeployments returns for a deployment."""
    out = {
        key: deployment[key]
        for key in (
            "serviceDeploymentArn",
            "serviceArn",
            "clusterArn",
            "startedAt",
            "createdAt",
            "finishedAt",
            "status",
            "statusReason",
        )
        if key in deployment
    }
    out["targetServiceRevisionArn"] = deployment["targetServiceRevision"]["arn"]
    return out


def container_images(revision: Revision) -> list[dict[str, Any]]:
    """``{containerName, image, imageDigest}`` of each container of ``revision`` (the digest
    from a task that pulled it); shared with :mod:`kecs.mapping.daemon_status`."""
    mapping = task_containers.name_map(revision.template)
    specs = {c.get("name"): c for c in task_containers.k8s_containers(revision.template)}
    digests: dict[str, str] = {}
    for task in revision.tasks:
        status = task.pod.get("status") or {}
        for container in [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]:
            _, at, digest = str(container.get("imageID") or "").rpartition("@")
            if at and digest.startswith("sha256:"):
                digests.setdefault(str(container.get("name")), digest)
    images = []
    for k8s_name, ecs_name in mapping.items():
        entry = {"containerName": ecs_name, "image": str(specs.get(k8s_name, {}).get("image", ""))}
        if k8s_name in digests:
            entry["imageDigest"] = digests[k8s_name]
        images.append(entry)
    return images


def service_revision(v: ServiceView, revision: Revision) -> dict[str, Any]:
    """The ``ServiceRevision`` (the configuration ``revision`` runs)."""
    settings = revision.settings_or(v.spec)
    out: dict[str, Any] = {
        "serviceRevisionArn": revision_arn(v, revision),
        "serviceArn": v.arn,
        "clusterArn": v.cluster_arn,
        "taskDefinition": revision.task_definition or str(v.spec.get("taskDefinition") or ""),
        "loadBalancers": list(settings.get("loadBalancers") or []),
        "serviceRegistries": list(settings.get("serviceRegistries") or []),
        "containerImages": container_images(revision),
        "guardDutyEnabled": False,
    }
    out.update(service_status.launch_settings(settings))
    for key in ("networkConfiguration", "serviceConnectConfiguration", "volumeConfigurations"):
        if settings.get(key):
            out[key] = settings[key]
    if revision.created is not None:
        out["createdAt"] = revision.created
    return out


def service_deployments(v: ServiceView) -> list[dict[str, Any]]:
    """Every ``ServiceDeployment`` of the service Kubernetes still remembers, newest first."""
    return [service_deployment(v, r) for r in reversed(v.revisions)]


def service_revisions(v: ServiceView) -> list[dict[str, Any]]:
    """Every ``ServiceRevision`` of the service Kubernetes still remembers, newest first."""
    return [service_revision(v, r) for r in reversed(v.revisions)]
