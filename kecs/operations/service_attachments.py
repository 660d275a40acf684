"""The objects beside a service's workload: discovery Services and load balancer objects.

Built by :func:`kecs.mapping.task_wiring.service_attachments` (service discovery and Service
Connect Services, load balancer Services and Ingresses); this module writes them:

- CreateService checks the names first (:func:`check_names`): a Service of that name owned
  by another ECS service (or not made by kecs) refuses the call with
  ``InvalidParameterException`` before anything is written; one left behind by an earlier
  service of the same name (its workload is gone) is removed. The objects are then created
  with the workload by :func:`kecs.operations.service_store.create_all`, which removes what it
  made when a later create fails.
- UpdateService (a new deployment) and every rollback converge them on the new spec
  (:func:`sync`, through :mod:`.service_rollout`): creates what is missing, rewrites what
  differs, deletes what the spec no longer asks for.
- DeleteService deletes them (:func:`delete_all`) before the service starts draining, so its
  DNS names and load balancers stop sending traffic to tasks that are stopping.

Listing costs one Service list (and one Ingress list with load balancers), by the labels
:func:`kecs.mapping.networking.discovery_selector` and
:func:`kecs.mapping.load_balancers.load_balancer_selector` put on them; services without
attachments cost nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists, NotFound
from kecs.errors import InvalidParameterException
from kecs.mapping import labels, load_balancers, names, networking, task_keys, task_wiring
from kecs.mapping.errors import MappingError
from kecs.operations import service_store as store
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext

Params = dict[str, Any]
RESOURCES = (networking.DISCOVERY_RESOURCE, load_balancers.RESOURCE)


def build(
    ctx: RequestContext, ref: ClusterRef, spec: Mapping[str, Any], task_definition: Params
) -> list[Object]:
    """The discovery and load balancer objects ``spec`` asks for (ECS's errors when invalid)."""
    if not task_wiring.has_attachments(spec):
        return []
    defaults = ref.spec.service_connect_defaults or {}
    try:
        objects, _ = task_wiring.service_attachments(
            spec,
            task_definition,
            namespace=ref.namespace,
            account=ctx.account_id,
            region=ctx.region,
            cluster_name=ref.name,
            default_service_connect_namespace=defaults.get("namespace"),
        )
    except MappingError as exc:
        raise InvalidParameterException(str(exc)) from None
    return objects


def _ours(ctx: RequestContext, ref: ClusterRef, service_name: str, obj: Mapping[str, Any]) -> bool:
    found = task_keys.labels_of(obj)
    return (
        found.get(labels.ACCOUNT) == ctx.account_id
        and found.get(labels.REGION) == ctx.region
        and found.get(labels.CLUSTER) == names.label_value(ref.name)
        and task_keys.annotations_of(obj).get(task_keys.SERVICE_NAME) == service_name
    )


def _taken(obj: Mapping[str, Any], wanted: Mapping[str, Any]) -> InvalidParameterException:
    owner = task_keys.annotations_of(obj).get(task_keys.SERVICE_NAME)
    dns = task_keys.annotations_of(wanted).get(networking.ANN_DNS_NAME)
    what = f"The DNS name {dns}" if dns else f"The name {wanted['metadata']['name']}"
    by = f"service {owner}" if owner else "a Kubernetes Service kecs did not make"
    return InvalidParameterException(
        f"{what} ({wanted['kind']} {wanted['metadata']['name']}) is already used by {by} "
        "in this cluster."
    )


def check_names(
    ctx: RequestContext,
    ref: ClusterRef,
    service_name: str,
    wanted: Iterable[Object],
    *,
    known: Iterable[Object] = (),
    remove_leftovers: bool = True,
) -> None:
    """Refuse names another service holds; remove this service's leftovers (module docs).

    ``known``: objects already listed as this service's (not looked up again).
    """
    listed = {(o["kind"], o["metadata"]["name"]) for o in known}
    for obj in wanted:
        name = obj["metadata"]["name"]
        if (obj["kind"], name) in listed:
            continue
        try:
            current = ctx.backend.get(kinds.of(obj), name, ref.namespace)
        except NotFound:
            continue
        if not _ours(ctx, ref, service_name, current):
            raise _taken(current, obj)
        if remove_leftovers:
            store.delete_quietly(ctx, current)


def current(ctx: RequestContext, ref: ClusterRef, service_name: str) -> list[Object]:
    """The service's attachments as stored (one Service list, one Ingress list)."""
    selector = (
        f"{labels.RESOURCE} in ({','.join(RESOURCES)}),"
        f"{labels.SERVICE}={names.label_value(service_name)},"
        f"{labels.ACCOUNT}={ctx.account_id},{labels.REGION}={ctx.region}"
    )

    def mine(obj: Object) -> bool:
        return _ours(ctx, ref, service_name, obj)

    found: list[Object] = []
    for kind in (kinds.SERVICE, kinds.INGRESS):
        found += ctx.backend.list_all(kind, ref.namespace, selector=selector, where=mine)
    return found


def _without_node_ports(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [
        {k: v for k, v in p.items() if k != "nodePort"} if isinstance(p, Mapping) else p
        for p in value
    ]


def _changed(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    meta, want = current.get("metadata") or {}, wanted["metadata"]
    spec = current.get("spec") or {}
    return (
        any(
            (_without_node_ports(spec.get(k)) if k == "ports" else spec.get(k)) != v
            for k, v in wanted["spec"].items()
        )
        or (meta.get("labels") or {}) != want["labels"]
        or any((meta.get("annotations") or {}).get(k) != v for k, v in want["annotations"].items())
    )


def _rewrite(ctx: RequestContext, wanted: Object) -> None:
    meta = wanted["metadata"]

    def change(obj: Object) -> Object | None:
        if not _changed(obj, wanted):
            return None
        kept = obj["metadata"].get("annotations") or {}
        obj["metadata"]["labels"] = meta["labels"]
        obj["metadata"]["annotations"] = {**kept, **meta["annotations"]}
        # Keep what the API server allocated (clusterIP, node ports), replace the rest.
        before = obj.get("spec") or {}
        obj["spec"] = {**before, **wanted["spec"]}
        if wanted["kind"] == "Service":
            obj["spec"]["ports"] = _with_node_ports(before, obj["spec"])
        return obj

    store.modify(ctx, kinds.of(wanted), meta["name"], meta["namespace"], change)


def _with_node_ports(before: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Params]:
    ports = [dict(p) for p in spec.get("ports") or ()]
    if spec.get("type") not in ("LoadBalancer", "NodePort"):
        return ports
    allocated = {
        (p.get("port"), p.get("protocol")): p["nodePort"]
        for p in before.get("ports") or ()
        if p.get("nodePort")
    }
    for port in ports:
        node_port = allocated.get((port.get("port"), port.get("protocol")))
        if node_port:
            port["nodePort"] = node_port
    return ports


def sync(
    ctx: RequestContext,
    ref: ClusterRef,
    service_name: str,
    wanted: list[Object],
    present: list[Object],
) -> None:
    """Make the service's attachments ``wanted`` (``present``: what :func:`current` read)."""
    by_key = {(o["kind"], o["metadata"]["name"]): o for o in present}
    wanted_keys = {(o["kind"], o["metadata"]["name"]) for o in wanted}
    for key, obj in by_key.items():
        if key not in wanted_keys:
            store.delete_quietly(ctx, obj)
    for obj in wanted:
        existing = by_key.get((obj["kind"], obj["metadata"]["name"]))
        if existing is not None and _headless(existing) != _headless(obj):
            store.delete_quietly(ctx, existing)  # a Service's clusterIP is immutable
            existing = None
        if existing is not None:
            if _changed(existing, obj):
                _rewrite(ctx, obj)
            continue
        try:
            ctx.backend.create(obj)
        except AlreadyExists:
            with contextlib.suppress(NotFound):
                found = ctx.backend.get(kinds.of(obj), obj["metadata"]["name"], ref.namespace)
                if not _ours(ctx, ref, service_name, found):
                    raise _taken(found, obj) from None
            _rewrite(ctx, obj)


def _headless(obj: Mapping[str, Any]) -> bool:
    return (obj.get("spec") or {}).get("clusterIP") == "None"


def delete_all(ctx: RequestContext, ref: ClusterRef, service_name: str) -> None:
    """Delete every attachment of the service."""
    for obj in current(ctx, ref, service_name):
        store.delete_quietly(ctx, obj)
