"""ECS daemons and daemon task definitions <-> DaemonSets (pure).

- A daemon task definition is shaped like a task definition (:func:`as_task_definition`):
  ``pidMode`` / ``ipcMode`` ``shared`` join the host's namespaces (``hostPID`` / ``hostIPC``),
  ``none`` keeps the pod's own; a ``logDriverVolumeConfiguration`` volume is an ``emptyDir``
  the log driver's containers share. It maps to a pod template with
  :func:`kecs.mapping.taskdef.to_pod_template`, as task definitions do.
- A daemon is an ``apps/v1 DaemonSet`` (:func:`daemon_set`) in its cluster's Namespace, named
  from (account, region, cluster, daemon name), labelled ownership ``daemon``, cluster,
  ``kecs.dev/daemon`` and status; the daemon's settings are the ``kecs.dev/daemon-spec``
  annotation, its status (ACTIVE / DELETE_IN_PROGRESS) ``kecs.dev/daemon-status``. Its spec
  comes from :func:`kecs.mapping.service_workload.daemon_set_spec`; its pods are tasks (group
  ``daemon:<name>``, ``kecs.dev/daemon`` label, restartPolicy Always, the task-record
  finalizer) wired like every task (:func:`kecs.mapping.task_wiring.wire_pod`: task role,
  cluster membership) and placed on the Nodes of its capacity providers only
  (:func:`kecs.mapping.capacity.strategy_selection`: required node affinity on
  ``kecs.dev/capacity-provider``, their taints tolerated): one task per such Node, as ECS runs
  one daemon task per container instance of the providers.
- ``deploymentConfiguration.drainPercent`` -> the rolling update's ``maxUnavailable``
  (rounded up to a whole percent; 0 % surges one new task per Node instead); ``bakeTimeInMinutes``
  and ``alarms`` are kept as metadata. ``critical`` is kept: Kubernetes does not drain a Node
  whose daemon pod fails.
- Daemon revisions and deployments are the DaemonSet's revisions (ControllerRevisions, see
  :mod:`kecs.mapping.rollouts`): revision ids (UUIDs) and deployment ids (21 characters) derive
  from the revision key (:mod:`kecs.mapping.ids`); the per-revision settings travel in the pod
  template (``kecs.dev/daemon-revision``). The newest revision's deployment is IN_PROGRESS until
  every scheduled pod is updated and available, then SUCCESSFUL; an older one is SUCCESSFUL,
  or STOPPED when a newer deployment replaced it before it finished (recorded on the DaemonSet
  in ``kecs.dev/stopped-deployments``).
- Read back by :mod:`kecs.mapping.daemon_status`. Counts per capacity provider: the Nodes
  labelled with the provider (and serving the cluster); ``runningCount`` those running the
  revision's task, ``withoutDaemonCount`` those running no task of the daemon,
  ``drainingInstanceCount`` the cordoned ones.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.mapping import (
    capacity,
    k8s_time,
    labels,
    names,
    service_workload,
    task_keys,
    task_pod,
    task_wiring,
)
from kecs.mapping.identity import TaskIdentity

RESOURCE = "daemon"
TOMBSTONE = "daemon-tombstone"
ACTIVE, DELETE_IN_PROGRESS = "ACTIVE", "DELETE_IN_PROGRESS"
NAME = f"{labels.DOMAIN}/daemon-name"
SPEC = f"{labels.DOMAIN}/daemon-spec"
STATUS = f"{labels.DOMAIN}/daemon-status"
REVISION = f"{labels.DOMAIN}/daemon-revision"
UPDATED_AT = f"{labels.DOMAIN}/updated-at"
STOPPED_DEPLOYMENTS = f"{labels.DOMAIN}/stopped-deployments"
#: Daemon settings that belong to one revision (DescribeDaemonRevisions shows them).
REVISION_KEYS = (
    "daemonTaskDefinitionArn",
    "capacityProviderArns",
    "propagateTags",
    "enableECSManagedTags",
    "enableExecuteCommand",
    "critical",
)
SUPERSEDED = "A newer deployment of the daemon replaced this one before it finished."
DELETED = "The daemon was deleted."


def as_task_definition(daemon_task_definition: Mapping[str, Any]) -> dict[str, Any]:
    """The task definition a daemon task definition amounts to (see the module docstring)."""
    td: dict[str, Any] = {
        key: copy.deepcopy(daemon_task_definition[key])
        for key in (
            "family",
            "revision",
            "taskRoleArn",
            "executionRoleArn",
            "cpu",
            "memory",
            "containerDefinitions",
        )
        if daemon_task_definition.get(key) is not None
    }
    td["taskDefinitionArn"] = daemon_task_definition.get("daemonTaskDefinitionArn", "")
    volumes = []
    for volume in daemon_task_definition.get("volumes") or []:
        kept = {"name": volume.get("name")}
        if volume.get("host"):
            kept["host"] = dict(volume["host"])
        volumes.append(kept)
    td["volumes"] = volumes
    for key in ("pidMode", "ipcMode"):
        if daemon_task_definition.get(key) == "shared":
            td[key] = "host"
    return td


def daemon_set_name(name: str, *, account: str, region: str, cluster_name: str) -> str:
    return names.dns_label(name, account, region, cluster_name, name, RESOURCE, letter_first=True)


def tombstone_name(name: str, *, account: str, region: str, cluster_name: str) -> str:
    return names.dns_label(name, account, region, cluster_name, name, TOMBSTONE)


def selector(name: str) -> dict[str, str]:
    return {labels.DAEMON: names.label_value(name), labels.RESOURCE: task_pod.TASK_RESOURCE}


def provider_names(spec: Mapping[str, Any]) -> list[str]:
    return [
        arns.name_from(str(a), "capacity-provider") for a in spec.get("capacityProviderArns") or ()
    ]


def rolling_update(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``maxUnavailable`` from ``drainPercent`` (Kubernetes' default of 1 without one)."""
    drain = (spec.get("deploymentConfiguration") or {}).get("drainPercent")
    if drain is None:
        return {"maxUnavailable": 1}
    percent = min(max(math.ceil(float(drain)), 0), 100)
    if percent == 0:
        return {"maxSurge": 1, "maxUnavailable": 0}
    return {"maxUnavailable": f"{percent}%"}


