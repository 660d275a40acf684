"""A stored service -> what DescribeServices, DescribeServiceDeployments and
DescribeServiceRevisions return.

The status itself is computed by the pure mappings (:mod:`kecs.mapping.service_status`,
:mod:`kecs.mapping.service_history`); this module picks the inputs, answers INACTIVE services
from their tombstones, and adds the events of rollbacks (which the mapping does not word yet):
``(service web) (deployment ecs-svc/1) deployment failed: tasks failed to start.`` and
``(service web) rolling back to deployment ecs-svc/2.``
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kecs.mapping import ids, k8s_time, service_history, service_status, task_keys
from kecs.mapping.rollouts import Revision
from kecs.operations import service_store as store
from kecs.operations import task_set_view
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_store import Stored

Params = dict[str, Any]
MAX_EVENTS = 100


def service_view(
    ctx: RequestContext, ref: ClusterRef, stored: Stored
) -> service_status.ServiceView:
    assert stored.workload is not None
    return service_status.view(
        stored.workload,
        stored.revisions,
        stored.pods,
        region=ctx.region,
        account=ctx.account_id,
        cluster_name=ref.name,
        now=ctx.now(),
    )


def tags_of(stored: Stored) -> list[dict[str, str]]:
    obj = stored.workload if stored.workload is not None else stored.tombstone
    value = task_keys.json_value(task_keys.annotations_of(obj), task_keys.TAGS, [])
    return [dict(t) for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


def describe(ctx: RequestContext, ref: ClusterRef, stored: Stored, *, include_tags: bool) -> Params:
    """The ECS ``Service`` of ``stored`` (ACTIVE, DRAINING or INACTIVE)."""
    if stored.workload is None:
        service = dict(stored.tombstone_data("service") or {})
        if include_tags:
            service["tags"] = tags_of(stored)
        else:
            service.pop("tags", None)
        return service
    if stored.external:
        return task_set_view.describe(ctx, ref, stored, include_tags=include_tags)
    service = service_status.workload_to_service(
        stored.workload,
        stored.revisions,
        stored.pods,
        region=ctx.region,
        account=ctx.account_id,
        cluster_name=ref.name,
        k8s_service=stored.k8s_service,
        now=ctx.now(),
        include_tags=include_tags,
    )
    extra = rollback_events(
        service["serviceName"], service["serviceArn"], service_view(ctx, ref, stored)
    )
    if extra:
        merged = sorted(
            [*service["events"], *extra], key=lambda e: _moment(e["createdAt"]), reverse=True
        )
        service["events"] = merged[:MAX_EVENTS]
    return service


def _moment(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def rollback_events(name: str, arn: str, v: service_status.ServiceView) -> list[Params]:
    """The events of deployments the circuit breaker (or a stop request) rolled back."""
    prefix = f"(service {name})"
    events: list[Params] = []
    for revision in v.revisions:
        if revision is v.primary:
            continue
        notes = revision.annotations
        if notes.get(task_keys.ROLLOUT_STATE) != "FAILED":
            continue
        moment = k8s_time.parse(notes.get(task_keys.ROLLOUT_FINISHED_AT)) or revision.created
        if moment is None:
            continue
        messages = []
        if not notes.get(store.STOP_REQUESTED):
            messages.append(
                f"{prefix} (deployment {revision.deployment_id}) deployment failed: "
                "tasks failed to start."
            )
        target = notes.get(store.ROLLED_BACK_TO)
        if target:
            messages.append(f"{prefix} rolling back to deployment {target}.")
        for offset, message in enumerate(messages):
            # ECS logs the failure before the rollback; a microsecond keeps that order.
            at = moment.replace(microsecond=min(moment.microsecond + offset, 999_999))
            events.append(
                {
                    "id": ids.event_id(arn, k8s_time.format_micro(at), message),
                    "createdAt": at,
                    "message": message,
                }
            )
    return events


# -- service deployments and revisions ------------------------------------------------------


def _stopped_by_request(revision: Revision) -> bool:
    return bool(revision.annotations.get(store.STOP_REQUESTED))


def service_deployments(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> list[Params]:
    """Every ``ServiceDeployment`` of the service, newest first."""
    if stored.workload is None:
        return [dict(d) for d in stored.tombstone_data("serviceDeployments") or []]
    if stored.external:
        return []  # its task sets are rolled out by the external controller, not ECS
    v = service_view(ctx, ref, stored)
    result = service_history.service_deployments(v)
    for revision, deployment in zip(reversed(v.revisions), result, strict=True):
        if _stopped_by_request(revision):
            deployment["status"] = "ROLLBACK_SUCCESSFUL"
            deployment["statusReason"] = (
                "Service deployment rolled back by a StopServiceDeployment request."
            )
    return result


def service_revisions(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> list[Params]:
    """Every ``ServiceRevision`` of the service, newest first."""
    if stored.workload is None:
        return [dict(r) for r in stored.tombstone_data("serviceRevisions") or []]
    if stored.external:
        return []
    return service_history.service_revisions(service_view(ctx, ref, stored))


def inactive_record(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> Params:
    """The service as DescribeServices shows it once INACTIVE."""
    service = describe(ctx, ref, stored, include_tags=False)
    service.update(status=store.INACTIVE, desiredCount=0, runningCount=0, pendingCount=0)
    for deployment in service.get("deployments") or []:
        deployment.update(desiredCount=0, runningCount=0, pendingCount=0)
    service["deployments"] = (service.get("deployments") or [])[:1]
    service["currentServiceRevisions"] = []
    return service
