"""RegisterContainerInstance: a new (or re-registered) Node of the embedded cluster.

Only the embedded cluster can make Nodes: a real cluster's Nodes join through its own
machinery, so there the operation answers ``UnsupportedFeatureException`` explaining how to
dedicate an existing Node to a cluster instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kecs import k8s_grammar
from kecs.backends import kinds
from kecs.backends.base import Backend, Object
from kecs.backends.memory import MemoryBackend, NodeSpec
from kecs.errors import InvalidParameterException, UnsupportedFeatureException
from kecs.mapping import attributes, labels, task_keys
from kecs.mapping import container_instance as mapping
from kecs.operations import container_instance_lookup as lookup
from kecs.operations import tagging
from kecs.operations.attributes import MAX_PER_RESOURCE, check_attribute
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext

Params = dict[str, Any]

#: Marks a Node RegisterContainerInstance created (deleted again on deregistration).
ANN_REGISTERED = f"{labels.DOMAIN}/registered-by-ecs"
_ARCHITECTURES = {"x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"}
UNSUPPORTED = (
    "RegisterContainerInstance cannot create Nodes on this Kubernetes cluster: Nodes join "
    "through the cluster's own mechanism (kubelet bootstrap, node groups, Karpenter). Every "
    "Ready Node already serves every ECS cluster; to dedicate one to cluster {cluster}, label "
    "it kecs.dev/cluster={label}, kecs.dev/account={account} and kecs.dev/region={region}."
)


def simulates_nodes(backend: Backend) -> bool:
    """Whether kecs may create Nodes: only in the embedded cluster."""
    return isinstance(backend, MemoryBackend)


def _document(params: Params) -> Mapping[str, Any]:
    raw = params.get("instanceIdentityDocument")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidParameterException("The instanceIdentityDocument is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidParameterException("The instanceIdentityDocument is not valid JSON.")
    return value


def _resources(params: Params) -> dict[str, str]:
    out: dict[str, str] = {}
    for resource in params.get("totalResources") or ():
        amount = resource.get("integerValue") or resource.get("longValue")
        if not isinstance(amount, int) or amount <= 0:
            continue
        if resource.get("name") == "CPU":
            out["cpu"] = f"{amount * 1000 // 1024}m"
        elif resource.get("name") == "MEMORY":
            out["memory"] = f"{amount}Mi"
    return out


def _custom(params: Params) -> dict[str, str | None]:
    given = [a for a in params.get("attributes") or () if isinstance(a, Mapping)]
    custom: dict[str, str | None] = {}
    for attribute in given:
        if str(attribute.get("name", "")).startswith(attributes.RESERVED_PREFIX):
            continue  # ECS's own attributes come from the Node's labels
        check_attribute(dict(attribute))
        custom[str(attribute["name"])] = attribute.get("value")
    if len(custom) > MAX_PER_RESOURCE:
        raise InvalidParameterException(
            f"You can apply up to {MAX_PER_RESOURCE} custom attributes for each resource."
        )
    return custom


def _builtin(params: Params, name: str) -> str | None:
    for attribute in params.get("attributes") or ():
        if attribute.get("name") == name and attribute.get("value"):
            return str(attribute["value"])
    return None


def _reregister(
    ctx: RequestContext, cluster: ClusterRef, node: Object, custom: dict[str, str | None], tags: Any
) -> Object:
    patch = attributes.attributes_patch(node, put=custom)
    gone = mapping.deregistered_label(ctx.account_id, ctx.region, cluster.name)
    patch["metadata"]["labels"][gone] = None
    if tags:
        merged = tagging.merge_tags(mapping.tags_of(node), tags)
        patch["metadata"]["annotations"][labels.ANN_TAGS] = task_keys.dump(merged)
    return ctx.backend.patch(kinds.NODE, node["metadata"]["name"], patch)


def register(ctx: RequestContext, cluster: ClusterRef, params: Params) -> Object:
    """The Node standing for the registered container instance."""
    tags = params.get("tags") or []
    tagging.validate_tags(tags)
    custom = _custom(params)
    if params.get("containerInstanceArn"):
        node = lookup.one_node(ctx, cluster, params["containerInstanceArn"])
        return _reregister(ctx, cluster, node, custom, tags)
    document = _document(params)
    instance_id = str(document.get("instanceId") or "")
    if instance_id:
        for node in lookup.cluster_nodes(ctx, cluster):
            if mapping.ec2_instance_id(node) == instance_id:
                return _reregister(ctx, cluster, node, custom, tags)
    if not simulates_nodes(ctx.backend):
        label = mapping.dedicated_labels(ctx.account_id, ctx.region, cluster.name)[labels.CLUSTER]
        raise UnsupportedFeatureException(
            UNSUPPORTED.format(
                cluster=cluster.name, label=label, account=ctx.account_id, region=ctx.region
            )
        )
    node_labels = mapping.dedicated_labels(ctx.account_id, ctx.region, cluster.name)
    node_labels.update(
        {attributes.label_key(k): attributes.label_value(k, v) for k, v in custom.items()}
    )
    fields: dict[str, Any] = {"labels": node_labels, **_resources(params)}
    name = instance_id.lower()
    if name and k8s_grammar.is_dns1123_subdomain(name):
        fields["name"] = name
    zone = document.get("availabilityZone") or _builtin(params, attributes.AVAILABILITY_ZONE)
    if zone:
        fields["zone"] = str(zone)
    instance_type = document.get("instanceType") or _builtin(params, attributes.INSTANCE_TYPE)
    if instance_type:
        fields["instance_type"] = str(instance_type)
    arch = document.get("architecture") or _builtin(params, attributes.CPU_ARCHITECTURE)
    if arch:
        fields["arch"] = _ARCHITECTURES.get(str(arch), str(arch))
    os_type = _builtin(params, attributes.OS_TYPE)
    if os_type:
        fields["os"] = os_type
    backend = ctx.backend
    assert isinstance(backend, MemoryBackend)
    node = backend.add_node(NodeSpec(**fields))
    annotations: dict[str, str] = {ANN_REGISTERED: "true"}
    if instance_id:
        annotations[mapping.ANN_EC2_INSTANCE_ID] = instance_id
    if custom:
        recorded = attributes.attributes_patch({}, put=custom)["metadata"]["annotations"]
        annotations.update({k: v for k, v in recorded.items() if v})
    if tags:
        annotations[labels.ANN_TAGS] = task_keys.dump(tagging.merge_tags([], tags))
    return backend.patch(
        kinds.NODE, node["metadata"]["name"], {"metadata": {"annotations": annotations}}
    )
