"""Services with the EXTERNAL (or CODE_DEPLOY) deployment controller and their task sets (pure).

Such a service runs no tasks itself: an external controller (or CodeDeploy) rolls out *task
sets*, each a scaled share of the service's desired count, and picks which one is PRIMARY.

- The service: a ``v1 ConfigMap`` record (:func:`service_record`) in the cluster's Namespace,
  with the metadata of every service object (:func:`kecs.mapping.service_workload.
  workload_metadata`: ownership ``service``, cluster and service labels, the service spec,
  status and tags annotations) under a name of its own (the INACTIVE tombstone keeps the
  workload name).
- A task set: an ``apps/v1 Deployment`` (:func:`task_set_deployment`) owned by the record
  (``ownerReferences``, so the garbage collector removes task sets with their service),
  labelled ownership ``task-set``, cluster, service and ``kecs.dev/task-set``.
  ``replicas`` is ECS's ``computedDesiredCount``: ``ceil(desiredCount * scale% / 100)``
  (:func:`computed_desired_count`), 0 once DRAINING. The pod template is the service's
  (:func:`kecs.mapping.service_workload.pod_template`, wired by
  :func:`kecs.mapping.task_wiring.service_template`) with the task set's own launch type or
  capacity providers, platform version, network configuration, load balancers and service
  registries; its tasks carry ``kecs.dev/task-set`` and are started by the task set id
  (``ecs-svc/<19 digits>``, ECS's format). ``loadBalancers`` and ``serviceRegistries`` of a
  task set are kept as metadata: traffic shifting is the external controller's business.
- The task set itself (id, externalId, task definition, launch settings, scale, client
  token, creation time to the microsecond) is the ``kecs.dev/task-set`` annotation, its
  status (ACTIVE / PRIMARY / DRAINING) ``kecs.dev/task-set-status`` (mirrored in the
  ``kecs.dev/status`` label), its last change ``kecs.dev/updated-at``, its tags
  ``kecs.dev/tags``.
- The PRIMARY task set gets the service's Kubernetes Service (:func:`primary_service`): the
  ClusterIP Service of the port mappings, selecting the PRIMARY's tasks only, so making
  another task set PRIMARY moves the service's DNS name over (a blue/green cut-over).

Read back (:func:`to_task_set`, :func:`external_service`): counts from the task pods
(:mod:`kecs.mapping.rollouts`); ``stabilityStatus`` STEADY_STATE when the Deployment has
observed its spec and exactly ``computedDesiredCount`` tasks run with none pending, else
STABILIZING; the service's ``desiredCount`` is its own, its running and pending counts the
sums over its task sets, and it has ``taskSets`` instead of ``deployments``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.mapping import (
    ids,
    k8s_time,
    labels,
    names,
    pod_state,
    rollouts,
    service_status,
    service_workload,
    task_keys,
    task_wiring,
)
from kecs.mapping.identity import TaskIdentity

RESOURCE = "task-set"
EXTERNAL, CODE_DEPLOY = "EXTERNAL", "CODE_DEPLOY"
ACTIVE, PRIMARY, DRAINING = "ACTIVE", "PRIMARY", "DRAINING"
STEADY_STATE, STABILIZING = "STEADY_STATE", "STABILIZING"
#: On a task set's Deployment: JSON of the task set as CreateTaskSet set it (and later scales).
SPEC = f"{labels.DOMAIN}/task-set"
STATUS = f"{labels.DOMAIN}/task-set-status"
UPDATED_AT = f"{labels.DOMAIN}/updated-at"
#: Task set members kept in :data:`SPEC`.
SETTINGS = (
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
    "loadBalancers",
    "serviceRegistries",
)


def controller(spec: Mapping[str, Any]) -> str:
    """The service's deployment controller type (``ECS`` when not given)."""
    return str((spec.get("deploymentController") or {}).get("type") or "ECS")


def new_id(seed: str) -> str:
    """A task set id, ``ecs-svc/<19 digits>`` as ECS writes them, from a unique ``seed``."""
    return ids.deployment_id(f"task-set/{seed}")


def computed_desired_count(desired: int, scale: Mapping[str, Any] | None) -> int:
    """``ceil(desired * scale / 100)``: ECS always rounds a task set's share up."""
    value = float((scale or {}).get("value") or 0.0)
    # 3 * 33.333 % is 0.99999 of a task, not 1: round away representation noise first.
    return max(0, math.ceil(round(desired * value / 100, 6)))


