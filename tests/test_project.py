"""The README tells the truth: its example runs, and CI runs exactly its test command."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import kecs

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_readme_has_exactly_two_shell_commands() -> None:
    commands = [line for block in fenced("sh") for line in block.splitlines() if line.strip()]
    assert len(commands) == 2, commands
    install, tests = commands
    assert "examples/quickstart.py" in install
    assert "nox" in tests


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    readme_command = fenced("sh")[1].strip()
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for line in script.splitlines()
        # ``bash .ci/install-*`` provisions optional tools (best effort), not the tests.
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd ", "bash .ci/install-"))
    ]
    assert commands == [readme_command]
    assert "set -euo pipefail" in script


def test_the_readme_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "KECS_ACCOUNT_ID"):
        monkeypatch.delenv(var, raising=False)
    (example,) = fenced("python")
    kecs.reset_default_backend()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(example, "README.md", "exec"), {})
    finally:
        kecs.reset_default_backend()
    expected = [
        line.partition("# ")[2]
        for line in example.splitlines()
        if line.startswith("print(") and "# " in line
    ]
    assert out.getvalue().splitlines() == expected
