"""The objects ``kecs render`` makes of a task or a service, as RunTask / CreateService do.

Both go through :mod:`kecs.mapping.task_wiring`: a task's pod (EC2 launch type, its
definition's default group) or a service's pod template gets the task role's
ServiceAccount, pull secrets, placement, capacity provider node selection and cluster
membership; the task role's ServiceAccount, Role and RoleBinding come first (a pod cannot be
created before its ServiceAccount); a service also gets its discovery Services and load
balancer Services and Ingresses after its workload and Service.

``render`` is total where the operations refuse: a placement or load balancer that RunTask or
CreateService would answer with ``InvalidParameterException`` is left out, and a note says
why and that kecs would refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kecs.mapping import capacity, identity, labels, names, service_workload, task_wiring
from kecs.mapping.common import Note
from kecs.mapping.errors import MappingError
from kecs.mapping.placement import group_selector
from kecs.mapping.task_pod import default_group, task_pod

Object = dict[str, Any]
_PLACEMENT_KEYS = ("placementConstraints", "placementStrategy")


@attrs.frozen
class World:
    """Where the rendered objects would live."""

    namespace: str
    region: str
    account: str
    cluster: str


def _refused(path: str, exc: MappingError, operation: str) -> Note:
    return Note(path, f"left out: {exc} (kecs {operation} refuses this)")


def _without(mapping: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


def identity_objects(ident: identity.TaskIdentity, world: World) -> list[Object]:
    return identity.identity_objects(
        ident,
        namespace=world.namespace,
        account=world.account,
        region=world.region,
        cluster_name=world.cluster,
    )


def task_pod_objects(
    td: Mapping[str, Any], template: Mapping[str, Any], world: World, notes: list[Note]
) -> list[Object]:
    """The task's identity objects, then its Pod."""
    family = str(td.get("family", ""))
    name = names.dns_label(family, "task", world.account, world.region, world.cluster, family)
    pod = task_pod(
        template,
        name=name,
        namespace=world.namespace,
        cluster_name=world.cluster,
        account=world.account,
        region=world.region,
        task_definition=td,
    )

    def wire(definition: Mapping[str, Any]) -> tuple[Object, identity.TaskIdentity]:
        return task_wiring.wire_pod(
            pod,
            definition,
            account=world.account,
            region=world.region,
            cluster_name=world.cluster,
            group_selector=group_selector(default_group(definition)),
            node_selection=capacity.node_selection(None, None),
        )

    try:
        wired, ident = wire(td)
    except MappingError as exc:
        notes.append(_refused("placementConstraints", exc, "RunTask"))
        wired, ident = wire(_without(td, ["placementConstraints"]))
    return [*identity_objects(ident, world), wired]


def _template(
    template: Mapping[str, Any],
    spec: Mapping[str, Any],
    td: Mapping[str, Any],
    world: World,
    notes: list[Note],
) -> tuple[Object, identity.TaskIdentity]:
    def wire(
        service: Mapping[str, Any], definition: Mapping[str, Any]
    ) -> tuple[Object, identity.TaskIdentity]:
        return task_wiring.service_template(
            template,
            service,
            definition,
            account=world.account,
            region=world.region,
            cluster_name=world.cluster,
        )

    try:
        return wire(spec, td)
    except MappingError as exc:
        notes.append(_refused("placementConstraints", exc, "CreateService"))
        return wire(_without(spec, _PLACEMENT_KEYS), _without(td, ["placementConstraints"]))


def _attachments(
    spec: Mapping[str, Any], td: Mapping[str, Any], world: World, notes: list[Note]
) -> list[Object]:
    where = {
        "namespace": world.namespace,
        "account": world.account,
        "region": world.region,
        "cluster_name": world.cluster,
    }
    try:
        objects, found = task_wiring.service_attachments(spec, td, **where)
        notes.extend(found)
        return objects
    except MappingError:
        pass
    # Find which member is refused; render the others (rarely two members at once).
    objects = []
    for key in task_wiring.ATTACHMENT_KEYS:
        if not spec.get(key):
            continue
        alone = {**_without(spec, task_wiring.ATTACHMENT_KEYS), key: spec[key]}
        try:
            part, found = task_wiring.service_attachments(alone, td, **where)
        except MappingError as exc:
            notes.append(_refused(key, exc, "CreateService"))
            continue
        notes.extend(found)
        objects += part
    return objects


def service_objects(
    spec: Mapping[str, Any],
    td: Mapping[str, Any],
    template: Mapping[str, Any],
    world: World,
    notes: list[Note],
) -> list[Object]:
    """The task role's objects, the workload, its Service, discovery and load balancers."""
    where: dict[str, Any] = {
        "namespace": world.namespace,
        "cluster_name": world.cluster,
        "account": world.account,
        "region": world.region,
        "task_definition": td,
    }
    workload = service_workload.workload(template, spec, **where)
    workload["spec"]["template"], ident = _template(
        workload["spec"]["template"], spec, td, world, notes
    )
    objects = [*identity_objects(ident, world), workload]
    k8s_service = service_workload.service(spec, **where)
    if k8s_service is None:
        notes.append(Note("portMappings", "no container port mappings, so no Kubernetes Service"))
    else:
        objects.append(k8s_service)
    return [*objects, *_attachments(spec, td, world, notes)]


def secret_notes(template: Mapping[str, Any]) -> list[Note]:
    raw = (template.get("metadata") or {}).get("annotations", {}).get(labels.ANN_SECRETS)
    if not raw:
        return []
    table = json.loads(raw)
    listed = ", ".join(f"{name} (from {entry['source']})" for name, entry in table.items())
    return [
        Note(
            "secrets",
            f"the pods read Kubernetes Secrets that kecs fills from AWS: {listed}; "
            "create them in the namespace before applying",
        )
    ]


def pull_secret_notes(objects: Sequence[Mapping[str, Any]]) -> list[Note]:
    pulled: dict[str, None] = {}
    for obj in objects:
        spec = obj.get("spec") or {}
        pod_spec = (spec.get("template") or {}).get("spec") or spec
        for entry in pod_spec.get("imagePullSecrets") or ():
            pulled[str(entry.get("name"))] = None
    if not pulled:
        return []
    return [
        Note(
            "imagePullSecrets",
            f"the pods pull images with the Secrets {', '.join(pulled)} "
            "(repositoryCredentials, ECR with the execution role); create them in the namespace",
        )
    ]
