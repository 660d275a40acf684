"""``kecs render``: files and stdin, YAML and JSON, services, progress, errors, output dir."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kecs.cli import main

ROOT = Path(__file__).resolve().parents[2]
TASKDEFS = ROOT / "examples" / "taskdefs"
WEB = TASKDEFS / "web.json"
WEB_SERVICE = ROOT / "examples" / "services" / "web-service.json"


def render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["render", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_yaml_with_notes_as_comments(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = render(capsys, WEB)
    assert code == 0 and err == ""
    assert [d["kind"] for d in docs(out)] == ["PodTemplate"]
    assert "# Notes on task definition web:1" in out


def test_json_with_notes_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = render(capsys, WEB, "--format", "json", "--kind", "pod,deployment")
    assert code == 0
    listed = json.loads(out)
    assert [i["kind"] for i in listed["items"]] == ["Pod", "Deployment", "Service"]
    assert "# Notes on task definition web:1" in err


def test_many_files_show_progress(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(TASKDEFS.glob("*.json"))
    code, out, err = render(capsys, *files)
    assert code == 0
    progress = [line for line in err.splitlines() if line.startswith("kecs render: [")]
    assert [p.split("]")[0] for p in progress] == [
        f"kecs render: [{i}/{len(files)}" for i in range(1, len(files) + 1)
    ]
    assert len(docs(out)) == len(files)
    _, _, quiet = render(capsys, *files, "--quiet")
    assert quiet == ""


def test_a_service_finds_its_task_definition(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = render(capsys, WEB_SERVICE, "--task-definition", WEB)
    assert code == 0
    deployment, service, balancer, ingress = docs(out)
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    assert (balancer["kind"], ingress["kind"]) == ("Service", "Ingress")  # its loadBalancers
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["labels"]["kecs.dev/cluster"] == "production"
    code, out, _ = render(capsys, WEB_SERVICE, WEB, "--quiet")
    assert code == 0
    kinds = ["Deployment", "Service", "Service", "Ingress", "PodTemplate"]
    assert [d["kind"] for d in docs(out)] == kinds


def test_a_service_without_its_task_definition_fails_clearly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = render(capsys, WEB_SERVICE)
    assert code == 1 and out == ""
    assert "web-service.json: service 'web' runs task definition 'web'" in err
    assert "--task-definition FILE" in err


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"taskDefinition": json.loads(WEB.read_text())}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(document)))
    code, out, _ = render(capsys, "-", "--namespace", "web-team")
    assert code == 0
    assert docs(out)[0]["metadata"]["namespace"] == "web-team"


def test_bad_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = render(capsys, tmp_path / "missing.json")
    assert code == 1 and err.startswith("kecs: ") and "missing.json" in err
    (tmp_path / "broken.json").write_text("{")
    code, _, err = render(capsys, tmp_path / "broken.json")
    assert code == 1 and "not JSON" in err
    (tmp_path / "other.json").write_text('{"bucket": "x"}')
    code, out, err = render(capsys, tmp_path / "other.json", WEB, "--quiet")
    assert code == 1 and "other.json: not an ECS task definition or service" in err
    assert [d["kind"] for d in docs(out)] == ["PodTemplate"]  # the good file still renders
    code, _, err = render(capsys, WEB, "--kind", "statefulset")
    assert code == 1 and "unknown kind" in err
    code, _, err = render(capsys, WEB, "--task-definition", WEB_SERVICE)
    assert code == 1 and "--task-definition needs a task definition" in err


def test_output_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = render(capsys, WEB, TASKDEFS / "redis.json", "--output-dir", tmp_path / "out")
    assert code == 0 and out == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["redis.yaml", "web.yaml"]
    assert "-> " in err


def test_without_pyyaml_json_is_written_with_a_message() -> None:
    code = (
        "import sys; sys.modules['yaml'] = None\n"
        "from kecs.cli import main\n"
        f"sys.exit(main(['render', {str(WEB)!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "PodTemplate"
    assert "PyYAML is not installed" in result.stderr


def test_python_dash_m_kecs_render() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kecs", "render", str(WEB), "--kind", "deployment"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [d["kind"] for d in docs(result.stdout)] == ["Deployment", "Service"]
