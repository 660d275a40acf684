"""ECS task definition -> Kubernetes pod template (a ``PodTemplateSpec`` as a plain dict).

Pure and total: every input botocore's ``RegisterTaskDefinitionRequest`` shape accepts maps to
a template; whatever does not map exactly becomes a :class:`Note` instead of an exception.
The rules are documented in ``docs/mapping.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from kecs import k8s_grammar
from kecs.mapping import names


@attrs.frozen
class Note:
    """One thing that did not map exactly, readable by a user."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@attrs.frozen
class TemplateMapping:
    template: dict[str, Any]
    notes: tuple[Note, ...]


def _container_name(name: str) -> str:
    return name if k8s_grammar.is_dns1123_label(name) else names.dns_label(name)


def to_pod_template(task_definition: Mapping[str, Any]) -> TemplateMapping:
    """Map one task definition (camelCase wire dict) to a pod template and notes."""
    containers = []
    for c in task_definition.get("containerDefinitions") or []:
        container: dict[str, Any] = {
            "name": _container_name(c.get("name", "")),
            "image": c.get("image", ""),
        }
        if c.get("entryPoint"):
            container["command"] = list(c["entryPoint"])
        if c.get("command"):
            container["args"] = list(c["command"])
        containers.append(container)
    template = {"metadata": {}, "spec": {"containers": containers, "restartPolicy": "Always"}}
    return TemplateMapping(template=template, notes=())
