"""Where ECS services live in the backend, and how kecs reads and writes them.

An ECS service is (see the issue-3 design, ``docs/services.md``):

- ACTIVE / DRAINING: a Deployment (REPLICA) or DaemonSet (DAEMON) in the cluster's Namespace,
  labelled ``kecs.dev/resource=service`` plus ownership, cluster and service labels; its
  ReplicaSets (or ControllerRevisions) are the ECS deployments, its pods the tasks; a
  ``v1 Service`` of the same name when the task definition has port mappings. The status is
  the ``kecs.dev/service-status`` annotation, mirrored in the ``kecs.dev/status`` label that
  :mod:`kecs.operations.cluster_counters` counts by.
- INACTIVE: a ConfigMap tombstone (``kecs.dev/resource=service-tombstone``) of the same name
  (:mod:`kecs.operations.service_tombstones`).
- A service with the EXTERNAL or CODE_DEPLOY deployment controller runs no workload of its own:
  it is a ConfigMap record labelled like a workload (:func:`kecs.mapping.task_sets.
  service_record`), read with the tombstones (one list), and its task sets are Deployments
  labelled ``kecs.dev/resource=task-set`` (:attr:`Stored.task_sets`), whose pods carry
  ``kecs.dev/task-set``.

:func:`load` reads the services of one cluster with a constant number of list requests
(workloads, tombstones, ReplicaSets / ControllerRevisions, pods, Kubernetes Services), however
many services are asked for, so DescribeServices of 10 services costs what one costs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists, Conflict, NotFound
from kecs.errors import ServerException
from kecs.mapping import k8s_time, labels, names, task_keys
from kecs.mapping.service_workload import workload_name
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext

SERVICE = "service"
TASK = "task"
TOMBSTONE = "service-tombstone"
TASK_SET = "task-set"
ACTIVE, DRAINING, INACTIVE = "ACTIVE", "DRAINING", "INACTIVE"
WORKLOAD_KINDS = (kinds.DEPLOYMENT, kinds.DAEMON_SET)
#: Template annotation bumped by ``forceNewDeployment`` (as ``kubectl rollout restart`` does).
RESTARTED_AT = f"{labels.DOMAIN}/restarted-at"
#: On a ReplicaSet the circuit breaker (or StopServiceDeployment) rolled back from: the ECS
#: deployment id rolled back to.
ROLLED_BACK_TO = f"{labels.DOMAIN}/rolled-back-to"
#: On a ReplicaSet whose rollout StopServiceDeployment stopped: ``ROLLBACK``.
STOP_REQUESTED = f"{labels.DOMAIN}/stop-requested"
_ATTEMPTS = 16


@attrs.frozen
class Stored:
    """One ECS service as the backend holds it."""

    name: str
    workload: Object | None = None
    tombstone: Object | None = None
    revisions: tuple[Object, ...] = ()
    pods: tuple[Object, ...] = ()
    k8s_service: Object | None = None
    #: The Deployments of an EXTERNAL / CODE_DEPLOY service's task sets (``pods``: their tasks).
    task_sets: tuple[Object, ...] = ()

    @property
    def status(self) -> str:
        if self.workload is not None:
            notes = task_keys.annotations_of(self.workload)
            return DRAINING if notes.get(task_keys.SERVICE_STATUS) == DRAINING else ACTIVE
        return INACTIVE

    @property
    def spec(self) -> dict[str, Any]:
        if self.workload is None:
            return {}
        value = task_keys.json_value(
            task_keys.annotations_of(self.workload), task_keys.SERVICE_SPEC
        )
        return dict(value) if isinstance(value, Mapping) else {}

    @property
    def daemon(self) -> bool:
        return self.workload is not None and self.workload.get("kind") == "DaemonSet"

    @property
    def external(self) -> bool:
        """An EXTERNAL / CODE_DEPLOY service: a record whose task sets run its tasks."""
        return self.workload is not None and self.workload.get("kind") == "ConfigMap"

    def tombstone_data(self, key: str) -> Any:
        if self.tombstone is None:
            return None
        raw = (self.tombstone.get("data") or {}).get(key)
        return json.loads(raw) if isinstance(raw, str) else None


def _selector(base: Mapping[str, str], service_names: Iterable[str] | None) -> str:
    terms = [f"{k}={v}" for k, v in base.items()]
    if service_names is not None:
        values = sorted({names.label_value(n) for n in service_names})
        terms.append(f"{labels.SERVICE} in ({','.join(values)})")
    return ",".join(terms)


def owned_by(ctx: RequestContext, resource: str, cluster_name: str) -> dict[str, str]:
    """The labels every object of ``resource`` kind of this cluster's services carries."""
    result = labels.ownership(ctx.account_id, ctx.region, resource)
    result[labels.CLUSTER] = names.label_value(cluster_name)
    return result


