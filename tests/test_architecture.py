"""The import rules of docs/architecture.md, checked on the source (imports point downwards)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kecs"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "kecs":  # `from kecs import arns` imports kecs.arns
                found.update(f"kecs.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


MODULES = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def outside(layer: str, allowed: tuple[str, ...]) -> list[str]:
    """Imports of ``layer`` that are neither stdlib nor within ``allowed``."""
    return [
        f"{module} imports {name}"
        for module, imported in MODULES.items()
        if within(module, layer)
        for name in sorted(imported)
        if name.partition(".")[0] not in STDLIB and not within(name, *allowed)
    ]


def into(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    """Imports of ``layer`` within ``forbidden``."""
    return [
        f"{module} imports {name}"
        for module, imported in MODULES.items()
        if within(module, layer)
        for name in sorted(imported)
        if within(name, *forbidden)
    ]


def test_mapping_is_pure() -> None:
    # kecs.arns, kecs.k8s_grammar and kecs.k8s_quantity are pure, stdlib-only helpers.
    allowed = (
        "attrs",
        "cattrs",
        "kecs.mapping",
        "kecs.model",
        "kecs.k8s_grammar",
        "kecs.k8s_quantity",
        "kecs.arns",
    )
    assert outside("kecs.mapping", allowed) == []


def test_backends_depend_on_nothing_above_them() -> None:
    allowed = (
        "attrs",
        "kecs.backends",
        "kecs.k8s_grammar",
        "kecs.k8s_quantity",
        "kecs.uuid_text",
        "kubernetes",
        "tenacity",
        "urllib3",
    )
    assert outside("kecs.backends", allowed) == []


def test_operations_know_nothing_of_the_wire_or_kubernetes() -> None:
    forbidden = ("kecs.api", "kecs.client", "kecs.coverage", "botocore", "kubernetes")
    assert into("kecs.operations", forbidden) == []


def test_the_wire_does_not_know_the_client() -> None:
    assert into("kecs.api", ("kecs.client", "kecs.coverage", "kubernetes")) == []


def test_only_a_real_cluster_backend_imports_kubernetes() -> None:
    problems = [
        f"{module} imports {name}"
        for module, imported in MODULES.items()
        if not within(module, "kecs.backends.kubernetes")
        for name in imported
        if within(name, "kubernetes")
    ]
    assert problems == []