def record_name(service_name: str, *, account: str, region: str, cluster_name: str) -> str:
    return names.dns_label(
        service_name, account, region, cluster_name, service_name, RESOURCE, letter_first=True
    )


def service_record(
    spec: Mapping[str, Any],
    *,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    status: str = ACTIVE,
) -> dict[str, Any]:
    """The ``v1 ConfigMap`` that stands for an EXTERNAL / CODE_DEPLOY service."""
    metadata = service_workload.workload_metadata(
        spec,
        namespace=namespace,
        cluster_name=cluster_name,
        account=account,
        region=region,
        status=status,
    )
    metadata["name"] = record_name(
        str(spec.get("serviceName", "")), account=account, region=region, cluster_name=cluster_name
    )
    metadata["labels"][labels.STATUS] = status
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}


def task_set_label(set_id: str) -> str:
    return names.label_value(set_id)


def selector(service_name: str, set_id: str) -> dict[str, str]:
    return {**service_workload.selector(service_name), labels.TASK_SET: task_set_label(set_id)}


def deployment_name(
    service_name: str, set_id: str, *, account: str, region: str, cluster_name: str
) -> str:
    digits = set_id.rpartition("/")[2]
    return names.dns_label(
        f"{service_name}-{digits}",
        account,
        region,
        cluster_name,
        service_name,
        set_id,
        letter_first=True,
    )


def _task_spec(service_spec: Mapping[str, Any], task_set: Mapping[str, Any]) -> dict[str, Any]:
    """The service spec as the task set's tasks see it: its own launch settings."""
    spec = {k: v for k, v in service_spec.items() if k not in service_workload.REVISION_KEYS}
    spec.update({k: task_set[k] for k in SETTINGS if task_set.get(k)})
    spec["taskDefinition"] = task_set["taskDefinition"]
    return spec


def task_set_deployment(
    template: Mapping[str, Any],
    service_spec: Mapping[str, Any],
    task_set: Mapping[str, Any],
    *,
    owner: Mapping[str, Any],
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
    task_definition_tags: Sequence[Mapping[str, str]] | None = None,
    status: str = ACTIVE,
    updated_at: datetime,
    tags: Sequence[Mapping[str, str]] = (),
) -> tuple[dict[str, Any], TaskIdentity]:
    """The Deployment of one task set (``task_set``: its id and CreateTaskSet members), and
    the task identity whose objects must exist for its pods to run."""
    service_name = str(service_spec.get("serviceName", ""))
    set_id = str(task_set["id"])
    spec = _task_spec(service_spec, task_set)
    pod = service_workload.pod_template(
        template,
        spec,
        cluster_name=cluster_name,
        account=account,
        region=region,
        task_definition=task_definition,
        task_definition_tags=task_definition_tags,
    )
    pod["metadata"]["labels"][labels.TASK_SET] = task_set_label(set_id)
    pod["metadata"]["labels"][labels.STARTED_BY] = names.label_value(set_id)
    pod["metadata"]["annotations"][task_keys.STARTED_BY] = set_id
    pod, ident = task_wiring.service_template(
        pod, spec, task_definition, account=account, region=region, cluster_name=cluster_name
    )
    object_labels = labels.ownership(account, region, RESOURCE)
    object_labels[labels.CLUSTER] = names.label_value(cluster_name)
    object_labels[labels.SERVICE] = names.label_value(service_name)
    object_labels[labels.TASK_SET] = task_set_label(set_id)
    object_labels[labels.STATUS] = status
    owner_meta = owner["metadata"]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": deployment_name(
                service_name, set_id, account=account, region=region, cluster_name=cluster_name
            ),
            "namespace": namespace,
            "labels": object_labels,
            "annotations": {
                task_keys.SERVICE_NAME: service_name,
                task_keys.CLUSTER_NAME: cluster_name,
                task_keys.TASK_DEFINITION_ARN: str(task_set["taskDefinition"]),
                SPEC: task_keys.dump(dict(task_set)),
                STATUS: status,
                UPDATED_AT: k8s_time.format_micro(updated_at),
                task_keys.TAGS: task_keys.dump([dict(t) for t in tags]),
            },
            "ownerReferences": [
                {
                    "apiVersion": owner.get("apiVersion", "v1"),
                    "kind": owner.get("kind", "ConfigMap"),
                    "name": owner_meta["name"],
                    "uid": owner_meta["uid"],
                }
            ],
        },
        "spec": {
            "replicas": 0 if status == DRAINING else replicas_of(service_spec, task_set),
            "selector": {"matchLabels": selector(service_name, set_id)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": service_workload.rolling_update(service_spec),
            },
            "progressDeadlineSeconds": service_workload.NO_DEADLINE,
            "revisionHistoryLimit": 1,
            "template": pod,
        },
    }
    return deployment, ident