def _exact_name(obj: Object) -> str | None:
    return task_keys.annotations_of(obj).get(task_keys.SERVICE_NAME)


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of the object's controlling owner (shared with :mod:`.daemon_store`)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid", ""))
    return None


def load(
    ctx: RequestContext,
    ref: ClusterRef,
    service_names: Iterable[str] | None = None,
    *,
    detail: bool = True,
) -> dict[str, Stored]:
    """The services ``service_names`` (all when ``None``) of the cluster, by exact name.

    Services that exist in no form are absent. ``detail`` reads their ReplicaSets /
    ControllerRevisions, task pods and Kubernetes Services too.
    """
    wanted = None if service_names is None else set(service_names)
    if wanted is not None and not wanted:
        return {}
    backend, ns = ctx.backend, ref.namespace
    selector = _selector(owned_by(ctx, SERVICE, ref.name), wanted)

    def keep(obj: Object) -> bool:
        name = _exact_name(obj)
        return name is not None and (wanted is None or name in wanted)

    workloads: dict[str, Object] = {}
    for kind in WORKLOAD_KINDS:
        for obj in backend.list_all(kind, ns, selector=selector, where=keep):
            name = str(_exact_name(obj))
            # A DaemonSet and a Deployment of one name only coexist after a failed write;
            # the newer one is the service.
            if name not in workloads or _created(obj) >= _created(workloads[name]):
                workloads[name] = obj
    # Tombstones and the records of EXTERNAL / CODE_DEPLOY services: one ConfigMap list.
    base = owned_by(ctx, TOMBSTONE, ref.name)
    del base[labels.RESOURCE]
    tomb_selector = f"{_selector(base, wanted)},{labels.RESOURCE} in ({SERVICE},{TOMBSTONE})"
    tombstones: dict[str, Object] = {}
    for obj in backend.list_all(kinds.CONFIG_MAP, ns, selector=tomb_selector, where=keep):
        name = str(_exact_name(obj))
        if obj["metadata"]["labels"].get(labels.RESOURCE) == TOMBSTONE:
            tombstones[name] = obj
        elif name not in workloads or _created(obj) >= _created(workloads[name]):
            workloads[name] = obj
    found = {
        name: Stored(name, workload=workloads.get(name), tombstone=tombstones.get(name))
        for name in sorted(set(workloads) | set(tombstones))
    }
    if not detail or not workloads:
        return found
    return _with_detail(ctx, ref, found, workloads)


def _created(obj: Object) -> str:
    return str(obj["metadata"].get("creationTimestamp") or "")


