"""A task pod -> the ECS ``Task`` structure DescribeTasks returns (pure).

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
from kecs.mapping import ids, k8s_time, networking, pod_state, task_containers, task_keys
from kecs.mapping.pod_state import RANK, ContainerView, TaskState

#: ``isinstance`` against this is fastest for the plain dicts JSON gives (dict first).
_MAPPINGS = (dict, Mapping)

FARGATE_PLATFORM_VERSION = "1.4.0"
FARGATE_DEFAULT_STORAGE_GIB = 20
_ZONE_LABEL, _BETA_ZONE_LABEL = task_keys.ZONE_LABELS  # the first one set wins
CONTAINER_STATUS = {"running": "RUNNING", "terminated": "STOPPED", "waiting": "PENDING"}


def _text(values: Mapping[str, str], key: str) -> str | None:
    value = values.get(key)
    return value if value and isinstance(value, str) else None


#: The text annotations :func:`pod_to_task` reads, in the order :func:`_texts` gives them.
_TASK_TEXTS = (
    task_keys.GROUP,
    task_keys.TASK_DEFINITION_ARN,
    task_keys.TASK_CPU,
    task_keys.TASK_MEMORY,
    task_keys.STARTED_BY,
    task_keys.CAPACITY_PROVIDER,
    task_keys.EPHEMERAL_STORAGE,
)


def _texts(values: Mapping[str, str], keys: tuple[str, ...]) -> list[str | None]:
    """:func:`_text` of each key, in one pass."""
    return [value if value and isinstance(value, str) else None for value in map(values.get, keys)]


def _network_mode(notes: Mapping[str, str], task_definition: Mapping[str, Any] | None) -> str:
    if task_definition and task_definition.get("networkMode"):
        return str(task_definition["networkMode"])
    recorded = _text(notes, task_keys.NETWORK_MODE)
    if recorded:
        return recorded
    metadata = task_keys.json_value(notes, task_keys.TASK_METADATA, {})
    if isinstance(metadata, _MAPPINGS) and metadata.get("networkMode"):
        return str(metadata["networkMode"])
    return "bridge"


def _probed(view: ContainerView) -> bool:
    probe = view.spec.get("readinessProbe")
    # ``None`` first: most containers have no probe, and ``isinstance`` against the Mapping
    # ABC (what ``None`` falls through to) is slow.
    return probe is not None and isinstance(probe, _MAPPINGS)


def _container_health(view: ContainerView, now: datetime) -> str:
    if not view.running or not _probed(view):
        return "UNKNOWN"
    if view.ready:
        return "HEALTHY"
    return "UNKNOWN" if view.still_starting(now) else "UNHEALTHY"


def _task_health(views: list[ContainerView], now: datetime) -> str:
    checked = [_container_health(v, now) for v in views if v.essential and _probed(v)]
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


_NO_OVERRIDE: Mapping[str, Any] = {}


def _sizes(out: dict[str, Any], definition: Mapping[str, Any], override: Mapping[str, Any]) -> None:
    """Add the container's ``cpu``, ``memory`` and ``memoryReservation`` to ``out``."""
    if override is _NO_OVERRIDE:  # the usual case: the definition's sizes
        out["cpu"] = str(definition.get("cpu", 0) or 0)
        for key in ("memory", "memoryReservation"):
            value = definition.get(key)
            if value:
                out[key] = str(value)
        return
    out["cpu"] = str(override.get("cpu", definition.get("cpu", 0)) or 0)
    for key in ("memory", "memoryReservation"):
        value = override.get(key, definition.get(key))
        if value:
            out[key] = str(value)


