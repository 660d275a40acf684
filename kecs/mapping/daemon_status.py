"""A daemon's DaemonSet, revisions, task pods and Nodes -> what the daemon operations return.

DescribeDaemon's ``DaemonDetail``, the ``DaemonDeployment`` / ``DaemonRevision`` structures and
their summaries (pure). The rules (ids, statuses, counts per capacity provider) are in
:mod:`kecs.mapping.daemons`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.mapping import (
    capacity,
    container_instance,
    ids,
    k8s_time,
    names,
    rollouts,
    service_history,
    task_keys,
)
from kecs.mapping.daemons import (
    ACTIVE,
    DELETE_IN_PROGRESS,
    DELETED,
    NAME,
    REVISION,
    STATUS,
    STOPPED_DEPLOYMENTS,
    SUPERSEDED,
    UPDATED_AT,
    provider_names,
    spec_of,
)
from kecs.mapping.rollouts import Revision
from kecs.mapping.service_status import RolloutView


@dataclass(frozen=True)
class DaemonView(RolloutView):
    """What a daemon's detail, deployments and revisions are computed from."""

    daemon_set: Mapping[str, Any]
    #: Node name -> Node, for the Nodes of the daemon's capacity providers.
    nodes: Mapping[str, Mapping[str, Any]]

    @property
    def status(self) -> str:
        return task_keys.annotations_of(self.daemon_set).get(STATUS) or ACTIVE

    @property
    def current(self) -> list[Revision]:
        """The PRIMARY revision, then older ones that still have tasks running."""
        return [self.primary, *(r for r in reversed(self.revisions[:-1]) if r.running)]


def view(
    daemon_set: Mapping[str, Any],
    controller_revisions: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    nodes: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
) -> DaemonView:
    notes = task_keys.annotations_of(daemon_set)
    name = notes.get(NAME) or ""
    revisions = rollouts.revisions(daemon_set, controller_revisions, rollouts.task_pods(pods, now))
    serving = {
        str(n["metadata"]["name"]): n
        for n in nodes
        if container_instance.serves(n, account, region, cluster_name)
    }
    return DaemonView(
        daemon_set=daemon_set,
        spec=spec_of(daemon_set),
        name=name,
        arn=arns.daemon(region, account, cluster_name, name),
        cluster_arn=arns.cluster(region, account, cluster_name),
        region=region,
        account=account,
        cluster_name=cluster_name,
        revisions=tuple(revisions),
        primary_state=rollouts.rollout_state(daemon_set, revisions[-1], circuit_breaker=False),
        nodes=serving,
    )


def deployment_arn(v: DaemonView, revision: Revision) -> str:
    deployment_id = ids.daemon_deployment_id(revision.key)
    return arns.daemon_deployment(v.region, v.account, v.cluster_name, v.name, deployment_id)


def revision_arn(v: DaemonView, revision: Revision) -> str:
    revision_id = ids.daemon_revision_id(revision.key)
    return arns.daemon_revision(v.region, v.account, v.cluster_name, v.name, revision_id)


def _provider_nodes(v: DaemonView, provider: str) -> list[Mapping[str, Any]]:
    wanted = names.label_value(provider)
    return [
        n for n in v.nodes.values() if task_keys.labels_of(n).get(capacity.PROVIDER_LABEL) == wanted
    ]


def _running_on(tasks: Sequence[rollouts.TaskPod]) -> set[str]:
    return {str((t.pod.get("spec") or {}).get("nodeName")) for t in tasks if t.running}


def _counts(v: DaemonView, revision: Revision) -> list[tuple[str, int, int, int]]:
    """(provider ARN, running, without the daemon, draining) per capacity provider."""
    mine = _running_on(revision.tasks)
    anyone = _running_on([t for r in v.revisions for t in r.tasks])
    primary = revision is v.primary
    out = []
    for provider in provider_names(v.spec):
        nodes = [str(n["metadata"]["name"]) for n in _provider_nodes(v, provider)]
        draining = sum(1 for n in nodes if (v.nodes[n].get("spec") or {}).get("unschedulable"))
        out.append(
            (
                arns.capacity_provider(v.region, v.account, provider),
                sum(1 for n in nodes if n in mine),
                sum(1 for n in nodes if n not in anyone) if primary else 0,
                draining if primary else 0,
            )
        )
    return out


def revision_detail(v: DaemonView, revision: Revision) -> dict[str, Any]:
    """A ``DaemonRevisionDetail`` (DescribeDaemon's ``currentRevisions``)."""
    counts = _counts(v, revision)
    return {
        "arn": revision_arn(v, revision),
        "capacityProviders": [
            {"arn": arn, "runningCount": running, "withoutDaemonCount": without}
            for arn, running, without, _ in counts
        ],
        "totalRunningCount": sum(c[1] for c in counts),
        "totalWithoutDaemonCount": sum(c[2] for c in counts),
    }


def _deployment_revision(v: DaemonView, revision: Revision) -> dict[str, Any]:
    counts = _counts(v, revision)
    return {
        "arn": revision_arn(v, revision),
        "capacityProviders": [
            {
                "arn": arn,
                "runningInstanceCount": running,
                "withoutDaemonInstanceCount": without,
                "drainingInstanceCount": draining,
            }
            for arn, running, without, draining in counts
        ],
        "totalRunningInstanceCount": sum(c[1] for c in counts),
        "totalWithoutDaemonInstanceCount": sum(c[2] for c in counts),
        "totalDrainingInstanceCount": sum(c[3] for c in counts),
    }