def _with_detail(
    ctx: RequestContext, ref: ClusterRef, found: dict[str, Stored], workloads: dict[str, Object]
) -> dict[str, Stored]:
    backend, ns = ctx.backend, ref.namespace
    owner_of = {str(w["metadata"]["uid"]): name for name, w in workloads.items()}
    # The workloads' own selector labels: every controller copies them onto what it makes
    # (a DaemonSet's ControllerRevisions carry nothing else); ownership is checked by uid.
    task_selector = _selector({labels.RESOURCE: TASK}, workloads)
    revisions: dict[str, list[Object]] = {name: [] for name in workloads}

    def owned_revision(obj: Object) -> bool:
        return controller_uid(obj) in owner_of

    records = {
        str(w["metadata"]["uid"]): n for n, w in workloads.items() if w["kind"] == "ConfigMap"
    }
    revision_kinds = (
        [kinds.REPLICA_SET] if any(w["kind"] == "Deployment" for w in workloads.values()) else []
    )
    if any(w["kind"] == "DaemonSet" for w in workloads.values()):
        revision_kinds.append(kinds.CONTROLLER_REVISION)
    revision_owner: dict[str, str] = {}
    for kind in revision_kinds:
        for obj in backend.list_all(kind, ns, selector=task_selector, where=owned_revision):
            name = owner_of[str(controller_uid(obj))]
            revisions[name].append(obj)
            revision_owner[str(obj["metadata"]["uid"])] = name
    # A task belongs to a service when its controller is one of the service's ReplicaSets or
    # its DaemonSet: the STOPPED records of an earlier incarnation of the name stay out.
    pod_owner = {**revision_owner, **{u: n for u, n in owner_of.items() if n in workloads}}
    pods: dict[str, list[Object]] = {name: [] for name in workloads}
    task_sets = _task_sets(ctx, ref, records)
    external = set(records.values())

    def service_pod(obj: Object) -> bool:
        if controller_uid(obj) in pod_owner:
            return True
        # A task set's task (of this incarnation of the service or an earlier one: its
        # STOPPED records are swept with the service's).
        meta = obj["metadata"]
        return labels.TASK_SET in (meta.get("labels") or {}) and _exact_name(obj) in external

    for pod in backend.list_all(kinds.POD, ns, selector=task_selector, where=service_pod):
        owner = pod_owner.get(str(controller_uid(pod)))
        pods[owner if owner is not None else str(_exact_name(pod))].append(pod)
    k8s_services: dict[str, Object] = {}
    selector = _selector(owned_by(ctx, SERVICE, ref.name), workloads)
    for obj in backend.list_all(kinds.SERVICE, ns, selector=selector):
        exact = _exact_name(obj)
        if exact is not None and exact in workloads:
            k8s_services[exact] = obj
    return {
        name: attrs.evolve(
            stored,
            revisions=tuple(revisions.get(name, ())),
            pods=tuple(pods.get(name, ())),
            k8s_service=k8s_services.get(name),
            task_sets=tuple(task_sets.get(name, ())),
        )
        for name, stored in found.items()
    }


def _task_sets(
    ctx: RequestContext, ref: ClusterRef, records: Mapping[str, str]
) -> dict[str, list[Object]]:
    """The task set Deployments of the EXTERNAL services whose records have these uids."""
    if not records:
        return {}
    selector = _selector(owned_by(ctx, TASK_SET, ref.name), records.values())

    def owned(obj: Object) -> bool:
        refs = obj["metadata"].get("ownerReferences") or ()
        return any(str(r.get("uid")) in records for r in refs)

    found: dict[str, list[Object]] = {}
    for obj in ctx.backend.list_all(
        kinds.DEPLOYMENT, ref.namespace, selector=selector, where=owned
    ):
        uid = next(
            str(r.get("uid"))
            for r in obj["metadata"]["ownerReferences"]
            if str(r.get("uid")) in records
        )
        found.setdefault(records[uid], []).append(obj)
    return found


def load_one(ctx: RequestContext, ref: ClusterRef, name: str) -> Stored | None:
    return load(ctx, ref, [name]).get(name)


# -- writes ---------------------------------------------------------------------------------


def object_name(ctx: RequestContext, ref: ClusterRef, service_name: str) -> str:
    """The name of the workload, the Kubernetes Service and the tombstone of a service."""
    return workload_name(
        service_name, account=ctx.account_id, region=ctx.region, cluster_name=ref.name
    )


def kind_of(obj: Mapping[str, Any]) -> kinds.ResourceKind:
    return kinds.of(dict(obj))


def with_status(workload: Object, status: str) -> Object:
    """``workload`` marked ACTIVE or DRAINING (annotation, and the label counters read)."""
    meta = workload["metadata"]
    meta.setdefault("annotations", {})[task_keys.SERVICE_STATUS] = status
    meta.setdefault("labels", {})[labels.STATUS] = status
    return workload


