"""ECS service load balancers -> Services, and Ingresses for ALB-style target groups.

Each ``loadBalancers`` entry (``targetGroupArn`` or ``loadBalancerName``, ``containerName``,
``containerPort``; the container must map that port, else ``MappingError`` with ECS's
wording) becomes objects named ``names.dns_label(<target group or load balancer name>,
<account>, <region>, <cluster>, <service>, <ARN or name>, <container>, <port>,
letter_first=True)`` in the cluster's namespace, selecting the service's tasks and sending
traffic to the container port on the pod IP:

- **ALB-style** (application load balancer target group): a ClusterIP Service + an Ingress
  (``ingressClassName: alb``, default backend = that Service; annotation
  ``alb.ingress.kubernetes.io/target-type: ip``), which the AWS Load Balancer Controller turns
  into an ALB, and any other ingress controller into its own proxy;
- **NLB-style** (network load balancer target group): a Service of type LoadBalancer with the
  AWS Load Balancer Controller's NLB annotations (``aws-load-balancer-type: external``,
  ``aws-load-balancer-nlb-target-type: ip``);
- **Classic ELB** (``loadBalancerName`` without a target group): a Service of type
  LoadBalancer without annotations (the in-tree AWS provider makes a Classic ELB).

A target group ARN does not say whether it belongs to an ALB or an NLB, so the kind is chosen
by this rule, first match wins (:func:`kind_of`):

1. ``loadBalancerName`` without ``targetGroupArn`` -> Classic;
2. the ECS service tag ``kecs.dev/load-balancer-type`` = ``alb``/``application`` or
   ``nlb``/``network`` (applies to every entry of the service);
3. the container port mapping's protocol ``udp`` -> NLB (only NLBs carry UDP);
4. the port mapping's ``appProtocol`` (``http``, ``http2``, ``grpc``) -> ALB;
5. a word of the target group name (split at ``-``, ``_`` and ``.``) among ``nlb``, ``net``,
   ``network``, ``tcp``, ``udp``, ``tls`` -> NLB;
6. otherwise ALB (the usual companion of an ECS service).

The target group ARN (or load balancer name) is kept in the annotation
``kecs.dev/target-group-arn`` (``kecs.dev/load-balancer-name``) for an operator who binds an
existing target group (the controller's ``TargetGroupBinding``).

``healthCheckGracePeriodSeconds`` is honoured on the pods (see
:mod:`kecs.mapping.service_workload`: liveness probes wait that long), not on these objects:
a load balancer sends traffic to ready pods only, which is what ECS's target health means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kecs.mapping import labels, names, task_keys
from kecs.mapping.errors import MappingError

ALB = "ALB"
NLB = "NLB"
CLASSIC = "CLASSIC"
RESOURCE = "load-balancer"
MAX_TARGET_GROUPS = 5
TYPE_TAG = f"{labels.DOMAIN}/load-balancer-type"
ANN_TARGET_GROUP_ARN = f"{labels.DOMAIN}/target-group-arn"
ANN_LOAD_BALANCER_NAME = f"{labels.DOMAIN}/load-balancer-name"
INGRESS_CLASS = "alb"
ALB_ANNOTATIONS = {"alb.ingress.kubernetes.io/target-type": "ip"}
NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
}
_TAG_KINDS = {"alb": ALB, "application": ALB, "nlb": NLB, "network": NLB}
_NLB_WORDS = frozenset({"nlb", "net", "network", "tcp", "udp", "tls"})
_ALB_PROTOCOLS = frozenset({"http", "http2", "grpc"})


def target_group_name(arn: str) -> str:
    """``<name>`` of ``arn:aws:elasticloadbalancing:<r>:<a>:targetgroup/<name>/<id>``."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "targetgroup" else parts[-1]


def _port_mapping(task_definition: Mapping[str, Any], container: str, port: int) -> dict[str, Any]:
    for definition in task_definition.get("containerDefinitions") or ():
        if definition.get("name") != container:
            continue
        for mapping in definition.get("portMappings") or ():
            if mapping.get("containerPort") == port:
                return dict(mapping)
        raise MappingError(
            f"The container {container} does not have a container port {port} defined."
        )
    raise MappingError(f"The container {container} does not exist in the task definition.")


def kind_of(
    entry: Mapping[str, Any],
    mapping: Mapping[str, Any],
    tags: Sequence[Mapping[str, str]] = (),
) -> str:
    """ALB, NLB or CLASSIC for one ``loadBalancers`` entry (the rule in the module docs)."""
    if entry.get("loadBalancerName") and not entry.get("targetGroupArn"):
        return CLASSIC
    for tag in tags:
        if tag.get("key") == TYPE_TAG:
            chosen = _TAG_KINDS.get(str(tag.get("value", "")).lower())
            if chosen:
                return chosen
    if str(mapping.get("protocol", "tcp")).lower() == "udp":
        return NLB
    if str(mapping.get("appProtocol", "")).lower() in _ALB_PROTOCOLS:
        return ALB
    words = set(re.split(r"[-_.]+", target_group_name(str(entry.get("targetGroupArn"))).lower()))
    if words & _NLB_WORDS:
        return NLB
    return ALB


