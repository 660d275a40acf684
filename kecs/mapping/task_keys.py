"""Annotation keys (and their readers) on task pods, service workloads and ReplicaSets.

Labels select (see :mod:`kecs.mapping.labels`); these annotations keep the exact ECS values
the task and service mappings need to answer Describe* calls. Operations write the stop
record (:data:`STOP_CODE`, :data:`STOPPED_REASON`, :data:`STOPPING_AT`) before deleting a pod.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kecs.mapping import labels

#: ``isinstance`` against this is fastest for the plain dicts JSON gives (dict first).
_MAPPINGS = (dict, Mapping)

_D = labels.DOMAIN

# -- task pods (and service pod templates) ----------------------------------------------------
CLUSTER_NAME = labels.ANN_CLUSTER_NAME
TASK_DEFINITION_ARN = labels.ANN_TASK_DEFINITION_ARN
TAGS = labels.ANN_TAGS  # JSON [{"key", "value"}]
NOTES = labels.ANN_NOTES  # JSON ["path: message", ...]
STARTED_BY = f"{_D}/started-by"
GROUP = f"{_D}/group"
OVERRIDES = f"{_D}/overrides"  # JSON TaskOverride, exactly as RunTask/StartTask got it
CLIENT_TOKEN = f"{_D}/client-token"
LAUNCH_TYPE = f"{_D}/launch-type"
CAPACITY_PROVIDER = f"{_D}/capacity-provider"
PLATFORM_VERSION = f"{_D}/platform-version"
NETWORK_CONFIGURATION = f"{_D}/network-configuration"  # JSON NetworkConfiguration
NETWORK_MODE = f"{_D}/network-mode"
ENABLE_EXECUTE_COMMAND = f"{_D}/enable-execute-command"  # "true" | "false"
# Written by kecs.mapping.taskdef on every pod template (same keys as labels.ANN_*):
#: JSON {kubernetes container name: ECS container name}.
CONTAINER_NAMES = f"{_D}/container-names"
#: JSON {kubernetes container name: {"essential", "healthCheck", "role", ...}}.
CONTAINERS = f"{_D}/containers"
#: JSON of task members kept as metadata ("networkMode", "cpu", "memory", ...).
TASK_METADATA = f"{_D}/task-metadata"
EXECUTION_ROLE_ARN = f"{_D}/execution-role-arn"
TASK_ROLE_ARN = f"{_D}/task-role-arn"
TASK_CPU = f"{_D}/task-cpu"  # task-level cpu as ECS reports it ("256")
TASK_MEMORY = f"{_D}/task-memory"  # task-level memory as ECS reports it ("512")
EPHEMERAL_STORAGE = f"{_D}/ephemeral-storage"  # GiB, from ephemeralStorage overrides
SERVICE_NAME = f"{_D}/service-name"

# -- the stop record (written by operations before a pod is deleted) --------------------------
STOP_CODE = f"{_D}/stop-code"
STOPPED_REASON = f"{_D}/stopped-reason"
STOPPING_AT = f"{_D}/stopping-at"  # RFC 3339

# -- service workloads (Deployment / DaemonSet) and their revisions -----------------------------
SERVICE_SPEC = f"{_D}/service-spec"  # JSON: the ECS service as CreateService/UpdateService set it
SERVICE_STATUS = f"{_D}/service-status"  # ACTIVE | DRAINING
#: On the pod template (so on each ReplicaSet): JSON of the per-revision service settings
#: (launch type, capacity providers, platform, network, load balancers, registries).
SERVICE_REVISION = f"{_D}/service-revision"
#: On a ReplicaSet whose rollout failed (written by whoever trips the circuit breaker):
#: ``FAILED``; read by the service status mapping for ACTIVE deployments.
ROLLOUT_STATE = f"{_D}/rollout-state"
#: On a ReplicaSet: the time (RFC 3339) its rollout finished, when known.
ROLLOUT_FINISHED_AT = f"{_D}/rollout-finished-at"

# -- Kubernetes' own keys the mappings read ----------------------------------------------------
K8S_REVISION = "deployment.kubernetes.io/revision"
POD_TEMPLATE_HASH = "pod-template-hash"
CONTROLLER_REVISION_HASH = "controller-revision-hash"
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def annotations_of(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    meta = (obj or {}).get("metadata") or {}
    value = meta.get("annotations") or {}
    return value if isinstance(value, _MAPPINGS) else {}


def labels_of(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    meta = (obj or {}).get("metadata") or {}
    value = meta.get("labels") or {}
    return value if isinstance(value, _MAPPINGS) else {}


def json_value(values: Mapping[str, str], key: str, default: Any = None) -> Any:
    """The JSON annotation ``key`` decoded, or ``default`` when absent or not JSON."""
    raw = values.get(key)
    if not isinstance(raw, str):
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


#: One encoder for every annotation value (``json.dumps`` with options builds one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dump(value: Any) -> str:
    """Canonical JSON for annotation values: deterministic and compact."""
    return _CANONICAL.encode(value)