def modify(
    ctx: RequestContext,
    kind: kinds.ResourceKind,
    name: str,
    namespace: str,
    change: Callable[[Object], Object | None],
) -> Object | None:
    """Apply ``change`` to the stored object, re-reading when a concurrent writer wins.

    ``change`` returns the object to write, or ``None`` to leave it. Returns what was stored
    (``None`` when the object is gone or nothing was written).
    """
    written = False

    def apply(current: Object) -> Object | None:
        nonlocal written
        wanted = change(current)
        written = wanted is not None
        return wanted

    try:
        stored = ctx.backend.modify(kind, name, apply, namespace, attempts=_ATTEMPTS)
    except NotFound:
        return None
    except Conflict:
        raise ServerException(
            f"Too many concurrent changes to {kind.kind} {namespace}/{name}."
        ) from None
    return stored if written else None


def patch_annotations(
    ctx: RequestContext, obj: Mapping[str, Any], values: Mapping[str, str | None]
) -> None:
    """Merge ``values`` into the object's annotations (``None`` removes one)."""
    meta = obj["metadata"]
    with contextlib.suppress(NotFound):
        ctx.backend.patch(
            kind_of(obj),
            meta["name"],
            {"metadata": {"annotations": dict(values)}},
            meta.get("namespace"),
        )


def record_stop(ctx: RequestContext, pod: Mapping[str, Any], code: str, reason: str) -> bool:
    """Write why the task stops (ECS's stop code and reason) on its pod; ``False`` if gone."""
    meta = pod["metadata"]
    record = {
        task_keys.STOP_CODE: code,
        task_keys.STOPPED_REASON: reason,
        task_keys.STOPPING_AT: k8s_time.format_micro(ctx.now()),
    }
    patch = {"metadata": {"annotations": record}}
    try:
        ctx.backend.patch(kinds.POD, meta["name"], patch, meta["namespace"])
    except NotFound:
        return False
    return True


def stop_task(ctx: RequestContext, pod: Mapping[str, Any], code: str, reason: str) -> None:
    """Stop a service task the ECS way: record why, then delete its pod.

    The pod's finalizer keeps it as the task's STOPPED record; its ReplicaSet starts a
    replacement.
    """
    if record_stop(ctx, pod, code, reason):
        meta = pod["metadata"]
        with contextlib.suppress(NotFound):
            ctx.backend.delete(kinds.POD, meta["name"], meta["namespace"])


def create_all(ctx: RequestContext, objects: list[Object]) -> None:
    """Create ``objects`` in order; when one fails, remove those already made and re-raise."""
    made: list[Object] = []
    try:
        for obj in objects:
            made.append(ctx.backend.create(obj))
    except BaseException:
        for obj in reversed(made):
            meta = obj["metadata"]
            with contextlib.suppress(NotFound):
                ctx.backend.delete(kind_of(obj), meta["name"], meta.get("namespace"))
        raise


def delete_quietly(ctx: RequestContext, obj: Mapping[str, Any] | None) -> None:
    if obj is None:
        return
    meta = obj["metadata"]
    with contextlib.suppress(NotFound):
        ctx.backend.delete(kind_of(obj), meta["name"], meta.get("namespace"))


def sync_k8s_service(ctx: RequestContext, current: Object | None, wanted: Object | None) -> None:
    """Make the service's Kubernetes Service ``wanted`` (``None``: none): created, deleted,
    or its labels, kecs annotations, ports and selector replaced (the API server keeps the
    rest, such as the cluster IP and annotations others wrote)."""
    if wanted is None:
        delete_quietly(ctx, current)
        return
    if current is None:
        try:
            ctx.backend.create(wanted)
            return
        except AlreadyExists:
            pass
    meta = wanted["metadata"]

    def change(obj: Object) -> Object:
        obj["metadata"]["labels"] = meta["labels"]
        obj["metadata"]["annotations"] = {
            **(obj["metadata"].get("annotations") or {}),
            **meta["annotations"],
        }
        obj["spec"]["ports"] = wanted["spec"]["ports"]
        obj["spec"]["selector"] = wanted["spec"]["selector"]
        return obj

    modify(ctx, kinds.SERVICE, meta["name"], meta["namespace"], change)
