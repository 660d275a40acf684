"""Every member of botocore's ECS shapes has a mapping decision, documented in docs/mapping.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest

from kecs.mapping.decisions import CONTAINER_DEFINITION, TASK_DEFINITION, Decision, Rule

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "mapping.md"
MODEL = botocore.session.get_session().get_service_model("ecs")
SHAPES = [
    ("ContainerDefinition", CONTAINER_DEFINITION),
    ("RegisterTaskDefinitionRequest", TASK_DEFINITION),
]


@pytest.mark.parametrize(("shape", "table"), SHAPES, ids=[s for s, _ in SHAPES])
def test_every_member_has_a_decision(shape: str, table: dict[str, Rule]) -> None:
    members = set(MODEL.shape_for(shape).members)
    assert sorted(members - set(table)) == [], f"{shape} members without a decision"
    assert sorted(set(table) - members) == [], f"decisions for members {shape} no longer has"
    for member, rule in table.items():
        assert isinstance(rule.decision, Decision)
        assert rule.description.strip(), member


@pytest.mark.parametrize(("shape", "table"), SHAPES, ids=[s for s, _ in SHAPES])
def test_every_member_has_a_row_in_docs(shape: str, table: dict[str, Rule]) -> None:
    doc = DOC.read_text()
    section = doc.split(f"### {shape}", 1)[1].split("###", 1)[0]
    for member in MODEL.shape_for(shape).members:
        rule = table[member]
        assert f"| `{member}` | {rule.decision.value} |" in section, member


def test_generated_tables_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_mapping_doc.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
