"""examples/explore_mapping.ipynb runs top to bottom and shows what it says it shows.

The notebook is checked in with its outputs (so it reads well where notebooks are rendered);
after an intended change, store fresh outputs with:

    KECS_REGENERATE_GOLDEN=1 pytest tests/test_notebook.py
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "explore_mapping.ipynb"


def require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (in the test extra)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def text_of(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
            parts.append(output["data"].get("text/html", ""))
    return "".join(parts)


def test_the_notebook_executes_and_shows_the_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    require("nbclient", "nbformat", "ipykernel")
    import nbformat
    from nbclient import NotebookClient

    # The kernel is a child process: it finds this checkout of kecs through PYTHONPATH.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    code = [c for c in notebook.cells if c.cell_type == "code"]
    outputs = "\n".join(text_of(c) for c in code)
    assert "PodTemplate" in outputs and "Deployment" in outputs
    assert "did not map exactly" in outputs
    assert "sidecar  otel-collector" in outputs
    assert "maxSurge': '50%'" in outputs
    rollout = text_of(code[6])
    assert "web:2 PENDING" in rollout and "PRIMARY web:2 IN_PROGRESS" in rollout
    assert rollout.rstrip().endswith("deployments: PRIMARY web:2 COMPLETED")
    assert "has reached a steady state" in text_of(code[7])

    if os.environ.get("KECS_REGENERATE_GOLDEN"):
        nbformat.write(notebook, NOTEBOOK)


def test_the_checked_in_notebook_has_outputs_and_no_errors() -> None:
    require("nbformat")
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    # Every cell after the imports shows something.
    assert all(c.outputs for c in code[1:]), "store outputs: see the module doc"
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
