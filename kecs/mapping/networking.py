"""Task networking: awsvpc configuration, ENI attachments, and DNS names other tasks can use.

``networkConfiguration.awsvpcConfiguration`` (subnets, security groups, assignPublicIp) has no
effect on a pod network; it is kept whole in the pod's ``kecs.dev/network-configuration``
annotation (written by :mod:`kecs.mapping.task_pod`) and readably in
:func:`pod_annotations` (``kecs.dev/subnets``, ``kecs.dev/security-groups``,
``kecs.dev/assign-public-ip``), and it shapes the ENI attachment DescribeTasks reports
(:func:`eni_attachment`): the subnet is one of the configured subnets, picked by the task id
(ECS spreads tasks over the subnets it is given), and the ENI's private address is the pod IP.

Service discovery (``serviceRegistries``, Cloud Map): one *headless* Service per service,
named :func:`dns_service_name` of the ECS service name (Cloud Map's service name is not in its
ARN), selecting the service's tasks. A headless Service answers DNS with every ready task's
IP, as a Cloud Map A record does; with a ``port`` or ``containerPort`` the Service gets a
named port (``<protocol>-<port>``) so cluster DNS also serves SRV records
(``_tcp-80._tcp.<name>``), as a Cloud Map SRV record does. Without one it has no ports (A
records only).

Service Connect (``serviceConnectConfiguration``, enabled, with ``services``): per entry, the
entry's ``portName`` is looked up in the task definition's ``portMappings`` (an unknown name
is refused); a *ClusterIP* Service (Service Connect load-balances through its proxy, a
ClusterIP does the same) named :func:`dns_service_name` of the ``discoveryName`` (default: the
port name), port = container port; and one per ``clientAliases`` entry named from its
``dnsName`` (default: the discovery name), port = the alias port, target = the container
port. Names that map to the same Service share it (ports merged).

:func:`dns_service_name`: the DNS name with ASCII letters lower-cased, without a trailing dot
and without the Service Connect namespace suffix (``api.internal`` in namespace ``internal``
-> ``api``); kept when it is a DNS-1035 label (so ``api`` resolves as ``api`` in the
cluster's namespace, and as ``api.<namespace>`` from other namespaces), else
``names.dns_label(...)`` (readable + 10 hex): a dotted name that is not
``<label>.<namespace>`` cannot be a Service name; its exact spelling is kept in the
annotation ``kecs.dev/dns-name`` so a cluster DNS rewrite can point it at the Service.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from kecs import k8s_grammar
from kecs.mapping import ids, labels, names, task_keys
from kecs.mapping.common import Note
from kecs.mapping.errors import MappingError

DISCOVERY_RESOURCE = "service-discovery"
ANN_SUBNETS = f"{labels.DOMAIN}/subnets"
ANN_SECURITY_GROUPS = f"{labels.DOMAIN}/security-groups"
ANN_ASSIGN_PUBLIC_IP = f"{labels.DOMAIN}/assign-public-ip"
ANN_DNS_NAME = f"{labels.DOMAIN}/dns-name"
ANN_REGISTRY_ARN = f"{labels.DOMAIN}/registry-arn"
ANN_SERVICE_CONNECT_NAMESPACE = f"{labels.DOMAIN}/service-connect-namespace"


def _awsvpc(network_configuration: Mapping[str, Any] | None) -> Mapping[str, Any]:
    value = (network_configuration or {}).get("awsvpcConfiguration")
    return value if isinstance(value, Mapping) else {}


def pod_annotations(network_configuration: Mapping[str, Any] | None) -> dict[str, str]:
    """Readable annotations for a task pod's awsvpc configuration (empty without one)."""
    vpc = _awsvpc(network_configuration)
    if not vpc:
        return {}
    out = {
        ANN_SUBNETS: ",".join(str(s) for s in vpc.get("subnets") or ()),
        ANN_SECURITY_GROUPS: ",".join(str(s) for s in vpc.get("securityGroups") or ()),
        ANN_ASSIGN_PUBLIC_IP: str(vpc.get("assignPublicIp") or "DISABLED"),
    }
    return {k: v for k, v in out.items() if v}


