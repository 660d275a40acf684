"""Capacity providers: Create / Describe / Update / DeleteCapacityProvider (and their tags).

A custom provider is a record, kept as a ConfigMap ``cp-<dns_label(name)>`` in ``kecs-system``
(labels: ownership ``capacity-provider``, account, region; data ``capacityProvider``: the
provider as DescribeCapacityProviders shows it, tags included). Which nodes a provider stands
for is the mapping's rule (:mod:`kecs.mapping.capacity`: nodes labelled
``kecs.dev/capacity-provider=<name>``); the record itself changes no Node.

- ``FARGATE`` and ``FARGATE_SPOT`` are built in: always described (first), never created,
  updated or deleted.
- DeleteCapacityProvider of a provider associated with a cluster is not an error: as on AWS,
  the answer (and the record) says ``updateStatus: DELETE_FAILED`` with the reason; otherwise
  the record stays as an INACTIVE tombstone (describable by name, not listed; a create of the
  same name replaces it) with ``DELETE_COMPLETE``.
- Managed Instances providers (``managedInstancesProvider``) are cluster-scoped: ``cluster``
  is required and must exist; their configuration is kept as given (kecs launches no instances).
- PutClusterCapacityProviders / CreateCluster learn which providers exist through
  :func:`kecs.operations.cluster_params.register_capacity_provider_lookup`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kecs import arns
from kecs.arns import Arn
from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, Conflict, NotFound
from kecs.errors import ClientException, InvalidParameterException
from kecs.mapping import cluster as cluster_mapping
from kecs.mapping import labels, names
from kecs.mapping.capacity import FARGATE, FARGATE_SPOT
from kecs.operations import capacity_provider_params as checks
from kecs.operations import paging
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.cluster_params import register_capacity_provider_lookup
from kecs.operations.cluster_store import ensure_system_namespace
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation
from kecs.operations.tagging import TagEdit, Tags, merge_tags, taggable, validate_tags

Params = dict[str, Any]

RESOURCE = "capacity-provider"
DATA_KEY = "capacityProvider"
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
MAX_DESCRIBE = 100
MAX_RESULTS = 10
_ATTEMPTS = 16


def record_name(account: str, region: str, name: str) -> str:
    return "cp-" + names.dns_label(name, RESOURCE, account, region, name, max_len=60)


def _builtin(ctx: RequestContext, name: str) -> Params:
    return {
        "capacityProviderArn": arns.capacity_provider(ctx.region, ctx.account_id, name),
        "name": name,
        "status": ACTIVE,
        "type": name,
        "tags": [],
    }


def _config_map(ctx: RequestContext, provider: Params) -> Params:
    object_labels = labels.ownership(ctx.account_id, ctx.region, RESOURCE)
    object_labels[labels.CAPACITY_PROVIDER] = names.label_value(provider["name"])
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": record_name(ctx.account_id, ctx.region, provider["name"]),
            "namespace": labels.SYSTEM_NAMESPACE,
            "labels": object_labels,
        },
        "data": {DATA_KEY: json.dumps(provider, sort_keys=True)},
    }


def _provider_of(obj: Params) -> Params | None:
    try:
        value = json.loads((obj.get("data") or {}).get(DATA_KEY, ""))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _owned(ctx: RequestContext, obj: Params, name: str) -> bool:
    meta_labels = obj["metadata"].get("labels") or {}
    provider = _provider_of(obj)
    return (
        meta_labels.get(labels.ACCOUNT) == ctx.account_id
        and meta_labels.get(labels.REGION) == ctx.region
        and provider is not None
        and provider.get("name") == name
    )


def read(ctx: RequestContext, name: str) -> tuple[Params, Params] | None:
    """(ConfigMap, provider) of the custom provider ``name``, ACTIVE or INACTIVE."""
    try:
        obj = ctx.backend.get(
            kinds.CONFIG_MAP, record_name(ctx.account_id, ctx.region, name), labels.SYSTEM_NAMESPACE
        )
    except NotFound:
        return None
    provider = _provider_of(obj)
    if provider is None or not _owned(ctx, obj, name):
        return None
    return obj, provider


def exists(ctx: RequestContext, name: str) -> bool:
    found = read(ctx, name)
    return found is not None and found[1].get("status") == ACTIVE


register_capacity_provider_lookup(exists)


def _public(provider: Params, include_tags: bool = True) -> Params:
    out = dict(provider)
    if include_tags:
        out.setdefault("tags", [])
    else:
        out.pop("tags", None)
    return out


@operation("CreateCapacityProvider")
def create_capacity_provider(ctx: RequestContext, params: Params) -> Params:
    name = checks.check_name(params["name"])
    tags: Tags = params.get("tags") or []
    validate_tags(tags)
    asg = params.get("autoScalingGroupProvider")
    managed = params.get("managedInstancesProvider")
    if bool(asg) == bool(managed):
        raise InvalidParameterException(
            "Specify either autoScalingGroupProvider or managedInstancesProvider."
        )
    provider: Params = {
        "capacityProviderArn": arns.capacity_provider(ctx.region, ctx.account_id, name),
        "name": name,
        "status": ACTIVE,
        "updateStatus": "CREATE_COMPLETE",
        "tags": merge_tags([], tags),
    }
    if exists(ctx, name):
        raise ClientException(checks.EXISTS)
    if asg:
        provider["type"] = checks.EC2_AUTOSCALING
        provider["autoScalingGroupProvider"] = checks.auto_scaling_group_provider(asg)
        _check_asg_unused(ctx, provider["autoScalingGroupProvider"]["autoScalingGroupArn"])
    else:
        if not params.get("cluster"):
            raise InvalidParameterException(
                "A cluster must be specified for a Managed Instances capacity provider."
            )
        cluster = resolve_cluster(ctx, params["cluster"])
        provider["type"] = checks.MANAGED_INSTANCES
        provider["cluster"] = cluster.name
        provider["managedInstancesProvider"] = dict(managed or {})
    ensure_system_namespace(ctx)
    obj = _config_map(ctx, provider)
    for _ in range(_ATTEMPTS):
        try:
            ctx.backend.create(obj)
            return {"capacityProvider": _public(provider)}
        except AlreadyExists:
            pass
        found = read(ctx, name)
        if found is None:
            continue
        current_obj, current = found
        if current.get("status") == ACTIVE:
            raise ClientException(checks.EXISTS)
        replacement = {**obj, "metadata": {**obj["metadata"], **_version(current_obj)}}
        try:
            ctx.backend.update(replacement)
            return {"capacityProvider": _public(provider)}
        except (Conflict, NotFound):
            continue
    raise ClientException("The capacity provider is being changed concurrently; try again.")


def _version(obj: Params) -> Params:
    return {"resourceVersion": obj["metadata"]["resourceVersion"]}


def _all(ctx: RequestContext) -> list[Params]:
    selector = {
        labels.RESOURCE: RESOURCE,
        labels.ACCOUNT: ctx.account_id,
        labels.REGION: ctx.region,
    }
    found = []
    for obj in ctx.backend.list_all(kinds.CONFIG_MAP, labels.SYSTEM_NAMESPACE, selector=selector):
        provider = _provider_of(obj)
        if provider is not None and provider.get("name"):
            found.append(provider)
    return sorted(found, key=lambda p: str(p["name"]))


def _check_asg_unused(ctx: RequestContext, arn: str) -> None:
    for provider in _all(ctx):
        used = (provider.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
        if provider.get("status") == ACTIVE and used == arn:
            raise ClientException(checks.ASG_IN_USE)


@operation("DescribeCapacityProviders")
def describe_capacity_providers(ctx: RequestContext, params: Params) -> Params:
    include = params.get("include") or []
    for value in include:
        if value != "TAGS":
            raise InvalidParameterException(f"Invalid include value {value!r}. Valid values: TAGS.")
    with_tags = "TAGS" in include
    cluster = resolve_cluster(ctx, params["cluster"]) if params.get("cluster") else None
    wanted = params.get("capacityProviders")
    if wanted:
        if len(wanted) > MAX_DESCRIBE:
            raise InvalidParameterException(
                f"The capacityProviders list can contain at most {MAX_DESCRIBE} entries."
            )
        providers, failures = [], []
        for value in wanted:
            name = checks.name_of(value)
            if name in (FARGATE, FARGATE_SPOT):
                providers.append(_public(_builtin(ctx, name), with_tags))
                continue
            found = read(ctx, name)
            if found is None or not _in_cluster(found[1], cluster):
                failures.append({"arn": _arn_of(ctx, value), "reason": "MISSING"})
            else:
                providers.append(_public(found[1], with_tags))
        return {"capacityProviders": providers, "failures": failures}
    page_size = paging.page_size(params, maximum=MAX_RESULTS)
    listed = [_builtin(ctx, FARGATE), _builtin(ctx, FARGATE_SPOT)] + [
        p for p in _all(ctx) if p.get("status") == ACTIVE
    ]
    listed = [p for p in listed if _in_cluster(p, cluster)]
    resume = paging.resume_after(params, str)
    if resume is not None:
        keys = [p["name"] for p in listed]
        listed = listed[keys.index(resume[0]) + 1 :] if resume[0] in keys else []
    page = listed[:page_size]
    result: Params = {"capacityProviders": [_public(p, with_tags) for p in page], "failures": []}
    if len(listed) > page_size:
        result["nextToken"] = paging.encode_token(page[-1]["name"])
    return result


def _in_cluster(provider: Params, cluster: ClusterRef | None) -> bool:
    """With a ``cluster`` filter: the providers associated with (or scoped to) that cluster."""
    if cluster is None:
        return True
    return (
        provider["name"] in cluster.spec.capacity_providers
        or provider.get("cluster") == cluster.name
    )


def _arn_of(ctx: RequestContext, value: str) -> str:
    return (
        value if arns.is_arn(value) else arns.capacity_provider(ctx.region, ctx.account_id, value)
    )


def _modify(ctx: RequestContext, name: str, change: Callable[[Params], Params]) -> Params:
    """Apply ``change(provider) -> provider`` to the ACTIVE record, re-reading on conflicts."""
    for _ in range(_ATTEMPTS):
        found = read(ctx, name)
        if found is None or found[1].get("status") != ACTIVE:
            raise ClientException(checks.NOT_FOUND)
        obj, provider = found
        new = change(dict(provider))
        updated = _config_map(ctx, new)
        updated["metadata"].update(_version(obj))
        try:
            ctx.backend.update(updated)
            return new
        except (Conflict, NotFound):
            continue
    raise ClientException("The capacity provider is being changed concurrently; try again.")


@operation("UpdateCapacityProvider")
def update_capacity_provider(ctx: RequestContext, params: Params) -> Params:
    name = checks.name_of(params["name"])
    checks.check_not_reserved(name, "updated")
    given_asg = params.get("autoScalingGroupProvider")
    given_managed = params.get("managedInstancesProvider")

    def change(provider: Params) -> Params:
        if given_asg is not None:
            if provider.get("type") != checks.EC2_AUTOSCALING:
                raise InvalidParameterException(
                    "autoScalingGroupProvider can only be updated on an Auto Scaling group "
                    "capacity provider."
                )
            provider["autoScalingGroupProvider"] = checks.updated_auto_scaling_group_provider(
                provider["autoScalingGroupProvider"], given_asg
            )
        if given_managed is not None:
            if provider.get("type") != checks.MANAGED_INSTANCES:
                raise InvalidParameterException(
                    "managedInstancesProvider can only be updated on a Managed Instances "
                    "capacity provider."
                )
            merged = dict(provider.get("managedInstancesProvider") or {})
            merged.update({k: v for k, v in given_managed.items() if v is not None})
            provider["managedInstancesProvider"] = merged
        provider["updateStatus"] = "UPDATE_COMPLETE"
        provider.pop("updateStatusReason", None)
        return provider

    return {"capacityProvider": _public(_modify(ctx, name, change))}


def _associated_cluster(ctx: RequestContext, name: str) -> str | None:
    selector = {
        labels.RESOURCE: cluster_mapping.RESOURCE,
        labels.ACCOUNT: ctx.account_id,
        labels.REGION: ctx.region,
    }
    for obj in ctx.backend.list_all(kinds.NAMESPACE, selector=selector):
        if obj["metadata"].get("deletionTimestamp"):
            continue
        spec = cluster_mapping.spec_from_object(obj)
        if name in spec.capacity_providers:
            return spec.name
    return None


@operation("DeleteCapacityProvider")
def delete_capacity_provider(ctx: RequestContext, params: Params) -> Params:
    name = checks.name_of(params["capacityProvider"])
    checks.check_not_reserved(name, "deleted")
    cluster = _associated_cluster(ctx, name)

    def change(provider: Params) -> Params:
        if cluster is not None:
            provider["updateStatus"] = "DELETE_FAILED"
            provider["updateStatusReason"] = (
                f"The capacity provider cannot be deleted because it is associated with cluster: "
                f"{cluster}. Remove the capacity provider from the cluster and try again."
            )
        else:
            provider["status"] = INACTIVE
            provider["updateStatus"] = "DELETE_COMPLETE"
            provider.pop("updateStatusReason", None)
        return provider

    return {"capacityProvider": _public(_modify(ctx, name, change))}


# -- tags ------------------------------------------------------------------------------------


def _tagged_name(ctx: RequestContext, arn: Arn) -> str:
    if arn.region != ctx.region or arn.account != ctx.account_id or "/" in arn.resource:
        raise ClientException(checks.NOT_FOUND)
    return arn.resource


def read_provider_tags(ctx: RequestContext, arn: Arn) -> Tags:
    name = _tagged_name(ctx, arn)
    if name in (FARGATE, FARGATE_SPOT):
        return []
    found = read(ctx, name)
    if found is None or found[1].get("status") != ACTIVE:
        raise ClientException(checks.NOT_FOUND)
    return list(found[1].get("tags") or [])


def write_provider_tags(ctx: RequestContext, arn: Arn, edit: TagEdit) -> None:
    name = _tagged_name(ctx, arn)
    checks.check_not_reserved(name, "tagged")

    def change(provider: Params) -> Params:
        provider["tags"] = merge_tags([], edit(list(provider.get("tags") or [])))
        return provider

    _modify(ctx, name, change)


taggable(RESOURCE, read_provider_tags, write_provider_tags)
