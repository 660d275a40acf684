"""Cluster operations: an ECS cluster is a Kubernetes Namespace (docs/clusters.md).

CreateCluster, DescribeClusters, ListClusters, UpdateCluster, UpdateClusterSettings,
PutClusterCapacityProviders, DeleteCluster, and the cluster's tag accessors.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, Conflict, NotFound
from kecs.errors import (
    ClientException,
    ClusterContainsContainerInstancesException,
    ClusterContainsServicesException,
    ClusterContainsTasksException,
    ClusterNotFoundException,
    InvalidParameterException,
)
from kecs.mapping import cluster as mapping
from kecs.mapping import labels
from kecs.operations import cluster_params as checks
from kecs.operations import cluster_store as store
from kecs.operations import paging
from kecs.operations.cluster_counters import count_cluster, count_clusters
from kecs.operations.cluster_lookup import (
    ACTIVE,
    INACTIVE,
    NOT_FOUND_MESSAGE,
    cluster_arn,
    cluster_name,
    read_cluster,
    read_clusters,
    resolve_cluster,
)
from kecs.operations.cluster_view import FULL, cluster_view
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.tagging import TagEdit, Tags, merge_tags, taggable
from kecs.operations.task_sweep import release_all

Params = dict[str, Any]

INCONSISTENT = (
    "Arguments on this idempotent request are inconsistent with arguments used in "
    "previous request(s)."
)
MAX_RESULTS = 100


@operation("CreateCluster")
def create_cluster(ctx: RequestContext, params: Params) -> Params:
    name = checks.check_name(params.get("clusterName") or mapping.DEFAULT_CLUSTER)
    tags = checks.check_tags(params.get("tags") or [])
    providers, strategy = checks.check_capacity_providers(
        ctx,
        params.get("capacityProviders") or [],
        params.get("defaultCapacityProviderStrategy") or [],
    )
    spec = mapping.ClusterSpec(
        account=ctx.account_id,
        region=ctx.region,
        name=name,
        arn=arns.cluster(ctx.region, ctx.account_id, name),
        settings=checks.merge_settings(checks.DEFAULT_SETTINGS, params.get("settings") or []),
        configuration=checks.merge_configuration(None, params.get("configuration")),
        service_connect_defaults=checks.service_connect_defaults(
            params.get("serviceConnectDefaults")
        ),
        capacity_providers=providers,
        default_capacity_provider_strategy=strategy,
        tags=tags,
    )
    try:
        ctx.backend.create(mapping.namespace_object(spec))
    except (AlreadyExists, Conflict):
        return {"cluster": _existing_cluster(ctx, spec, params)}
    store.sync_isolation(ctx, spec)
    store.delete_tombstone(ctx, spec)
    # A new cluster has no tasks or services, but the shared Nodes already serve it.
    namespace = mapping.namespace_name(spec.account, spec.region, spec.name)
    return {"cluster": cluster_view(spec, ACTIVE, count_cluster(ctx, namespace, name), FULL)}


def _existing_cluster(ctx: RequestContext, wanted: mapping.ClusterSpec, params: Params) -> Params:
    """CreateCluster of a name that exists: AWS answers with the cluster as it is."""
    state = read_cluster(ctx, wanted.name)
    if state is None or state.status != ACTIVE:
        # The Namespace exists but is not this cluster's: it is still terminating after a
        # DeleteCluster (real API servers delete namespaces asynchronously), or it is taken.
        namespace = mapping.namespace_name(wanted.account, wanted.region, wanted.name)
        raise ClientException(
            f"The Kubernetes namespace {namespace} is not available for cluster {wanted.name} "
            "(it may still be terminating after a DeleteCluster); try again shortly."
        )
    current = state.spec
    for member, attribute in (
        ("capacityProviders", "capacity_providers"),
        ("defaultCapacityProviderStrategy", "default_capacity_provider_strategy"),
    ):
        if member in params and getattr(wanted, attribute) != getattr(current, attribute):
            raise InvalidParameterException(INCONSISTENT)
    # Converge whatever an earlier, interrupted CreateCluster left undone.
    store.sync_isolation(ctx, current)
    store.delete_tombstone(ctx, current)
    counts = count_cluster(ctx, state.namespace, current.name)
    return cluster_view(current, ACTIVE, counts, FULL)


@operation("DescribeClusters")
def describe_clusters(ctx: RequestContext, params: Params) -> Params:
    identifiers = params.get("clusters") or [mapping.DEFAULT_CLUSTER]
    if len(identifiers) > checks.MAX_CLUSTERS_PER_DESCRIBE:
        raise InvalidParameterException(
            f"The clusters list can contain at most {checks.MAX_CLUSTERS_PER_DESCRIBE} entries."
        )
    include = checks.check_include(params.get("include") or [])
    names = [(identifier, cluster_name(ctx, identifier)) for identifier in identifiers]
    # Two lists for the records and four for the counters, however many clusters are asked.
    states = read_clusters(ctx, sorted({n for _, n in names if n is not None}))
    active = {s.namespace: s.spec.name for s in states.values() if s and s.status == ACTIVE}
    counts = count_clusters(ctx, active) if active else {}
    clusters, failures = [], []
    for identifier, name in names:
        state = states.get(name) if name is not None else None
        if state is None:
            failures.append({"arn": cluster_arn(ctx, identifier), "reason": "MISSING"})
            continue
        clusters.append(
            cluster_view(state.spec, state.status, counts.get(state.namespace), include)
        )
    return {"clusters": clusters, "failures": failures}


@operation("ListClusters")
def list_clusters(ctx: RequestContext, params: Params) -> Params:
    page_size = paging.page_size(params, maximum=MAX_RESULTS)
    resume = paging.resume_after(params, str)
    selector = {
        labels.RESOURCE: mapping.RESOURCE,
        labels.ACCOUNT: ctx.account_id,
        labels.REGION: ctx.region,
    }
    cluster_arns = sorted(
        obj["metadata"]["annotations"][labels.ANN_CLUSTER_ARN]
        for obj in ctx.backend.list_all(kinds.NAMESPACE, selector=selector)
        if not obj["metadata"].get("deletionTimestamp")
        and labels.ANN_CLUSTER_ARN in (obj["metadata"].get("annotations") or {})
    )
    if resume is not None:
        cluster_arns = [arn for arn in cluster_arns if arn > resume[0]]
    page = cluster_arns[:page_size]
    result: Params = {"clusterArns": page}
    if len(cluster_arns) > page_size:
        result["nextToken"] = paging.encode_token(page[-1])
    return result


def _updated_view(ctx: RequestContext, spec: mapping.ClusterSpec, namespace: str) -> Params:
    return {"cluster": cluster_view(spec, ACTIVE, count_cluster(ctx, namespace, spec.name), FULL)}


@operation("UpdateCluster")
def update_cluster(ctx: RequestContext, params: Params) -> Params:
    settings = params.get("settings") or []
    configuration = params.get("configuration")
    has_defaults = "serviceConnectDefaults" in params
    defaults = checks.service_connect_defaults(params.get("serviceConnectDefaults"))

    def change(spec: mapping.ClusterSpec) -> mapping.ClusterSpec:
        return dataclasses.replace(
            spec,
            settings=checks.merge_settings(spec.settings, settings),
            configuration=checks.merge_configuration(spec.configuration, configuration),
            service_connect_defaults=defaults if has_defaults else spec.service_connect_defaults,
        )

    _, new, namespace = store.modify_cluster(ctx, params.get("cluster"), change)
    return _updated_view(ctx, new, namespace)


@operation("UpdateClusterSettings")
def update_cluster_settings(ctx: RequestContext, params: Params) -> Params:
    settings = params.get("settings") or []

    def change(spec: mapping.ClusterSpec) -> mapping.ClusterSpec:
        return dataclasses.replace(spec, settings=checks.merge_settings(spec.settings, settings))

    _, new, namespace = store.modify_cluster(ctx, params.get("cluster"), change)
    return _updated_view(ctx, new, namespace)


@operation("PutClusterCapacityProviders")
def put_cluster_capacity_providers(ctx: RequestContext, params: Params) -> Params:
    providers, strategy = checks.check_capacity_providers(
        ctx,
        params.get("capacityProviders") or [],
        params.get("defaultCapacityProviderStrategy") or [],
    )

    def change(spec: mapping.ClusterSpec) -> mapping.ClusterSpec:
        return dataclasses.replace(
            spec, capacity_providers=providers, default_capacity_provider_strategy=strategy
        )

    _, new, namespace = store.modify_cluster(ctx, params.get("cluster"), change)
    return _updated_view(ctx, new, namespace)


@operation("DeleteCluster")
def delete_cluster(ctx: RequestContext, params: Params) -> Params:
    ref = resolve_cluster(ctx, params.get("cluster"))
    counts = count_cluster(ctx, ref.namespace, ref.name)
    if counts.active_services or counts.draining_services:
        raise ClusterContainsServicesException(
            "The Cluster cannot be deleted while Services are active."
        )
    if counts.live_tasks:
        raise ClusterContainsTasksException("The Cluster cannot be deleted while Tasks are active.")
    if counts.dedicated_container_instances:
        raise ClusterContainsContainerInstancesException(
            "The Cluster cannot be deleted while Container Instances are active."
        )
    spec = ref.spec
    # Tombstone first: if deleting the Namespace fails, the cluster is still ACTIVE (the
    # Namespace wins over the tombstone) and a retry finishes the job.
    store.write_tombstone(ctx, spec)
    # Stopped tasks' records go with the cluster; their finalizers would keep the Namespace
    # terminating and the name unusable for a new cluster.
    release_all(ctx, ref.namespace)
    with contextlib.suppress(NotFound):
        ctx.backend.delete(kinds.NAMESPACE, ref.namespace)
    return {"cluster": cluster_view(spec, INACTIVE, None, FULL)}


# -- tags ------------------------------------------------------------------------------------


def _cluster_identifier(ctx: RequestContext, arn: Arn) -> str:
    if arn.region != ctx.region or arn.account != ctx.account_id or "/" in arn.resource:
        raise ClusterNotFoundException(NOT_FOUND_MESSAGE)
    return str(arn)


def read_cluster_tags(ctx: RequestContext, arn: Arn) -> Tags:
    return list(resolve_cluster(ctx, _cluster_identifier(ctx, arn)).spec.tags)


def write_cluster_tags(ctx: RequestContext, arn: Arn, edit: TagEdit) -> None:
    def apply(spec: mapping.ClusterSpec) -> mapping.ClusterSpec:
        normalised = merge_tags([], edit(list(spec.tags)))
        checks.check_tags([], existing=normalised)
        return dataclasses.replace(spec, tags=normalised)

    old, new, _ = store.modify_cluster(ctx, _cluster_identifier(ctx, arn), apply)
    if store.isolation_changed(old, new):
        store.sync_isolation(ctx, new)


taggable("cluster", read_cluster_tags, write_cluster_tags)
