"""Service defaulting and allocation: cluster IPs and node ports, as the API server assigns them."""

from __future__ import annotations

import ipaddress
from typing import Any

Object = dict[str, Any]

_SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
_NODE_PORTS = range(30000, 32768)
_ALLOCATED = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")


class ServiceAllocator:
    """Hands out cluster IPs (skipping ``10.96.0.1``, the API server's) and node ports."""

    def __init__(self) -> None:
        self._next_ip = 10  # 10.96.0.10 is the cluster DNS address on most clusters
        self._ips: set[str] = {"10.96.0.1", "10.96.0.10"}
        self._ports: set[int] = set()
        self._next_port = _NODE_PORTS.start

    def _ip(self) -> str:
        while True:
            self._next_ip += 1
            address = str(_SERVICE_CIDR[self._next_ip % _SERVICE_CIDR.num_addresses])
            if address not in self._ips:
                self._ips.add(address)
                return address

    def _port(self) -> int:
        for _ in range(len(_NODE_PORTS)):
            port = self._next_port
            self._next_port = port + 1 if port + 1 < _NODE_PORTS.stop else _NODE_PORTS.start
            if port not in self._ports:
                self._ports.add(port)
                return port
        raise RuntimeError("no free node port")

    def on_create(self, service: Object) -> None:
        self._default(service)
        service["status"] = {"loadBalancer": {}}

    def on_update(self, old: Object, new: Object) -> None:
        """Keep what was allocated when the client leaves it out (``patchAllocatedValues``)."""
        old_spec, spec = old.get("spec") or {}, new.setdefault("spec", {})
        if spec.get("type", "ClusterIP") != "ExternalName":
            for field in _ALLOCATED:
                if field in old_spec and not spec.get(field):
                    spec[field] = old_spec[field]
        previous = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old_spec.get("ports") or ()
        }
        for port in spec.get("ports") or ():
            kept = previous.get((port.get("port"), port.get("protocol", "TCP")))
            if kept and not port.get("nodePort"):
                port["nodePort"] = kept
        self._default(new)

    def _default(self, service: Object) -> None:
        spec = service.setdefault("spec", {})
        kind = spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or ():
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            if kind in ("NodePort", "LoadBalancer"):
                if port.get("nodePort"):
                    self._ports.add(port["nodePort"])
                else:
                    port["nodePort"] = self._port()
        if kind == "ExternalName":
            return
        if not spec.get("clusterIP"):
            spec["clusterIP"] = self._ip()
        elif spec["clusterIP"] != "None":
            self._ips.add(spec["clusterIP"])
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec["clusterIP"] != "None":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        if kind in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if kind == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
