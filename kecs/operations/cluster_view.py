"""A cluster as the ECS API returns it (the ``Cluster`` shape, wire camelCase)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from kecs.mapping.cluster import ClusterSpec
from kecs.operations.cluster_counters import ClusterCounts
from kecs.operations.cluster_params import service_connect_namespace_arn

#: What the mutating operations (Create/Update/Delete/Put...) return: everything but statistics.
FULL = frozenset({"CONFIGURATIONS", "SETTINGS", "TAGS"})


def cluster_view(
    spec: ClusterSpec, status: str, counts: ClusterCounts | None, include: Collection[str]
) -> dict[str, Any]:
    """The ``Cluster`` structure; ``include`` as DescribeClusters' (ATTACHMENTS, TAGS, ...)."""
    counts = counts or ClusterCounts()
    view: dict[str, Any] = {
        "clusterArn": spec.arn,
        "clusterName": spec.name,
        "status": status,
        "registeredContainerInstancesCount": counts.container_instances,
        "runningTasksCount": counts.running_tasks,
        "pendingTasksCount": counts.pending_tasks,
        "activeServicesCount": counts.active_services,
        # AWS sends these lists empty (not absent) when they were not asked for.
        "statistics": counts.statistics() if "STATISTICS" in include else [],
        "tags": [dict(t) for t in spec.tags] if "TAGS" in include else [],
        "settings": [dict(s) for s in spec.settings] if "SETTINGS" in include else [],
        "capacityProviders": list(spec.capacity_providers),
        "defaultCapacityProviderStrategy": [
            dict(item) for item in spec.default_capacity_provider_strategy
        ],
    }
    if "CONFIGURATIONS" in include and spec.configuration:
        view["configuration"] = spec.configuration
    if "ATTACHMENTS" in include:
        # Fargate providers need no attachments; Auto Scaling providers come later.
        view["attachments"] = []
        if spec.capacity_providers:
            view["attachmentsStatus"] = "UPDATE_COMPLETE"
    if spec.service_connect_defaults:
        namespace = spec.service_connect_defaults["namespace"]
        view["serviceConnectDefaults"] = {
            "namespace": service_connect_namespace_arn(spec.region, spec.account, namespace)
        }
    return view
