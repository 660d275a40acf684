"""The kubelet's check of a container's environment sources before it starts the container.

An ``env[].valueFrom`` ``secretKeyRef`` / ``configMapKeyRef`` or an ``envFrom`` ``secretRef`` /
``configMapRef`` that is not ``optional`` must exist (and hold the key); otherwise the kubelet
reports ``CreateContainerConfigError`` with these messages.
"""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.memory.apiserver import ApiServer

Object = dict[str, Any]

#: (env ``valueFrom`` field, envFrom field, kind, how the kubelet names the kind).
_SOURCES = (
    ("secretKeyRef", "secretRef", kinds.SECRET, "secret"),
    ("configMapKeyRef", "configMapRef", kinds.CONFIG_MAP, "configmap"),
)
_KEYED = ("data", "stringData", "binaryData")


def config_error(server: ApiServer, pod: Object, container: str) -> str | None:
    """Why the container's environment cannot be built, as the kubelet says it, or ``None``."""
    spec = pod["spec"]
    found = [
        c
        for c in [*(spec.get("initContainers") or ()), *spec.get("containers", ())]
        if c.get("name") == container
    ]
    if not found or not (found[0].get("env") or found[0].get("envFrom")):
        return None
    namespace = pod["metadata"]["namespace"]
    for source in found[0].get("envFrom") or ():
        for _, field, kind, shown in _SOURCES:
            ref = source.get(field)
            if not isinstance(ref, dict) or ref.get("optional"):
                continue
            if server.find(kind, namespace, str(ref.get("name"))) is None:
                return f'{shown} "{ref.get("name")}" not found'
    for variable in found[0].get("env") or ():
        for field, _, kind, shown in _SOURCES:
            ref = (variable.get("valueFrom") or {}).get(field)
            if not isinstance(ref, dict) or ref.get("optional"):
                continue
            name, key = str(ref.get("name")), ref.get("key")
            obj = server.find(kind, namespace, name)
            if obj is None:
                return f'{shown} "{name}" not found'
            if not any(key in (obj.get(part) or {}) for part in _KEYED):
                return f"couldn't find key {key} in {kind.kind} {namespace}/{name}"
    return None
