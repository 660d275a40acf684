"""``healthCheck`` -> probes.

The command: ``["CMD-SHELL", s, ...]`` runs as Docker runs it, ``["/bin/sh", "-c", s, ...]``
(``["cmd", "/S", "/C", ...]`` on Windows); ``["CMD", a, ...]`` execs ``[a, ...]``; ``["NONE"]``
disables the check; anything else is treated as ``CMD`` with a note.

Timing (ECS defaults interval 30, timeout 5, retries 3, startPeriod 0): ``periodSeconds`` =
interval, ``timeoutSeconds`` = timeout, ``failureThreshold`` = retries (each at least 1, as
Kubernetes requires).

Which probes (the rule):

- ``readinessProbe`` always: ECS's HEALTHY status is what Ready means (services count healthy
  tasks, load balancers route to them).
- ``livenessProbe`` for essential containers only: ECS replaces a task whose essential
  container turns UNHEALTHY, and ignores a non-essential container's health.
- ``startupProbe`` when ``startPeriod`` > 0: ECS ignores failures during the start period but
  counts an early success, which is exactly a startup probe allowed
  ``ceil(startPeriod / interval) + retries`` failures. A HEALTHY ``dependsOn`` target always
  gets a startup probe, because that is what holds back the containers that wait for it
  (see :mod:`kecs.mapping.ordering`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from kecs.mapping.common import Notes, integer, strings

DEFAULT_INTERVAL = 30
DEFAULT_TIMEOUT = 5
DEFAULT_RETRIES = 3
DEFAULT_START_PERIOD = 0
#: Kubernetes fields are int32; keep values well inside.
_MAX_SECONDS = 2**31 - 1


@attrs.frozen
class HealthProbes:
    """The probes one health check becomes, before the ordering decides which apply."""

    check: dict[str, Any]  # exec action + timing shared by liveness and readiness
    startup: dict[str, Any] | None  # startup probe when startPeriod > 0
    start_period: int


def _seconds(check: Mapping[str, Any], key: str, default: int, path: str, notes: Notes) -> int:
    value = integer(check, key)
    if value is None:
        return default
    low = 0 if key == "startPeriod" else 1
    if not low <= value <= _MAX_SECONDS:
        clamped = min(max(value, low), _MAX_SECONDS)
        notes.add(f"{path}.{key}", f"{value} is outside {low}-{_MAX_SECONDS}; {clamped} used")
        return clamped
    return value


def health_probes(
    check: Mapping[str, Any], path: str, notes: Notes, *, windows: bool = False
) -> HealthProbes | None:
    """The probes for a container's ``healthCheck`` (``None`` when it checks nothing)."""
    command = strings(check, "command")
    if not command:
        notes.add(f"{path}.command", "empty health check command; no probe")
        return None
    kind, rest = command[0], command[1:]
    if kind == "NONE":
        return None
    if kind == "CMD-SHELL":
        shell = ["cmd", "/S", "/C"] if windows else ["/bin/sh", "-c"]
        argv = shell + rest
        if not rest:
            notes.add(f"{path}.command", "CMD-SHELL without a command; no probe")
            return None
    elif kind == "CMD":
        argv = rest
        if not rest:
            notes.add(f"{path}.command", "CMD without a command; no probe")
            return None
    else:
        notes.add(
            f"{path}.command",
            f"first element {kind!r} is not CMD, CMD-SHELL or NONE; run as CMD {command!r}",
        )
        argv = command
    interval = _seconds(check, "interval", DEFAULT_INTERVAL, path, notes)
    timeout = _seconds(check, "timeout", DEFAULT_TIMEOUT, path, notes)
    retries = _seconds(check, "retries", DEFAULT_RETRIES, path, notes)
    start_period = _seconds(check, "startPeriod", DEFAULT_START_PERIOD, path, notes)
    probe: dict[str, Any] = {
        "exec": {"command": argv},
        "periodSeconds": interval,
        "timeoutSeconds": timeout,
        "failureThreshold": retries,
        "successThreshold": 1,
    }
    startup = None
    if start_period > 0:
        startup = startup_probe(probe, start_period)
    return HealthProbes(check=probe, startup=startup, start_period=start_period)


def startup_probe(check: Mapping[str, Any], start_period: int) -> dict[str, Any]:
    """A startup probe that tolerates failures for ``start_period`` seconds, then ``retries``."""
    interval = int(check["periodSeconds"])
    grace = math.ceil(start_period / interval)
    threshold = min(grace + int(check["failureThreshold"]), _MAX_SECONDS)
    return {**check, "failureThreshold": threshold}
