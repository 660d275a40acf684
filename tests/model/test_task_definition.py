"""attrs model classes mirror botocore's shapes; the converter round-trips wire dicts."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings

from kecs.model import ContainerDefinition, TaskDefinition
from kecs.model.converter import structure, unstructure
from kecs.model.naming import to_camel
from tests.strategies import botocore_shaped, task_definitions

MODEL = botocore.session.get_session().get_service_model("ecs")
SLOW_OK = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("cls", "shape"),
    [(TaskDefinition, "TaskDefinition"), (ContainerDefinition, "ContainerDefinition")],
)
def test_fields_mirror_the_shape(cls: type, shape: str) -> None:
    wire_names = [to_camel(f.name) for f in attrs.fields(cls)]
    assert wire_names == list(MODEL.shape_for(shape).members)


def _without_request_only(td: dict[str, Any]) -> dict[str, Any]:
    # ``tags`` belongs to the request, not to the described TaskDefinition shape.
    return {k: v for k, v in td.items() if k != "tags"}


@SLOW_OK
@given(task_definitions())
def test_wire_round_trip(td: dict[str, Any]) -> None:
    wire = _without_request_only(td)
    obj = structure(wire, TaskDefinition)
    assert isinstance(obj.container_definitions[0], ContainerDefinition)
    assert unstructure(obj) == wire
    assert structure(unstructure(obj), TaskDefinition) == obj


@SLOW_OK
@given(botocore_shaped("ContainerDefinition"))
def test_container_round_trip_on_anything_botocore_accepts(cd: dict[str, Any]) -> None:
    assert unstructure(structure(cd, ContainerDefinition)) == cd


def test_snake_fields_and_irregular_names() -> None:
    obj = structure(
        {"family": "f", "taskRoleArn": "r", "registeredAt": 1.5, "unknown": 1}, TaskDefinition
    )
    assert obj.task_role_arn == "r"
    assert obj.registered_at == datetime.fromtimestamp(1.5, tz=timezone.utc)
    assert unstructure(obj) == {
        "family": "f",
        "taskRoleArn": "r",
        "registeredAt": obj.registered_at,
    }


def test_importing_the_model_does_not_import_cattrs() -> None:
    code = "import sys, kecs.model; print('cattrs' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"
