"""Pure helpers of the Deployment controller (after Kubernetes' ``deployment/util`` package)."""

from __future__ import annotations

import json
from typing import Any

Object = dict[str, Any]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
_SKIP_COPY = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
MAX_REVISION_HISTORY_CHARS = 2000
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Condition reasons, as the Deployment controller words them.
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
RS_UPDATED = "ReplicaSetUpdated"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
FAILED_RS_CREATE = "ReplicaSetCreateError"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


def template_hash(template: Object, collision_count: int | None = None) -> str:
    """A stable hash of a pod template: FNV-1a (32 bits) of its canonical JSON, encoded as
    Kubernetes encodes ``pod-template-hash`` values."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += str(collision_count).encode()
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in str(value).encode())


def _without_hash(template: Object) -> Object:
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    result = {k: v for k, v in template.items() if k != "metadata"}
    if meta:
        result["metadata"] = meta
    return result


def equal_ignore_hash(a: Object, b: Object) -> bool:
    return _without_hash(a or {}) == _without_hash(b or {})


def scaled(value: int | str | None, total: int, round_up: bool) -> int:
    """``GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if value.endswith("%"):
        percent = int(value[:-1])
        return -(-percent * total // 100) if round_up else percent * total // 100
    return int(value)


def _rolling(d: Object) -> Object | None:
    strategy = d["spec"].get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {}


def fenceposts(d: Object) -> tuple[int, int]:
    """``ResolveFenceposts``: (maxSurge, maxUnavailable) as pod counts."""
    rolling = _rolling(d) or {}
    replicas = replicas_of(d)
    surge = scaled(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = scaled(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Object) -> int:
    return fenceposts(d)[0] if _rolling(d) is not None else 0


def max_unavailable(d: Object) -> int:
    replicas = replicas_of(d)
    if _rolling(d) is None or replicas == 0:
        return 0
    return min(fenceposts(d)[1], replicas)


def replicas_of(obj: Object) -> int:
    return int(obj["spec"].get("replicas", 1))


def status_of(rs: Object, field: str) -> int:
    return int((rs.get("status") or {}).get(field, 0))


def spec_total(sets: list[Object]) -> int:
    return sum(replicas_of(rs) for rs in sets)


def status_total(sets: list[Object], field: str) -> int:
    return sum(status_of(rs, field) for rs in sets)


def active(sets: list[Object]) -> list[Object]:
    return [rs for rs in sets if replicas_of(rs) > 0]


def revision(rs: Object) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def annotation_int(rs: Object, key: str) -> int | None:
    try:
        return int((rs["metadata"].get("annotations") or {})[key])
    except (KeyError, ValueError):
        return None


def new_rs_replicas(d: Object, all_sets: list[Object], new_rs: Object) -> int:
    """``NewRSNewReplicas``: how far the new ReplicaSet may scale up now."""
    replicas = replicas_of(d)
    if _rolling(d) is None:
        return replicas
    surge = scaled((_rolling(d) or {}).get("maxSurge", "25%"), replicas, True)
    current = spec_total(all_sets)
    most = replicas + surge
    if current >= most:
        return replicas_of(new_rs)
    return replicas_of(new_rs) + min(most - current, replicas - replicas_of(new_rs))


def new_rs_annotations(
    d: Object, annotations: dict[str, str], new_revision: int, exists: bool
) -> dict[str, str]:
    """``SetNewReplicaSetAnnotations``: the annotations the new ReplicaSet should carry."""
    result = dict(annotations)
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key not in _SKIP_COPY:
            result[key] = value
    old = result.get(REVISION)
    try:
        old_number = int(old) if old else 0
    except ValueError:
        return result
    if old_number < new_revision:
        result[REVISION] = str(new_revision)
        if old:
            history = result.get(REVISION_HISTORY, "")
            parts = [p for p in history.split(",") if p] + [old]
            while len(",".join(parts)) > MAX_REVISION_HISTORY_CHARS and len(parts) > 1:
                parts.pop(0)
            result[REVISION_HISTORY] = ",".join(parts)
    if not exists:
        result[DESIRED_REPLICAS] = str(replicas_of(d))
        result[MAX_REPLICAS] = str(replicas_of(d) + max_surge(d))
    return result


def condition(
    previous: Object | None, kind: str, value: str, reason: str, message: str, now: str
) -> Object:
    return {
        "type": kind,
        "status": value,
        "lastUpdateTime": now,
        "lastTransitionTime": previous["lastTransitionTime"]
        if previous is not None and previous.get("status") == value
        else now,
        "reason": reason,
        "message": message,
    }


def set_condition(status: Object, new: Object) -> None:
    """``SetDeploymentCondition``: no change when status and reason are the same."""
    current = find_condition(status, new["type"])
    if (
        current is not None
        and current["status"] == new["status"]
        and current.get("reason") == new["reason"]
    ):
        return
    status["conditions"] = [
        c for c in status.get("conditions") or () if c["type"] != new["type"]
    ] + [new]


def remove_condition(status: Object, kind: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or () if c["type"] != kind]


def find_condition(status: Object, kind: str) -> Object | None:
    for c in status.get("conditions") or ():
        if c.get("type") == kind:
            found: Object = c
            return found
    return None


def has_progress_deadline(d: Object) -> bool:
    deadline = d["spec"].get("progressDeadlineSeconds")
    return deadline is not None and int(deadline) != 2**31 - 1


def complete(d: Object, status: Object) -> bool:
    replicas = replicas_of(d)
    return bool(
        status.get("updatedReplicas", 0) == replicas
        and status.get("replicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
        and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
    )


def progressing(d: Object, new: Object) -> bool:
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return bool(
        new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
        or new_old < old_old
        or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
        or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
    )
