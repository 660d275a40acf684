"""Service deployments and revisions, from the workload's real rollout history.

DescribeServiceDeployments, ListServiceDeployments, DescribeServiceRevisions,
StopServiceDeployment and ContinueServiceDeployment. One Kubernetes revision (a ReplicaSet, or
a DaemonSet's ControllerRevision) is one ECS service deployment and the service revision it
rolled out (:mod:`kecs.mapping.service_history`); an INACTIVE service answers from the
history its tombstone kept.

StopServiceDeployment (``ROLLBACK``, ECS's default) is ``kubectl rollout undo``: the
Deployment's template goes back to the last deployment that did not fail, and Kubernetes
scales that ReplicaSet up again; the service's other objects follow, as after an
UpdateService to that deployment (:func:`kecs.operations.service_scheduler.roll_back`).
``ABORT`` (leave a rollout half done) and ContinueServiceDeployment (lifecycle hooks of
BLUE_GREEN deployments) have no Kubernetes counterpart here and answer
``UnsupportedFeatureException``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kecs import arns
from kecs.arns import ServiceChild
from kecs.errors import (
    ClusterNotFoundException,
    ConflictException,
    InvalidParameterException,
    ServiceDeploymentNotFoundException,
    ServiceNotFoundException,
    UnsupportedFeatureException,
)
from kecs.mapping import ids, service_history
from kecs.mapping.rollouts import Revision
from kecs.operations import paging, service_params
from kecs.operations import service_scheduler as scheduler
from kecs.operations import service_view as view
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.service_params import NOT_FOUND
from kecs.operations.service_store import Stored

Params = dict[str, Any]
MAX_DESCRIBE = 20
DEPLOYMENT_NOT_FOUND = "Service deployment not found."
Collect = Callable[[RequestContext, ClusterRef, Stored], list[Params]]


def _grouped(
    ctx: RequestContext, requested: list[str], parse: Callable[[str], ServiceChild | None]
) -> tuple[dict[tuple[str, str], list[tuple[str, str]]], list[Params]]:
    """The requested ARNs by (cluster, service), and failures for the ones that cannot exist."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    failures = []
    for arn in requested:
        child = parse(arn)
        if child is None or child.region != ctx.region or child.account != ctx.account_id:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            groups[(child.cluster, child.service)].append((arn, child.id))
    return groups, failures


def _describe(
    ctx: RequestContext,
    requested: list[str],
    parse: Callable[[str], ServiceChild | None],
    collect: Collect,
    arn_key: str,
) -> tuple[list[Params], list[Params]]:
    if not requested:
        raise InvalidParameterException("At least one ARN must be specified.")
    if len(requested) > MAX_DESCRIBE:
        raise InvalidParameterException(f"At most {MAX_DESCRIBE} ARNs can be specified.")
    groups, failures = _grouped(ctx, requested, parse)
    by_cluster: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(dict)
    for (cluster_name, service_name), wanted in groups.items():
        by_cluster[cluster_name][service_name] = wanted
    found: dict[str, Params] = {}
    for cluster_name, services in by_cluster.items():
        try:
            ref = resolve_cluster(ctx, cluster_name)
        except ClusterNotFoundException:
            continue
        settled = scheduler.settle(ctx, ref, services)
        for service_name in services:
            stored = settled.get(service_name)
            if stored is not None:
                for item in collect(ctx, ref, stored):
                    found[item[arn_key]] = item
    results = []
    for arn in requested:
        if arn in found:
            results.append(found[arn])
        elif not any(f["arn"] == arn for f in failures):
            failures.append({"arn": arn, "reason": "MISSING"})
    return results, failures


@operation("DescribeServiceDeployments")
def describe_service_deployments(ctx: RequestContext, params: Params) -> Params:
    items, failures = _describe(
        ctx,
        params["serviceDeploymentArns"],
        arns.parse_service_deployment,
        view.service_deployments,
        "serviceDeploymentArn",
    )
    return {"serviceDeployments": items, "failures": failures}


@operation("DescribeServiceRevisions")
def describe_service_revisions(ctx: RequestContext, params: Params) -> Params:
    items, failures = _describe(
        ctx,
        params["serviceRevisionArns"],
        arns.parse_service_revision,
        view.service_revisions,
        "serviceRevisionArn",
    )
    return {"serviceRevisions": items, "failures": failures}


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return None


