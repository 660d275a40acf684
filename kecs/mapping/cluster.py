"""ECS clusters -> Kubernetes Namespaces (plus optional isolation objects).

One ECS cluster of one (account, region) is one Namespace. Its name follows the rule of
docs/adr/0001-kubernetes-names.md (readable part + hash of the exact identity); the exact ECS
values live in annotations, from which :func:`spec_from_object` rebuilds the cluster, so the
Namespace *is* the record. A deleted cluster leaves a tombstone ConfigMap in the system
namespace carrying the same annotations, which keeps it describable as INACTIVE.

Isolation (docs/clusters.md) is switched on per cluster by the tag ``kecs:isolation=enabled``
and adds a ResourceQuota and a NetworkPolicy admitting ingress only from the cluster's own
pods (and from ``kecs-system``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kecs.mapping import labels, names

Tags = list[dict[str, str]]

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}")
DEFAULT_CLUSTER = "default"
RESOURCE = "cluster"
ISOLATION_RESOURCE = "cluster-isolation"

# -- annotations (exact ECS values, compact JSON where structured) ---------------------------
ANN_SETTINGS = f"{labels.DOMAIN}/cluster-settings"
ANN_CONFIGURATION = f"{labels.DOMAIN}/cluster-configuration"
ANN_SERVICE_CONNECT_DEFAULTS = f"{labels.DOMAIN}/service-connect-defaults"
ANN_CAPACITY_PROVIDERS = f"{labels.DOMAIN}/capacity-providers"
ANN_DEFAULT_STRATEGY = f"{labels.DOMAIN}/default-capacity-provider-strategy"
#: On a tombstone: the Namespace the cluster had.
ANN_NAMESPACE = f"{labels.DOMAIN}/namespace"

INACTIVE = "INACTIVE"
TOMBSTONE_PREFIX = "cluster-"

# -- isolation -------------------------------------------------------------------------------
ISOLATION_TAG = "kecs:isolation"
ISOLATION_ON = "enabled"
ISOLATION_OFF = "disabled"
QUOTA_PODS_TAG = "kecs:quota-pods"
QUOTA_CPU_TAG = "kecs:quota-cpu"
QUOTA_MEMORY_TAG = "kecs:quota-memory"
ISOLATION_TAGS = frozenset({ISOLATION_TAG, QUOTA_PODS_TAG, QUOTA_CPU_TAG, QUOTA_MEMORY_TAG})
DEFAULT_QUOTA_PODS = "1000"
#: Name of both isolation objects (they differ in kind).
ISOLATION_OBJECT_NAME = "kecs-isolation"

# Kubernetes resource.Quantity, without a sign: a quota is never negative.
_QUANTITY = re.compile(
    r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_POD_COUNT = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ClusterSpec:
    """Everything kecs keeps about one ECS cluster, in wire (camelCase) shapes."""

    account: str
    region: str
    name: str
    arn: str
    settings: list[dict[str, str]] = field(default_factory=list)
    configuration: dict[str, Any] | None = None
    service_connect_defaults: dict[str, str] | None = None
    capacity_providers: list[str] = field(default_factory=list)
    default_capacity_provider_strategy: list[dict[str, Any]] = field(default_factory=list)
    tags: Tags = field(default_factory=list)


@dataclass(frozen=True)
class Isolation:
    """The ResourceQuota limits of an isolated cluster (cpu/memory only when tagged)."""

    pods: str = DEFAULT_QUOTA_PODS
    cpu: str | None = None
    memory: str | None = None


def is_valid_name(name: str) -> bool:
    return NAME_PATTERN.fullmatch(name) is not None


def namespace_name(account: str, region: str, cluster_name: str) -> str:
    """The Namespace of cluster ``cluster_name`` in (account, region): a DNS-1123 label ≤63.

    Readable part from the name, hash over the exact (account, region, name), so clusters that
    differ only in case, ``_`` vs ``-``, region or account never share a namespace.
    """
    return names.dns_label(cluster_name, account, region, cluster_name, fallback="cluster")


def tombstone_name(account: str, region: str, cluster_name: str) -> str:
    """The ConfigMap (in the system namespace) that remembers a deleted cluster."""
    return TOMBSTONE_PREFIX + namespace_name(account, region, cluster_name)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _labels(spec: ClusterSpec, resource: str) -> dict[str, str]:
    result = labels.ownership(spec.account, spec.region, resource)
    result[labels.CLUSTER] = names.label_value(spec.name)
    return result


def record_annotations(spec: ClusterSpec) -> dict[str, str]:
    """The exact ECS values of the cluster; user tags stay here, never in labels."""
    result = {
        labels.ANN_CLUSTER_NAME: spec.name,
        labels.ANN_CLUSTER_ARN: spec.arn,
        ANN_SETTINGS: _dump(spec.settings),
        ANN_CAPACITY_PROVIDERS: _dump(spec.capacity_providers),
        ANN_DEFAULT_STRATEGY: _dump(spec.default_capacity_provider_strategy),
        labels.ANN_TAGS: _dump(spec.tags),
    }
    if spec.configuration is not None:
        result[ANN_CONFIGURATION] = _dump(spec.configuration)
    if spec.service_connect_defaults is not None:
        result[ANN_SERVICE_CONNECT_DEFAULTS] = _dump(spec.service_connect_defaults)
    return result


def namespace_object(spec: ClusterSpec) -> dict[str, Any]:
    """The Namespace that is the cluster."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace_name(spec.account, spec.region, spec.name),
            "labels": _labels(spec, RESOURCE),
            "annotations": record_annotations(spec),
        },
    }


