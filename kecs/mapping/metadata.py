"""Pod template metadata: the family label and the annotations that keep exact ECS values.

Every label value goes through ``names.label_value``. Annotation values are canonical JSON
(sorted keys), so the template is deterministic. ``dockerLabels`` become pod annotations when
the key is a legal qualified name outside the reserved domains (``kubernetes.io``, ``k8s.io``,
``kecs.dev``); when containers disagree on a key, the first container's value wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs import k8s_grammar
from kecs.mapping import labels, names
from kecs.mapping.common import Notes, present, string_map, text, to_json

#: Container members kept verbatim in the ``kecs.dev/containers`` annotation when present.
CONTAINER_METADATA = (
    "essential",
    "dependsOn",
    "links",
    "logConfiguration",
    "firelensConfiguration",
    "repositoryCredentials",
    "environmentFiles",
    "startTimeout",
    "restartPolicy",
    "ulimits",
    "credentialSpecs",
    "versionConsistency",
    "disableNetworking",
    "dockerSecurityOptions",
    "healthCheck",
)
#: Task members kept verbatim in the ``kecs.dev/task-metadata`` annotation when present.
TASK_METADATA = (
    "networkMode",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "requiresCompatibilities",
    "placementConstraints",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
    "trustedExecutionConfiguration",
)


def docker_label_annotations(definitions: list[Mapping[str, Any]], notes: Notes) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, definition in enumerate(definitions):
        for key, value in string_map(definition, "dockerLabels").items():
            where = f"containerDefinitions[{index}].dockerLabels"
            if not k8s_grammar.is_qualified_name(key):
                notes.add(where, f"label {key!r} is not a legal annotation key; dropped")
            elif labels.is_reserved_key(key):
                notes.add(where, f"label {key!r} is in a reserved domain; dropped")
            elif key in out and out[key] != value:
                notes.add(where, f"label {key!r} differs between containers; the first value wins")
            else:
                out.setdefault(key, value)
    return out


def container_metadata(definition: Mapping[str, Any], role: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": text(definition, "name") or "", "role": role}
    for key in CONTAINER_METADATA:
        value = definition.get(key)
        if value is not None and value != [] and value != {} and value != "":  # ``present``
            meta[key] = value
    linux = definition.get("linuxParameters")
    if isinstance(linux, Mapping) and present(linux, "devices"):
        meta["devices"] = linux["devices"]
    return meta


def task_annotations(task: Mapping[str, Any], notes: Notes) -> dict[str, str]:
    out: dict[str, str] = {}
    family = text(task, "family")
    if family is not None:
        out[labels.ANN_FAMILY] = family
    for key, annotation, message in (
        (
            "taskRoleArn",
            labels.ANN_TASK_ROLE_ARN,
            "tasks run as its ServiceAccount (IRSA annotation eks.amazonaws.com/role-arn), "
            "whose Role may read only the task's Secrets; the IAM policy itself is not applied",
        ),
        (
            "executionRoleArn",
            labels.ANN_EXECUTION_ROLE_ARN,
            "images in ECR are pulled with an ecr-pull image pull secret named after it; the "
            "IAM policy itself is not applied",
        ),
    ):
        value = text(task, key)
        if value:
            out[annotation] = value
            notes.add(key, f"IAM role kept as annotation {annotation}; {message}")
    metadata: dict[str, Any] = {}
    for key in TASK_METADATA:
        value = task.get(key)
        if value is not None and value != [] and value != {} and value != "":  # ``present``
            metadata[key] = value
    if metadata:
        out[labels.ANN_TASK_METADATA] = to_json(metadata)
    for key, message in (
        (
            "placementConstraints",
            "applied when a task runs (node affinity, pod (anti-)affinity); kept as metadata here",
        ),
        ("proxyConfiguration", "App Mesh proxy is not set up; kept as metadata"),
        (
            "inferenceAccelerators",
            "Elastic Inference does not exist on Kubernetes; kept as metadata",
        ),
        ("trustedExecutionConfiguration", "isolation mode not applied; kept as metadata"),
    ):
        if present(task, key):
            notes.add(key, message)
    if task.get("enableFaultInjection") is True:
        notes.add("enableFaultInjection", "fault injection endpoints are not provided")
    return out


def family_labels(task: Mapping[str, Any]) -> dict[str, str]:
    family = text(task, "family")
    return {labels.FAMILY: names.label_value(family)} if family is not None else {}


def annotations_size(annotations: Mapping[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())


def fit_annotations(annotations: dict[str, str], notes: Notes) -> dict[str, str]:
    """Drop the bulkiest optional annotations until the total fits Kubernetes' 256 KiB."""
    # A UTF-8 character is at most 4 bytes: most templates are clearly small enough.
    if (
        4 * sum(len(k) + len(v) for k, v in annotations.items())
        <= k8s_grammar.ANNOTATIONS_MAX_BYTES
    ):
        return annotations
    droppable = [labels.ANN_CONTAINERS, labels.ANN_TASK_METADATA]
    droppable += [key for key in annotations if not key.startswith(labels.DOMAIN + "/")]
    for key in droppable:
        if annotations_size(annotations) <= k8s_grammar.ANNOTATIONS_MAX_BYTES:
            break
        if key in annotations:
            del annotations[key]
            notes.add("metadata", f"annotation {key} dropped: annotations exceed 256 KiB")
    return annotations
