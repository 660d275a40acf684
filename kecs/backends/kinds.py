"""Kubernetes resource kinds described by metadata, not by a method per kind."""

from __future__ import annotations

from typing import NamedTuple


class ResourceKind(NamedTuple):
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    def __str__(self) -> str:
        return f"{self.api_version}/{self.kind}"


NAMESPACE = ResourceKind("v1", "Namespace", "namespaces", False)
NODE = ResourceKind("v1", "Node", "nodes", False)
CONFIG_MAP = ResourceKind("v1", "ConfigMap", "configmaps", True)
SECRET = ResourceKind("v1", "Secret", "secrets", True)
POD = ResourceKind("v1", "Pod", "pods", True)
POD_TEMPLATE = ResourceKind("v1", "PodTemplate", "podtemplates", True)
SERVICE = ResourceKind("v1", "Service", "services", True)
SERVICE_ACCOUNT = ResourceKind("v1", "ServiceAccount", "serviceaccounts", True)
RESOURCE_QUOTA = ResourceKind("v1", "ResourceQuota", "resourcequotas", True)
LIMIT_RANGE = ResourceKind("v1", "LimitRange", "limitranges", True)
EVENT = ResourceKind("v1", "Event", "events", True)
DEPLOYMENT = ResourceKind("apps/v1", "Deployment", "deployments", True)
REPLICA_SET = ResourceKind("apps/v1", "ReplicaSet", "replicasets", True)
DAEMON_SET = ResourceKind("apps/v1", "DaemonSet", "daemonsets", True)
CONTROLLER_REVISION = ResourceKind("apps/v1", "ControllerRevision", "controllerrevisions", True)
ROLE = ResourceKind("rbac.authorization.k8s.io/v1", "Role", "roles", True)
ROLE_BINDING = ResourceKind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True)
NETWORK_POLICY = ResourceKind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True)
INGRESS = ResourceKind("networking.k8s.io/v1", "Ingress", "ingresses", True)

ALL: tuple[ResourceKind, ...] = (
    NAMESPACE,
    NODE,
    CONFIG_MAP,
    SECRET,
    POD,
    POD_TEMPLATE,
    SERVICE,
    SERVICE_ACCOUNT,
    RESOURCE_QUOTA,
    LIMIT_RANGE,
    EVENT,
    DEPLOYMENT,
    REPLICA_SET,
    DAEMON_SET,
    CONTROLLER_REVISION,
    ROLE,
    ROLE_BINDING,
    NETWORK_POLICY,
    INGRESS,
)

_BY_API_KIND = {(k.api_version, k.kind): k for k in ALL}


def of(obj: dict[str, object]) -> ResourceKind:
    """The kind of a Kubernetes object from its ``apiVersion`` and ``kind``."""
    key = (str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    try:
        return _BY_API_KIND[key]
    except KeyError:
        raise ValueError(f"kecs does not know the kind {key[0]}/{key[1]}") from None