def subnet_for(task_id: str, network_configuration: Mapping[str, Any] | None) -> str | None:
    """The subnet a task's ENI is in: one of the configured subnets, chosen by the task id."""
    subnets = [str(s) for s in _awsvpc(network_configuration).get("subnets") or () if s]
    if not subnets:
        return None
    return subnets[int(names.digest("subnet", task_id), 16) % len(subnets)]


def eni_attachment(
    task_id: str,
    *,
    last_status: str,
    pod_ip: str | None,
    network_configuration: Mapping[str, Any] | None,
    region: str,
) -> dict[str, Any]:
    """The ``ElasticNetworkInterface`` attachment of an awsvpc task."""
    if last_status == "STOPPED":
        status = "DELETED"
    elif last_status == "DEPROVISIONING":
        status = "DETACHING"
    elif pod_ip:
        status = "ATTACHED"
    else:
        status = "PRECREATED"
    details = []
    subnet = subnet_for(task_id, network_configuration)
    if subnet:
        details.append({"name": "subnetId", "value": subnet})
    details.append({"name": "networkInterfaceId", "value": ids.eni_id(task_id)})
    details.append({"name": "macAddress", "value": ids.mac_address(task_id)})
    if pod_ip:
        dns = f"ip-{pod_ip.replace('.', '-').replace(':', '-')}.{region}.compute.internal"
        details.append({"name": "privateDnsName", "value": dns})
        details.append({"name": "privateIPv4Address", "value": pod_ip})
    attachment = {"id": ids.attachment_id(task_id), "type": "ElasticNetworkInterface"}
    return {**attachment, "status": status, "details": details}


# -- DNS names -----------------------------------------------------------------------------------