@operation("ListServiceDeployments")
def list_service_deployments(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    size = paging.page_size(params, default=20)
    name = service_params.service_identifier(ctx, ref, params["service"])
    stored = scheduler.settle(ctx, ref, [name]).get(name) if name else None
    if stored is None:
        raise ServiceNotFoundException(NOT_FOUND)
    statuses = set(params.get("status") or [])
    window = params.get("createdAt") or {}
    after, before = _moment(window.get("after")), _moment(window.get("before"))
    briefs = []
    for deployment in view.service_deployments(ctx, ref, stored):
        created = _moment(deployment.get("createdAt"))
        if statuses and deployment["status"] not in statuses:
            continue
        if after is not None and (created is None or created < after):
            continue
        if before is not None and (created is None or created > before):
            continue
        briefs.append(service_history.brief(deployment))
    start = 0
    token = paging.resume_name(params)
    if token is not None:
        positions = [i for i, b in enumerate(briefs) if b["serviceDeploymentArn"] == token]
        if not positions:
            raise InvalidParameterException(paging.INVALID_TOKEN)
        start = positions[0] + 1
    result: Params = {"serviceDeployments": briefs[start : start + size]}
    if len(briefs) > start + size:
        result["nextToken"] = paging.encode_token(briefs[start + size - 1]["serviceDeploymentArn"])
    return result


def _deployment(ctx: RequestContext, arn: str) -> tuple[ClusterRef, Stored, Revision]:
    """The live service and revision a service deployment ARN names."""
    child = arns.parse_service_deployment(arn)
    if child is None:
        raise InvalidParameterException("The service deployment ARN is not valid.")
    if child.region != ctx.region or child.account != ctx.account_id:
        raise ServiceDeploymentNotFoundException(DEPLOYMENT_NOT_FOUND)
    try:
        ref = resolve_cluster(ctx, child.cluster)
    except ClusterNotFoundException:
        raise ServiceDeploymentNotFoundException(DEPLOYMENT_NOT_FOUND) from None
    stored = scheduler.settle(ctx, ref, [child.service]).get(child.service)
    if stored is None or stored.workload is None:
        raise ServiceDeploymentNotFoundException(DEPLOYMENT_NOT_FOUND)
    v = view.service_view(ctx, ref, stored)
    for revision in v.revisions:
        if ids.service_deployment_id(revision.key) == child.id:
            return ref, stored, revision
    raise ServiceDeploymentNotFoundException(DEPLOYMENT_NOT_FOUND)


@operation("StopServiceDeployment")
def stop_service_deployment(ctx: RequestContext, params: Params) -> Params:
    arn = params["serviceDeploymentArn"]
    stop_type = params.get("stopType") or "ROLLBACK"
    ref, stored, revision = _deployment(ctx, arn)
    if stop_type != "ROLLBACK":
        raise UnsupportedFeatureException(
            f"The stop type {stop_type} is not supported by kecs: a Kubernetes rolling update "
            "can be rolled back (stopType ROLLBACK) but not left half done."
        )
    if stored.daemon:
        raise UnsupportedFeatureException(
            "kecs cannot stop a deployment of a DAEMON service: Kubernetes DaemonSets have no "
            "rollback to a previous revision. Update the service to the task definition you "
            "want instead."
        )
    v = view.service_view(ctx, ref, stored)
    if revision.key != v.primary.key or v.primary_state != "IN_PROGRESS":
        raise ConflictException(
            "The service deployment is not in progress, so it cannot be stopped."
        )
    target = scheduler.last_completed(v)
    if target is None:
        raise ConflictException(
            "The service deployment cannot be rolled back: the service has no earlier "
            "service revision."
        )
    scheduler.roll_back(ctx, ref, stored, v.primary, target, stop_request=True)
    return {"serviceDeploymentArn": arn}


@operation("ContinueServiceDeployment")
def continue_service_deployment(ctx: RequestContext, params: Params) -> Params:
    _deployment(ctx, params["serviceDeploymentArn"])
    raise UnsupportedFeatureException(
        "kecs deployments never pause at a lifecycle hook: they are Kubernetes rolling updates "
        "(the BLUE_GREEN strategy and its hooks are not supported), so there is nothing to "
        "continue."
    )
