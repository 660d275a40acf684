"""Status conditions as controllers keep them: ``lastTransitionTime`` moves only on a change."""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]


def find(conditions: list[Object] | None, kind: str) -> Object | None:
    for condition in conditions or ():
        if condition.get("type") == kind:
            return condition
    return None


def is_true(conditions: list[Object] | None, kind: str) -> bool:
    condition = find(conditions, kind)
    return condition is not None and condition.get("status") == "True"


def pod_condition(
    previous: Object | None,
    kind: str,
    value: str,
    now: str,
    reason: str | None = None,
    message: str | None = None,
) -> Object:
    """A pod condition; ``previous`` itself when nothing changed (so statuses compare equal)."""
    if (
        previous is not None
        and previous.get("status") == value
        and previous.get("reason") == reason
        and previous.get("message") == message
    ):
        return previous
    condition: Object = {"type": kind, "status": value}
    keep = previous is not None and previous.get("status") == value
    condition["lastTransitionTime"] = (
        previous.get("lastTransitionTime", now) if keep and previous else now
    )
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def replaced(conditions: list[Object] | None, condition: Object) -> list[Object]:
    """``conditions`` with ``condition`` in place of the one of its type (or appended)."""
    result = []
    placed = False
    for current in conditions or ():
        if current.get("type") == condition["type"]:
            result.append(condition)
            placed = True
        else:
            result.append(current)
    if not placed:
        result.append(condition)
    return result
