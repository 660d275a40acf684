"""ECS task definition -> Kubernetes pod template (a ``PodTemplateSpec`` as a plain dict).

Pure and total: every input botocore's ``RegisterTaskDefinitionRequest`` shape accepts maps to
a template; whatever does not map exactly becomes a :class:`Note` instead of an exception.
Read-only members of a described task definition (``taskDefinitionArn``, ``revision``, ...)
are ignored. The rules, member by member, are in ``docs/mapping.md`` and
:mod:`kecs.mapping.decisions`; each concern lives in its own module:

containers (names, image, command, security), env (+ secrets), ports, probes, volumes,
sizing (resources), ordering (dependsOn), pod_options (pod-wide fields), metadata (annotations).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import attrs

from kecs.mapping import containers, labels, metadata, ordering, pod_options, probes, sizing
from kecs.mapping.common import NameAllocator, Note, Notes, flag, record, records, text, to_json
from kecs.mapping.env import container_env
from kecs.mapping.ports import PortPlanner
from kecs.mapping.secrets import SecretRef
from kecs.mapping.volumes import Mounts, TaskVolumes

__all__ = ["Note", "TemplateMapping", "to_pod_template"]

#: The container members ``containers.security_context`` reads (none: no context, no note).
_SECURITY_KEYS = frozenset(
    {"privileged", "readonlyRootFilesystem", "user", "linuxParameters", "dockerSecurityOptions"}
)
#: The container members ``pod_options.dns`` reads.
_DNS_KEYS = frozenset({"dnsServers", "dnsSearchDomains"})
#: The container members ``pod_options.host_aliases`` reads.
_HOST_ALIAS_KEYS = frozenset({"extraHosts", "links"})


@attrs.frozen
class TemplateMapping:
    template: dict[str, Any]  # a PodTemplateSpec: {"metadata": {...}, "spec": {...}}
    notes: tuple[Note, ...]


def to_pod_template(
    task_definition: Mapping[str, Any], *, region: str | None = None
) -> TemplateMapping:
    """Map one task definition (camelCase wire dict) to a pod template and notes.

    ``region`` only completes EFS server names (``<fs>.efs.<region>.amazonaws.com``); without
    it a placeholder is used and noted.
    """
    notes = Notes()
    definitions = records(task_definition, "containerDefinitions")
    if not definitions:
        notes.add("containerDefinitions", "no container definitions; the pod cannot run")
    mode = pod_options.network_mode(task_definition, notes)
    k8s_names = _container_names(definitions, notes)
    volumes = TaskVolumes(task_definition, NameAllocator(), notes, region)
    mounts = Mounts(definitions, volumes)
    planner = PortPlanner(mode, notes)
    resources = sizing.container_resources(task_definition, definitions, notes)
    order = ordering.plan(definitions, notes)
    selector, windows = pod_options.node_selector(task_definition, notes)

    built: list[dict[str, Any]] = []
    secret_refs: list[SecretRef] = []
    for index, definition in enumerate(definitions):
        path = f"containerDefinitions[{index}]"
        container: dict[str, Any] = {"name": k8s_names[index]}
        container.update(containers.basics(definition, path, notes))
        env, refs = container_env(definition, path, notes)
        if env:
            container["env"] = env
        secret_refs.extend(refs)
        ports = planner.container_ports(definition, k8s_names[index], path)
        if ports:
            container["ports"] = ports
        if resources[index]:
            container["resources"] = resources[index]
        volume_mounts = mounts.container_mounts(index)
        if volume_mounts:
            container["volumeMounts"] = volume_mounts
        if not definition.keys().isdisjoint(_SECURITY_KEYS):
            security = containers.security_context(definition, path, notes)
            if security:
                container["securityContext"] = security
        container.update(_probes(definition, index, order, windows, notes))
        containers.unmapped_notes(definition, path, notes)
        built.append(container)

    spec: dict[str, Any] = {}
    init = [_as_init(built[i], order.roles[i]) for i in order.init_order]
    if init:
        spec["initContainers"] = init
    spec["containers"] = [
        c for c, role in zip(built, order.roles, strict=True) if role == "container"
    ]
    spec["restartPolicy"] = "Always"
    if volumes.volumes:
        spec["volumes"] = volumes.volumes
    # The container members any container has: the pod-wide options below give nothing (no
    # field, no note) when no container has the members they read, so they are not asked.
    members: set[str] = set().union(*definitions)
    spec.update(pod_options.namespaces(task_definition, definitions, mode, notes))
    if "hostname" in members:
        spec.update(pod_options.hostname(definitions, notes))
    if mode == "host" or not members.isdisjoint(_DNS_KEYS):  # host mode: dnsPolicy Default
        spec.update(pod_options.dns(definitions, mode, notes))
    if not members.isdisjoint(_HOST_ALIAS_KEYS):
        spec.update(pod_options.host_aliases(definitions, notes))
    sysctls = pod_options.sysctls(definitions, spec, notes)
    if sysctls:
        spec["securityContext"] = {"sysctls": sysctls}
    if "stopTimeout" in members:
        spec.update(pod_options.grace_period(definitions, notes))
    if selector:
        spec["nodeSelector"] = selector
    if windows and (spec.get("securityContext") or any("securityContext" in c for c in built)):
        notes.add("runtimePlatform", "Linux security settings on a Windows task are ignored there")

    annotations = _annotations(
        task_definition, definitions, k8s_names, order, volumes, planner, secret_refs, notes
    )
    template_metadata: dict[str, Any] = {}
    family_labels = metadata.family_labels(task_definition)
    if family_labels:
        template_metadata["labels"] = family_labels
    if annotations:
        template_metadata["annotations"] = annotations
    return TemplateMapping(
        template={"metadata": template_metadata, "spec": spec}, notes=notes.freeze()
    )


def _container_names(definitions: list[Mapping[str, Any]], notes: Notes) -> list[str]:
    allocator = NameAllocator()
    result = []
    seen: set[str] = set()
    for index, definition in enumerate(definitions):
        path = f"containerDefinitions[{index}].name"
        ecs_name = text(definition, "name")
        if ecs_name is None:
            notes.add(path, "container without a name")
            ecs_name = ""
        k8s_name = allocator.allocate(ecs_name)
        if ecs_name in seen:
            notes.add(path, f"duplicate container name {ecs_name!r}; named {k8s_name!r}")
        elif k8s_name != ecs_name and ecs_name:
            notes.add(
                path, f"{ecs_name!r} is not a DNS-1123 label; the container is named {k8s_name!r}"
            )
        seen.add(ecs_name)
        result.append(k8s_name)
    return result


def _probes(
    definition: Mapping[str, Any],
    index: int,
    order: ordering.StartOrder,
    windows: bool,
    notes: Notes,
) -> dict[str, Any]:
    check = record(definition, "healthCheck")
    if check is None:
        return {}
    path = f"containerDefinitions[{index}].healthCheck"
    role = order.roles[index]
    found = probes.health_probes(check, path, notes, windows=windows)
    if found is None:
        return {}
    if role == "init":
        notes.add(path, "an init container cannot have probes; health check not applied")
        return {}
    # Each probe gets its own dicts: consumers (service workloads, overrides) edit them in place.
    out: dict[str, Any] = {"readinessProbe": copy.deepcopy(found.check)}
    if flag(definition, "essential") is not False:
        out["livenessProbe"] = copy.deepcopy(found.check)
    if role == "sidecar" and index not in order.healthy_gates:
        # Dependents wait for START only: a startup probe would hold them back.
        if found.start_period:
            for key in ("readinessProbe", "livenessProbe"):
                if key in out:
                    out[key] = {**out[key], "initialDelaySeconds": found.start_period}
        return out
    if found.startup is not None:
        out["startupProbe"] = found.startup
    elif index in order.healthy_gates:
        out["startupProbe"] = copy.deepcopy(found.check)
    return out


def _as_init(container: dict[str, Any], role: str) -> dict[str, Any]:
    if role == "sidecar":
        return {**container, "restartPolicy": "Always"}
    return container


def _annotations(
    task: Mapping[str, Any],
    definitions: list[Mapping[str, Any]],
    k8s_names: list[str],
    order: ordering.StartOrder,
    volumes: TaskVolumes,
    planner: PortPlanner,
    secret_refs: list[SecretRef],
    notes: Notes,
) -> dict[str, str]:
    annotations = metadata.docker_label_annotations(definitions, notes)
    annotations.update(metadata.task_annotations(task, notes))
    if definitions:
        annotations[labels.ANN_CONTAINER_NAMES] = to_json(
            {k: text(d, "name") or "" for k, d in zip(k8s_names, definitions, strict=True)}
        )
        annotations[labels.ANN_CONTAINERS] = to_json(
            {
                k: metadata.container_metadata(d, role)
                for k, d, role in zip(k8s_names, definitions, order.roles, strict=True)
            }
        )
    renamed = {k: e for e, k in volumes.by_ecs_name.items() if k != e}
    if renamed:
        annotations[labels.ANN_VOLUME_NAMES] = to_json(renamed)
    if planner.metadata:
        annotations[labels.ANN_PORT_MAPPINGS] = to_json(planner.metadata)
    if secret_refs:
        table: dict[str, Any] = {}
        for ref in secret_refs:
            entry = table.setdefault(
                ref.secret_name, {"source": ref.source, "kind": ref.kind, "keys": {}}
            )
            entry["keys"][ref.key] = ref.value_from
        annotations[labels.ANN_SECRETS] = to_json(table)
    return metadata.fit_annotations(annotations, notes)
