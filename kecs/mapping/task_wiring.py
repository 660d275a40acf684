"""The task-level mappings applied together, the same way for every caller.

RunTask / StartTask (a task's Pod), CreateService / UpdateService (a workload's pod template)
and ``kecs render`` put a task through the same steps, in this order:

1. identity (:mod:`kecs.mapping.identity`): the task role's ServiceAccount (or no token at
   all without a role) and the image pull secrets;
2. placement, ANDed (:func:`kecs.mapping.placement.combine`): the request's and the task
   definition's ``placementConstraints`` and the ``placementStrategy``
   (:func:`kecs.mapping.placement.from_ecs`, against the task's group: a standalone task's
   ``kecs.dev/group`` pods, a service's own tasks), the capacity provider's or launch
   type's node selection (:mod:`kecs.mapping.capacity`), and the cluster membership of
   Nodes (:func:`kecs.mapping.container_instance.cluster_placement`); what the spec already
   says (``runtimePlatform``'s ``nodeSelector``) is kept;
3. the awsvpc configuration as readable annotations
   (:func:`kecs.mapping.networking.pod_annotations`), and the placement's notes (``binpack``)
   added to ``kecs.dev/mapping-notes``.

A service also has objects beside its workload (:func:`service_attachments`): the DNS names
of service discovery and Service Connect (:func:`kecs.mapping.networking.discovery_services`)
and its load balancers (:func:`kecs.mapping.load_balancers.load_balancer_objects`).

Invalid input raises :class:`~kecs.mapping.errors.MappingError` (ECS's wording), which the
operations answer with ``InvalidParameterException``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kecs.mapping import (
    capacity,
    container_instance,
    identity,
    load_balancers,
    networking,
    placement,
    service_workload,
    task_keys,
)
from kecs.mapping.common import Note, copy_json
from kecs.mapping.identity import TaskIdentity
from kecs.mapping.pod_placement import PodPlacement

__all__ = [
    "TaskIdentity",
    "service_attachments",
    "service_capacity",
    "service_launch_type",
    "service_template",
    "task_placement",
    "wire_pod",
]


def task_placement(
    task_definition: Mapping[str, Any],
    *,
    account: str,
    region: str,
    cluster_name: str,
    group_selector: Mapping[str, str],
    constraints: Iterable[Mapping[str, Any]] = (),
    strategies: Iterable[Mapping[str, Any]] = (),
    launch_type: str | None = None,
    node_selection: PodPlacement | None = None,
) -> PodPlacement:
    """Everything that decides a task's node, ANDed (step 2 of the module docs)."""
    return placement.combine(
        placement.from_ecs(
            constraints_=constraints,
            strategies_=strategies,
            task_definition=task_definition,
            group_selector=group_selector,
            launch_type=launch_type,
        ),
        node_selection or PodPlacement(),
        container_instance.cluster_placement(account, region, cluster_name),
    )


def wire_pod(
    pod: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    *,
    account: str,
    region: str,
    cluster_name: str,
    group_selector: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    constraints: Iterable[Mapping[str, Any]] = (),
    strategies: Iterable[Mapping[str, Any]] = (),
    launch_type: str | None = None,
    node_selection: PodPlacement | None = None,
    network_configuration: Mapping[str, Any] | None = None,
    handed_over: bool = False,
) -> tuple[dict[str, Any], TaskIdentity]:
    """A copy of ``pod`` (a Pod or a pod template: ``metadata`` + ``spec``) with the task's
    identity, placement and network annotations; and the identity, whose objects
    (:func:`kecs.mapping.identity.identity_objects`) must exist for the pod to run.

    ``handed_over``: ``pod`` is a fresh object the caller gives up (as :func:`task_pod`'s
    result), so it is completed in place rather than copied first."""
    ident = identity.task_identity(task_definition, account=account, overrides=overrides)
    where = task_placement(
        task_definition,
        account=account,
        region=region,
        cluster_name=cluster_name,
        group_selector=group_selector,
        constraints=constraints,
        strategies=strategies,
        launch_type=launch_type,
        node_selection=node_selection,
    )
    out = pod if handed_over and isinstance(pod, dict) else copy_json(dict(pod))
    out["spec"] = placement.apply(identity.apply(out.get("spec") or {}, ident), where)
    metadata = out.setdefault("metadata", {})
    annotations = metadata.setdefault("annotations", {})
    annotations.update(networking.pod_annotations(network_configuration))
    if where.notes:
        known = task_keys.json_value(annotations, task_keys.NOTES, [])
        merged = [*(known if isinstance(known, list) else []), *map(str, where.notes)]
        annotations[task_keys.NOTES] = task_keys.dump(list(dict.fromkeys(merged)))
    return out, ident


# -- services ------------------------------------------------------------------------------------


def service_launch_type(spec: Mapping[str, Any]) -> str | None:
    """The launch type of a service's tasks (its own, or its capacity providers')."""
    given = spec.get("launchType")
    if given:
        return str(given)
    return service_workload.task_launch_type(service_workload.capacity_provider(spec))


def service_capacity(spec: Mapping[str, Any]) -> PodPlacement:
    """Nodes a service's tasks may use: every provider of its strategy (one pod template
    serves them all), else its launch type's."""
    strategy = [s for s in spec.get("capacityProviderStrategy") or () if isinstance(s, Mapping)]
    if strategy:
        return capacity.strategy_selection(strategy)
    return capacity.node_selection(None, spec.get("launchType"))


def service_template(
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    *,
    account: str,
    region: str,
    cluster_name: str,
) -> tuple[dict[str, Any], TaskIdentity]:
    """A service workload's pod template (``spec.template``) wired as :func:`wire_pod` does;
    the group is the service's own tasks (its workload's selector)."""
    return wire_pod(
        template,
        task_definition,
        account=account,
        region=region,
        cluster_name=cluster_name,
        group_selector=service_workload.selector(str(spec.get("serviceName", ""))),
        constraints=spec.get("placementConstraints") or (),
        strategies=spec.get("placementStrategy") or (),
        launch_type=service_launch_type(spec),
        node_selection=service_capacity(spec),
        network_configuration=spec.get("networkConfiguration"),
    )


def service_attachments(
    spec: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    *,
    namespace: str,
    account: str,
    region: str,
    cluster_name: str,
    default_service_connect_namespace: str | None = None,
) -> tuple[list[dict[str, Any]], tuple[Note, ...]]:
    """The service's discovery Services, then its load balancer Services and Ingresses."""
    where = {"namespace": namespace, "account": account, "region": region}
    discovery, notes = networking.discovery_services(
        spec,
        task_definition,
        cluster_name=cluster_name,
        default_service_connect_namespace=default_service_connect_namespace,
        **where,
    )
    balancers = load_balancers.load_balancer_objects(
        spec, task_definition, cluster_name=cluster_name, **where
    )
    return [*discovery, *balancers], notes


#: Service members whose objects :func:`service_attachments` makes.
ATTACHMENT_KEYS = ("loadBalancers", "serviceRegistries", "serviceConnectConfiguration")


def has_attachments(spec: Mapping[str, Any]) -> bool:
    """Whether the service spec asks for objects beside its workload."""
    connect = spec.get("serviceConnectConfiguration") or {}
    return bool(
        spec.get("loadBalancers") or spec.get("serviceRegistries") or connect.get("enabled")
    )
