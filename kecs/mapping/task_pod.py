"""A standalone task (RunTask / StartTask) -> its Pod.

The pod is the task definition's pod template with:

- ``restartPolicy: Never`` (an ECS task never restarts its containers in place);
- the overrides applied (:mod:`kecs.mapping.overrides`; an override naming an unknown
  container raises :class:`~kecs.mapping.errors.MappingError`, which operations turn into
  ``InvalidParameterException``);
- labels for selection: ownership (``task``), cluster, family, revision, startedBy, group,
  launch type, capacity provider (label values bounded by ``names.label_value``);
- annotations with the exact ECS values (:mod:`kecs.mapping.task_keys`): task definition ARN,
  startedBy, group (ECS's default ``family:<family>``), overrides (JSON), tags (JSON), client
  token, launch type, capacity provider, platform version, network configuration, execute
  command, task-level cpu/memory (overridden or the definition's), role overrides, notes;
- the finalizer ``kecs.dev/task-record``, which keeps the pod as the task's STOPPED record.

Pure and deterministic: the pod name is an input (operations pick it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kecs.mapping import labels, names, task_keys
from kecs.mapping import overrides as overrides_mapping
from kecs.mapping.common import copy_json

TASK_RESOURCE = "task"


def default_group(task_definition: Mapping[str, Any]) -> str:
    return f"family:{task_definition.get('family', '')}"


def task_labels(
    template: Mapping[str, Any],
    *,
    account: str,
    region: str,
    cluster_name: str,
    task_definition: Mapping[str, Any],
    started_by: str | None = None,
    group: str | None = None,
    launch_type: str | None = None,
    capacity_provider: str | None = None,
    service_name: str | None = None,
) -> dict[str, str]:
    """Selection labels of a task pod (or of a service's pod template)."""
    result = dict(task_keys.labels_of(template))
    result.update(labels.ownership(account, region, TASK_RESOURCE))
    result[labels.CLUSTER] = names.label_value(cluster_name)
    if task_definition.get("family"):
        result[labels.FAMILY] = names.label_value(str(task_definition["family"]))
    if task_definition.get("revision") is not None:
        result[labels.REVISION] = str(task_definition["revision"])
    optional = {
        labels.SERVICE: service_name,
        labels.STARTED_BY: started_by,
        labels.GROUP: group,
        labels.LAUNCH_TYPE: launch_type,
        labels.CAPACITY_PROVIDER: capacity_provider,
    }
    result.update({k: names.label_value(v) for k, v in optional.items() if v})
    return result


def task_annotations(
    template: Mapping[str, Any],
    *,
    cluster_name: str,
    task_definition: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    started_by: str | None = None,
    group: str | None = None,
    launch_type: str | None = None,
    capacity_provider: str | None = None,
    tags: Sequence[Mapping[str, str]] | None = None,
    enable_execute_command: bool = False,
    client_token: str | None = None,
    network_configuration: Mapping[str, Any] | None = None,
    platform_version: str | None = None,
    notes: Sequence[str] = (),
) -> dict[str, str]:
    """The exact ECS values a task pod (or a service's pod template) carries."""
    result = dict(task_keys.annotations_of(template))
    result[task_keys.CLUSTER_NAME] = cluster_name
    if task_definition.get("taskDefinitionArn"):
        result[task_keys.TASK_DEFINITION_ARN] = str(task_definition["taskDefinitionArn"])
    result[task_keys.GROUP] = group or default_group(task_definition)
    optional: dict[str, str | None] = {
        task_keys.STARTED_BY: started_by,
        task_keys.LAUNCH_TYPE: launch_type,
        task_keys.CAPACITY_PROVIDER: capacity_provider,
        task_keys.CLIENT_TOKEN: client_token,
        task_keys.PLATFORM_VERSION: platform_version,
    }
    result.update({k: v for k, v in optional.items() if v})
    result[task_keys.ENABLE_EXECUTE_COMMAND] = "true" if enable_execute_command else "false"
    if tags:
        result[task_keys.TAGS] = task_keys.dump([dict(t) for t in tags])
    if network_configuration:
        result[task_keys.NETWORK_CONFIGURATION] = task_keys.dump(network_configuration)
    if task_definition.get("networkMode"):
        result[task_keys.NETWORK_MODE] = str(task_definition["networkMode"])
    overrides = overrides or {}
    if overrides:
        result[task_keys.OVERRIDES] = task_keys.dump(overrides)
    for key, annotation in (("cpu", task_keys.TASK_CPU), ("memory", task_keys.TASK_MEMORY)):
        value = overrides.get(key) or task_definition.get(key)
        if value:
            result[annotation] = str(value)
    for key, annotation in (
        ("taskRoleArn", task_keys.TASK_ROLE_ARN),
        ("executionRoleArn", task_keys.EXECUTION_ROLE_ARN),
    ):
        if overrides.get(key):
            result[annotation] = str(overrides[key])
    storage = overrides.get("ephemeralStorage") or task_definition.get("ephemeralStorage")
    if isinstance(storage, Mapping) and storage.get("sizeInGiB") is not None:
        result[task_keys.EPHEMERAL_STORAGE] = str(storage["sizeInGiB"])
    if notes:
        existing = task_keys.json_value(result, task_keys.NOTES, [])
        merged = [*(existing if isinstance(existing, list) else []), *notes]
        result[task_keys.NOTES] = task_keys.dump(merged)
    return result


def task_pod(
    template: Mapping[str, Any],
    *,
    name: str,
    namespace: str,
    cluster_name: str,
    account: str,
    region: str,
    task_definition: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    started_by: str | None = None,
    group: str | None = None,
    launch_type: str | None = None,
    capacity_provider: str | None = None,
    tags: Sequence[Mapping[str, str]] | None = None,
    enable_execute_command: bool = False,
    client_token: str | None = None,
    network_configuration: Mapping[str, Any] | None = None,
    platform_version: str | None = None,
) -> dict[str, Any]:
    """The Pod of one standalone task (see the module docstring)."""
    spec = copy_json(dict(template.get("spec") or {}))
    notes = overrides_mapping.apply(spec, template, task_definition, overrides, region=region)
    spec["restartPolicy"] = "Never"
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": task_labels(
            template,
            account=account,
            region=region,
            cluster_name=cluster_name,
            task_definition=task_definition,
            started_by=started_by,
            group=group or default_group(task_definition),
            launch_type=launch_type,
            capacity_provider=capacity_provider,
        ),
        "annotations": task_annotations(
            template,
            cluster_name=cluster_name,
            task_definition=task_definition,
            overrides=overrides,
            started_by=started_by,
            group=group,
            launch_type=launch_type,
            capacity_provider=capacity_provider,
            tags=tags,
            enable_execute_command=enable_execute_command,
            client_token=client_token,
            network_configuration=network_configuration,
            platform_version=platform_version,
            notes=notes,
        ),
        "finalizers": [labels.TASK_RECORD_FINALIZER],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
