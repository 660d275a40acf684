"""ECS secret references -> Kubernetes Secret key references.

An ECS ``secrets`` entry names where a value lives (``valueFrom``); the value itself never
passes through kecs. Each *source* becomes one Kubernetes Secret whose name is derived
deterministically from the reference, so whoever provisions secrets (a later issue, or the
user) knows exactly which Secret and key to create:

Secrets Manager
    ``arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>[:<stage>[:<id>]]]``:
    source: the ARN up to ``<name>``; Secret name: ``dns_label(<name>, <source>)``
    (e.g. ``db-password-AbCdEf`` -> ``db-password-abcdef-1a2b3c4d5e``). Key ``value`` for the
    whole secret string; with a JSON key or a version stage/id, ``<readable json key>-<10 hex
    of (json key, stage, id)>`` (``value`` never collides: generated keys always carry a hash).
SSM Parameter Store ``arn:aws:ssm:<region>:<account>:parameter/<path/name>`` or a bare name
    source: ``valueFrom`` exactly; Secret name: ``dns_label(<last path element>, <source>)``;
    key ``value``.
"""

from __future__ import annotations

import re

import attrs

from kecs.mapping import names

WHOLE_VALUE_KEY = "value"
_KEY_CHARS = re.compile(r"[^-._a-zA-Z0-9]+")
_READABLE_KEY_MAX = 40


@attrs.frozen
class SecretRef:
    """Where an ECS secret's value is expected inside Kubernetes."""

    secret_name: str  # the Kubernetes Secret (DNS-1123 label)
    key: str  # the key inside it
    source: str  # the ECS/AWS reference the Secret stands for (no JSON key or version)
    kind: str  # "secretsmanager" | "ssm"
    value_from: str  # the exact ECS reference


def secret_ref(value_from: str) -> SecretRef:
    """The Secret and key an ECS ``valueFrom`` maps to (total: any string works)."""
    parts = value_from.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "secretsmanager":
        source = ":".join(parts[:7])
        name, extras = parts[6], parts[7:10]
        json_key, stage, version = [*extras, "", "", ""][:3]
        return SecretRef(
            secret_name=names.dns_label(name, "secretsmanager", source),
            key=_versioned_key(json_key, stage, version),
            source=source,
            kind="secretsmanager",
            value_from=value_from,
        )
    last = value_from.rsplit("/", 1)[-1] if "/" in value_from else value_from
    if value_from.startswith("arn:") and "/" not in value_from:
        last = value_from.rsplit(":", 1)[-1]
    return SecretRef(
        secret_name=names.dns_label(last, "ssm", value_from),
        key=WHOLE_VALUE_KEY,
        source=value_from,
        kind="ssm",
        value_from=value_from,
    )


def _versioned_key(json_key: str, stage: str, version: str) -> str:
    if not (json_key or stage or version):
        return WHOLE_VALUE_KEY
    readable = _KEY_CHARS.sub("-", json_key).strip("-.")[:_READABLE_KEY_MAX] or "json"
    return f"{readable}-{names.digest(json_key, stage, version)}"
