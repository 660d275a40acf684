"""API discovery documents (``/version``, ``/api``, ``/apis``, resource lists), built from the
kinds kecs knows, so ``kubectl`` can map ``get pods`` or ``get deploy`` to REST paths."""

from __future__ import annotations

from typing import Any

from kecs.backends import kinds
from kecs.backends.kinds import ResourceKind

#: Kubernetes version the served subset follows.
VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0+kecs",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}

SHORT_NAMES: dict[ResourceKind, list[str]] = {
    kinds.NAMESPACE: ["ns"],
    kinds.NODE: ["no"],
    kinds.CONFIG_MAP: ["cm"],
    kinds.POD: ["po"],
    kinds.SERVICE: ["svc"],
    kinds.SERVICE_ACCOUNT: ["sa"],
    kinds.RESOURCE_QUOTA: ["quota"],
    kinds.LIMIT_RANGE: ["limits"],
    kinds.EVENT: ["ev"],
    kinds.DEPLOYMENT: ["deploy"],
    kinds.REPLICA_SET: ["rs"],
    kinds.DAEMON_SET: ["ds"],
    kinds.NETWORK_POLICY: ["netpol"],
    kinds.INGRESS: ["ing"],
}
#: ``kubectl get all`` lists the kinds in category "all".
ALL_CATEGORY = frozenset(
    {kinds.POD, kinds.SERVICE, kinds.DEPLOYMENT, kinds.REPLICA_SET, kinds.DAEMON_SET}
)
#: Kinds with a ``/status`` subresource (as on a real API server).
WITH_STATUS = frozenset(
    {
        kinds.POD,
        kinds.DEPLOYMENT,
        kinds.REPLICA_SET,
        kinds.DAEMON_SET,
        kinds.NODE,
        kinds.NAMESPACE,
        kinds.SERVICE,
        kinds.RESOURCE_QUOTA,
    }
)
VERBS = ["create", "delete", "get", "list", "patch", "update"]

KNOWN: tuple[ResourceKind, ...] = kinds.ALL
BY_PATH: dict[tuple[str, str], ResourceKind] = {(k.api_version, k.plural): k for k in KNOWN}


def group_versions() -> list[str]:
    """The non-core ``group/version`` strings, in first-seen order."""
    return list(dict.fromkeys(k.api_version for k in KNOWN if k.group))


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def api_group_list() -> dict[str, Any]:
    groups = []
    for group_version in group_versions():
        group, _, version = group_version.partition("/")
        entry = {"groupVersion": group_version, "version": version}
        groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    for doc in api_group_list()["groups"]:
        if doc["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **doc}
    return None


def resource_list(group_version: str) -> dict[str, Any] | None:
    served = [k for k in KNOWN if k.api_version == group_version]
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for kind in served:
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.kind.lower(),
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": VERBS,
        }
        if kind in SHORT_NAMES:
            entry["shortNames"] = SHORT_NAMES[kind]
        if kind in ALL_CATEGORY:
            entry["categories"] = ["all"]
        resources.append(entry)
        if kind in WITH_STATUS:
            resources.append(
                {
                    "name": f"{kind.plural}/status",
                    "singularName": "",
                    "namespaced": kind.namespaced,
                    "kind": kind.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
