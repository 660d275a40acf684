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

Read back by :mod:`kecs.mapping.task_set_status`: counts from the task pods
(:mod:`kecs.mapping.rollouts`); ``stabilityStatus`` STEADY_STATE when the Deployment has
observed its spec and exactly ``computedDesiredCount`` tasks run with none pending, else
STABILIZING; the service's ``desiredCount`` is its own, its running and pending counts the
sums over its task sets, and it has ``taskSets`` instead of ``deployments``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kecs.mapping import (
    ids,
    k8s_time,
    labels,
    names,
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
    object_labels = service_workload.service_labels(
        account, region, cluster_name, service_name, RESOURCE
    )
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
        "spec": service_workload.deployment_spec(
            0 if status == DRAINING else replicas_of(service_spec, task_set),
            selector(service_name, set_id),
            service_workload.rolling_update(service_spec),
            pod,
            history=1,
        ),
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
