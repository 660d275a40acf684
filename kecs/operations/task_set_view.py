"""A stored EXTERNAL / CODE_DEPLOY service -> its ECS ``Service`` and ``TaskSet`` structures.

The structures are computed by the pure :mod:`kecs.mapping.task_sets` from what
:func:`kecs.operations.service_store.load` read: the service's record, its task set
Deployments (:attr:`~kecs.operations.service_store.Stored.task_sets`) and their task pods.
"""

from __future__ import annotations

from typing import Any

from kecs.mapping import task_set_status
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_store import Stored

Params = dict[str, Any]


def describe(ctx: RequestContext, ref: ClusterRef, stored: Stored, *, include_tags: bool) -> Params:
    """The ECS ``Service`` of an ACTIVE or DRAINING EXTERNAL / CODE_DEPLOY service."""
    assert stored.workload is not None
    return task_set_status.external_service(
        stored.workload,
        stored.task_sets,
        stored.pods,
        region=ctx.region,
        account=ctx.account_id,
        cluster_name=ref.name,
        now=ctx.now(),
        include_tags=include_tags,
    )


def task_set_list(
    ctx: RequestContext, ref: ClusterRef, stored: Stored, *, include_tags: bool = False
) -> list[Params]:
    """Every ``TaskSet`` of the service, as DescribeServices orders them."""
    return task_set_status.task_set_list(
        stored.task_sets,
        stored.pods,
        region=ctx.region,
        account=ctx.account_id,
        cluster_name=ref.name,
        now=ctx.now(),
        include_tags=include_tags,
    )


def inactive_record(ctx: RequestContext, ref: ClusterRef, stored: Stored) -> Params:
    """The service as DescribeServices shows it once INACTIVE (no task sets left)."""
    service = describe(ctx, ref, stored, include_tags=False)
    service.update(status="INACTIVE", desiredCount=0, runningCount=0, pendingCount=0, taskSets=[])
    return service
