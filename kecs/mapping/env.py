"""``environment`` + ``secrets`` -> a container's ``env``.

Duplicates resolve as Docker does: the last value wins, at the position where the name first
appeared. Secrets come after plain variables (so a secret overrides a plain variable of the same
name, with a note). Names follow Kubernetes' relaxed rule (any printable ASCII but ``=``;
Kubernetes >= 1.32 by default); others are dropped with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs.mapping.common import Notes, escape_expansion, records, text
from kecs.mapping.secrets import SecretRef, secret_ref


def _legal_env_name(name: str) -> bool:
    # Printable ASCII (32-126) is exactly what is both ASCII and printable.
    return bool(name) and name.isascii() and name.isprintable() and "=" not in name


def container_env(
    definition: Mapping[str, Any], path: str, notes: Notes
) -> tuple[list[dict[str, Any]], list[SecretRef]]:
    """The ``env`` list for one container, and the secret references it uses."""
    env: dict[str, dict[str, Any]] = {}
    for i, pair in enumerate(records(definition, "environment")):
        name, value = text(pair, "name"), text(pair, "value")
        if name is None or not _legal_env_name(name):
            notes.add(
                f"{path}.environment[{i}]",
                f"variable name {name!r} is not a legal environment name; dropped",
            )
            continue
        if name in env:
            notes.add(
                f"{path}.environment[{i}]",
                f"duplicate variable {name!r}; the last value wins (as in Docker)",
            )
        if value is None and "valueFrom" in pair:
            notes.add(
                f"{path}.environment[{i}]",
                f"{name!r} has valueFrom inside environment; use secrets",
            )
        env[name] = {"name": name, "value": escape_expansion(value or "")}

    refs: list[SecretRef] = []
    for i, secret in enumerate(records(definition, "secrets")):
        name, value_from = text(secret, "name"), text(secret, "valueFrom")
        where = f"{path}.secrets[{i}]"
        if name is None or not _legal_env_name(name):
            notes.add(where, f"secret name {name!r} is not a legal environment name; dropped")
            continue
        if value_from is None:
            notes.add(where, f"secret {name!r} has no valueFrom; dropped")
            continue
        if name in env:
            notes.add(where, f"secret {name!r} overrides an environment variable of that name")
        ref = secret_ref(value_from)
        refs.append(ref)
        env[name] = {
            "name": name,
            "valueFrom": {"secretKeyRef": {"name": ref.secret_name, "key": ref.key}},
        }
    return list(env.values()), refs
