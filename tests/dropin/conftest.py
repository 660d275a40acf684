"""Runs every test in this folder under ``kecs.mock()``, with no AWS credentials or config.

The test modules here are plain boto3 code, as written for AWS; this file is the only place
that knows about kecs. Tests that need ECS operations kecs does not implement yet are skipped,
naming the operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

import kecs
from kecs.operations.registry import handler_for

#: Test name prefix -> the ECS operations those tests use beyond clusters and task definitions.
NEEDS = {
    "test_service": ("CreateService", "UpdateService", "DeleteService", "DescribeServices"),
    "test_task": ("RunTask", "StopTask", "DescribeTasks", "ListTasks"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for prefix, operations in NEEDS.items():
            missing = [op for op in operations if handler_for(op) is None]
            if item.name.startswith(prefix) and missing:
                item.add_marker(pytest.mark.skip(reason=f"kecs lacks {', '.join(missing)}"))


@pytest.fixture(autouse=True)
def ecs_answered_by_kecs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    boto3.DEFAULT_SESSION = None
    with kecs.mock():
        yield
    boto3.DEFAULT_SESSION = None