def object_name(
    entry: Mapping[str, Any], *, account: str, region: str, cluster_name: str, service_name: str
) -> str:
    """The name of the Service (and Ingress) of one ``loadBalancers`` entry."""
    arn = entry.get("targetGroupArn")
    source = str(arn or entry.get("loadBalancerName") or "")
    readable = target_group_name(source) if arn else source
    return names.dns_label(
        readable,
        account,
        region,
        cluster_name,
        service_name,
        source,
        str(entry.get("containerName", "")),
        str(entry.get("containerPort", "")),
        letter_first=True,
    )


def load_balancer_objects(
    spec: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    *,
    namespace: str,
    account: str,
    region: str,
    cluster_name: str,
) -> list[dict[str, Any]]:
    """Services and Ingresses for the ECS service ``spec``'s ``loadBalancers``."""
    entries = list(spec.get("loadBalancers") or ())
    if len(entries) > MAX_TARGET_GROUPS:
        raise MappingError(
            f"A service can be attached to at most {MAX_TARGET_GROUPS} target groups."
        )
    service_name = str(spec.get("serviceName", ""))
    tags = [t for t in spec.get("tags") or () if isinstance(t, Mapping)]
    out: list[dict[str, Any]] = []
    for entry in entries:
        container, port = entry.get("containerName"), entry.get("containerPort")
        if not container or not isinstance(port, int):
            raise MappingError(
                "containerName and containerPort must be specified for each load balancer."
            )
        mapping = _port_mapping(task_definition, str(container), port)
        kind = kind_of(entry, mapping, tags)
        name = object_name(
            entry,
            account=account,
            region=region,
            cluster_name=cluster_name,
            service_name=service_name,
        )
        meta = _metadata(name, namespace, account, region, cluster_name, service_name, entry)
        out.append(_service(meta, kind, service_name, port, mapping))
        if kind == ALB:
            out.append(_ingress(meta, name, port))
    return out


def _metadata(
    name: str,
    namespace: str,
    account: str,
    region: str,
    cluster_name: str,
    service_name: str,
    entry: Mapping[str, Any],
) -> dict[str, Any]:
    object_labels = labels.ownership(account, region, RESOURCE)
    object_labels[labels.CLUSTER] = names.label_value(cluster_name)
    object_labels[labels.SERVICE] = names.label_value(service_name)
    annotations = {task_keys.SERVICE_NAME: service_name, task_keys.CLUSTER_NAME: cluster_name}
    if entry.get("targetGroupArn"):
        annotations[ANN_TARGET_GROUP_ARN] = str(entry["targetGroupArn"])
    if entry.get("loadBalancerName"):
        annotations[ANN_LOAD_BALANCER_NAME] = str(entry["loadBalancerName"])
    return {
        "name": name,
        "namespace": namespace,
        "labels": object_labels,
        "annotations": annotations,
    }


def _service(
    meta: Mapping[str, Any], kind: str, service_name: str, port: int, mapping: Mapping[str, Any]
) -> dict[str, Any]:
    protocol = "UDP" if str(mapping.get("protocol", "tcp")).lower() == "udp" else "TCP"
    service_port: dict[str, Any] = {
        "name": f"{protocol.lower()}-{port}",
        "port": port,
        "targetPort": port,
        "protocol": protocol,
    }
    if mapping.get("appProtocol"):
        service_port["appProtocol"] = str(mapping["appProtocol"]).lower()
    metadata = {**meta, "annotations": dict(meta["annotations"])}
    if kind == NLB:
        metadata["annotations"].update(NLB_ANNOTATIONS)
    selector = {labels.SERVICE: names.label_value(service_name), labels.RESOURCE: "task"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "type": "ClusterIP" if kind == ALB else "LoadBalancer",
            "selector": selector,
            "ports": [service_port],
        },
    }


def _ingress(meta: Mapping[str, Any], service: str, port: int) -> dict[str, Any]:
    metadata = {**meta, "annotations": {**meta["annotations"], **ALB_ANNOTATIONS}}
    backend = {"service": {"name": service, "port": {"number": port}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {"ingressClassName": INGRESS_CLASS, "defaultBackend": backend},
    }


def load_balancer_selector(service_name: str) -> dict[str, str]:
    """Labels selecting the load balancer objects of one ECS service (for cleanup)."""
    return {labels.RESOURCE: RESOURCE, labels.SERVICE: names.label_value(service_name)}
