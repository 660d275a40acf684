"""Pod-wide fields: network/PID/IPC modes, DNS, hosts, sysctls, grace period, platform.

Several of these are per container in ECS but per pod in Kubernetes; the merge rule is noted
where containers disagree (first value wins for single values, union in order for lists).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from kecs import k8s_grammar
from kecs.mapping.common import Notes, flag, integer, record, records, strings, text

NETWORK_MODES = ("bridge", "host", "awsvpc", "none")
MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
_SYSCTL = re.compile(r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?")
#: Sysctls Kubernetes allows by default; others need the kubelet's --allowed-unsafe-sysctls.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
_IPC_SYSCTL_PREFIXES = ("kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue.")
_ARCH = {"X86_64": "amd64", "ARM64": "arm64"}
#: Windows Server releases -> the node label kubelet sets (node.kubernetes.io/windows-build).
_WINDOWS_BUILD = {
    "2016": "10.0.14393",
    "2019": "10.0.17763",
    "2004": "10.0.19041",
    "20H2": "10.0.19042",
    "2022": "10.0.20348",
    "2025": "10.0.26100",
}


def network_mode(task: Mapping[str, Any], notes: Notes) -> str:
    """The effective ECS network mode (absent -> bridge, the Linux EC2 default)."""
    mode = text(task, "networkMode")
    if mode is None:
        return "bridge"
    if mode not in NETWORK_MODES:
        notes.add("networkMode", f"unknown network mode {mode!r}; treated as awsvpc")
        return "awsvpc"
    return mode


def namespaces(
    task: Mapping[str, Any], definitions: list[Mapping[str, Any]], mode: str, notes: Notes
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if mode == "host":
        spec["hostNetwork"] = True
    elif mode == "none":
        notes.add("networkMode", "none: pods always have a network; the pod gets one")
    elif mode == "bridge" and len(definitions) > 1:
        notes.add(
            "networkMode", "bridge: containers of a pod share one network namespace (localhost)"
        )
    pid = text(task, "pidMode")
    if pid == "host":
        spec["hostPID"] = True
    elif pid == "task":
        spec["shareProcessNamespace"] = True
    elif pid is not None:
        notes.add("pidMode", f"unknown pidMode {pid!r}; ignored")
    ipc = text(task, "ipcMode")
    if ipc == "host":
        spec["hostIPC"] = True
    elif ipc == "none":
        notes.add("ipcMode", "none: containers of a pod always share IPC; not applied")
    elif ipc not in (None, "task"):
        notes.add("ipcMode", f"unknown ipcMode {ipc!r}; ignored")
    for index, definition in enumerate(definitions):
        linux = record(definition, "linuxParameters") or {}
        if flag(linux, "initProcessEnabled"):
            where = f"containerDefinitions[{index}].linuxParameters.initProcessEnabled"
            if spec.get("hostPID"):
                notes.add(where, "no init process with pidMode host; not applied")
            else:
                spec["shareProcessNamespace"] = True
                notes.add(
                    where, "approximated by shareProcessNamespace (the pause process reaps zombies)"
                )
    return spec


def hostname(definitions: list[Mapping[str, Any]], notes: Notes) -> dict[str, Any]:
    chosen: str | None = None
    for index, definition in enumerate(definitions):
        name = text(definition, "hostname")
        if name is None:
            continue
        where = f"containerDefinitions[{index}].hostname"
        if not k8s_grammar.is_dns1123_label(name):
            notes.add(where, f"{name!r} is not a DNS-1123 label; not used as pod hostname")
        elif chosen is None:
            chosen = name
        elif name != chosen:
            notes.add(where, f"the pod has one hostname; {chosen!r} is used")
    return {"hostname": chosen} if chosen else {}


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if "%" not in value else None
    except ValueError:
        return None


def _host(value: str) -> str | None:
    lowered = value.lower().rstrip(".")
    return lowered if k8s_grammar.is_dns1123_subdomain(lowered) else None


def dns(definitions: list[Mapping[str, Any]], mode: str, notes: Notes) -> dict[str, Any]:
    servers: list[str] = []
    searches: list[str] = []
    setters = 0
    for index, definition in enumerate(definitions):
        path = f"containerDefinitions[{index}]"
        if strings(definition, "dnsServers") or strings(definition, "dnsSearchDomains"):
            setters += 1
        for i, server in enumerate(strings(definition, "dnsServers")):
            ip = _ip(server)
            if ip is None:
                notes.add(f"{path}.dnsServers[{i}]", f"{server!r} is not an IP address; dropped")
            elif ip not in servers:
                if len(servers) == MAX_NAMESERVERS:
                    notes.add(f"{path}.dnsServers[{i}]", "Kubernetes allows 3 nameservers; dropped")
                else:
                    servers.append(ip)
        for i, domain in enumerate(strings(definition, "dnsSearchDomains")):
            host = _host(domain)
            if host is None:
                notes.add(f"{path}.dnsSearchDomains[{i}]", f"{domain!r} is not a DNS name; dropped")
            elif host not in searches:
                too_long = len(" ".join([*searches, host])) > MAX_SEARCH_CHARS
                if len(searches) == MAX_SEARCHES or too_long:
                    notes.add(f"{path}.dnsSearchDomains[{i}]", "too many search domains; dropped")
                else:
                    searches.append(host)
    if setters > 1:
        notes.add("containerDefinitions", "DNS settings of all containers merged into the pod's")
    spec: dict[str, Any] = {}
    config: dict[str, Any] = {}
    if servers:
        config["nameservers"] = servers
        spec["dnsPolicy"] = "None"
    elif mode == "host":
        spec["dnsPolicy"] = "Default"
    if searches:
        config["searches"] = searches
    if config:
        spec["dnsConfig"] = config
    return spec


def host_aliases(definitions: list[Mapping[str, Any]], notes: Notes) -> dict[str, Any]:
    """``extraHosts`` grouped by IP, plus ``links`` as 127.0.0.1 aliases (pods share localhost)."""
    by_ip: dict[str, list[str]] = {}
    ecs_names = {text(d, "name") for d in definitions}

    def add(ip: str, host: str) -> None:
        hosts = by_ip.setdefault(ip, [])
        if host not in hosts:
            hosts.append(host)

    for index, definition in enumerate(definitions):
        path = f"containerDefinitions[{index}]"
        for i, entry in enumerate(records(definition, "extraHosts")):
            ip, host = _ip(text(entry, "ipAddress") or ""), _host(text(entry, "hostname") or "")
            if ip is None or host is None:
                notes.add(f"{path}.extraHosts[{i}]", "not an IP address and DNS name; dropped")
            else:
                add(ip, host)
        for i, link in enumerate(strings(definition, "links")):
            target, _, alias = link.partition(":")
            where = f"{path}.links[{i}]"
            if target not in ecs_names:
                notes.add(where, f"link to unknown container {target!r}; ignored")
                continue
            hosts = [h for h in (_host(target), _host(alias or target)) if h is not None]
            for host in hosts:
                add("127.0.0.1", host)
            notes.add(where, "containers of a pod share localhost; link names resolve to 127.0.0.1")
    aliases = [{"ip": ip, "hostnames": hosts} for ip, hosts in by_ip.items()]
    return {"hostAliases": aliases} if aliases else {}


def sysctls(
    definitions: list[Mapping[str, Any]], spec: Mapping[str, Any], notes: Notes
) -> list[dict[str, str]]:
    chosen: dict[str, str] = {}
    for index, definition in enumerate(definitions):
        for i, control in enumerate(records(definition, "systemControls")):
            where = f"containerDefinitions[{index}].systemControls[{i}]"
            name, value = text(control, "namespace") or "", text(control, "value")
            if not (_SYSCTL.fullmatch(name) and len(name) <= 253) or not value:
                notes.add(where, f"sysctl {name!r} = {value!r} is not a valid setting; dropped")
                continue
            if spec.get("hostNetwork") and name.startswith("net."):
                notes.add(where, f"{name}: network sysctls are not allowed with host networking")
                continue
            if spec.get("hostIPC") and name.startswith(_IPC_SYSCTL_PREFIXES):
                notes.add(where, f"{name}: IPC sysctls are not allowed with host IPC")
                continue
            if name in chosen and chosen[name] != value:
                notes.add(
                    where, f"{name}: sysctls are pod-wide; the first value {chosen[name]!r} wins"
                )
                continue
            if name not in SAFE_SYSCTLS and name not in chosen:
                notes.add(where, f"{name} is not a safe sysctl; the kubelet must allow it")
            chosen[name] = value
    return [{"name": name, "value": value} for name, value in chosen.items()]


def grace_period(definitions: list[Mapping[str, Any]], notes: Notes) -> dict[str, Any]:
    timeouts = []
    for index, definition in enumerate(definitions):
        timeout = integer(definition, "stopTimeout")
        if timeout is None:
            continue
        if not 0 <= timeout <= 2**31 - 1:
            notes.add(
                f"containerDefinitions[{index}].stopTimeout", f"{timeout} is out of range; ignored"
            )
        else:
            timeouts.append(timeout)
    if not timeouts:
        return {}
    if len(set(timeouts)) > 1:
        notes.add(
            "containerDefinitions", "stopTimeout is pod-wide in Kubernetes; the largest is used"
        )
    return {"terminationGracePeriodSeconds": max(timeouts)}


def node_selector(task: Mapping[str, Any], notes: Notes) -> tuple[dict[str, str], bool]:
    """nodeSelector from ``runtimePlatform``, and whether the task runs on Windows."""
    platform = record(task, "runtimePlatform") or {}
    selector: dict[str, str] = {}
    windows = False
    family = text(platform, "operatingSystemFamily")
    if family == "LINUX":
        selector["kubernetes.io/os"] = "linux"
    elif family is not None and family.startswith("WINDOWS_SERVER_"):
        windows = True
        selector["kubernetes.io/os"] = "windows"
        release = family.removeprefix("WINDOWS_SERVER_").split("_")[0]
        if release in _WINDOWS_BUILD:
            selector["node.kubernetes.io/windows-build"] = _WINDOWS_BUILD[release]
    elif family is not None:
        notes.add("runtimePlatform.operatingSystemFamily", f"unknown OS family {family!r}; ignored")
    arch = text(platform, "cpuArchitecture")
    if arch in _ARCH:
        selector["kubernetes.io/arch"] = _ARCH[arch]
    elif arch is not None:
        notes.add("runtimePlatform.cpuArchitecture", f"unknown architecture {arch!r}; ignored")
    return selector, windows
