"""Container ``resources`` from container- and task-level ECS sizes.

Container level (exact):

- ``cpu`` (units, a relative reservation in ECS) -> ``requests.cpu``; 0 means unset.
- ``memory`` (MiB, hard limit) -> ``limits.memory``; ``memoryReservation`` (MiB, soft) ->
  ``requests.memory`` (clamped to the limit when larger, noted).
- ``resourceRequirements``: GPU -> ``limits["nvidia.com/gpu"]``, NeuronDevice ->
  ``limits["aws.amazon.com/neuron"]``; InferenceAccelerator and GPU sharing: noted.

Task level (``cpu``, ``memory``, ``ephemeralStorage``) has no pod-wide counterpart that every
cluster honours (pod-level resources are alpha), so it is spread over containers:

- CPU: containers without ``cpu`` share what the task's CPU leaves after the others'
  reservations, evenly, as request and limit. A single-container task gets exactly the task size.
- Memory: containers without a hard ``memory`` limit get their reservation plus an even share
  of what the task's memory leaves (after the others' limits and all reservations) as limit.
- Ephemeral storage: split evenly over all containers as ``limits.ephemeral-storage``.

Whenever the task value cannot be represented exactly (several containers, or containers with
their own values), a note says what was done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs.mapping.common import Notes, integer, record, records, text
from kecs.mapping.resources import (
    cpu_millicores,
    cpu_quantity,
    gib_quantity,
    mib_quantity,
    parse_count,
    parse_task_cpu,
    parse_task_memory,
    plausible,
)

ACCELERATORS = {"GPU": "nvidia.com/gpu", "NeuronDevice": "aws.amazon.com/neuron"}


def _amount(definition: Mapping[str, Any], key: str, path: str, notes: Notes) -> int | None:
    value = integer(definition, key)
    if value is None or (value == 0 and key == "cpu"):
        return None
    if not plausible(value):
        notes.add(f"{path}.{key}", f"{value} is not a positive amount; ignored")
        return None
    return value


def container_resources(
    task_definition: Mapping[str, Any], definitions: list[Mapping[str, Any]], notes: Notes
) -> list[dict[str, dict[str, str]]]:
    """``resources`` for each container definition, in order."""
    out: list[dict[str, dict[str, str]]] = [{"requests": {}, "limits": {}} for _ in definitions]
    cpus: list[int | None] = []
    limits: list[int | None] = []
    reservations: list[int | None] = []
    for index, definition in enumerate(definitions):
        path = f"containerDefinitions[{index}]"
        cpu = _amount(definition, "cpu", path, notes)
        memory = _amount(definition, "memory", path, notes)
        reservation = _amount(definition, "memoryReservation", path, notes)
        if memory is not None and reservation is not None and reservation > memory:
            notes.add(f"{path}.memoryReservation", f"larger than memory {memory}; clamped to it")
            reservation = memory
        cpus.append(cpu)
        limits.append(memory)
        reservations.append(reservation)
        resources = out[index]
        if cpu is not None:
            resources["requests"]["cpu"] = cpu_quantity(cpu_millicores(cpu))
        if memory is not None:
            resources["limits"]["memory"] = mib_quantity(memory)
        if reservation is not None:
            resources["requests"]["memory"] = mib_quantity(reservation)
        _accelerators(definition, path, resources, notes)
    _task_cpu(task_definition, cpus, out, notes)
    _task_memory(task_definition, limits, reservations, out, notes)
    _ephemeral(task_definition, out, notes)
    return [{k: v for k, v in r.items() if v} for r in out]


def _accelerators(
    definition: Mapping[str, Any], path: str, resources: dict[str, dict[str, str]], notes: Notes
) -> None:
    for i, requirement in enumerate(records(definition, "resourceRequirements")):
        where = f"{path}.resourceRequirements[{i}]"
        kind = text(requirement, "type") or ""
        resource = ACCELERATORS.get(kind)
        if resource is None:
            notes.add(where, f"resource type {kind!r} has no Kubernetes counterpart; not requested")
            continue
        count = parse_count(text(requirement, "value"))
        if count is None:
            notes.add(
                where, f"{kind} count {text(requirement, 'value')!r} is not a positive integer"
            )
            continue
        resources["limits"][resource] = str(count)
        if record(requirement, "sharingStrategy") is not None:
            notes.add(f"{where}.sharingStrategy", "GPU sharing (MPS) is not applied")


def _task_cpu(
    task: Mapping[str, Any],
    cpus: list[int | None],
    out: list[dict[str, dict[str, str]]],
    notes: Notes,
) -> None:
    raw = text(task, "cpu")
    if raw is None:
        return
    units = parse_task_cpu(raw)
    if units is None:
        notes.add("cpu", f"task cpu {raw!r} is not a CPU amount; ignored")
        return
    lacking = [i for i, cpu in enumerate(cpus) if cpu is None]
    remaining = cpu_millicores(units) - sum(cpu_millicores(c) for c in cpus if c is not None)
    share = remaining // len(lacking) if lacking else 0
    if lacking and share >= 1:
        for i in lacking:
            out[i]["requests"]["cpu"] = out[i]["limits"]["cpu"] = cpu_quantity(share)
    if len(cpus) == 1 and lacking and share >= 1:
        return
    if lacking and share < 1:
        detail = "nothing is left for containers without cpu; they get no CPU limit"
    elif lacking:
        detail = f"containers without cpu get an even share, {cpu_quantity(share)} each"
    else:
        detail = "every container sets its own cpu; the task-wide limit is not enforced"
    notes.add("cpu", f"task cpu {raw!r} is not a pod-wide limit in Kubernetes: {detail}")


def _task_memory(
    task: Mapping[str, Any],
    limits: list[int | None],
    reservations: list[int | None],
    out: list[dict[str, dict[str, str]]],
    notes: Notes,
) -> None:
    raw = text(task, "memory")
    if raw is None:
        return
    mib = parse_task_memory(raw)
    if mib is None:
        notes.add("memory", f"task memory {raw!r} is not a memory amount; ignored")
        return
    lacking = [i for i, limit in enumerate(limits) if limit is None]
    used = sum(limit for limit in limits if limit is not None)
    used += sum(reservations[i] or 0 for i in lacking)
    remaining = mib - used
    share = remaining // len(lacking) if lacking else 0
    if lacking and remaining >= 0 and (share >= 1 or all(reservations[i] for i in lacking)):
        for i in lacking:
            limit = (reservations[i] or 0) + share
            out[i]["limits"]["memory"] = mib_quantity(limit)
            if reservations[i] is None:
                out[i]["requests"]["memory"] = mib_quantity(limit)
        if len(limits) == 1:
            return
        detail = "containers without a memory limit get their reservation plus an even share"
    elif lacking:
        detail = "the containers' own sizes exceed it; containers without memory get no limit"
    else:
        detail = "every container sets its own memory limit; the task-wide limit is not enforced"
    notes.add("memory", f"task memory {raw!r} is not a pod-wide limit in Kubernetes: {detail}")


def _ephemeral(task: Mapping[str, Any], out: list[dict[str, dict[str, str]]], notes: Notes) -> None:
    storage = record(task, "ephemeralStorage")
    if storage is None:
        return
    gib = integer(storage, "sizeInGiB")
    if not plausible(gib) or gib is None or not out:
        notes.add("ephemeralStorage.sizeInGiB", f"{gib} is not a positive size; ignored")
        return
    if len(out) == 1:
        out[0]["limits"]["ephemeral-storage"] = gib_quantity(gib)
        return
    share = gib * 1024 // len(out)
    for resources in out:
        resources["limits"]["ephemeral-storage"] = mib_quantity(share)
    notes.add(
        "ephemeralStorage",
        f"{gib} GiB for the task split evenly: {mib_quantity(share)} per container",
    )
