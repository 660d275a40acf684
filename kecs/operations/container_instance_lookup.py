"""Finding the Nodes that are a cluster's container instances, and showing them as ECS does.

Which Nodes belong to which cluster is :mod:`kecs.mapping.container_instance`'s rule; this
module reads Nodes and the pods bound to them (one backend list each per request) and renders
them with :func:`kecs.mapping.container_instance.to_container_instance`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from kecs import arns
from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.errors import InvalidParameterException
from kecs.mapping import container_instance as mapping
from kecs.mapping import ids, labels, task_keys
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.task_lookup import container_instance_id_of

NOT_FOUND = "The referenced container instance was not found."
MAX_INSTANCES = 100


def cluster_nodes(ctx: RequestContext, cluster: ClusterRef) -> list[Object]:
    """Every Node the cluster knows (registered, draining, or deregistered from it)."""

    def known(node: dict[str, Any]) -> bool:
        return mapping.belongs(node, ctx.account_id, ctx.region, cluster.name)

    nodes = ctx.backend.list_all(kinds.NODE, where=known)
    return sorted(nodes, key=lambda n: instance_arn(ctx, cluster, n))


def instance_arn(ctx: RequestContext, cluster: ClusterRef, node: Mapping[str, Any]) -> str:
    return mapping.container_instance_arn(node, ctx.region, ctx.account_id, cluster.name)


def given_arn(ctx: RequestContext, cluster: ClusterRef, value: str) -> str:
    """The ARN a failure entry reports for ``value`` (kept as given when it is an ARN)."""
    if arns.is_arn(value):
        return value
    return arns.container_instance(ctx.region, ctx.account_id, cluster.name, value)


def find_nodes(
    ctx: RequestContext, cluster: ClusterRef, values: Collection[str]
) -> dict[str, Object | None]:
    """``{value: Node or None}`` for container instance ids or ARNs (one backend list)."""
    wanted = {value: container_instance_id_of(ctx, cluster.name, value) for value in values}
    ids_wanted = {i for i in wanted.values() if i}

    def chosen(node: dict[str, Any]) -> bool:
        return ids.container_instance_id(node) in ids_wanted and mapping.belongs(
            node, ctx.account_id, ctx.region, cluster.name
        )

    found = {
        ids.container_instance_id(n): n for n in ctx.backend.list_all(kinds.NODE, where=chosen)
    }
    return {value: found.get(instance) if instance else None for value, instance in wanted.items()}


def one_node(ctx: RequestContext, cluster: ClusterRef, value: str) -> Object:
    node = find_nodes(ctx, cluster, [value])[value]
    if node is None:
        raise InvalidParameterException(NOT_FOUND)
    return node


def pods_on(ctx: RequestContext, node_names: Collection[str]) -> dict[str, list[Object]]:
    """``{node name: pods bound to it}``, every namespace, one backend list."""
    wanted = set(node_names)
    result: dict[str, list[Object]] = {name: [] for name in wanted}
    if not wanted:
        return result

    def bound(pod: dict[str, Any]) -> bool:
        return (pod.get("spec") or {}).get("nodeName") in wanted

    for pod in ctx.backend.list_all(kinds.POD, where=bound):
        result[pod["spec"]["nodeName"]].append(pod)
    return result


def cluster_tasks(
    pods: Iterable[Mapping[str, Any]], cluster: ClusterRef
) -> list[Mapping[str, Any]]:
    """The cluster's task pods among ``pods``."""
    return [
        p
        for p in pods
        if (p.get("metadata") or {}).get("namespace") == cluster.namespace
        and task_keys.labels_of(p).get(labels.RESOURCE) == "task"
    ]


def task_groups(pods: Iterable[Mapping[str, Any]]) -> set[str]:
    """The ECS task groups of live task pods (for ``task:group`` in filters)."""
    return {
        str(task_keys.annotations_of(p).get(task_keys.GROUP))
        for p in pods
        if mapping.task_state(p) is not None and task_keys.annotations_of(p).get(task_keys.GROUP)
    }


def render(
    ctx: RequestContext,
    cluster: ClusterRef,
    nodes: Iterable[Mapping[str, Any]],
    include: Collection[str] = (),
    pods: Mapping[str, list[Object]] | None = None,
) -> list[dict[str, Any]]:
    """ECS ``ContainerInstance`` structures of ``nodes`` (pods read once unless given)."""
    nodes = list(nodes)
    if pods is None:
        pods = pods_on(ctx, [n["metadata"]["name"] for n in nodes])
    return [
        mapping.to_container_instance(
            node,
            region=ctx.region,
            account=ctx.account_id,
            cluster_name=cluster.name,
            cluster_namespace=cluster.namespace,
            pods_on_node=pods.get(node["metadata"]["name"], []),
            include=include,
        )
        for node in nodes
    ]
