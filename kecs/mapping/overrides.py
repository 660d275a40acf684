"""A RunTask/StartTask ``TaskOverride`` applied to a task's pod spec.

ECS applies overrides to the task definition before it starts the task, so kecs does the
same: :func:`overridden_task_definition` folds the overrides into a copy of the task
definition, which :func:`kecs.mapping.taskdef.to_pod_template` maps with exactly the rules
every task definition gets; :func:`apply` then copies the overridden fields of the affected
containers (``args``, ``env``, ``resources``) into the pod spec.

- ``command`` replaces the container's ``command`` (Kubernetes ``args``);
- ``environment`` is merged into the container's environment, the override winning (also over
  a secret of the same name); ``environmentFiles`` are not loaded (noted);
- ``cpu`` / ``memory`` / ``memoryReservation`` / ``resourceRequirements`` replace the
  container's values; task ``cpu`` / ``memory`` / ``ephemeralStorage`` replace the task's and
  are spread over containers as for any task definition;
- ``taskRoleArn`` / ``executionRoleArn``: kept as annotations (noted);
  ``inferenceAcceleratorOverrides``: noted.

An override naming a container the task definition does not have raises
:class:`~kecs.mapping.errors.MappingError` with ECS's message.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kecs.mapping import task_containers
from kecs.mapping.errors import MappingError
from kecs.mapping.taskdef import to_pod_template

_CONTAINER_FIELDS = ("args", "env", "resources")
_SIZE_KEYS = ("cpu", "memory", "memoryReservation")
_TASK_SIZE_KEYS = ("cpu", "memory", "ephemeralStorage")


def _container_overrides(overrides: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = overrides.get("containerOverrides") or []
    return [o for o in value if isinstance(o, Mapping)]


def check(task_definition: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> None:
    """Raise :class:`MappingError` when an override names no container of the definition."""
    known = {d.get("name") for d in task_definition.get("containerDefinitions") or []}
    for override in _container_overrides(overrides or {}):
        name = override.get("name")
        if name not in known:
            raise MappingError(
                f"Override for container named {name} is not a container in the TaskDefinition."
            )


def overridden_task_definition(
    task_definition: Mapping[str, Any], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A copy of ``task_definition`` with ``overrides`` applied as ECS applies them."""
    check(task_definition, overrides)
    result = copy.deepcopy(dict(task_definition))
    overrides = overrides or {}
    definitions = {d["name"]: d for d in result.get("containerDefinitions") or []}
    for override in _container_overrides(overrides):
        definition = definitions[override["name"]]
        if override.get("command"):
            definition["command"] = list(override["command"])
        environment = [e for e in override.get("environment") or [] if isinstance(e, Mapping)]
        if environment:
            overridden = {e.get("name") for e in environment}
            definition["environment"] = _merged_environment(
                definition.get("environment") or [], environment
            )
            secrets = [
                s for s in definition.get("secrets") or [] if s.get("name") not in overridden
            ]
            if secrets or "secrets" in definition:
                definition["secrets"] = secrets
        for key in _SIZE_KEYS:
            if override.get(key) is not None:
                definition[key] = override[key]
        requirements = override.get("resourceRequirements")
        if requirements:
            replaced = {r.get("type") for r in requirements}
            kept = [
                r
                for r in definition.get("resourceRequirements") or []
                if r.get("type") not in replaced
            ]
            definition["resourceRequirements"] = [*kept, *requirements]
    for key in (*_TASK_SIZE_KEYS, "taskRoleArn", "executionRoleArn"):
        if overrides.get(key):
            result[key] = copy.deepcopy(overrides[key])
    return result


def _merged_environment(
    base: list[Mapping[str, Any]], override: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``base`` with ``override`` applied: same names replaced in place, new ones appended."""
    merged: dict[Any, dict[str, Any]] = {}
    for pair in [*base, *override]:
        if isinstance(pair, Mapping):
            merged[pair.get("name")] = dict(pair)
    return list(merged.values())


def notes_for(overrides: Mapping[str, Any] | None) -> list[str]:
    """Notes on what of ``overrides`` is not applied to the pod."""
    notes: list[str] = []
    overrides = overrides or {}
    for index, override in enumerate(_container_overrides(overrides)):
        if override.get("environmentFiles"):
            notes.append(
                f"overrides.containerOverrides[{index}].environmentFiles: S3 environment files "
                "are not loaded; kept as metadata"
            )
    if overrides.get("inferenceAcceleratorOverrides"):
        notes.append(
            "overrides.inferenceAcceleratorOverrides: Elastic Inference does not exist on "
            "Kubernetes; kept as metadata"
        )
    for key in ("taskRoleArn", "executionRoleArn"):
        if overrides.get(key):
            notes.append(f"overrides.{key}: kept as an annotation")
    return notes


def apply(
    spec: dict[str, Any],
    template: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
    *,
    region: str | None = None,
) -> list[str]:
    """Apply ``overrides`` to ``spec`` (the pod spec, changed in place); return new notes."""
    if not overrides:
        return []
    effective = overridden_task_definition(task_definition, overrides)
    mapping = task_containers.name_map(template, task_definition)
    to_k8s = {ecs: k8s for k8s, ecs in mapping.items()}
    affected = {to_k8s[o["name"]] for o in _container_overrides(overrides) if o["name"] in to_k8s}
    if any(overrides.get(key) for key in _TASK_SIZE_KEYS):
        affected |= set(mapping)
    notes = notes_for(overrides)
    if not affected:
        return notes
    rebuilt = to_pod_template(effective, region=region)
    rebuilt_containers = {c["name"]: c for c in task_containers.k8s_containers(rebuilt.template)}
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        source = rebuilt_containers.get(container.get("name", ""))
        if container.get("name") not in affected or source is None:
            continue
        for field in _CONTAINER_FIELDS:
            if field in source:
                container[field] = copy.deepcopy(source[field])
            else:
                container.pop(field, None)
    if overrides.get("taskRoleArn") and "serviceAccountName" in rebuilt.template["spec"]:
        spec["serviceAccountName"] = rebuilt.template["spec"]["serviceAccountName"]
    original = {str(n) for n in to_pod_template(task_definition, region=region).notes}
    notes.extend(f"overrides: {n}" for n in map(str, rebuilt.notes) if n not in original)
    return notes
