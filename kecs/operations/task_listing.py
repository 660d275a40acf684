"""ListTasks: one backend page per ECS page, filters as label selectors plus a ``where``.

Filters become label selectors where a label exists (``family``, ``serviceName``,
``startedBy``, ``launchType`` other than EC2; values ``names.label_value``'d) and the exact
value is then checked against the annotations in the ``where`` filter, which also decides
what labels cannot: ``desiredStatus`` (RUNNING by default, as on ECS; PENDING lists nothing,
as on ECS), EC2 (no launch-type label means EC2), ``containerInstance`` (the pod's node) and
``startedBy`` of service tasks (``ecs-svc/...``, derived from the owning ReplicaSet).

Each call asks the backend for one page of at most ``maxResults`` pods after the
``nextToken`` position (the token wraps the backend's ``continue`` token), so listing 10,000
tasks page by page costs linear time; the page is read as metadata (``list_metadata``), as
the ARNs need only the pods' uids. The same ``where`` feeds the task sweep
(:mod:`kecs.operations.task_sweep`) with the pods that need attention.

As on ECS, ``family`` and ``serviceName`` cannot be combined, and a ``serviceName`` the
cluster does not have is ``ServiceNotFoundException``. An unknown ``containerInstance``
lists no task. ``daemonName`` lists the tasks of that daemon (the pods of its DaemonSet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import Invalid
from kecs.errors import InvalidParameterException, ServiceNotFoundException
from kecs.mapping import daemons, labels, names, pod_state, task_keys
from kecs.operations import paging
from kecs.operations.cluster_lookup import ClusterRef, resolve_cluster
from kecs.operations.context import RequestContext
from kecs.operations.task_lookup import (
    TASK_SELECTOR,
    container_instance_id_of,
    nodes_by_instance_id,
    task_arn,
)
from kecs.operations.task_sweep import Sweep, desired_status

Params = dict[str, Any]
Check = Callable[[dict[str, Any]], bool]

MAX_RESULTS = 100
SERVICE_RESOURCE = "service"
DEPLOYMENT_ID_PREFIX = "ecs-svc/"


def _annotation(pod: dict[str, Any], key: str) -> str | None:
    return (pod["metadata"].get("annotations") or {}).get(key)


def _family_of(pod: dict[str, Any]) -> str | None:
    arn = _annotation(pod, task_keys.TASK_DEFINITION_ARN) or ""
    family, sep, _ = arn.rpartition("/")[2].rpartition(":")
    return family if sep else None


def _service_exists(ctx: RequestContext, cluster: ClusterRef, service: str) -> bool:
    selector = {labels.RESOURCE: SERVICE_RESOURCE, labels.SERVICE: names.label_value(service)}

    def exact(obj: dict[str, Any]) -> bool:
        recorded = _annotation(obj, task_keys.SERVICE_NAME)
        return recorded is None or recorded == service

    # A ConfigMap is the record of a service with the EXTERNAL / CODE_DEPLOY controller.
    for kind in (kinds.DEPLOYMENT, kinds.DAEMON_SET, kinds.CONFIG_MAP):
        page = ctx.backend.list(kind, cluster.namespace, selector=selector, limit=1, where=exact)
        if page.items:
            return True
    return False


def _filters(
    ctx: RequestContext, cluster: ClusterRef, params: Params
) -> tuple[dict[str, str], list[Check]] | None:
    """Label selector and exact checks of the request; ``None`` when nothing can match."""
    selector = dict(TASK_SELECTOR)
    checks: list[Check] = []
    family, service = params.get("family"), params.get("serviceName")
    if family and service:
        raise InvalidParameterException("cannot specify family and serviceName together")
    daemon = params.get("daemonName")
    if daemon:
        selector[labels.DAEMON] = names.label_value(daemon)
        checks.append(lambda pod: _annotation(pod, daemons.NAME) == daemon)
    if family:
        selector[labels.FAMILY] = names.label_value(family)
        checks.append(lambda pod: _family_of(pod) == family)
    if service:
        if not _service_exists(ctx, cluster, service):
            raise ServiceNotFoundException("Service not found.")
        selector[labels.SERVICE] = names.label_value(service)
        checks.append(lambda pod: _annotation(pod, task_keys.SERVICE_NAME) in (None, service))
    started_by = params.get("startedBy")
    if started_by and started_by.startswith(DEPLOYMENT_ID_PREFIX):
        checks.append(
            lambda pod: (
                (_annotation(pod, task_keys.STARTED_BY) or pod_state.owner_deployment_id(pod))
                == started_by
            )
        )
    elif started_by:
        selector[labels.STARTED_BY] = names.label_value(started_by)
        checks.append(lambda pod: _annotation(pod, task_keys.STARTED_BY) == started_by)
    launch_type = params.get("launchType")
    if launch_type == "EC2":
        checks.append(
            lambda pod: (
                (pod["metadata"].get("labels") or {}).get(labels.LAUNCH_TYPE, "EC2") == "EC2"
            )
        )
    elif launch_type:
        selector[labels.LAUNCH_TYPE] = launch_type
    instance = params.get("containerInstance")
    if instance:
        instance_id = container_instance_id_of(ctx, cluster.name, instance)
        node = nodes_by_instance_id(ctx, {instance_id}).get(instance_id) if instance_id else None
        if node is None:
            return None
        node_name = node["metadata"]["name"]
        checks.append(lambda pod: (pod.get("spec") or {}).get("nodeName") == node_name)
    return selector, checks


def list_tasks(ctx: RequestContext, params: Params) -> Params:
    cluster = resolve_cluster(ctx, params.get("cluster"))
    page_size = paging.page_size(params, maximum=MAX_RESULTS)
    resume = paging.resume_after(params, str)
    continue_token = resume[0] if resume else None
    wanted_status = params.get("desiredStatus") or "RUNNING"
    found = _filters(ctx, cluster, params)
    if found is None or wanted_status == "PENDING":
        return {"taskArns": []}
    selector, checks = found
    sweep = Sweep(ctx, cluster.namespace)
    now = ctx.now()

    def where(pod: dict[str, Any]) -> bool:
        sweep.see(pod)
        return all(check(pod) for check in checks) and desired_status(pod, now) == wanted_status

    try:
        # An ARN needs only the pod's uid: the items are metadata (``where`` sees whole pods).
        page = ctx.backend.list_metadata(
            kinds.POD,
            cluster.namespace,
            selector=selector,
            limit=page_size,
            continue_token=continue_token,
            where=where,
            shared=True,
        )
    except Invalid:
        # The only part of the request the backend can find malformed is the token.
        raise InvalidParameterException(paging.INVALID_TOKEN) from None
    swept = sweep.run()
    result: Params = {
        "taskArns": [
            task_arn(ctx, cluster.name, pod)
            for pod in page.items
            if swept.get(pod["metadata"]["name"], pod) is not None
        ]
    }
    if page.continue_token:
        result["nextToken"] = paging.encode_token(page.continue_token)
    return result
