"""Daemon deployments and revisions: DescribeDaemonDeployments, ListDaemonDeployments,
DescribeDaemonRevisions.

One revision of a daemon's DaemonSet (a ControllerRevision) is one daemon revision and the
daemon deployment that rolled it out (:mod:`kecs.mapping.daemon_status`); a deleted daemon
answers from the history its tombstone kept (:mod:`kecs.operations.daemon_store`). ARNs that
cannot name anything of this caller, or name nothing that exists, are failures (``MISSING``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.arns import ServiceChild
from kecs.errors import ClusterNotFoundException, DaemonNotFoundException, InvalidParameterException
from kecs.mapping import daemon_status
from kecs.operations import daemon_store, paging
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.daemon_store import StoredDaemon
from kecs.operations.daemons import NOT_FOUND
from kecs.operations.registry import operation

Params = dict[str, Any]
MAX_DESCRIBE = 20


def history(ctx: RequestContext, ref: ClusterRef, stored: StoredDaemon, key: str) -> list[Params]:
    """Every deployment (``key="deployments"``) or revision of the daemon, newest first."""
    if stored.daemon_set is None:
        return [dict(d) for d in stored.tombstone_data(key) or []]
    view = daemon_store.view(ctx, ref, stored)
    if key == "deployments":
        return daemon_status.deployments(view)
    return daemon_status.revisions(view)


def _describe(
    ctx: RequestContext,
    requested: list[str],
    parse: Callable[[str], ServiceChild | None],
    key: str,
    arn_key: str,
) -> tuple[list[Params], list[Params]]:
    if not requested:
        raise InvalidParameterException("At least one ARN must be specified.")
    if len(requested) > MAX_DESCRIBE:
        raise InvalidParameterException(f"At most {MAX_DESCRIBE} ARNs can be specified.")
    by_cluster: dict[str, set[str]] = defaultdict(set)
    for arn in requested:
        child = parse(arn)
        if child is not None and (child.region, child.account) == (ctx.region, ctx.account_id):
            by_cluster[child.cluster].add(child.service)
    known: dict[str, Params] = {}
    for cluster_name, names in by_cluster.items():
        try:
            ref = resolve_cluster(ctx, cluster_name)
        except ClusterNotFoundException:
            continue
        for stored in daemon_store.load(ctx, ref, names).values():
            for item in history(ctx, ref, stored, key):
                known[item[arn_key]] = item
    found = [known[arn] for arn in dict.fromkeys(requested) if arn in known]
    failures = [{"arn": arn, "reason": "MISSING"} for arn in requested if arn not in known]
    return found, failures


@operation("DescribeDaemonDeployments")
def describe_daemon_deployments(ctx: RequestContext, params: Params) -> Params:
    found, failures = _describe(
        ctx,
        list(params["daemonDeploymentArns"]),
        arns.parse_daemon_deployment,
        "deployments",
        "daemonDeploymentArn",
    )
    return {"daemonDeployments": found, "failures": failures}


@operation("DescribeDaemonRevisions")
def describe_daemon_revisions(ctx: RequestContext, params: Params) -> Params:
    found, failures = _describe(
        ctx,
        list(params["daemonRevisionArns"]),
        arns.parse_daemon_revision,
        "revisions",
        "daemonRevisionArn",
    )
    return {"daemonRevisions": found, "failures": failures}


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) if isinstance(value, int | float) else None


@operation("ListDaemonDeployments")
def list_daemon_deployments(ctx: RequestContext, params: Params) -> Params:
    limit = paging.page_size(params, default=20)
    after = paging.resume_name(params)
    parsed = arns.parse_daemon(params["daemonArn"])
    if parsed is None or (parsed.region, parsed.account) != (ctx.region, ctx.account_id):
        raise DaemonNotFoundException(NOT_FOUND)
    ref = resolve_cluster(ctx, parsed.cluster)
    stored = daemon_store.load(ctx, ref, [parsed.name]).get(parsed.name)
    if stored is None:
        raise DaemonNotFoundException(NOT_FOUND)
    statuses = set(params.get("status") or ())
    window = params.get("createdAt") or {}
    before, since = _epoch(window.get("before")), _epoch(window.get("after"))
    daemon_arn = arns.daemon(ctx.region, ctx.account_id, ref.name, parsed.name)
    summaries = []
    for item in history(ctx, ref, stored, "deployments"):
        created = _epoch(item.get("createdAt"))
        if statuses and item["status"] not in statuses:
            continue
        if created is not None and (
            (before is not None and created >= before) or (since is not None and created <= since)
        ):
            continue
        summaries.append(daemon_status.deployment_summary(daemon_arn, item))
    if after is not None:
        arns_in_order = [s["daemonDeploymentArn"] for s in summaries]
        start = arns_in_order.index(after) + 1 if after in arns_in_order else len(summaries)
        summaries = summaries[start:]
    result: Params = {"daemonDeployments": summaries[:limit]}
    if len(summaries) > limit:
        result["nextToken"] = paging.encode_token(summaries[limit - 1]["daemonDeploymentArn"])
    return result
