"""ListServices and ListServicesByNamespace.

Both list ACTIVE and DRAINING services (an INACTIVE one is only describable), in ARN order,
paged by a token that names the last ARN returned (10 per page unless ``maxResults`` says
otherwise, at most 100, as ECS). ListServices finishes the draining of services whose tasks
have all stopped before it answers. ListServicesByNamespace reads the Service Connect
namespace each service was created with (a name and the ARN kecs derives from it designate the
same namespace); kecs has no Cloud Map, so an unknown namespace lists nothing rather than
raising ``NamespaceNotFoundException``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs import arns
from kecs.backends.base import Object
from kecs.mapping import labels, task_keys
from kecs.operations import cluster_params, paging, service_params
from kecs.operations import service_scheduler as scheduler
from kecs.operations import service_store as store
from kecs.operations.cluster_lookup import resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation

Params = dict[str, Any]


def page(items: list[str], params: Params, default: int) -> Params:
    """One page of sorted ``items`` (ARNs), with a ``nextToken`` when more follow."""
    size = paging.page_size(params, default=default)
    after = paging.resume_name(params)
    if after is not None:
        items = [item for item in items if item > after]
    result: Params = {"serviceArns": items[:size]}
    if len(items) > size:
        result["nextToken"] = paging.encode_token(items[size - 1])
    return result


def _launch_type(spec: Mapping[str, Any]) -> str | None:
    if spec.get("launchType"):
        return str(spec["launchType"])
    return None if spec.get("capacityProviderStrategy") else "EC2"


@operation("ListServices")
def list_services(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    paging.page_size(params, default=10)
    found = store.load(ctx, ref, None, detail=False)
    draining = [n for n, s in found.items() if s.status == store.DRAINING]
    if draining:
        found.update(scheduler.settle(ctx, ref, draining))
    launch_type = params.get("launchType")
    strategy = params.get("schedulingStrategy")
    if params.get("resourceManagementType") == "ECS":
        return {"serviceArns": []}  # kecs services are all customer managed
    selected = []
    for name, stored in found.items():
        if stored.workload is None:
            continue
        spec = stored.spec
        if launch_type and _launch_type(spec) != launch_type:
            continue
        if (
            strategy
            and (service_params.DAEMON if stored.daemon else service_params.REPLICA) != strategy
        ):
            continue
        selected.append(arns.service(ctx.region, ctx.account_id, ref.name, name))
    return page(sorted(selected), params, default=10)


@operation("ListServicesByNamespace")
def list_services_by_namespace(ctx: RequestContext, params: Params) -> Params:
    paging.page_size(params, default=10)
    wanted = cluster_params.service_connect_namespace_arn(
        ctx.region, ctx.account_id, params["namespace"]
    )
    selected: list[str] = []

    def collect(obj: Object) -> bool:
        notes = task_keys.annotations_of(obj)
        spec = task_keys.json_value(notes, task_keys.SERVICE_SPEC, {})
        connect = spec.get("serviceConnectConfiguration") if isinstance(spec, dict) else None
        namespace = (connect or {}).get("namespace")
        cluster_name = notes.get(task_keys.CLUSTER_NAME)
        name = notes.get(task_keys.SERVICE_NAME)
        if namespace and cluster_name and name:
            arn = cluster_params.service_connect_namespace_arn(
                ctx.region, ctx.account_id, namespace
            )
            if arn == wanted:
                selected.append(arns.service(ctx.region, ctx.account_id, cluster_name, name))
        return False

    selector = labels.ownership(ctx.account_id, ctx.region, store.SERVICE)
    for kind in store.WORKLOAD_KINDS:
        ctx.backend.list_all(kind, None, selector=selector, where=collect)
    return page(sorted(set(selected)), params, default=10)
