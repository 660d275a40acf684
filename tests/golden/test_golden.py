"""Golden files: ``kecs render`` output for the examples, checked in and schema-valid.

``examples/taskdefs/*.json`` render to ``tests/golden/taskdefs/<name>.yaml`` and
``examples/services/*.json`` (with the example task definitions) to
``tests/golden/services/<name>.yaml``, exactly as ``kecs render --output-dir`` writes them.
A mapping change shows up here as a diff to review. Regenerate after an intended change:

    KECS_REGENERATE_GOLDEN=1 pytest tests/golden
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

import kecs
from kecs.backends import kinds
from kecs.cli import main
from tests.k8s_schema import validate_strict

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
TASKDEFS = sorted((ROOT / "examples" / "taskdefs").glob("*.json"))
SERVICES = sorted((ROOT / "examples" / "services").glob("*.json"))
REGENERATE = bool(os.environ.get("KECS_REGENERATE_GOLDEN"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    quiet = ["--quiet", "--output-dir"]
    assert main(["render", *map(str, TASKDEFS), *quiet, str(out / "taskdefs")]) == 0
    with_taskdefs = [arg for path in TASKDEFS for arg in ("--task-definition", str(path))]
    command = ["render", *map(str, SERVICES), *with_taskdefs, *quiet, str(out / "services")]
    assert main(command) == 0
    return out


def golden_names() -> list[str]:
    return [f"taskdefs/{p.stem}.yaml" for p in TASKDEFS] + [
        f"services/{p.stem}.yaml" for p in SERVICES
    ]


def test_there_are_realistic_examples() -> None:
    assert 3 <= len(TASKDEFS) <= 6 and SERVICES


@pytest.mark.parametrize("name", golden_names())
def test_render_output_matches_the_golden_file(rendered: Path, name: str) -> None:
    fresh = (rendered / name).read_text()
    golden = GOLDEN / name
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(fresh)
    assert golden.exists(), f"no golden file {name}: run KECS_REGENERATE_GOLDEN=1 pytest {GOLDEN}"
    assert fresh == golden.read_text(), f"{name} changed: review, then regenerate (module doc)"


@pytest.mark.parametrize("name", golden_names())
def test_golden_files_are_valid_kubernetes_objects(name: str) -> None:
    objects = [d for d in yaml.safe_load_all((GOLDEN / name).read_text()) if d]
    assert objects
    for obj in objects:
        validate_strict(obj)


def test_no_stale_golden_files() -> None:
    present = sorted(str(p.relative_to(GOLDEN)) for p in GOLDEN.glob("*/*.yaml"))
    assert present == sorted(golden_names())


@pytest.mark.parametrize("path", TASKDEFS, ids=[p.stem for p in TASKDEFS])
def test_the_examples_are_accepted_by_register_task_definition(path: Path) -> None:
    document = json.loads(path.read_text())
    body = document.get("taskDefinition", document)
    allowed = (
        kecs.client("ecs")
        .meta.service_model.operation_model("RegisterTaskDefinition")
        .input_shape.members
    )
    params = {k: v for k, v in body.items() if k in allowed}
    if "tags" in document:
        params["tags"] = document["tags"]
    ecs = kecs.client("ecs", backend=kecs.MemoryBackend())
    registered = ecs.register_task_definition(**params)["taskDefinition"]
    assert registered["family"] == body["family"]


def test_the_service_example_runs_under_the_rendered_names() -> None:
    backend = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=backend)
    service = json.loads((ROOT / "examples" / "services" / "web-service.json").read_text())
    ecs.create_cluster(clusterName=service["cluster"])
    ecs.register_task_definition(**json.loads((ROOT / "examples/taskdefs/web.json").read_text()))
    ecs.create_service(**service)
    golden = [
        d for d in yaml.safe_load_all((GOLDEN / "services/web-service.yaml").read_text()) if d
    ]
    deployment = next(d for d in golden if d["kind"] == "Deployment")
    stored = backend.list_all(kinds.DEPLOYMENT, selector={"kecs.dev/service": "web"})
    assert [d["metadata"]["name"] for d in stored] == [deployment["metadata"]["name"]]
    assert stored[0]["spec"]["replicas"] == deployment["spec"]["replicas"]
