"""ECS container instance attributes <-> Node labels.

Built-in attributes that have a Kubernetes equivalent are *read* from the well-known labels
every kubelet (or EKS) puts on its Node, and never written:

==========================  ====================================  =========================
ECS attribute               Node label                            values
==========================  ====================================  =========================
``ecs.os-type``             ``kubernetes.io/os``                  ``linux``, ``windows``
``ecs.cpu-architecture``    ``kubernetes.io/arch``                ``x86_64`` <-> ``amd64``,
                                                                  ``arm64``
``ecs.instance-type``       ``node.kubernetes.io/instance-type``  as is
``ecs.availability-zone``   ``topology.kubernetes.io/zone``       as is
==========================  ====================================  =========================

Custom attributes (PutAttributes, RegisterContainerInstance) are Node labels
``kecs.dev/attr.<name>`` (when ``attr.<name>`` is a legal label name, else
``kecs.dev/attr.<readable>-<10 hex of the name>``) whose value is ``names.label_value(value)``
(``""`` for an attribute without a value). The exact names and values are kept in the
annotation ``kecs.dev/attributes`` (JSON ``{name: value or null}``). A ``kecs.dev/attr.<name>``
label set by hand (``kubectl label node``) counts as an attribute too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from kecs import k8s_grammar
from kecs.mapping import labels, names

ANN_ATTRIBUTES = f"{labels.DOMAIN}/attributes"
_CUSTOM_PREFIX = "attr."
#: The prefix of every custom attribute label key.
CUSTOM_LABEL_PREFIX = f"{labels.DOMAIN}/{_CUSTOM_PREFIX}"
_NAME_PART_MAX = 63
_READABLE_MAX = _NAME_PART_MAX - len(_CUSTOM_PREFIX) - names.HASH_LEN - 1

OS_TYPE = "ecs.os-type"
CPU_ARCHITECTURE = "ecs.cpu-architecture"
INSTANCE_TYPE = "ecs.instance-type"
AVAILABILITY_ZONE = "ecs.availability-zone"
#: Built-in attributes -> the Node label each one is read from.
BUILTIN: Mapping[str, str] = {
    OS_TYPE: "kubernetes.io/os",
    CPU_ARCHITECTURE: "kubernetes.io/arch",
    INSTANCE_TYPE: "node.kubernetes.io/instance-type",
    AVAILABILITY_ZONE: "topology.kubernetes.io/zone",
}
#: ECS spells architectures as the kernel does, Kubernetes as Go does.
_ARCH_TO_K8S = {"x86_64": "amd64", "arm64": "arm64", "i386": "386"}
_ARCH_FROM_K8S = {v: k for k, v in _ARCH_TO_K8S.items()}
#: What ECS reserves: attribute names it sets itself.
RESERVED_PREFIX = "ecs."


def label_key(name: str) -> str:
    """The Node label an attribute lives in (built-in or custom); injective over names."""
    if name in BUILTIN:
        return BUILTIN[name]
    part = f"{_CUSTOM_PREFIX}{name}"
    if len(part) <= _NAME_PART_MAX and k8s_grammar.is_qualified_name(part):
        return f"{labels.DOMAIN}/{part}"
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:_READABLE_MAX].strip("-_.")
    suffix = names.digest("attribute", name)
    return (
        f"{CUSTOM_LABEL_PREFIX}{readable}-{suffix}"
        if readable
        else f"{CUSTOM_LABEL_PREFIX}{suffix}"
    )


def label_value(name: str, value: str | None) -> str:
    """The label value an attribute value is stored (and matched) as."""
    if value is None:
        return ""
    if name == CPU_ARCHITECTURE:
        return _ARCH_TO_K8S.get(value, names.label_value(value))
    return names.label_value(value)


def _builtin_value(name: str, label: str) -> str:
    return _ARCH_FROM_K8S.get(label, label) if name == CPU_ARCHITECTURE else label


def recorded(node: Mapping[str, Any]) -> dict[str, str | None]:
    """The exact custom attributes kept in the Node's annotation."""
    raw = ((node.get("metadata") or {}).get("annotations") or {}).get(ANN_ATTRIBUTES)
    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): (None if v is None else str(v)) for k, v in value.items()}


def custom_attributes(node: Mapping[str, Any]) -> dict[str, str | None]:
    """``{name: value}`` of the Node's custom attributes (annotation, then hand-set labels)."""
    node_labels: Mapping[str, str] = (node.get("metadata") or {}).get("labels") or {}
    result = {k: v for k, v in recorded(node).items() if label_key(k) in node_labels}
    known = {label_key(k) for k in result}
    for key, value in node_labels.items():
        if key.startswith(CUSTOM_LABEL_PREFIX) and key not in known:
            result[key[len(CUSTOM_LABEL_PREFIX) :]] = value or None
    return result


def node_attributes(node: Mapping[str, Any]) -> list[dict[str, str]]:
    """The ECS ``attributes`` of the container instance a Node is (built-in first, sorted)."""
    node_labels: Mapping[str, str] = (node.get("metadata") or {}).get("labels") or {}
    out = [
        {"name": name, "value": _builtin_value(name, node_labels[key])}
        for name, key in BUILTIN.items()
        if node_labels.get(key)
    ]
    for name, value in sorted(custom_attributes(node).items()):
        out.append({"name": name} if value is None else {"name": name, "value": value})
    return out


def attributes_patch(
    node: Mapping[str, Any],
    put: Mapping[str, str | None] | None = None,
    delete: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON merge patch that puts and deletes custom attributes on a Node."""
    current = recorded(node)
    label_patch: dict[str, str | None] = {}
    for name in delete:
        current.pop(name, None)
        label_patch[label_key(name)] = None
    for name, value in (put or {}).items():
        current[name] = value
        label_patch[label_key(name)] = label_value(name, value)
    annotation = json.dumps(current, sort_keys=True, separators=(",", ":")) if current else None
    return {"metadata": {"labels": label_patch, "annotations": {ANN_ATTRIBUTES: annotation}}}
