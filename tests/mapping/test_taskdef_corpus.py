"""Every task definition of the shared real-world corpus maps to schema-valid objects.

The corpus lives beside the repository (``<repo>/../shared/corpus/taskdefs``); the test skips
when it is absent. Describe-output fields and explicit nulls are dropped first, as a client
would have to before registering.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import as_pod, as_pod_template, validate_strict
from tests.mapping.k8s_checks import problems

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "taskdefs"
READ_ONLY = {
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
}
FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def load(path: Path) -> dict[str, Any]:
    raw = json.loads(path.read_text())
    return _without_nulls({k: v for k, v in raw.items() if k not in READ_ONLY})


@pytest.mark.skipif(not FILES, reason="task definition corpus not present")
def test_corpus_is_there() -> None:
    assert len(FILES) >= 100


@pytest.mark.parametrize("path", FILES, ids=[p.stem[:60] for p in FILES])
def test_corpus_task_definition_maps_to_valid_objects(path: Path) -> None:
    td = load(path)
    result = to_pod_template(td, region="us-east-1")
    validate_strict(as_pod_template(result.template))
    validate_strict(as_pod(result.template))
    assert problems(result.template) == []
    assert to_pod_template(td, region="us-east-1") == result
    spec = result.template["spec"]
    assert len(spec.get("initContainers", [])) + len(spec["containers"]) == len(
        td["containerDefinitions"]
    )
