"""Real-world task definitions (``<repo>/../shared/corpus/taskdefs``) through the client.

Every file is registered twice, with ``client.register_task_definition(**td)``:

- ``as_found``: the JSON exactly as it is in its repository;
- ``stripped``: read-only fields (``describe-task-definition`` output) and ``null`` values
  removed, as users of ``--cli-input-json`` do.

Each attempt must either register — its PodTemplate schema-valid (strict) and the request
echoed unmangled — or be refused the way boto3 + AWS refuse it: botocore's
``ParamValidationError`` (unknown or read-only members, nulls) or an ECS error code. Never
another exception. The expected outcome of each file is recorded in ``corpus_outcomes.tsv``
next to this file, so any change shows as a failing test; after an intended change,
regenerate it with ``KECS_REGENERATE_CORPUS=1 pytest tests/operations/test_corpus.py``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

import kecs
from kecs.backends import kinds
from kecs.mapping import labels
from tests.k8s_schema import as_pod, validate_strict

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "taskdefs"
OUTCOMES = Path(__file__).with_name("corpus_outcomes.tsv")
READ_ONLY = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
    }
)
REGISTERED = "registered"
PARAM_VALIDATION = "ParamValidationError"
PASSES = ("as_found", "stripped")

FILES = sorted(p.name for p in CORPUS.glob("*.json")) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"task definition corpus not found at {CORPUS}")


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def request_for(name: str, mode: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CORPUS / name).read_text())
    if mode == "as_found":
        return document
    return without_nulls({k: v for k, v in document.items() if k not in READ_ONLY})


def assert_echoed(request: dict[str, Any], td: dict[str, Any]) -> None:
    """Everything the request said is in the registered definition, unchanged."""
    for key, value in request.items():
        if key in ("tags", "cpu", "memory", "containerDefinitions"):
            continue
        if key in ("taskRoleArn", "executionRoleArn") and value == "":
            assert key not in td
            continue
        assert td[key] == value, key
    for sent, kept in zip(request["containerDefinitions"], td["containerDefinitions"], strict=True):
        for key, value in sent.items():
            if key == "portMappings":
                for mapping, stored in zip(value, kept[key], strict=True):
                    assert {k: stored[k] for k in mapping} == mapping
            else:
                assert kept[key] == value, key


def attempt(name: str, mode: str) -> tuple[str, str]:
    """Register one corpus file; ``(outcome, message)``, checking what was stored."""
    request = request_for(name, mode)
    backend = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=backend)
    try:
        td = ecs.register_task_definition(**request)["taskDefinition"]
    except ParamValidationError:
        return PARAM_VALIDATION, ""
    except ClientError as exc:
        error = exc.response["Error"]
        assert error["Code"] != "ServerException", error["Message"]
        assert error["Message"]
        return error["Code"], error["Message"]
    assert_echoed(request, td)
    assert (
        ecs.describe_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"] == td
    )
    (stored,) = backend.list(kinds.POD_TEMPLATE, labels.SYSTEM_NAMESPACE).items
    validate_strict(stored)
    validate_strict(as_pod(stored["template"]))
    return REGISTERED, ""


def load_outcomes() -> dict[tuple[str, str], tuple[str, str]]:
    table: dict[tuple[str, str], tuple[str, str]] = {}
    if OUTCOMES.exists():
        for line in OUTCOMES.read_text().splitlines()[1:]:
            name, mode, outcome, message = line.split("\t")
            table[name, mode] = (outcome, message)
    return table


EXPECTED = load_outcomes()


@pytest.mark.parametrize("mode", PASSES)
@pytest.mark.parametrize("name", FILES)
def test_corpus_file_registers_or_is_refused_cleanly(name: str, mode: str) -> None:
    outcome = attempt(name, mode)
    if os.environ.get("KECS_REGENERATE_CORPUS"):
        pytest.skip("regenerating: see test_corpus_outcome_table")
    assert outcome == EXPECTED.get((name, mode)), (
        f"{name} ({mode}) now gives {outcome}; if intended, regenerate corpus_outcomes.tsv"
    )


def test_corpus_outcome_table() -> None:
    """The recorded table covers exactly the corpus; prints (or rewrites) the split."""
    if os.environ.get("KECS_REGENERATE_CORPUS"):
        rows = ["file\tpass\toutcome\tmessage"]
        for name in FILES:
            for mode in PASSES:
                outcome, message = attempt(name, mode)
                rows.append(f"{name}\t{mode}\t{outcome}\t{message}")
        OUTCOMES.write_text("\n".join(rows) + "\n")
        EXPECTED.clear()
        EXPECTED.update(load_outcomes())
    assert set(EXPECTED) == {(name, mode) for name in FILES for mode in PASSES}
    for mode in PASSES:
        split = Counter(outcome for (_, m), (outcome, _) in EXPECTED.items() if m == mode)
        print(f"{mode}: " + ", ".join(f"{k} {v}" for k, v in split.most_common()))