def _network_bindings(view: ContainerView, definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Bridge/host network bindings: one per port mapping of the container's definition."""
    port_mappings = definition.get("portMappings")
    if not port_mappings or view.never_started:
        return []
    spec_ports = view.spec.get("ports") or []
    host_ports = {}
    for p in spec_ports:
        if p.get("hostPort"):
            # Only ports with a host port need the index: without one (the usual case) each
            # binding's host port is its container port.
            host_ports = {
                (p.get("containerPort"), str(p.get("protocol", "TCP")).lower()): p.get("hostPort")
                for p in spec_ports
            }
            break
    bindings = []
    for mapping in port_mappings:
        port = mapping.get("containerPort")
        if not isinstance(port, int):
            continue
        protocol = "udp" if str(mapping.get("protocol", "tcp")).lower() == "udp" else "tcp"
        host = host_ports.get((port, protocol)) or port
        bindings.append(
            {"bindIP": "0.0.0.0", "containerPort": port, "hostPort": host, "protocol": protocol}
        )
    return bindings


class _Task:
    """The pieces of one pod's ECS view, each computed once."""

    __slots__ = (
        "account",
        "arn",
        "awsvpc",
        "cluster",
        "container_overrides",
        "definitions",
        "id",
        "interface",
        "launch_type",
        "meta",
        "notes",
        "now",
        "overrides",
        "pod",
        "rank",
        "region",
        "state",
        "status",
        "views",
    )

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
        notes = self.meta.get("annotations") or {}
        self.notes: Mapping[str, str] = notes if isinstance(notes, _MAPPINGS) else {}
        self.region, self.account, self.cluster = region, account, cluster_name
        self.now = now
        self.id = ids.uid_hex(str(self.meta.get("uid") or ""))
        self.arn = arns.task(region, account, cluster_name, self.id)
        layout = task_containers.layout(pod, task_definition)
        self.definitions = layout.definitions
        self.views = pod_state.views(pod, layout)
        self.state: TaskState = pod_state.task_state(pod, self.views, now)
        self.rank = RANK[self.state.last_status]
        overrides = (
            task_keys.json_value(self.notes, task_keys.OVERRIDES, {})
            if task_keys.OVERRIDES in self.notes
            else {}
        )
        self.overrides: Mapping[str, Any] = overrides if isinstance(overrides, _MAPPINGS) else {}
        given = self.overrides.get("containerOverrides") or []
        #: The container overrides (entries that are objects), in the order given.
        self.container_overrides: list[Mapping[str, Any]] = [
            o for o in given if isinstance(o, _MAPPINGS)
        ]
        self.launch_type = _text(self.notes, task_keys.LAUNCH_TYPE) or "EC2"
        self.awsvpc = self.launch_type == "FARGATE" or (
            _network_mode(self.notes, task_definition) == "awsvpc"
        )
        # Shared by every container of an awsvpc task (each gets its own copy).
        self.interface = self._network_interface()

    # -- times ---------------------------------------------------------------------------
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

    # -- containers ----------------------------------------------------------------------
    def override(self, view: ContainerView) -> Mapping[str, Any]:
        if not self.container_overrides:  # the usual case
            return _NO_OVERRIDE
        for given in self.container_overrides:
            if given.get("name") == view.ecs_name:
                return given
        return _NO_OVERRIDE

    def container(self, view: ContainerView) -> dict[str, Any]:
        definition = self.definitions.get(view.k8s_name) or {}
        if self.state.last_status == "STOPPED" or (
            view.terminated is not None and not view.running
        ):
            last = "STOPPED"
        else:
            last = CONTAINER_STATUS.get(view.state[0] or "waiting", "PENDING")
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
            "networkBindings": [] if self.awsvpc else _network_bindings(view, definition),
            "networkInterfaces": [dict(self.interface)] if self.interface else [],
            "healthStatus": _container_health(view, self.now),
        }
        _sizes(out, definition, self.override(view))
        status = view.status or {}
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

    def _network_interface(self) -> dict[str, Any] | None:
        ip = self.status.get("podIP")
        if not self.awsvpc or not ip:
            return None
        interface = {"attachmentId": ids.attachment_id(self.id), "privateIpv4Address": str(ip)}
        v6 = [p.get("ip") for p in self.status.get("podIPs") or [] if ":" in str(p.get("ip", ""))]
        if v6:
            interface["ipv6Address"] = str(v6[0])
        return interface

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
        if not self.overrides:  # the usual case: RunTask without overrides
            return {
                "containerOverrides": [{"name": v.ecs_name} for v in self.views],
                "inferenceAcceleratorOverrides": [],
            }
        given = {o.get("name"): o for o in self.container_overrides}
        result = {k: v for k, v in self.overrides.items() if k != "containerOverrides"}
        result["containerOverrides"] = [
            dict(given.get(v.ecs_name) or {"name": v.ecs_name}) for v in self.views
        ]
        result.setdefault("inferenceAcceleratorOverrides", [])
        return result

    def times(self) -> dict[str, datetime]:
        """The task's timestamps that are known (see the module docs), in ECS's order."""
        status, views, last = self.status, self.views, self.state.last_status
        started = [s for v in views if (s := v.started_at()) is not None]
        times: dict[str, datetime] = {}
        created = k8s_time.parse(self.meta.get("creationTimestamp"))
        if created is not None:
            times["createdAt"] = created
        pull_started = k8s_time.parse(status.get("startTime"))
        if pull_started is not None:
            times["pullStartedAt"] = pull_started
        if started:
            times["pullStoppedAt"] = min(started)
            if self.rank >= RANK["RUNNING"]:
                times["startedAt"] = max(started)
        stopping = self.stopping_at()
        if stopping is not None:
            times["stoppingAt"] = stopping
        if last == "STOPPED":
            ends = [f for v in views if (f := v.finished_at())]
            execution_stopped = max(ends) if ends else None
            if execution_stopped is not None:
                times["executionStoppedAt"] = execution_stopped
            candidates = [t for t in (execution_stopped, stopping) if t]
            if candidates:
                times["stoppedAt"] = max(candidates)
        return times


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
    notes, state = t.notes, t.state
    group, definition_arn, task_cpu, task_memory, started_by, provider, storage = _texts(
        notes, _TASK_TEXTS
    )
    definition = task_definition or {}
    version = str(t.meta.get("resourceVersion", ""))
    task: dict[str, Any] = {
        "taskArn": t.arn,
        "clusterArn": arns.cluster(region, account, cluster_name),
        "lastStatus": state.last_status,
        "desiredStatus": state.desired_status,
        "healthStatus": _task_health(t.views, now),
        "launchType": t.launch_type,
        "containers": [t.container(v) for v in t.views],
        "attachments": t.attachments(),
        "overrides": t.overrides_out(),
        "enableExecuteCommand": notes.get(task_keys.ENABLE_EXECUTE_COMMAND) == "true",
        "version": int(version) if version.isdigit() else 1,
        "group": group or f"family:{definition.get('family', '')}",
    }
    definition_arn = definition_arn or definition.get("taskDefinitionArn")
    if definition_arn:
        task["taskDefinitionArn"] = str(definition_arn)
    cpu = task_cpu or definition.get("cpu")
    if cpu:
        task["cpu"] = str(cpu)
    memory = task_memory or definition.get("memory")
    if memory:
        task["memory"] = str(memory)
    started_by = started_by or pod_state.owner_deployment_id(pod)
    if started_by:
        task["startedBy"] = started_by
    if provider:
        task["capacityProviderName"] = provider
    task.update(t.times())
    start_time = t.status.get("startTime")
    if start_time and pod_state.scheduled(pod):
        unknown = t.status.get("phase") == "Unknown"
        task["connectivity"] = "DISCONNECTED" if unknown else "CONNECTED"
        task["connectivityAt"] = k8s_time.parse(start_time)
    if state.desired_status == "STOPPED":
        if state.stop_code:
            task["stopCode"] = state.stop_code
        if state.stopped_reason:
            task["stoppedReason"] = state.stopped_reason
    if node is not None:
        node_labels = task_keys.labels_of(node)
        zone = node_labels.get(_ZONE_LABEL) or node_labels.get(_BETA_ZONE_LABEL)
        if zone:
            task["availabilityZone"] = zone
        if t.launch_type in ("EC2", "EXTERNAL"):
            instance_id = ids.container_instance_id(node)
            if instance_id:
                task["containerInstanceArn"] = arns.container_instance(
                    region, account, cluster_name, instance_id
                )
    if t.launch_type == "FARGATE":
        task["platformVersion"] = _platform_version(notes)
        task["platformFamily"] = "Linux"
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
