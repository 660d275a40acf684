"""Small builders for example tests of the task definition mapping."""

from __future__ import annotations

import json
from typing import Any

from kecs.mapping.taskdef import TemplateMapping, to_pod_template
from tests.k8s_schema import as_pod, as_pod_template, validate_strict
from tests.mapping.k8s_checks import problems


def mapped(*containers: dict[str, Any], region: str | None = None, **task: Any) -> TemplateMapping:
    """Map a task definition made of ``containers`` (name/image defaulted) and task members.

    Every result is also checked: strict schema (PodTemplate and Pod) and API-server rules.
    """
    defs = [{"name": f"c{i}", "image": "nginx", **c} for i, c in enumerate(containers or ({},))]
    result = to_pod_template({"family": "fam", "containerDefinitions": defs, **task}, region=region)
    validate_strict(as_pod_template(result.template))
    validate_strict(as_pod(result.template))
    assert problems(result.template) == []
    return result


def spec(*containers: dict[str, Any], **task: Any) -> dict[str, Any]:
    return mapped(*containers, **task).template["spec"]


def container(c: dict[str, Any], **task: Any) -> dict[str, Any]:
    """The single Kubernetes container a one-container task definition becomes."""
    return spec(c, **task)["containers"][0]


def notes_of(*containers: dict[str, Any], **task: Any) -> list[str]:
    return [str(n) for n in mapped(*containers, **task).notes]


def has_note(notes: list[str], path: str, fragment: str = "") -> bool:
    return any(n.startswith(path + ":") and fragment in n for n in notes)


def annotation(result: TemplateMapping, key: str) -> Any:
    return json.loads(result.template["metadata"]["annotations"][key])
