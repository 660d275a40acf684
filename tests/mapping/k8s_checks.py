"""API-server rules the OpenAPI schema does not express (names, quantities, uniqueness...).

``problems(template)`` lists every violation found in a PodTemplateSpec, so property tests
can assert the mapping emits objects a real API server would accept, not only schema-valid
ones.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from kecs import k8s_grammar

QUANTITY = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?")
SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
SYSCTL = re.compile(r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?")
_MEM_UNITS = {"Mi": 2**20, "Gi": 2**30}


def _to_number(quantity: str) -> float:
    if quantity.endswith("m"):
        return int(quantity[:-1]) / 1000
    for suffix, factor in _MEM_UNITS.items():
        if quantity.endswith(suffix):
            return int(quantity[: -len(suffix)]) * factor
    return float(quantity)


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def problems(template: dict[str, Any]) -> list[str]:
    out: list[str] = []
    meta, spec = template.get("metadata", {}), template["spec"]
    for key, value in meta.get("labels", {}).items():
        if not k8s_grammar.is_qualified_name(key) or not k8s_grammar.is_label_value(value):
            out.append(f"label {key!r}={value!r}")
    annotations = meta.get("annotations", {})
    for key in annotations:
        if not k8s_grammar.is_qualified_name(key):
            out.append(f"annotation key {key!r}")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if size > k8s_grammar.ANNOTATIONS_MAX_BYTES:
        out.append("annotations too large")

    volumes = {v["name"] for v in spec.get("volumes", [])}
    if len(volumes) != len(spec.get("volumes", [])):
        out.append("duplicate volume names")
    for name in volumes:
        if not k8s_grammar.is_dns1123_label(name):
            out.append(f"volume name {name!r}")
    for v in spec.get("volumes", []):
        size_limit = v.get("emptyDir", {}).get("sizeLimit")
        if size_limit is not None and not QUANTITY.fullmatch(size_limit):
            out.append(f"sizeLimit {size_limit!r}")

    init = spec.get("initContainers", [])
    regular = spec["containers"]
    all_containers = init + regular
    names = [c["name"] for c in all_containers]
    if len(set(names)) != len(names):
        out.append(f"duplicate container names {names}")
    port_names: list[str] = []
    host_ports: list[tuple[int, str]] = []
    for c in all_containers:
        where = f"container {c['name']!r}"
        if not k8s_grammar.is_dns1123_label(c["name"]):
            out.append(f"{where}: name")
        if "image" in c and (not c["image"] or c["image"] != c["image"].strip()):
            out.append(f"{where}: image {c['image']!r}")
        for e in c.get("env", []):
            n = e["name"]
            if not n or "=" in n or not all(32 <= ord(ch) <= 126 for ch in n):
                out.append(f"{where}: env name {n!r}")
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None:
                if not k8s_grammar.is_dns1123_subdomain(ref["name"]):
                    out.append(f"{where}: secret name {ref['name']!r}")
                if not SECRET_KEY.fullmatch(ref["key"]) or len(ref["key"]) > 253:
                    out.append(f"{where}: secret key {ref['key']!r}")
        env_names = [e["name"] for e in c.get("env", [])]
        if len(set(env_names)) != len(env_names):
            out.append(f"{where}: duplicate env names")
        for p in c.get("ports", []):
            if not 1 <= p["containerPort"] <= 65535:
                out.append(f"{where}: containerPort {p['containerPort']}")
            if "name" in p:
                if not k8s_grammar.is_iana_svc_name(p["name"]):
                    out.append(f"{where}: port name {p['name']!r}")
                port_names.append(p["name"])
            effective_host = p.get(
                "hostPort", p["containerPort"] if spec.get("hostNetwork") else None
            )
            if spec.get("hostNetwork") and effective_host != p["containerPort"]:
                out.append(f"{where}: hostPort must equal containerPort with hostNetwork")
            if effective_host is not None:
                if not 1 <= effective_host <= 65535:
                    out.append(f"{where}: hostPort {effective_host}")
                host_ports.append((effective_host, p.get("protocol", "TCP")))
        mounts = c.get("volumeMounts", [])
        paths = [m["mountPath"] for m in mounts]
        if len(set(paths)) != len(paths):
            out.append(f"{where}: duplicate mountPath")
        for m in mounts:
            if m["name"] not in volumes:
                out.append(f"{where}: mount of unknown volume {m['name']!r}")
            if not m["mountPath"]:
                out.append(f"{where}: empty mountPath")
        res = c.get("resources", {})
        for section in ("requests", "limits"):
            for rname, q in res.get(section, {}).items():
                if not QUANTITY.fullmatch(q) or _to_number(q) <= 0:
                    out.append(f"{where}: {section}.{rname}={q!r}")
        for rname, q in res.get("requests", {}).items():
            limit = res.get("limits", {}).get(rname)
            if limit is not None and _to_number(q) > _to_number(limit):
                out.append(f"{where}: request {rname} {q} > limit {limit}")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe in c:
                if c in init and c.get("restartPolicy") != "Always":
                    out.append(f"{where}: {probe} on an init container")
                p = c[probe]
                if probe != "readinessProbe" and p.get("successThreshold", 1) != 1:
                    out.append(f"{where}: {probe} successThreshold")
                for k in (
                    "periodSeconds",
                    "timeoutSeconds",
                    "failureThreshold",
                    "successThreshold",
                ):
                    if k in p and not 1 <= p[k] <= 2**31 - 1:
                        out.append(f"{where}: {probe}.{k}={p[k]}")
                if not p["exec"]["command"]:
                    out.append(f"{where}: {probe} empty command")
        sc = c.get("securityContext", {})
        for k in ("runAsUser", "runAsGroup"):
            if k in sc and not 0 <= sc[k] <= 2**31 - 1:
                out.append(f"{where}: {k}")
        if sc.get("allowPrivilegeEscalation") is False and sc.get("privileged"):
            out.append(f"{where}: allowPrivilegeEscalation false with privileged")
        if c in regular and "restartPolicy" in c:
            out.append(f"{where}: restartPolicy on a regular container")
    if len(set(port_names)) != len(port_names):
        out.append(f"duplicate port names {port_names}")
    if len(set(host_ports)) != len(host_ports):
        out.append(f"duplicate host ports {host_ports}")

    if spec.get("hostPID") and spec.get("shareProcessNamespace"):
        out.append("hostPID with shareProcessNamespace")
    if "hostname" in spec and not k8s_grammar.is_dns1123_label(spec["hostname"]):
        out.append(f"hostname {spec['hostname']!r}")
    dns = spec.get("dnsConfig", {})
    if spec.get("dnsPolicy") == "None" and not dns.get("nameservers"):
        out.append("dnsPolicy None without nameservers")
    if len(dns.get("nameservers", [])) > 3 or not all(_ip(s) for s in dns.get("nameservers", [])):
        out.append("nameservers")
    searches = dns.get("searches", [])
    if len(searches) > 32 or len(" ".join(searches)) > 2048:
        out.append("searches too many")
    for s in searches:
        if not k8s_grammar.is_dns1123_subdomain(s.removesuffix(".")):
            out.append(f"search {s!r}")
    for alias in spec.get("hostAliases", []):
        if not _ip(alias["ip"]):
            out.append(f"hostAlias ip {alias['ip']!r}")
        for h in alias["hostnames"]:
            if not k8s_grammar.is_dns1123_subdomain(h):
                out.append(f"hostAlias hostname {h!r}")
    sysctls = spec.get("securityContext", {}).get("sysctls", [])
    sysctl_names = [s["name"] for s in sysctls]
    if len(set(sysctl_names)) != len(sysctl_names):
        out.append("duplicate sysctls")
    for s in sysctls:
        if not SYSCTL.fullmatch(s["name"]) or not s["value"]:
            out.append(f"sysctl {s}")
        if spec.get("hostNetwork") and s["name"].startswith("net."):
            out.append(f"net sysctl with hostNetwork {s['name']}")
    for key, value in spec.get("nodeSelector", {}).items():
        if not k8s_grammar.is_qualified_name(key) or not k8s_grammar.is_label_value(value):
            out.append(f"nodeSelector {key}={value}")
    if spec.get("terminationGracePeriodSeconds", 0) < 0:
        out.append("negative grace period")
    return out
