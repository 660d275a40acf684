"""Writing clusters to the backend: Namespace updates, tombstones and isolation objects.

Every write is safe to repeat: a retried CreateCluster or TagResource converges on the same
objects, whatever step of an earlier attempt failed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, Conflict, NotFound
from kecs.errors import ClusterNotFoundException, InvalidParameterException, ServerException
from kecs.mapping import cluster as mapping
from kecs.mapping import labels
from kecs.operations.cluster_lookup import NOT_FOUND_MESSAGE, resolve_cluster
from kecs.operations.context import RequestContext

_ATTEMPTS = 16
#: Annotations kecs owns on a cluster's Namespace (others, e.g. added with kubectl, survive).
_OWN_ANNOTATIONS = (
    labels.ANN_CLUSTER_NAME,
    labels.ANN_CLUSTER_ARN,
    labels.ANN_TAGS,
    mapping.ANN_SETTINGS,
    mapping.ANN_CONFIGURATION,
    mapping.ANN_SERVICE_CONNECT_DEFAULTS,
    mapping.ANN_CAPACITY_PROVIDERS,
    mapping.ANN_DEFAULT_STRATEGY,
)

Change = Callable[[mapping.ClusterSpec], mapping.ClusterSpec]


def _with_record(obj: dict[str, Any], spec: mapping.ClusterSpec) -> dict[str, Any]:
    """A new Namespace object recording ``spec`` (``obj`` is shared: left unchanged)."""
    meta = obj["metadata"]
    kept = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _OWN_ANNOTATIONS}
    annotations = {**kept, **mapping.record_annotations(spec)}
    return {**obj, "metadata": {**meta, "annotations": annotations}}


def modify_cluster(
    ctx: RequestContext, cluster: str | None, change: Change
) -> tuple[mapping.ClusterSpec, mapping.ClusterSpec, str]:
    """Apply ``change`` to the ACTIVE cluster, re-reading on conflicts.

    Returns (old spec, new spec, namespace). ``change`` may raise ECS errors; it is called
    again with fresh state when a concurrent writer won the race.
    """
    for _ in range(_ATTEMPTS):
        ref = resolve_cluster(ctx, cluster)
        old = ref.spec
        new = change(old)
        # ``update`` carries the resourceVersion read above: a concurrent change conflicts.
        try:
            ctx.backend.update(_with_record(ref.obj, new))
        except Conflict:
            continue
        except NotFound:
            raise ClusterNotFoundException(NOT_FOUND_MESSAGE) from None
        return old, new, ref.namespace
    raise ServerException("The cluster is being changed concurrently; try again.")


def ensure_system_namespace(ctx: RequestContext) -> None:
    with contextlib.suppress(AlreadyExists):
        ctx.backend.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": labels.SYSTEM_NAMESPACE,
                    "labels": {labels.MANAGED_BY: labels.MANAGED_BY_VALUE},
                },
            }
        )


def _create_or_replace(ctx: RequestContext, obj: dict[str, Any]) -> None:
    try:
        ctx.backend.create_or_replace(obj, attempts=_ATTEMPTS)
    except Conflict:
        raise ServerException(
            f"Could not write {obj['kind']} {obj['metadata']['name']}; try again."
        ) from None


def _delete_if_present(
    ctx: RequestContext, kind: kinds.ResourceKind, name: str, namespace: str | None = None
) -> None:
    with contextlib.suppress(NotFound):
        ctx.backend.delete(kind, name, namespace)


def write_tombstone(ctx: RequestContext, spec: mapping.ClusterSpec) -> None:
    ensure_system_namespace(ctx)
    _create_or_replace(ctx, mapping.tombstone_object(spec))


def delete_tombstone(ctx: RequestContext, spec: mapping.ClusterSpec) -> None:
    name = mapping.tombstone_name(spec.account, spec.region, spec.name)
    _delete_if_present(ctx, kinds.CONFIG_MAP, name, labels.SYSTEM_NAMESPACE)


def sync_isolation(ctx: RequestContext, spec: mapping.ClusterSpec) -> None:
    """Create, update or remove the cluster's ResourceQuota and NetworkPolicy to match its tags."""
    try:
        wanted = {kinds.of(obj): obj for obj in mapping.isolation_objects(spec)}
    except ValueError as exc:
        raise InvalidParameterException(str(exc)) from None
    namespace = mapping.namespace_name(spec.account, spec.region, spec.name)
    for kind in (kinds.RESOURCE_QUOTA, kinds.NETWORK_POLICY):
        obj = wanted.get(kind)
        if obj is None:
            _delete_if_present(ctx, kind, mapping.ISOLATION_OBJECT_NAME, namespace)
        else:
            _create_or_replace(ctx, obj)


def isolation_changed(old: mapping.ClusterSpec, new: mapping.ClusterSpec) -> bool:
    def relevant(spec: mapping.ClusterSpec) -> dict[str, str]:
        return {
            t["key"]: t.get("value", "") for t in spec.tags if t["key"] in mapping.ISOLATION_TAGS
        }

    return relevant(old) != relevant(new)
