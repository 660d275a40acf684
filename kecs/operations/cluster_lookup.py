"""Finding the cluster a request names: ``cluster`` as a short name or ARN, ``default`` if omitted.

Every operation that takes a ``cluster`` parameter (services, tasks, ...) goes through
:func:`resolve_cluster`, which costs one backend read (the cluster's Namespace, found by name
and shared with the backend: never modified).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import attrs

from kecs import arns
from kecs.backends import kinds
from kecs.backends.errors import NotFound
from kecs.errors import ClusterNotFoundException
from kecs.mapping import cluster as mapping
from kecs.mapping import labels
from kecs.operations.context import RequestContext

NOT_FOUND_MESSAGE = "Cluster not found."

ACTIVE = "ACTIVE"
INACTIVE = mapping.INACTIVE


@attrs.frozen
class ClusterRef:
    """An ACTIVE cluster: its exact name, ARN and Namespace (plus the Namespace object)."""

    name: str
    arn: str
    namespace: str
    #: The Namespace as read (shared with the backend: never modify it); its annotations
    #: hold the cluster's settings.
    obj: dict[str, Any] = attrs.field(eq=False, repr=False, hash=False)

    @property
    def spec(self) -> mapping.ClusterSpec:
        return mapping.spec_from_object(self.obj)

    @property
    def default_capacity_provider_strategy(self) -> list[dict[str, Any]]:
        """``spec.default_capacity_provider_strategy`` without parsing the rest of the spec."""
        return mapping.default_strategy_of(self.obj)

    @property
    def capacity_providers(self) -> list[str]:
        """``spec.capacity_providers`` without parsing the rest of the spec."""
        return mapping.capacity_providers_of(self.obj)


@attrs.frozen
class ClusterState:
    """A cluster as stored: ACTIVE (its Namespace) or INACTIVE (its tombstone)."""

    spec: mapping.ClusterSpec
    status: str
    namespace: str
    obj: dict[str, Any] = attrs.field(eq=False, repr=False, hash=False)


def cluster_name(ctx: RequestContext, cluster: str | None) -> str | None:
    """The short name ``cluster`` designates in this (account, region), or ``None`` if none.

    A cluster ARN of another region or account designates no cluster of this caller.
    """
    return _short_name(ctx.account_id, ctx.region, cluster)


def _short_name(account: str, region: str, cluster: str | None) -> str | None:
    value = cluster or mapping.DEFAULT_CLUSTER
    if arns.is_arn(value):
        parsed = arns.parse(value)
        if (
            parsed is None
            or parsed.resource_type != "cluster"
            or parsed.region != region
            or parsed.account != account
        ):
            return None
        value = parsed.resource
    return value if mapping.is_valid_name(value) else None


class _Names(NamedTuple):
    name: str
    namespace: str
    arn: str


@functools.lru_cache(maxsize=1024)
def _names(account: str, region: str, cluster: str | None) -> _Names | None:
    """What a ``cluster`` parameter designates, by name: a pure function of its inputs
    (a regular expression, a hash and an ARN spared on every call that names a cluster)."""
    name = _short_name(account, region, cluster)
    if name is None:
        return None
    namespace = mapping.namespace_name(account, region, name)
    return _Names(name, namespace, arns.cluster(region, account, name))


def cluster_arn(ctx: RequestContext, cluster: str | None) -> str:
    """The ARN a failure entry reports for ``cluster`` (kept as given when it is an ARN)."""
    value = cluster or mapping.DEFAULT_CLUSTER
    return value if arns.is_arn(value) else arns.cluster(ctx.region, ctx.account_id, value)


def _is_live(obj: dict[str, Any]) -> bool:
    # A Namespace being deleted on a real API server lingers as Terminating.
    return not obj["metadata"].get("deletionTimestamp")


def resolve_cluster(ctx: RequestContext, cluster: str | None) -> ClusterRef:
    """The ACTIVE cluster ``cluster`` names; ``ClusterNotFoundException`` otherwise."""
    named = _names(ctx.account_id, ctx.region, cluster)
    if named is None:
        raise ClusterNotFoundException(NOT_FOUND_MESSAGE)
    name, namespace, arn = named
    # Read only (by every operation that names a cluster): the backend need not copy it.
    found = ctx.backend.find(kinds.NAMESPACE, names=[namespace], shared=True)
    if not found:
        raise ClusterNotFoundException(NOT_FOUND_MESSAGE)
    obj = found[0]
    if not _is_live(obj) or not mapping.records(obj, ctx.account_id, ctx.region, name):
        raise ClusterNotFoundException(NOT_FOUND_MESSAGE)
    return ClusterRef(name=name, arn=arn, namespace=namespace, obj=obj)


def read_cluster(ctx: RequestContext, name: str) -> ClusterState | None:
    """The cluster ``name`` ACTIVE or INACTIVE, or ``None`` when it never existed (or expired)."""
    namespace = mapping.namespace_name(ctx.account_id, ctx.region, name)
    try:
        obj = ctx.backend.get(kinds.NAMESPACE, namespace)
    except NotFound:
        pass
    else:
        if _is_live(obj) and mapping.records(obj, ctx.account_id, ctx.region, name):
            return ClusterState(mapping.spec_from_object(obj), ACTIVE, namespace, obj)
    try:
        tomb = ctx.backend.get(
            kinds.CONFIG_MAP,
            mapping.tombstone_name(ctx.account_id, ctx.region, name),
            labels.SYSTEM_NAMESPACE,
        )
    except NotFound:
        return None
    if not mapping.records(tomb, ctx.account_id, ctx.region, name):
        return None
    return ClusterState(mapping.spec_from_object(tomb), INACTIVE, namespace, tomb)


def read_clusters(ctx: RequestContext, names: list[str]) -> dict[str, ClusterState | None]:
    """:func:`read_cluster` for several names in two backend lists, whatever their number."""
    if len(names) <= 1:
        return {name: read_cluster(ctx, name) for name in names}
    owned = labels.ownership(ctx.account_id, ctx.region, mapping.RESOURCE)
    live: dict[str, dict[str, Any]] = {}
    for obj in ctx.backend.list_all(kinds.NAMESPACE, selector=owned):
        name = (obj["metadata"].get("annotations") or {}).get(labels.ANN_CLUSTER_NAME)
        if (
            name in names
            and _is_live(obj)
            and mapping.records(obj, ctx.account_id, ctx.region, name)
        ):
            live[name] = obj
    tombs: dict[str, dict[str, Any]] = {}
    if len(live) < len(set(names)):
        for obj in ctx.backend.list_all(kinds.CONFIG_MAP, labels.SYSTEM_NAMESPACE, selector=owned):
            name = (obj["metadata"].get("annotations") or {}).get(labels.ANN_CLUSTER_NAME)
            if name in names and mapping.records(obj, ctx.account_id, ctx.region, name):
                tombs[name] = obj
    found: dict[str, ClusterState | None] = {}
    for name in names:
        namespace = mapping.namespace_name(ctx.account_id, ctx.region, name)
        if name in live:
            obj = live[name]
            found[name] = ClusterState(mapping.spec_from_object(obj), ACTIVE, namespace, obj)
        elif name in tombs:
            obj = tombs[name]
            found[name] = ClusterState(mapping.spec_from_object(obj), INACTIVE, namespace, obj)
        else:
            found[name] = None
    return found