def replicas_of(service_spec: Mapping[str, Any], task_set: Mapping[str, Any]) -> int:
    return computed_desired_count(int(service_spec.get("desiredCount") or 0), task_set.get("scale"))


def primary_service(
    service_spec: Mapping[str, Any],
    set_id: str,
    *,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The service's ClusterIP Service, selecting the PRIMARY task set's tasks (or ``None``
    when its task definition maps no ports)."""
    service = service_workload.service(
        service_spec,
        namespace=namespace,
        cluster_name=cluster_name,
        account=account,
        region=region,
        task_definition=task_definition,
    )
    if service is not None:
        service["spec"]["selector"] = selector(str(service_spec.get("serviceName", "")), set_id)
    return service


# -- reading back ---------------------------------------------------------------------------


def task_set_of(deployment: Mapping[str, Any]) -> dict[str, Any]:
    value = task_keys.json_value(task_keys.annotations_of(deployment), SPEC, {})
    return dict(value) if isinstance(value, Mapping) else {}


def status_of(deployment: Mapping[str, Any]) -> str:
    return task_keys.annotations_of(deployment).get(STATUS) or ACTIVE


def pods_of(
    deployment: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The task pods of ``deployment``'s task set among ``pods``."""
    wanted = task_keys.labels_of(deployment).get(labels.TASK_SET)
    return [p for p in pods if wanted and task_keys.labels_of(p).get(labels.TASK_SET) == wanted]


def _observed(deployment: Mapping[str, Any]) -> bool:
    generation = int((deployment.get("metadata") or {}).get("generation") or 0)
    observed = int((deployment.get("status") or {}).get("observedGeneration") or 0)
    return observed >= generation


def _latest(deployment: Mapping[str, Any], tasks: Sequence[rollouts.TaskPod]) -> datetime | None:
    times = [
        k8s_time.parse(task_keys.annotations_of(deployment).get(UPDATED_AT)),
        k8s_time.parse((deployment.get("metadata") or {}).get("creationTimestamp")),
    ]
    for task in tasks:
        times.append(task.created)
        times.append(k8s_time.parse((task.pod.get("metadata") or {}).get("deletionTimestamp")))
        times += [c.started_at() for c in pod_state.containers(task.pod)]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def to_task_set(
    deployment: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
    include_tags: bool = False,
) -> dict[str, Any]:
    """The ECS ``TaskSet`` of one task set Deployment (``pods``: its task pods, or more)."""
    task_set = task_set_of(deployment)
    notes = task_keys.annotations_of(deployment)
    service_name = notes.get(task_keys.SERVICE_NAME) or ""
    set_id = str(task_set.get("id") or "")
    tasks = rollouts.task_pods(pods_of(deployment, pods), now)
    desired = int((deployment.get("spec") or {}).get("replicas") or 0)
    running = sum(1 for t in tasks if t.running)
    pending = sum(1 for t in tasks if t.pending)
    live = sum(1 for t in tasks if t.state.last_status != "STOPPED")
    steady = _observed(deployment) and running == desired and pending == 0 and live == desired
    # CreateTaskSet records the moment to the microsecond; creationTimestamp has seconds.
    created = k8s_time.parse(task_set.get("createdAt")) or k8s_time.parse(
        (deployment.get("metadata") or {}).get("creationTimestamp")
    )
    out: dict[str, Any] = {
        "id": set_id,
        "taskSetArn": arns.task_set(region, account, cluster_name, service_name, set_id),
        "serviceArn": arns.service(region, account, cluster_name, service_name),
        "clusterArn": arns.cluster(region, account, cluster_name),
        "status": status_of(deployment),
        "taskDefinition": str(task_set.get("taskDefinition") or ""),
        "computedDesiredCount": desired,
        "pendingCount": pending,
        "runningCount": running,
        "loadBalancers": list(task_set.get("loadBalancers") or []),
        "serviceRegistries": list(task_set.get("serviceRegistries") or []),
        "scale": dict(task_set.get("scale") or {"value": 0.0, "unit": "PERCENT"}),
        "stabilityStatus": STEADY_STATE if steady else STABILIZING,
    }
    for key in ("startedBy", "externalId", "networkConfiguration"):
        if task_set.get(key):
            out[key] = task_set[key]
    out.update(service_status.launch_settings(task_set))
    if created is not None:
        out["createdAt"] = created
    updated = k8s_time.parse(notes.get(UPDATED_AT)) or created
    if updated is not None:
        out["updatedAt"] = updated
    moment = _latest(deployment, tasks)
    if moment is not None:
        out["stabilityStatusAt"] = moment
    if include_tags:
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        out["tags"] = (
            [dict(t) for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []
        )
    return out


def _order(task_set: Mapping[str, Any]) -> tuple[int, float, str]:
    rank = {PRIMARY: 0, ACTIVE: 1}.get(str(task_set.get("status")), 2)
    created = task_set.get("createdAt")
    moment = created.timestamp() if isinstance(created, datetime) else 0.0
    return rank, -moment, str(task_set.get("id"))


def task_set_list(
    deployments: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
    include_tags: bool = False,
) -> list[dict[str, Any]]:
    """The ``TaskSet`` of each Deployment: the PRIMARY first, then ACTIVE, then DRAINING ones,
    newest first within each."""
    found = [
        to_task_set(
            d,
            pods,
            region=region,
            account=account,
            cluster_name=cluster_name,
            now=now,
            include_tags=include_tags,
        )
        for d in deployments
    ]
    return sorted(found, key=_order)


def external_service(
    record: Mapping[str, Any],
    deployments: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    *,
    region: str,
    account: str,
    cluster_name: str,
    now: datetime,
    include_tags: bool = False,
) -> dict[str, Any]:
    """The ECS ``Service`` of an EXTERNAL / CODE_DEPLOY service record and its task sets."""
    spec = service_status.service_spec(record)
    name = service_status.service_name(record)
    notes = task_keys.annotations_of(record)
    task_sets = task_set_list(
        deployments,
        pods,
        region=region,
        account=account,
        cluster_name=cluster_name,
        now=now,
        include_tags=include_tags,
    )
    service: dict[str, Any] = {
        "serviceArn": arns.service(region, account, cluster_name, name),
        "serviceName": name,
        "clusterArn": arns.cluster(region, account, cluster_name),
        "loadBalancers": list(spec.get("loadBalancers") or []),
        "serviceRegistries": list(spec.get("serviceRegistries") or []),
        "status": notes.get(task_keys.SERVICE_STATUS) or ACTIVE,
        "desiredCount": int(spec.get("desiredCount") or 0),
        "runningCount": sum(t["runningCount"] for t in task_sets),
        "pendingCount": sum(t["pendingCount"] for t in task_sets),
        "deploymentConfiguration": service_workload.deployment_configuration(spec),
        "taskSets": task_sets,
        "deployments": [],
        "events": [],
        "placementConstraints": list(spec.get("placementConstraints") or []),
        "placementStrategy": list(spec.get("placementStrategy") or []),
        "schedulingStrategy": service_workload.REPLICA,
        "deploymentController": {"type": controller(spec)},
        "createdBy": str(spec.get("createdBy") or f"arn:aws:iam::{account}:root"),
        "enableECSManagedTags": bool(spec.get("enableECSManagedTags", False)),
        "propagateTags": str(spec.get("propagateTags") or "NONE"),
        "enableExecuteCommand": bool(spec.get("enableExecuteCommand", False)),
    }
    if spec.get("taskDefinition"):
        service["taskDefinition"] = str(spec["taskDefinition"])
    if spec.get("launchType") or spec.get("capacityProviderStrategy"):
        service.update(service_status.launch_settings(spec))
    created = k8s_time.parse((record.get("metadata") or {}).get("creationTimestamp"))
    if created is not None:
        service["createdAt"] = created
    role = spec.get("role")
    if role:
        role = str(role)
        service["roleArn"] = (
            role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}"
        )
    for key in (
        "networkConfiguration",
        "healthCheckGracePeriodSeconds",
        "availabilityZoneRebalancing",
        "platformVersion",
    ):
        if spec.get(key) is not None:
            service[key] = spec[key]
    if include_tags:
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        service["tags"] = (
            [dict(t) for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []
        )
    return service


def with_scale(deployment: Mapping[str, Any], service_spec: Mapping[str, Any]) -> dict[str, Any]:
    """``deployment`` with the replicas its scale and the service's desired count give."""
    out = copy.deepcopy(dict(deployment))
    if status_of(out) != DRAINING:
        out["spec"]["replicas"] = replicas_of(service_spec, task_set_of(out))
    return out
