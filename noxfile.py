"""Task runner: ``nox -s tests-3.11 lint typecheck`` is what CI runs (see README and .ci/run).

Sessions:
    tests-3.11 / tests-3.12 / tests-3.13   pytest on each Python that is installed
    lint                                    ruff check + ruff format --check
    typecheck                               mypy (strict) on kecs/
    examples                                runs every script in examples/
    bench                                   runs the benchmarks against kecs, moto and the floor
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox
import tomllib

ROOT = Path(__file__).parent
PYTHONS = ["3.11", "3.12", "3.13"]
#: Pinned versions for every session (see the file's header).
CONSTRAINTS = "constraints.txt"
LINT_PATHS = ["kecs", "tests", "benchmarks", "examples", "tools", "noxfile.py"]

nox.options.sessions = ["tests-3.11", "lint", "typecheck"]
# A missing interpreter is skipped (locally) rather than fetched from the internet.
nox.options.download_python = "never"


def _expose_pyenv_versions() -> None:
    """Let nox find every pyenv-installed 3.11-3.13, not only the globally selected one.

    pyenv's ``python3.12`` shim refuses to run unless 3.12 is an active version; listing
    the installed versions after the active ones in ``PYENV_VERSION`` keeps ``python``
    unchanged and makes the other shims work.
    """
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = root / "versions"
    if "PYENV_VERSION" in os.environ or not versions.is_dir():
        return
    active: list[str] = []
    for candidate in (ROOT / ".python-version", root / "version"):
        if candidate.is_file():
            active = [v.strip() for v in candidate.read_text().split() if v.strip()]
            break
    wanted = "|".join(re.escape(v) for v in PYTHONS)
    installed = sorted(
        d.name for d in versions.iterdir() if re.fullmatch(rf"(?:{wanted})\.\d+", d.name)
    )
    os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys([*active, *installed]))


_expose_pyenv_versions()


def _extra(name: str) -> list[str]:
    """The requirements of one optional-dependency group of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["optional-dependencies"][name])


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite (pytest + hypothesis)."""
    session.install("-c", CONSTRAINTS, "-e", ".[test]")
    session.run("pytest", *(session.posargs or ["-q"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*_extra("lint"))
    paths = [p for p in LINT_PATHS if (ROOT / p).exists()]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-c", CONSTRAINTS, "-e", ".[typecheck]")
    session.run("mypy", "kecs")
    # Again with the optional stubs: kecs.client("ecs") is then a mypy_boto3_ecs.ECSClient.
    session.install("-c", CONSTRAINTS, "-e", ".[typecheck,typing]")
    session.run("mypy", "kecs", "tests/typing/check_ecs_client.py")


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example: scripts with python (each must exit 0), test_*.py with pytest."""
    session.install("-c", CONSTRAINTS, "-e", ".[yaml]", "pytest", "boto3")
    for script in sorted((ROOT / "examples").glob("*.py")):
        path = str(script.relative_to(ROOT))
        if script.name.startswith("test_"):
            session.run("pytest", "-q", "-p", "no:cacheprovider", path)
        else:
            session.run("python", path)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks: kecs vs moto vs a canned-response floor (figures on stdout)."""
    session.install("-c", CONSTRAINTS, "-e", ".[bench]")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script.relative_to(ROOT)), *session.posargs)
