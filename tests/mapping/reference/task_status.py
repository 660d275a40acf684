"""Frozen copy of kecs.mapping.task_status before the performance rewrite: the oracle the
differential test (tests/mapping/test_task_status_reference.py) compares the new code to.

Do not edit: its behaviour is the spec.

A task pod -> the ECS ``Task`` structure DescribeTasks returns (pure).

The lifecycle rules (lastStatus, desiredStatus, stop code and reason) are in
:mod:`kecs.mapping.pod_state`. Everything else:

- ids: task id = pod uid without dashes; container ARNs are UUIDs derived from it.
- ``cpu`` / ``memory``: the overridden or the task definition's task size (strings).
- times: ``createdAt`` = creationTimestamp; ``pullStartedAt`` = status.startTime (the kubelet
  took the pod); ``pullStoppedAt`` = the first container start; ``startedAt`` = the last
  container start, once the task is RUNNING or later; ``stoppingAt`` = the stop record, else
  the deletion request (deletionTimestamp minus the grace period), else the first essential
  exit; ``executionStoppedAt`` / ``stoppedAt`` = the last container exit (never before
  ``stoppingAt``) once STOPPED; ``connectivityAt`` = status.startTime.
- ``availabilityZone``: the node's ``topology.kubernetes.io/zone``; ``containerInstanceArn``
  (EC2 / EXTERNAL launch types): ``container-instance/<cluster>/<node uid, 32 hex>``.
- ``awsvpc`` (network mode, or FARGATE): an ``ElasticNetworkInterface`` attachment
  (:func:`kecs.mapping.networking.eni_attachment`: one of the configured subnets, private
  IPv4 address = the pod IP), and per-container ``networkInterfaces``; other modes:
  ``networkBindings`` from the port mappings (host port = the pod's hostPort, else the
  container port: the pod IP serves it).
- ``version``: the pod's ``resourceVersion`` when numeric (it only grows), else 1.
- ``platformVersion`` (``1.4.0`` for LATEST) and ``platformFamily`` (``Linux``): FARGATE only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kecs import arns
from kecs.mapping import ids, k8s_time, networking, task_keys
from tests.mapping.reference import pod_state, task_containers
from tests.mapping.reference.pod_state import RANK, ContainerView, TaskState

#: ``isinstance`` against this is fastest for the plain dicts JSON gives (dict first).
_MAPPINGS = (dict, Mapping)

FARGATE_PLATFORM_VERSION = "1.4.0"
FARGATE_DEFAULT_STORAGE_GIB = 20
CONTAINER_STATUS = {"running": "RUNNING", "terminated": "STOPPED", "waiting": "PENDING"}


def _text(values: Mapping[str, str], key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) and value else None


def _network_mode(pod: Mapping[str, Any], task_definition: Mapping[str, Any] | None) -> str:
    if task_definition and task_definition.get("networkMode"):
        return str(task_definition["networkMode"])
    notes = task_keys.annotations_of(pod)
    recorded = _text(notes, task_keys.NETWORK_MODE)
    if recorded:
        return recorded
    metadata = task_keys.json_value(notes, task_keys.TASK_METADATA, {})
    if isinstance(metadata, _MAPPINGS) and metadata.get("networkMode"):
        return str(metadata["networkMode"])
    return "bridge"


def _container_health(view: ContainerView, now: datetime) -> str:
    if not isinstance(view.spec.get("readinessProbe"), _MAPPINGS) or not view.running:
        return "UNKNOWN"
    if view.ready:
        return "HEALTHY"
    return "UNKNOWN" if view.still_starting(now) else "UNHEALTHY"


def _task_health(views: list[ContainerView], now: datetime) -> str:
    checked = [
        _container_health(v, now)
        for v in views
        if v.essential and isinstance(v.spec.get("readinessProbe"), _MAPPINGS)
    ]
    if not checked:
        return "UNKNOWN"
    if "UNHEALTHY" in checked:
        return "UNHEALTHY"
    return "HEALTHY" if all(h == "HEALTHY" for h in checked) else "UNKNOWN"


def _container_reason(view: ContainerView) -> str | None:
    failure = view.start_failure
    if failure:
        return failure
    ended = view.terminated
    if ended is None:
        return None
    if ended.get("reason") == "OOMKilled":
        return "OutOfMemoryError: Container killed due to memory usage"
    message = ended.get("message")
    return str(message)[:1024] if message else None


def _digest(image_id: str) -> str | None:
    _, at, digest = image_id.rpartition("@")
    if at and digest.startswith("sha256:"):
        return digest
    return digest if image_id.startswith("sha256:") else None


def _sizes(definition: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, str]:
    out = {"cpu": str(override.get("cpu", definition.get("cpu", 0)) or 0)}
    for key in ("memory", "memoryReservation"):
        value = override.get(key, definition.get(key))
        if value:
            out[key] = str(value)
    return out


class _Task:
    """The pieces of one pod's ECS view, computed once."""

    def __init__(
        self,
        pod: Mapping[str, Any],
        *,
        region: str,
        account: str,
        cluster_name: str,
        task_definition: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        self.pod = pod
        self.meta: Mapping[str, Any] = pod.get("metadata") or {}
        self.status: Mapping[str, Any] = pod.get("status") or {}
        self.notes = task_keys.annotations_of(pod)
        self.region, self.account, self.cluster = region, account, cluster_name
        self.task_definition = task_definition
        self.now = now
        self.id = ids.task_id(pod)
        self.arn = arns.task(region, account, cluster_name, self.id)
        self.views = pod_state.containers(pod, task_definition)
        self.state: TaskState = pod_state.task_state(pod, self.views, now)
        overrides = task_keys.json_value(self.notes, task_keys.OVERRIDES, {})
        self.overrides: Mapping[str, Any] = overrides if isinstance(overrides, _MAPPINGS) else {}
        self.launch_type = _text(self.notes, task_keys.LAUNCH_TYPE) or "EC2"
        mode = _network_mode(pod, task_definition)
        self.awsvpc = mode == "awsvpc" or self.launch_type == "FARGATE"
        self.definitions = task_containers.definitions_by_k8s_name(
            {v.k8s_name: v.ecs_name for v in self.views}, task_definition
        )

    @property
    def rank(self) -> int:
        return RANK[self.state.last_status]

    # -- times ---------------------------------------------------------------------------
    def started_at(self) -> datetime | None:
        if self.rank < RANK["RUNNING"]:
            return None
        starts = [s for s in (v.started_at() for v in self.views) if s is not None]
        return max(starts) if starts else None

    def stopping_at(self) -> datetime | None:
        if self.state.desired_status != "STOPPED":
            return None
        requested = pod_state.stop_requested_at(self.pod)
        if requested is not None:
            return requested
        ends = [f for f in (v.finished_at() for v in self.state.exited_essential) if f]
        if ends:
            return min(ends)
        return k8s_time.parse(self.status.get("startTime")) or k8s_time.parse(
            self.meta.get("creationTimestamp")
        )

    def execution_stopped_at(self) -> datetime | None:
        if self.state.last_status != "STOPPED":
            return None
        ends = [f for f in (v.finished_at() for v in self.views) if f]
        return max(ends) if ends else None

    def stopped_at(self) -> datetime | None:
        if self.state.last_status != "STOPPED":
            return None
        candidates = [t for t in (self.execution_stopped_at(), self.stopping_at()) if t]
        return max(candidates) if candidates else None

    # -- containers ----------------------------------------------------------------------
    def container(self, view: ContainerView) -> dict[str, Any]:
        definition = self.definitions.get(view.k8s_name, {})
        override = next(
            (
                o
                for o in self.overrides.get("containerOverrides") or []
                if isinstance(o, _MAPPINGS) and o.get("name") == view.ecs_name
            ),
            {},
        )
        status = view.status or {}
        kind, _ = view.state
        last = CONTAINER_STATUS.get(kind or "waiting", "PENDING")
        if view.terminated is not None and not view.running:
            last = "STOPPED"
        if self.state.last_status == "STOPPED":
            last = "STOPPED"
        out: dict[str, Any] = {
            "containerArn": arns.container(
                self.region,
                self.account,
                self.cluster,
                self.id,
                ids.container_id(self.id, view.ecs_name),
            ),
            "taskArn": self.arn,
            "name": view.ecs_name,
            "image": str(definition.get("image") or view.spec.get("image") or ""),
            "lastStatus": last,
            "networkBindings": self.network_bindings(view, definition),
            "networkInterfaces": self.network_interfaces(),
            "healthStatus": _container_health(view, self.now),
            **_sizes(definition, override),
        }
        digest = _digest(str(status.get("imageID") or ""))
        if digest:
            out["imageDigest"] = digest
        runtime = str(status.get("containerID") or "").partition("://")[2]
        if runtime:
            out["runtimeId"] = runtime
        ended = view.terminated
        if ended is not None and isinstance(ended.get("exitCode"), int):
            out["exitCode"] = ended["exitCode"]
        reason = _container_reason(view)
        if reason:
            out["reason"] = reason
        return out

    def network_bindings(
        self, view: ContainerView, definition: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        if self.awsvpc or view.never_started:
            return []
        host_ports = {
            (p.get("containerPort"), str(p.get("protocol", "TCP")).lower()): p.get("hostPort")
            for p in view.spec.get("ports") or []
        }
        bindings = []
        for mapping in definition.get("portMappings") or []:
            port = mapping.get("containerPort")
            if not isinstance(port, int):
                continue
            protocol = "udp" if str(mapping.get("protocol", "tcp")).lower() == "udp" else "tcp"
            host = host_ports.get((port, protocol)) or port
            bindings.append(
                {"bindIP": "0.0.0.0", "containerPort": port, "hostPort": host, "protocol": protocol}
            )
        return bindings

    def network_interfaces(self) -> list[dict[str, Any]]:
        ip = self.status.get("podIP")
        if not self.awsvpc or not ip:
            return []
        interface = {"attachmentId": ids.attachment_id(self.id), "privateIpv4Address": str(ip)}
        v6 = [p.get("ip") for p in self.status.get("podIPs") or [] if ":" in str(p.get("ip", ""))]
        if v6:
            interface["ipv6Address"] = str(v6[0])
        return [interface]

    def attachments(self) -> list[dict[str, Any]]:
        if not self.awsvpc:
            return []
        config = task_keys.json_value(self.notes, task_keys.NETWORK_CONFIGURATION, {})
        ip = self.status.get("podIP")
        attachment = networking.eni_attachment(
            self.id,
            last_status=self.state.last_status,
            pod_ip=str(ip) if ip else None,
            network_configuration=config if isinstance(config, _MAPPINGS) else None,
            region=self.region,
        )
        return [attachment]

    def overrides_out(self) -> dict[str, Any]:
        given = {
            o.get("name"): o
            for o in self.overrides.get("containerOverrides") or []
            if isinstance(o, _MAPPINGS)
        }
        result = {k: v for k, v in self.overrides.items() if k != "containerOverrides"}
        result["containerOverrides"] = [
            dict(given.get(v.ecs_name) or {"name": v.ecs_name}) for v in self.views
        ]
        result.setdefault("inferenceAcceleratorOverrides", [])
        return result


def pod_to_task(
    pod: Mapping[str, Any],
    *,
    region: str,
    account: str,
    cluster_name: str,
    task_definition: Mapping[str, Any] | None,
    node: Mapping[str, Any] | None,
    now: datetime,
    include_tags: bool = False,
) -> dict[str, Any]:
    """The ECS ``Task`` (wire shape, ``datetime`` timestamps) of one task pod."""
    t = _Task(
        pod,
        region=region,
        account=account,
        cluster_name=cluster_name,
        task_definition=task_definition,
        now=now,
    )
    notes = t.notes
    task: dict[str, Any] = {
        "taskArn": t.arn,
        "clusterArn": arns.cluster(region, account, cluster_name),
        "lastStatus": t.state.last_status,
        "desiredStatus": t.state.desired_status,
        "healthStatus": _task_health(t.views, now),
        "launchType": t.launch_type,
        "containers": [t.container(v) for v in t.views],
        "attachments": t.attachments(),
        "overrides": t.overrides_out(),
        "enableExecuteCommand": notes.get(task_keys.ENABLE_EXECUTE_COMMAND) == "true",
        "version": int(str(t.meta.get("resourceVersion")))
        if str(t.meta.get("resourceVersion", "")).isdigit()
        else 1,
        "group": _text(notes, task_keys.GROUP)
        or f"family:{(task_definition or {}).get('family', '')}",
    }
    definition_arn = _text(notes, task_keys.TASK_DEFINITION_ARN) or (task_definition or {}).get(
        "taskDefinitionArn"
    )
    if definition_arn:
        task["taskDefinitionArn"] = str(definition_arn)
    for key, annotation in (("cpu", task_keys.TASK_CPU), ("memory", task_keys.TASK_MEMORY)):
        value = _text(notes, annotation) or (task_definition or {}).get(key)
        if value:
            task[key] = str(value)
    started_by = _text(notes, task_keys.STARTED_BY) or pod_state.owner_deployment_id(pod)
    if started_by:
        task["startedBy"] = started_by
    provider = _text(notes, task_keys.CAPACITY_PROVIDER)
    if provider:
        task["capacityProviderName"] = provider
    times = {
        "createdAt": k8s_time.parse(t.meta.get("creationTimestamp")),
        "pullStartedAt": k8s_time.parse(t.status.get("startTime")),
        "pullStoppedAt": min((s for v in t.views if (s := v.started_at())), default=None),
        "startedAt": t.started_at(),
        "stoppingAt": t.stopping_at(),
        "executionStoppedAt": t.execution_stopped_at(),
        "stoppedAt": t.stopped_at(),
    }
    task.update({k: v for k, v in times.items() if v is not None})
    if pod_state.scheduled(pod) and t.status.get("startTime"):
        unknown = t.status.get("phase") == "Unknown"
        task["connectivity"] = "DISCONNECTED" if unknown else "CONNECTED"
        task["connectivityAt"] = k8s_time.parse(t.status.get("startTime"))
    if t.state.desired_status == "STOPPED":
        if t.state.stop_code:
            task["stopCode"] = t.state.stop_code
        if t.state.stopped_reason:
            task["stoppedReason"] = t.state.stopped_reason
    if node is not None:
        node_labels = task_keys.labels_of(node)
        zone = next((node_labels[k] for k in task_keys.ZONE_LABELS if node_labels.get(k)), None)
        if zone:
            task["availabilityZone"] = zone
        if t.launch_type in ("EC2", "EXTERNAL") and ids.container_instance_id(node):
            task["containerInstanceArn"] = arns.container_instance(
                region, account, cluster_name, ids.container_instance_id(node)
            )
    if t.launch_type == "FARGATE":
        task["platformVersion"] = _platform_version(notes)
        task["platformFamily"] = "Linux"
    storage = _text(notes, task_keys.EPHEMERAL_STORAGE)
    if storage and storage.isdigit():
        task["ephemeralStorage"] = {"sizeInGiB": int(storage)}
    elif t.launch_type == "FARGATE":
        task["ephemeralStorage"] = {"sizeInGiB": FARGATE_DEFAULT_STORAGE_GIB}
    if include_tags:
        tags = task_keys.json_value(notes, task_keys.TAGS, [])
        task["tags"] = (
            [dict(x) for x in tags if isinstance(x, _MAPPINGS)] if isinstance(tags, list) else []
        )
    return task


def _platform_version(notes: Mapping[str, str]) -> str:
    version = _text(notes, task_keys.PLATFORM_VERSION)
    return FARGATE_PLATFORM_VERSION if version in (None, "LATEST") else str(version)