def tombstone_object(spec: ClusterSpec) -> dict[str, Any]:
    """The ConfigMap that keeps a deleted cluster describable as INACTIVE."""
    meta_labels = _labels(spec, RESOURCE)
    meta_labels[labels.STATUS] = INACTIVE
    meta_annotations = record_annotations(spec)
    meta_annotations[ANN_NAMESPACE] = namespace_name(spec.account, spec.region, spec.name)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": tombstone_name(spec.account, spec.region, spec.name),
            "namespace": labels.SYSTEM_NAMESPACE,
            "labels": meta_labels,
            "annotations": meta_annotations,
        },
    }


def _load(annotations_: Mapping[str, str], key: str, default: Any) -> Any:
    raw = annotations_.get(key)
    return default if raw is None else json.loads(raw)


def spec_from_object(obj: Mapping[str, Any]) -> ClusterSpec:
    """The cluster a Namespace (or tombstone) records; ``ValueError`` if it records none."""
    meta = obj.get("metadata") or {}
    meta_labels = meta.get("labels") or {}
    ann = meta.get("annotations") or {}
    try:
        return ClusterSpec(
            account=meta_labels[labels.ACCOUNT],
            region=meta_labels[labels.REGION],
            name=ann[labels.ANN_CLUSTER_NAME],
            arn=ann[labels.ANN_CLUSTER_ARN],
            settings=_load(ann, ANN_SETTINGS, []),
            configuration=_load(ann, ANN_CONFIGURATION, None),
            service_connect_defaults=_load(ann, ANN_SERVICE_CONNECT_DEFAULTS, None),
            capacity_providers=_load(ann, ANN_CAPACITY_PROVIDERS, []),
            default_capacity_provider_strategy=_load(ann, ANN_DEFAULT_STRATEGY, []),
            tags=_load(ann, labels.ANN_TAGS, []),
        )
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{meta.get('name')!r} does not record an ECS cluster: {exc}") from None


def default_strategy_of(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The default capacity provider strategy a Namespace (or tombstone) records; reads that
    one annotation (RunTask needs only it, not the whole :func:`spec_from_object`)."""
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    found: list[dict[str, Any]] = _load(ann, ANN_DEFAULT_STRATEGY, [])
    return found


def capacity_providers_of(obj: Mapping[str, Any]) -> list[str]:
    """The capacity provider names a Namespace (or tombstone) records (that one annotation)."""
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    found: list[str] = _load(ann, ANN_CAPACITY_PROVIDERS, [])
    return found


def records(obj: Mapping[str, Any], account: str, region: str, cluster_name: str) -> bool:
    """Whether ``obj`` is the record of exactly this cluster (guards against hash collisions)."""
    meta = obj.get("metadata") or {}
    meta_labels = meta.get("labels") or {}
    return (
        meta_labels.get(labels.RESOURCE) == RESOURCE
        and meta_labels.get(labels.ACCOUNT) == account
        and meta_labels.get(labels.REGION) == region
        and (meta.get("annotations") or {}).get(labels.ANN_CLUSTER_NAME) == cluster_name
    )


# -- isolation -------------------------------------------------------------------------------


def isolation_from_tags(tags: Sequence[Mapping[str, str]]) -> Isolation | None:
    """The isolation the tags ask for, ``None`` when off; ``ValueError`` on a bad value."""
    values = {t["key"]: t.get("value", "") for t in tags if t.get("key") in ISOLATION_TAGS}
    switch = values.get(ISOLATION_TAG, ISOLATION_OFF)
    if switch not in (ISOLATION_ON, ISOLATION_OFF):
        raise ValueError(
            f"The tag {ISOLATION_TAG} must be '{ISOLATION_ON}' or '{ISOLATION_OFF}', "
            f"not {switch!r}."
        )
    pods = values.get(QUOTA_PODS_TAG, DEFAULT_QUOTA_PODS)
    if not _POD_COUNT.fullmatch(pods):
        raise ValueError(f"The tag {QUOTA_PODS_TAG} must be a whole number, not {pods!r}.")
    quantities = {}
    for key in (QUOTA_CPU_TAG, QUOTA_MEMORY_TAG):
        value = values.get(key)
        if value is not None and not _QUANTITY.fullmatch(value):
            raise ValueError(
                f"The tag {key} must be a Kubernetes quantity (e.g. '8', '500m', '16Gi'), "
                f"not {value!r}."
            )
        quantities[key] = value
    if switch == ISOLATION_OFF:
        return None
    return Isolation(
        pods=str(int(pods)), cpu=quantities[QUOTA_CPU_TAG], memory=quantities[QUOTA_MEMORY_TAG]
    )


def isolation_objects(spec: ClusterSpec) -> list[dict[str, Any]]:
    """ResourceQuota + NetworkPolicy of an isolated cluster; ``[]`` when isolation is off.

    ``ValueError`` when the isolation tags carry bad values.
    """
    isolation = isolation_from_tags(spec.tags)
    if isolation is None:
        return []
    namespace = namespace_name(spec.account, spec.region, spec.name)

    def metadata() -> dict[str, Any]:
        return {
            "name": ISOLATION_OBJECT_NAME,
            "namespace": namespace,
            "labels": _labels(spec, ISOLATION_RESOURCE),
        }

    # Quotas on requests, not limits: a container with only a limit gets an equal request,
    # so every pod that states either satisfies the quota.
    hard = {"pods": isolation.pods}
    if isolation.cpu is not None:
        hard["requests.cpu"] = isolation.cpu
    if isolation.memory is not None:
        hard["requests.memory"] = isolation.memory
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(),
        "spec": {"hard": hard},
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"podSelector": {}},
                        {
                            "namespaceSelector": {
                                "matchLabels": {
                                    "kubernetes.io/metadata.name": labels.SYSTEM_NAMESPACE
                                }
                            }
                        },
                    ]
                }
            ],
        },
    }
    return [quota, policy]