def propagated_tags(
    spec: Mapping[str, Any], *, name: str, cluster_name: str, tags: Sequence[Mapping[str, str]]
) -> list[dict[str, str]]:
    """The tags a daemon's tasks carry (``propagateTags`` DAEMON, ECS managed tags)."""
    out = [dict(t) for t in tags] if spec.get("propagateTags") == "DAEMON" else []
    if spec.get("enableECSManagedTags"):
        managed = {"aws:ecs:clusterName": cluster_name, "aws:ecs:daemonName": name}
        out = [t for t in out if t.get("key") not in managed]
        out += [{"key": k, "value": v} for k, v in managed.items()]
    return out


def daemon_set(
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    name: str,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
    status: str = ACTIVE,
    updated_at: datetime,
    tags: Sequence[Mapping[str, str]] = (),
) -> tuple[dict[str, Any], TaskIdentity]:
    """The DaemonSet of daemon ``name`` (``spec``: CreateDaemon / UpdateDaemon's settings,
    ``task_definition``: :func:`as_task_definition` of its daemon task definition), and the
    task identity whose objects must exist for its pods to run."""
    group = f"daemon:{name}"
    pod_labels = task_pod.task_labels(
        template,
        account=account,
        region=region,
        cluster_name=cluster_name,
        task_definition=task_definition,
        group=group,
    )
    pod_labels[labels.DAEMON] = names.label_value(name)
    annotations = task_pod.task_annotations(
        template,
        cluster_name=cluster_name,
        task_definition=task_definition,
        group=group,
        tags=propagated_tags(spec, name=name, cluster_name=cluster_name, tags=tags),
        enable_execute_command=bool(spec.get("enableExecuteCommand")),
    )
    annotations[NAME] = name
    annotations[REVISION] = task_keys.dump({k: spec[k] for k in REVISION_KEYS if k in spec})
    pod_spec = copy.deepcopy(dict(template.get("spec") or {}))
    pod_spec["restartPolicy"] = "Always"
    pod = {
        "metadata": {
            "labels": pod_labels,
            "annotations": annotations,
            "finalizers": [labels.TASK_RECORD_FINALIZER],
        },
        "spec": pod_spec,
    }
    strategy = [{"capacityProvider": p, "weight": 1} for p in provider_names(spec)]
    pod, ident = task_wiring.wire_pod(
        pod,
        task_definition,
        account=account,
        region=region,
        cluster_name=cluster_name,
        group_selector=selector(name),
        node_selection=capacity.strategy_selection(strategy),
    )
    object_labels = labels.ownership(account, region, RESOURCE)
    object_labels[labels.CLUSTER] = names.label_value(cluster_name)
    object_labels[labels.DAEMON] = names.label_value(name)
    object_labels[labels.STATUS] = status
    daemon = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": daemon_set_name(
                name, account=account, region=region, cluster_name=cluster_name
            ),
            "namespace": namespace,
            "labels": object_labels,
            "annotations": {
                NAME: name,
                task_keys.CLUSTER_NAME: cluster_name,
                task_keys.TASK_DEFINITION_ARN: str(task_definition.get("taskDefinitionArn", "")),
                SPEC: task_keys.dump(dict(spec)),
                STATUS: status,
                UPDATED_AT: k8s_time.format_micro(updated_at),
                task_keys.TAGS: task_keys.dump([dict(t) for t in tags]),
            },
        },
        "spec": service_workload.daemon_set_spec(pod, selector(name), rolling_update(spec)),
    }
    return daemon, ident


# -- reading back ---------------------------------------------------------------------------


def spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    value = task_keys.json_value(task_keys.annotations_of(obj), SPEC, {})
    return dict(value) if isinstance(value, Mapping) else {}


def tags_of(obj: Mapping[str, Any] | None) -> list[dict[str, str]]:
    value = task_keys.json_value(task_keys.annotations_of(obj), task_keys.TAGS, [])
    return [dict(t) for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []
