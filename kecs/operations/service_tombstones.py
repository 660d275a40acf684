"""INACTIVE services: the ConfigMap tombstone a service leaves when its workload goes.

It sits in the cluster's Namespace under the workload's name, labelled
``kecs.dev/resource=service-tombstone``, and keeps what an INACTIVE service still answers: the
service as DescribeServices last showed it (status INACTIVE, counts 0), its tags, and its
deployment and revision history (timestamps as epoch seconds). Re-creating the service deletes
it; deleting the cluster's Namespace removes it with everything else.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import Conflict, NotFound
from kecs.errors import ServerException
from kecs.mapping import labels, names, task_keys
from kecs.operations import service_store as store
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext


def record_json(value: Any) -> str:
    """A tombstone's data value: compact JSON, datetimes as epoch seconds (shared with the
    daemon tombstones of :mod:`kecs.operations.daemon_store`)."""

    def encode(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.timestamp()
        raise TypeError(f"cannot encode {type(item).__name__}")

    return json.dumps(value, separators=(",", ":"), default=encode)


def write(
    ctx: RequestContext,
    ref: ClusterRef,
    name: str,
    *,
    service: Mapping[str, Any],
    tags: list[dict[str, str]],
    deployments: list[dict[str, Any]],
    revisions: list[dict[str, Any]],
) -> None:
    """Record the service as INACTIVE (timestamps kept as epoch seconds)."""
    obj: Object = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": store.object_name(ctx, ref, name),
            "namespace": ref.namespace,
            "labels": {
                **store.owned_by(ctx, store.TOMBSTONE, ref.name),
                labels.SERVICE: names.label_value(name),
                labels.STATUS: store.INACTIVE,
            },
            "annotations": {
                task_keys.SERVICE_NAME: name,
                task_keys.CLUSTER_NAME: ref.name,
                task_keys.TAGS: task_keys.dump(tags),
            },
        },
        "data": {
            "service": record_json(service),
            "serviceDeployments": record_json(deployments),
            "serviceRevisions": record_json(revisions),
        },
    }
    try:
        ctx.backend.create_or_replace(obj)
    except Conflict:
        raise ServerException(f"Could not record service {name} as INACTIVE.") from None


def delete(ctx: RequestContext, ref: ClusterRef, name: str) -> None:
    with contextlib.suppress(NotFound):
        ctx.backend.delete(kinds.CONFIG_MAP, store.object_name(ctx, ref, name), ref.namespace)
