"""Container instances are Nodes: List / Describe / Register / Deregister, state, tags.

Membership and the ECS view are :mod:`kecs.mapping.container_instance`'s rules (shared Nodes
serve every cluster; ``kecs.dev/cluster`` dedicates a Node to one). Here:

- ListContainerInstances: the cluster's Nodes, by ARN, paged (``maxResults`` 1-100); without
  ``status`` every state but INACTIVE; ``filter`` is the cluster query language evaluated on
  each instance (attributes, ``ec2InstanceId``, ``agentConnected``, ``agentVersion``,
  ``registeredAt``, ``runningTasksCount``, ``task:group``, every operator).
- RegisterContainerInstance creates a Node in the embedded cluster, dedicated to the cluster
  (instance type, zone and architecture from ``instanceIdentityDocument``, CPU units and
  MEMORY MiB from ``totalResources``, custom attributes as labels, tags in an annotation); a
  ``containerInstanceArn`` (or the same ``instanceId``) registers an existing instance again.
  On a real cluster Nodes join through the cluster's own machinery (kubelet bootstrap, node
  groups, Karpenter): ``UnsupportedFeatureException`` says so.
- DeregisterContainerInstance refuses while the cluster's tasks run on the instance unless
  ``force``; then its service tasks are stopped so their services start them elsewhere
  (standalone tasks stay, orphaned, as on ECS). A Node that RegisterContainerInstance created
  in the embedded cluster is deleted; any other Node gets the cluster's
  ``kecs.dev/deregistered.<hash>`` label (kecs never deletes a real cluster's Nodes).
- UpdateContainerInstancesState: DRAINING cordons the Node (``spec.unschedulable``) and stops
  the cluster's service tasks on it (stop code ``ServiceSchedulerInitiated``), whose
  ReplicaSets start replacements on other Nodes; standalone tasks are left to finish.
  ACTIVE uncordons it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import NotFound
from kecs.errors import InvalidParameterException
from kecs.mapping import cluster_query, labels, task_keys
from kecs.mapping import container_instance as mapping
from kecs.mapping.errors import MappingError
from kecs.operations import container_instance_lookup as lookup
from kecs.operations import paging, tagging
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.container_registration import ANN_REGISTERED, register
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.task_sweep import stop_pod

Params = dict[str, Any]

MAX_RESULTS = 100
MAX_STATE_UPDATES = 10
SERVICE_SCHEDULER = "ServiceSchedulerInitiated"
DRAINING_REASON = "Container instance is DRAINING: the service scheduler stopped this task."
DEREGISTERED_REASON = (
    "Container instance was deregistered: the service scheduler stopped this task."
)


def _include(params: Params) -> frozenset[str]:
    allowed = ("TAGS", "CONTAINER_INSTANCE_HEALTH")
    include = params.get("include") or []
    for value in include:
        if value not in allowed:
            raise InvalidParameterException(
                f"Invalid include value {value!r}. Valid values: {', '.join(allowed)}."
            )
    return frozenset(include)


@operation("ListContainerInstances")
def list_container_instances(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    page_size = paging.page_size(params, maximum=MAX_RESULTS)
    query = None
    if params.get("filter"):
        try:
            query = cluster_query.parse(params["filter"])
        except MappingError as exc:
            raise InvalidParameterException(str(exc)) from None
    wanted = params.get("status")
    nodes = lookup.cluster_nodes(ctx, cluster)
    status_of = {
        n["metadata"]["name"]: mapping.status(n, ctx.account_id, ctx.region, cluster.name)
        for n in nodes
    }
    nodes = [
        n
        for n in nodes
        if (status_of[n["metadata"]["name"]] == wanted)
        or (wanted is None and status_of[n["metadata"]["name"]] != mapping.INACTIVE)
    ]
    if query is not None:
        pods = lookup.pods_on(ctx, [n["metadata"]["name"] for n in nodes])
        views = lookup.render(ctx, cluster, nodes, pods=pods)
        nodes = [
            node
            for node, view in zip(nodes, views, strict=True)
            if cluster_query.evaluate(
                query,
                mapping.facts(
                    view,
                    lookup.task_groups(
                        lookup.cluster_tasks(pods[node["metadata"]["name"]], cluster)
                    ),
                ),
            )
        ]
    found = [lookup.instance_arn(ctx, cluster, n) for n in nodes]
    resume = paging.resume_after(params, str)
    if resume is not None:
        found = [arn for arn in found if arn > resume[0]]
    result: Params = {"containerInstanceArns": found[:page_size]}
    if len(found) > page_size:
        result["nextToken"] = paging.encode_token(found[page_size - 1])
    return result


@operation("DescribeContainerInstances")
def describe_container_instances(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    include = _include(params)
    values: list[str] = params.get("containerInstances") or []
    if not values:
        raise InvalidParameterException("Container instances cannot be empty.")
    if len(values) > lookup.MAX_INSTANCES:
        raise InvalidParameterException(
            f"containerInstances can have at most {lookup.MAX_INSTANCES} items."
        )
    found = lookup.find_nodes(ctx, cluster, values)
    failures = [
        {"arn": lookup.given_arn(ctx, cluster, v), "reason": "MISSING"}
        for v, node in found.items()
        if node is None
    ]
    seen: dict[str, Object] = {}
    for value in values:
        node = found.get(value)
        if node is not None:
            seen.setdefault(node["metadata"]["name"], node)
    instances = lookup.render(ctx, cluster, seen.values(), include)
    return {"containerInstances": instances, "failures": failures}


@operation("RegisterContainerInstance")
def register_container_instance(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    node = register(ctx, cluster, params)
    return {"containerInstance": lookup.render(ctx, cluster, [node], ("TAGS",))[0]}


def _stop_service_tasks(
    ctx: RequestContext, cluster: ClusterRef, pods: list[Object], reason: str
) -> None:
    now = ctx.now()
    for pod in lookup.cluster_tasks(pods, cluster):
        if labels.SERVICE not in task_keys.labels_of(pod) or mapping.task_state(pod) is None:
            continue
        stop_pod(ctx, cluster.namespace, pod["metadata"]["name"], SERVICE_SCHEDULER, reason, now)


@operation("DeregisterContainerInstance")
def deregister_container_instance(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    node = lookup.one_node(ctx, cluster, params["containerInstance"])
    name = node["metadata"]["name"]
    pods = lookup.pods_on(ctx, [name])[name]
    live = [p for p in lookup.cluster_tasks(pods, cluster) if mapping.task_state(p) is not None]
    if live and not params.get("force"):
        raise InvalidParameterException(
            "The container instance has tasks running. Stop them, or use force to deregister "
            "it anyway."
        )
    before = lookup.render(ctx, cluster, [node], ("TAGS",), pods={name: pods})[0]
    _stop_service_tasks(ctx, cluster, pods, DEREGISTERED_REASON)
    own = task_keys.annotations_of(node).get(ANN_REGISTERED) == "true"
    if own and mapping.dedicated_to(node, ctx.account_id, ctx.region, cluster.name):
        with contextlib.suppress(NotFound):
            ctx.backend.delete(kinds.NODE, name)
    else:
        label = mapping.deregistered_label(ctx.account_id, ctx.region, cluster.name)
        with contextlib.suppress(NotFound):
            ctx.backend.patch(kinds.NODE, name, {"metadata": {"labels": {label: "true"}}})
    before["status"] = mapping.INACTIVE
    return {"containerInstance": before}


@operation("UpdateContainerInstancesState")
def update_container_instances_state(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    status = params["status"]
    if status not in (mapping.ACTIVE, mapping.DRAINING):
        raise InvalidParameterException(
            "Container instance status can only be updated to ACTIVE or DRAINING."
        )
    values: list[str] = params.get("containerInstances") or []
    if not values:
        raise InvalidParameterException("Container instances cannot be empty.")
    if len(values) > MAX_STATE_UPDATES:
        raise InvalidParameterException(
            f"containerInstances can have at most {MAX_STATE_UPDATES} items."
        )
    found = lookup.find_nodes(ctx, cluster, values)
    failures: list[Params] = []
    changed: dict[str, Object] = {}
    for value in values:
        node = found[value]
        if node is None:
            failures.append({"arn": lookup.given_arn(ctx, cluster, value), "reason": "MISSING"})
            continue
        if not mapping.serves(node, ctx.account_id, ctx.region, cluster.name):
            failures.append({"arn": lookup.instance_arn(ctx, cluster, node), "reason": "INACTIVE"})
            continue
        name = node["metadata"]["name"]
        cordon = {"spec": {"unschedulable": True if status == mapping.DRAINING else None}}
        try:
            changed[name] = ctx.backend.patch(kinds.NODE, name, cordon)
        except NotFound:
            failures.append({"arn": lookup.instance_arn(ctx, cluster, node), "reason": "MISSING"})
            continue
        if status == mapping.DRAINING:
            pods = lookup.pods_on(ctx, [name])[name]
            _stop_service_tasks(ctx, cluster, pods, DRAINING_REASON)
    instances = lookup.render(ctx, cluster, changed.values())
    return {"containerInstances": instances, "failures": failures}


# -- tags ------------------------------------------------------------------------------------


def _tagged_node(ctx: RequestContext, arn: Arn) -> tuple[ClusterRef, Object]:
    parts = arn.parts
    if arn.region != ctx.region or arn.account != ctx.account_id or len(parts) != 2:
        raise InvalidParameterException(lookup.NOT_FOUND)
    cluster = resolve_cluster(ctx, parts[0])
    return cluster, lookup.one_node(ctx, cluster, str(arn))


def read_instance_tags(ctx: RequestContext, arn: Arn) -> tagging.Tags:
    return mapping.tags_of(_tagged_node(ctx, arn)[1])


def write_instance_tags(ctx: RequestContext, arn: Arn, edit: tagging.TagEdit) -> None:
    _, node = _tagged_node(ctx, arn)

    def mutate(current: Object) -> Object:
        tags = tagging.merge_tags([], edit(mapping.tags_of(current)))
        meta = current["metadata"]
        meta.setdefault("annotations", {})[labels.ANN_TAGS] = task_keys.dump(tags)
        return current

    ctx.backend.modify(kinds.NODE, node["metadata"]["name"], mutate)


tagging.taggable("container-instance", read_instance_tags, write_instance_tags)
