"""``portMappings`` -> container ``ports``.

- ``protocol`` tcp/udp -> TCP/UDP (anything else: TCP, noted).
- ``hostPort`` only in ``bridge`` and ``host`` modes (``host``: always equal to the container
  port, as Kubernetes requires with ``hostNetwork``); ``0`` or absent in ``bridge`` means a
  dynamic host port, which Kubernetes does not have: omitted, noted. In ``awsvpc``/``none`` a
  host port equal to the container port is implied by the pod IP.
- ``containerPortRange`` "a-b" is expanded when it spans at most :data:`MAX_RANGE` ports.
- ``name`` -> a port name: kept when it is an IANA service name (<= 15 characters) not yet
  used in the pod, else :func:`port_name`. ``appProtocol`` and the exact ECS names go to the
  ``kecs.dev/port-mappings`` annotation (see :mod:`kecs.mapping.taskdef`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kecs import k8s_grammar
from kecs.mapping import names
from kecs.mapping.common import Notes, integer, records, text

MAX_RANGE = 64
_RANGE = re.compile(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*")
_PROTOCOLS = {"tcp": "TCP", "udp": "UDP"}


def port_name(ecs_name: str, salt: str = "") -> str:
    """A legal IANA service name for ``ecs_name``: ``<up to 4 readable>-<10 hex>`` (<= 15)."""
    readable = re.sub("-+", "-", names.readable(ecs_name))[:4].strip("-")
    if not any(c.isalpha() for c in readable):
        readable = "p"
    return f"{readable}-{names.digest(ecs_name, salt)}"


class PortPlanner:
    """Pod-wide state: used port names and host ports (both must be unique in a pod)."""

    def __init__(self, network_mode: str, notes: Notes) -> None:
        self.network_mode = network_mode
        self.notes = notes
        self._names: set[str] = set()
        self._host_ports: set[tuple[int, str]] = set()
        self.metadata: list[dict[str, Any]] = []

    def _name(self, ecs_name: str) -> str:
        candidate = ecs_name
        salt = 0
        while not k8s_grammar.is_iana_svc_name(candidate) or candidate in self._names:
            candidate = port_name(ecs_name, str(salt) if salt else "")
            salt += 1
        self._names.add(candidate)
        return candidate

    def container_ports(
        self, definition: Mapping[str, Any], container: str, path: str
    ) -> list[dict[str, Any]]:
        ports: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for i, mapping in enumerate(records(definition, "portMappings")):
            where = f"{path}.portMappings[{i}]"
            for port in self._expand(mapping, where):
                protocol_text = text(mapping, "protocol") or "tcp"
                protocol = _PROTOCOLS.get(protocol_text.lower())
                if protocol is None:
                    self.notes.add(where, f"protocol {protocol_text!r} unknown; TCP used")
                    protocol = "TCP"
                if (port, protocol) in seen:
                    self.notes.add(where, f"duplicate port {port}/{protocol}; dropped")
                    continue
                seen.add((port, protocol))
                entry: dict[str, Any] = {"containerPort": port, "protocol": protocol}
                ecs_name = text(mapping, "name")
                if ecs_name is not None and "containerPortRange" not in mapping:
                    entry["name"] = self._name(ecs_name)
                    if entry["name"] != ecs_name:
                        self.notes.add(
                            where,
                            f"port name {ecs_name!r} is not a unique IANA service name; "
                            f"named {entry['name']!r}",
                        )
                keep, host_port = self._host_port(mapping, port, protocol, where)
                if not keep:
                    continue
                if host_port is not None:
                    entry["hostPort"] = host_port
                ports.append(entry)
                app_protocol = text(mapping, "appProtocol")
                if ecs_name is not None or app_protocol is not None:
                    meta: dict[str, Any] = {"container": container, "containerPort": port}
                    meta["protocol"] = protocol
                    if ecs_name is not None:
                        meta["name"] = ecs_name
                        if "name" in entry:
                            meta["portName"] = entry["name"]
                    if app_protocol is not None:
                        meta["appProtocol"] = app_protocol
                    self.metadata.append(meta)
        return ports

    def _expand(self, mapping: Mapping[str, Any], where: str) -> list[int]:
        port = integer(mapping, "containerPort")
        port_range = text(mapping, "containerPortRange")
        if port is not None:
            if 1 <= port <= 65535:
                return [port]
            self.notes.add(where, f"containerPort {port} is outside 1-65535; dropped")
            return []
        if port_range is None:
            self.notes.add(where, "no containerPort or containerPortRange; dropped")
            return []
        match = _RANGE.fullmatch(port_range)
        low, high = (int(match.group(1)), int(match.group(2))) if match else (0, -1)
        if not (match and 1 <= low <= high <= 65535):
            self.notes.add(where, f"containerPortRange {port_range!r} is not a port range; dropped")
            return []
        if high - low + 1 > MAX_RANGE:
            self.notes.add(
                where,
                f"containerPortRange {port_range!r} spans more than {MAX_RANGE} ports; "
                "not listed (the ports still work: listing is informational in Kubernetes)",
            )
            return []
        return list(range(low, high + 1))

    def _host_port(
        self, mapping: Mapping[str, Any], port: int, protocol: str, where: str
    ) -> tuple[bool, int | None]:
        """Whether to keep the port, and its host port."""
        wanted = integer(mapping, "hostPort")
        if self.network_mode == "host":
            if wanted not in (None, port):
                self.notes.add(
                    where,
                    f"hostPort {wanted} differs from containerPort {port} in host mode; "
                    "the container port is used",
                )
            # With hostNetwork every listed port is a host port; a clash must drop the port.
            claimed = self._claim(port, protocol, where)
            return claimed is not None, claimed
        return True, self._bridge_host_port(wanted, port, protocol, where)

    def _bridge_host_port(
        self, wanted: int | None, port: int, protocol: str, where: str
    ) -> int | None:
        if self.network_mode == "bridge":
            if wanted is None or wanted == 0:
                self.notes.add(
                    where,
                    "dynamic host port (hostPort 0 or absent in bridge mode) has no "
                    "Kubernetes equivalent; reach the container through the pod IP or a Service",
                )
                return None
            if not 1 <= wanted <= 65535:
                self.notes.add(where, f"hostPort {wanted} is outside 1-65535; dropped")
                return None
            return self._claim(wanted, protocol, where)
        if wanted not in (None, 0, port):
            self.notes.add(
                where,
                f"hostPort {wanted} differs from containerPort {port}; ignored in "
                f"{self.network_mode} mode (the pod IP serves the container port)",
            )
        return None

    def _claim(self, host_port: int, protocol: str, where: str) -> int | None:
        if (host_port, protocol) in self._host_ports:
            self.notes.add(
                where, f"host port {host_port}/{protocol} already used in the task; dropped"
            )
            return None
        self._host_ports.add((host_port, protocol))
        return host_port
