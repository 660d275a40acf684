"""One ECS container definition -> the container-level fields of a Kubernetes container.

Pod-wide effects of container members (hostname, DNS, extra hosts, sysctls, stop timeout,
docker labels) live in :mod:`kecs.mapping.pod_options`; resources in :mod:`kecs.mapping.sizing`;
environment in :mod:`kecs.mapping.env`; ports, probes and mounts in their own modules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kecs.mapping.common import (
    Notes,
    escape_expansion,
    flag,
    integer,
    present,
    record,
    records,
    strings,
    text,
)

MAX_ID = 2**31 - 1
_SELINUX_FIELDS = {"user": "user", "role": "role", "type": "type", "level": "level"}
_NUMERIC = re.compile(r"\d{1,10}")
_CAPABILITY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def basics(definition: Mapping[str, Any], path: str, notes: Notes) -> dict[str, Any]:
    """image, command, args, workingDir, stdin, tty."""
    out: dict[str, Any] = {}
    image = text(definition, "image")
    if not image or not image.strip():
        notes.add(f"{path}.image", "no image; the container cannot start")
    else:
        if image != image.strip():
            notes.add(f"{path}.image", "surrounding whitespace removed")
        out["image"] = image.strip()
    if "entryPoint" in definition:
        out["command"] = [escape_expansion(s) for s in strings(definition, "entryPoint")]
    if "command" in definition:
        out["args"] = [escape_expansion(s) for s in strings(definition, "command")]
    if text(definition, "workingDirectory"):
        out["workingDir"] = text(definition, "workingDirectory")
    if flag(definition, "interactive"):
        out["stdin"] = True
    if flag(definition, "pseudoTerminal"):
        out["tty"] = True
    return out


def security_context(definition: Mapping[str, Any], path: str, notes: Notes) -> dict[str, Any]:
    """privileged, readonlyRootFilesystem, user, capabilities, dockerSecurityOptions."""
    context: dict[str, Any] = {}
    privileged = flag(definition, "privileged")
    if privileged is not None:
        context["privileged"] = privileged
    if flag(definition, "readonlyRootFilesystem") is not None:
        context["readOnlyRootFilesystem"] = flag(definition, "readonlyRootFilesystem")
    user = text(definition, "user")
    if user:
        _user(user, f"{path}.user", context, notes)
    linux = record(definition, "linuxParameters") or {}
    capabilities = record(linux, "capabilities") or {}
    caps: dict[str, list[str]] = {}
    for key in ("add", "drop"):
        for i, cap in enumerate(strings(capabilities, key)):
            if _CAPABILITY.fullmatch(cap):
                caps.setdefault(key, []).append(cap)
            else:
                where = f"{path}.linuxParameters.capabilities.{key}[{i}]"
                notes.add(where, f"{cap!r} is not a capability name; dropped")
    if caps:
        context["capabilities"] = caps
    for i, option in enumerate(strings(definition, "dockerSecurityOptions")):
        _security_option(option, f"{path}.dockerSecurityOptions[{i}]", context, notes)
    return context


def _user(user: str, path: str, context: dict[str, Any], notes: Notes) -> None:
    name, _, group = user.partition(":")
    uid = 0 if name == "root" else _id(name)
    if uid is None:
        notes.add(path, f"user {name!r} is not numeric; the image's user is kept (use a UID)")
    else:
        context["runAsUser"] = uid
    if group:
        gid = 0 if group == "root" else _id(group)
        if gid is None:
            notes.add(path, f"group {group!r} is not numeric; the image's group is kept")
        else:
            context["runAsGroup"] = gid


def _id(value: str) -> int | None:
    if _NUMERIC.fullmatch(value) and int(value) <= MAX_ID:
        return int(value)
    return None


def _security_option(option: str, path: str, context: dict[str, Any], notes: Notes) -> None:
    kind, _, value = option.partition(":") if ":" in option else option.partition("=")
    if option == "no-new-privileges" or (kind == "no-new-privileges" and value == "true"):
        adds = {
            c.upper().removeprefix("CAP_") for c in context.get("capabilities", {}).get("add", [])
        }
        if context.get("privileged") or "SYS_ADMIN" in adds:
            notes.add(path, "no-new-privileges conflicts with privileged / SYS_ADMIN; not applied")
        else:
            context["allowPrivilegeEscalation"] = False
    elif kind == "apparmor" and value and value == value.strip():
        if value == "unconfined":
            context["appArmorProfile"] = {"type": "Unconfined"}
        elif value in ("runtime/default", "docker-default"):
            context["appArmorProfile"] = {"type": "RuntimeDefault"}
        else:
            context["appArmorProfile"] = {"type": "Localhost", "localhostProfile": value}
    elif kind == "label" and value:
        field, _, setting = value.partition(":")
        if field in _SELINUX_FIELDS and setting:
            context.setdefault("seLinuxOptions", {})[_SELINUX_FIELDS[field]] = setting
        elif value == "disable":
            context.setdefault("seLinuxOptions", {})["type"] = "spc_t"
            notes.add(path, "label:disable approximated by the SELinux type spc_t")
        else:
            notes.add(path, f"SELinux option {value!r} not understood; not applied")
    else:
        notes.add(path, f"Docker security option {option!r} has no Kubernetes counterpart")


def unmapped_notes(definition: Mapping[str, Any], path: str, notes: Notes) -> None:
    """Notes for container members kept only as metadata (or dropped) by design."""
    # Each check first asks whether the member is there at all (most are absent), which is
    # what every reader below answers for an absent member anyway (nothing to note).
    if "linuxParameters" in definition:
        linux = record(definition, "linuxParameters") or {}
        lp = f"{path}.linuxParameters"
        if records(linux, "devices"):
            notes.add(f"{lp}.devices", "host devices are not mapped (use a device plugin)")
        for key in ("maxSwap", "swappiness"):
            if integer(linux, key) is not None:
                notes.add(f"{lp}.{key}", "swap settings are node-level in Kubernetes; not applied")
    if "ulimits" in definition and records(definition, "ulimits"):
        limits = ", ".join(
            f"{text(u, 'name')}={integer(u, 'softLimit')}:{integer(u, 'hardLimit')}"
            for u in records(definition, "ulimits")
        )
        notes.add(
            f"{path}.ulimits", f"ulimits ({limits}) are set by the container runtime; not applied"
        )
    log = record(definition, "logConfiguration")
    if log is not None:
        driver = text(log, "logDriver")
        notes.add(
            f"{path}.logConfiguration",
            f"log driver {driver!r} not applied: Kubernetes collects stdout/stderr "
            "(kept as metadata)",
        )
    if "firelensConfiguration" in definition and (
        record(definition, "firelensConfiguration") is not None
    ):
        notes.add(f"{path}.firelensConfiguration", "FireLens is not set up; kept as metadata")
    if "repositoryCredentials" in definition and (
        record(definition, "repositoryCredentials") is not None
    ):
        notes.add(
            f"{path}.repositoryCredentials",
            "the task's pods pull with an imagePullSecret named from the credentials ARN, "
            "which must exist as a kubernetes.io/dockerconfigjson Secret",
        )
    if "environmentFiles" in definition and records(definition, "environmentFiles"):
        notes.add(
            f"{path}.environmentFiles", "S3 environment files are not loaded; kept as metadata"
        )
    if "startTimeout" in definition and integer(definition, "startTimeout") is not None:
        notes.add(f"{path}.startTimeout", "no Kubernetes counterpart; kept as metadata")
    if "restartPolicy" in definition and record(definition, "restartPolicy") is not None:
        notes.add(
            f"{path}.restartPolicy",
            "per-container restart policy kept as metadata; the pod's restartPolicy applies",
        )
    if "disableNetworking" in definition and flag(definition, "disableNetworking"):
        notes.add(f"{path}.disableNetworking", "containers of a pod share its network; not applied")
    if "credentialSpecs" in definition and strings(definition, "credentialSpecs"):
        notes.add(
            f"{path}.credentialSpecs", "gMSA credential specs are not applied; kept as metadata"
        )
    if "versionConsistency" in definition and present(definition, "versionConsistency"):
        notes.add(
            f"{path}.versionConsistency",
            "image digests are resolved by each node; kept as metadata",
        )
    if definition.get("essential") is False:  # ``flag(...) is False``: only the bool False
        notes.add(
            f"{path}.essential",
            "not essential: its exit does not stop the task in ECS; Kubernetes has no "
            "per-container essential flag (kept in the kecs.dev/containers annotation)",
        )