def _created(obj: Mapping[str, Any]) -> datetime | None:
    return k8s_time.parse((obj.get("metadata") or {}).get("creationTimestamp"))


def detail(v: DaemonView) -> dict[str, Any]:
    """The ``DaemonDetail`` DescribeDaemon returns."""
    out: dict[str, Any] = {
        "daemonArn": v.arn,
        "clusterArn": v.cluster_arn,
        "status": v.status,
        "currentRevisions": [revision_detail(v, r) for r in v.current],
        "deploymentArn": deployment_arn(v, v.primary),
    }
    created = _created(v.daemon_set)
    if created is not None:
        out["createdAt"] = created
    updated = k8s_time.parse(task_keys.annotations_of(v.daemon_set).get(UPDATED_AT)) or created
    if updated is not None:
        out["updatedAt"] = updated
    return out


def _stopped(v: DaemonView) -> set[str]:
    value = task_keys.json_value(task_keys.annotations_of(v.daemon_set), STOPPED_DEPLOYMENTS, [])
    return {str(i) for i in value} if isinstance(value, list) else set()


def deployment(v: DaemonView, revision: Revision) -> dict[str, Any]:
    """The ``DaemonDeployment`` that rolled out ``revision``."""
    index = v.revisions.index(revision)
    primary = revision is v.primary
    successor = v.revisions[index + 1] if index + 1 < len(v.revisions) else None
    deployment_id = ids.daemon_deployment_id(revision.key)
    reason = None
    if deployment_id in _stopped(v):
        status, reason = "STOPPED", SUPERSEDED
    elif primary and v.status == DELETE_IN_PROGRESS:
        status, reason = "STOPPED", DELETED
    elif primary and v.primary_state != "COMPLETED":
        status = "IN_PROGRESS"
    else:
        status = "SUCCESSFUL"
    config = dict(v.spec.get("deploymentConfiguration") or {})
    alarms = config.get("alarms") or {}
    out: dict[str, Any] = {
        "daemonDeploymentArn": deployment_arn(v, revision),
        "clusterArn": v.cluster_arn,
        "status": status,
        "targetDaemonRevision": _deployment_revision(v, revision),
        "sourceDaemonRevisions": [_deployment_revision(v, v.revisions[index - 1])]
        if index > 0
        else [],
        "circuitBreaker": {"status": "DISABLED", "failureCount": revision.failed, "threshold": 0},
        "alarms": {
            "status": "MONITORING" if alarms.get("enable") else "DISABLED",
            "alarmNames": list(alarms.get("alarmNames") or []),
            "triggeredAlarmNames": [],
        },
        "deploymentConfiguration": config,
    }
    if reason:
        out["statusReason"] = reason
    if revision.created is not None:
        out["createdAt"] = out["startedAt"] = revision.created
    if primary:
        ended = rollouts.finished_at(v.daemon_set, revision, v.primary_state, primary=True)
    else:
        ended = successor.created if successor is not None else None
    if status == "SUCCESSFUL" and ended is not None:
        out["finishedAt"] = ended
    if status == "STOPPED":
        moment = ended
        if reason == DELETED:
            moment = k8s_time.parse(task_keys.annotations_of(v.daemon_set).get(UPDATED_AT))
        if moment is not None:
            out["stoppedAt"] = moment
    return out


def deployments(v: DaemonView) -> list[dict[str, Any]]:
    """Every deployment Kubernetes still remembers, newest first."""
    return [deployment(v, r) for r in reversed(v.revisions)]


def deployment_summary(daemon_arn: str, full: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        key: full[key]
        for key in (
            "daemonDeploymentArn",
            "clusterArn",
            "status",
            "statusReason",
            "createdAt",
            "startedAt",
            "stoppedAt",
            "finishedAt",
        )
        if key in full
    }
    out["daemonArn"] = daemon_arn
    out["targetDaemonRevisionArn"] = full["targetDaemonRevision"]["arn"]
    return out


def revision(v: DaemonView, rev: Revision) -> dict[str, Any]:
    """The ``DaemonRevision`` (the configuration ``rev`` runs)."""
    settings = task_keys.json_value(task_keys.annotations_of(rev.template), REVISION, {})
    settings = settings if isinstance(settings, Mapping) else {}
    out: dict[str, Any] = {
        "daemonRevisionArn": revision_arn(v, rev),
        "clusterArn": v.cluster_arn,
        "daemonArn": v.arn,
        "daemonTaskDefinitionArn": str(
            settings.get("daemonTaskDefinitionArn") or rev.task_definition or ""
        ),
        "containerImages": service_history.container_images(rev),
        "propagateTags": str(settings.get("propagateTags") or "NONE"),
        "enableECSManagedTags": bool(settings.get("enableECSManagedTags", False)),
        "enableExecuteCommand": bool(settings.get("enableExecuteCommand", False)),
        "critical": bool(settings.get("critical", True)),
    }
    if rev.created is not None:
        out["createdAt"] = rev.created
    return out


def revisions(v: DaemonView) -> list[dict[str, Any]]:
    return [revision(v, r) for r in reversed(v.revisions)]


def summary_of(v: DaemonView) -> dict[str, Any]:
    """The ``DaemonSummary`` ListDaemons returns."""
    full = detail(v)
    return {k: full[k] for k in ("daemonArn", "status", "createdAt", "updatedAt") if k in full}