def _ascii_lower(text: str) -> str:
    """DNS folds case of ASCII letters only."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def dns_service_name(dns_name: str, namespace: str | None = None) -> str:
    """The Service (a DNS-1035 label) that answers for ``dns_name`` (see the module docs)."""
    text = _ascii_lower(dns_name.strip().rstrip("."))
    if namespace and not namespace.startswith("arn:"):
        suffix = "." + _ascii_lower(namespace.strip().rstrip("."))
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    if k8s_grammar.is_dns1035_label(text):
        return text
    return names.dns_label(text, "dns-name", text, letter_first=True)


def _port_mapping(task_definition: Mapping[str, Any], port_name: str) -> Mapping[str, Any]:
    for definition in task_definition.get("containerDefinitions") or ():
        for mapping in definition.get("portMappings") or ():
            if mapping.get("name") == port_name and isinstance(mapping.get("containerPort"), int):
                return dict(mapping)
    raise MappingError(
        f"The Service Connect portName {port_name} does not match the name of any port "
        "mapping in the task definition."
    )


def _container_port(
    task_definition: Mapping[str, Any], container: str | None, port: int | None
) -> Mapping[str, Any] | None:
    for definition in task_definition.get("containerDefinitions") or ():
        if container and definition.get("name") != container:
            continue
        for mapping in definition.get("portMappings") or ():
            if mapping.get("containerPort") == port:
                return dict(mapping)
    return None


def _service_port(port: int, target: int, mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    protocol = "UDP" if str((mapping or {}).get("protocol", "tcp")).lower() == "udp" else "TCP"
    entry: dict[str, Any] = {
        "name": f"{protocol.lower()}-{port}",
        "port": port,
        "targetPort": target,
        "protocol": protocol,
    }
    if (mapping or {}).get("appProtocol"):
        entry["appProtocol"] = str((mapping or {})["appProtocol"]).lower()
    return entry


class _Services:
    """Services by name, in the order first wanted; ports merged when names meet."""

    def __init__(self, *, namespace: str, account: str, region: str, cluster: str, service: str):
        self.namespace, self.account, self.region = namespace, account, region
        self.cluster, self.service = cluster, service
        self.objects: dict[str, dict[str, Any]] = {}
        self.notes: list[Note] = []

    def want(
        self,
        name: str,
        *,
        headless: bool,
        port: dict[str, Any] | None,
        annotations: Mapping[str, str],
        path: str,
    ) -> None:
        existing = self.objects.get(name)
        if existing is None:
            existing = self._new(name, headless, annotations)
            self.objects[name] = existing
        elif (existing["spec"].get("clusterIP") == "None") != headless:
            self.notes.append(Note(path, f"Service {name} is already used by another entry"))
            return
        if port is None:
            return
        ports = existing["spec"].setdefault("ports", [])
        if any(p["port"] == port["port"] and p["protocol"] == port["protocol"] for p in ports):
            return
        ports.append(port)
        ports.sort(key=lambda p: (p["port"], p["protocol"]))

    def _new(self, name: str, headless: bool, annotations: Mapping[str, str]) -> dict[str, Any]:
        object_labels = labels.ownership(self.account, self.region, DISCOVERY_RESOURCE)
        object_labels[labels.CLUSTER] = names.label_value(self.cluster)
        object_labels[labels.SERVICE] = names.label_value(self.service)
        selector = {labels.SERVICE: names.label_value(self.service), labels.RESOURCE: "task"}
        spec: dict[str, Any] = {"selector": selector}
        if headless:
            spec.update(clusterIP="None", publishNotReadyAddresses=False)
        else:
            spec["type"] = "ClusterIP"
        all_annotations = {
            task_keys.SERVICE_NAME: self.service,
            task_keys.CLUSTER_NAME: self.cluster,
            **annotations,
        }
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": object_labels,
                "annotations": all_annotations,
            },
            "spec": spec,
        }


def discovery_services(
    spec: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    *,
    namespace: str,
    account: str,
    region: str,
    cluster_name: str,
    default_service_connect_namespace: str | None = None,
) -> tuple[list[dict[str, Any]], tuple[Note, ...]]:
    """The Services that give an ECS service's tasks DNS names (Service Connect first).

    ``spec``: the ECS service (``serviceName``, ``serviceConnectConfiguration``,
    ``serviceRegistries``); ``default_service_connect_namespace``: the cluster's
    ``serviceConnectDefaults.namespace``. Raises :class:`MappingError` for an unknown
    ``portName``.
    """
    service_name = str(spec.get("serviceName", ""))
    out = _Services(
        namespace=namespace,
        account=account,
        region=region,
        cluster=cluster_name,
        service=service_name,
    )
    connect = spec.get("serviceConnectConfiguration") or {}
    if connect.get("enabled"):
        sc_namespace = connect.get("namespace") or default_service_connect_namespace
        for index, entry in enumerate(connect.get("services") or ()):
            _connect_entry(out, entry, task_definition, sc_namespace, f"{index}")
    for index, registry in enumerate(spec.get("serviceRegistries") or ()):
        path = f"serviceRegistries[{index}]"
        port = registry.get("port") or registry.get("containerPort")
        mapping = _container_port(
            task_definition, registry.get("containerName"), registry.get("containerPort")
        )
        target = registry.get("containerPort") or port
        out.want(
            dns_service_name(service_name),
            headless=True,
            port=_service_port(int(port), int(target), mapping) if port else None,
            annotations={ANN_REGISTRY_ARN: str(registry.get("registryArn", ""))},
            path=path,
        )
    return list(out.objects.values()), tuple(out.notes)


def _connect_entry(
    out: _Services,
    entry: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    sc_namespace: str | None,
    index: str,
) -> None:
    path = f"serviceConnectConfiguration.services[{index}]"
    port_name = str(entry.get("portName", ""))
    mapping = _port_mapping(task_definition, port_name)
    container_port = int(mapping["containerPort"])
    discovery = str(entry.get("discoveryName") or port_name)
    notes = {ANN_SERVICE_CONNECT_NAMESPACE: sc_namespace} if sc_namespace else {}
    out.want(
        dns_service_name(discovery, sc_namespace),
        headless=False,
        port=_service_port(container_port, container_port, mapping),
        annotations={ANN_DNS_NAME: discovery, **notes},
        path=path,
    )
    for alias in entry.get("clientAliases") or ():
        dns_name = str(alias.get("dnsName") or discovery)
        port = int(alias.get("port") or container_port)
        out.want(
            dns_service_name(dns_name, sc_namespace),
            headless=False,
            port=_service_port(port, container_port, mapping),
            annotations={ANN_DNS_NAME: dns_name, **notes},
            path=path,
        )


def discovery_selector(service_name: str) -> dict[str, str]:
    """Labels selecting the discovery Services of one ECS service (for cleanup)."""
    return {labels.RESOURCE: DISCOVERY_RESOURCE, labels.SERVICE: names.label_value(service_name)}
