"""Stable ECS identifiers derived from Kubernetes objects.

Every client on one backend must derive the same ECS identifier from the same object, so
identifiers are pure functions of what the object carries:

- task id: the pod's ``metadata.uid`` without dashes (32 hex digits, as ECS task ids look);
- ECS deployment id ``ecs-svc/<19 digits>``, service revision id (19 digits) and service
  deployment id (21 URL-safe characters): hashes of a *revision key* -- a ReplicaSet's uid, or
  ``<DaemonSet uid>/<controller-revision-hash>`` for a DaemonSet's revision (both ends, the
  ControllerRevision and each pod, carry that hash);
- daemon deployment id (21 URL-safe characters) and daemon revision id (a UUID): hashes of the
  revision key of the daemon's DaemonSet revision;
- container instance id: the Node's uid without dashes;
- ENI, attachment and container ids: hashes of the task id.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

_ID_NAMESPACE = uuid.UUID("5b0f4a52-6c61-4e0e-9a4e-6b6563732e64")
_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes


def _hash(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode()).digest()


def _digits(kind: str, key: str, count: int = 19) -> str:
    number = int.from_bytes(_hash(kind, key)[:16], "big")
    low = 10 ** (count - 1)
    return str(low + number % (9 * low))


def uid_hex(uid: str) -> str:
    return uid.replace("-", "").lower()


def task_id(pod: Mapping[str, Any]) -> str:
    """The ECS task id of a task pod: its uid as 32 hex digits."""
    return uid_hex(str((pod.get("metadata") or {}).get("uid") or ""))


def replica_set_key(replica_set: Mapping[str, Any]) -> str:
    return str((replica_set.get("metadata") or {}).get("uid") or "")


def daemon_revision_key(daemon_set_uid: str, revision_hash: str) -> str:
    return f"{daemon_set_uid}/{revision_hash}"


def deployment_id(revision_key: str) -> str:
    """ECS's deployment id (``Deployment.id``, a task's ``startedBy``): ``ecs-svc/<19 digits>``."""
    return f"ecs-svc/{_digits('ecs-svc', revision_key)}"


def service_revision_id(revision_key: str) -> str:
    return _digits("service-revision", revision_key)


def service_deployment_id(revision_key: str) -> str:
    raw = base64.urlsafe_b64encode(_hash("service-deployment", revision_key)).decode()
    return raw[:21]


def daemon_deployment_id(revision_key: str) -> str:
    """A daemon deployment id (21 URL-safe characters, as ECS writes them)."""
    raw = base64.urlsafe_b64encode(_hash("daemon-deployment", revision_key)).decode()
    return raw[:21]


def daemon_revision_id(revision_key: str) -> str:
    """A daemon revision id (a UUID, as ECS writes them)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"daemon-revision\0{revision_key}"))


def container_instance_id(node: Mapping[str, Any]) -> str:
    """The ECS container instance id of a Node: its uid as 32 hex digits."""
    return uid_hex(str((node.get("metadata") or {}).get("uid") or ""))


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(_ID_NAMESPACE, name))``, without building a ``UUID`` object."""
    text = hashlib.sha1(_ID_NAMESPACE_BYTES + name.encode()).hexdigest()
    # Hex digit 12 is the version (5); the top two bits of digit 16 the RFC 4122 variant (10).
    variant = "89ab"[int(text[16], 16) & 0x3]
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{variant}{text[17:20]}-{text[20:32]}"


@functools.lru_cache(maxsize=8192)
def container_id(task: str, container_name: str) -> str:
    """The id part of a container ARN (a UUID, as ECS writes them).

    Cached (a pure function of two strings): every Describe/List of a task asks again.
    """
    return _uuid5(f"container\0{task}\0{container_name}")


def attachment_id(task: str) -> str:
    return _uuid5(f"attachment\0{task}")


def eni_id(task: str) -> str:
    return "eni-" + _hash("eni", task).hex()[:17]


def mac_address(task: str) -> str:
    raw = _hash("mac", task)[:5]
    # 0x0a/0x0e/...: locally administered, unicast, as AWS's ENI addresses are.
    return ":".join(f"{b:02x}" for b in (0x0A, *raw))


def event_id(*parts: str) -> str:
    """A stable id for a service event, from what it says and when."""
    return str(uuid.uuid5(_ID_NAMESPACE, "\0".join(("event", *parts))))
