"""The ServiceAccount, Role and RoleBinding of a task role, made to exist before its pods.

They are shared by every task and service of the cluster that runs with the role (names
derive from the role ARN: :func:`kecs.mapping.identity.service_account_name`), so they are
created idempotently and never deleted with a task or a service; they go with the cluster's
Namespace. Concurrent callers converge:

- ServiceAccount and RoleBinding: ``AlreadyExists`` is success (their content is a function
  of the role ARN and the cluster); one that differs (edited by hand) is written back.
- Role: its rule grants ``get`` on the Secrets the role's task definitions reference, so a
  role shared by several task definitions accumulates their Secrets
  (:func:`kecs.mapping.identity.role` merges into the stored Role). Written with optimistic
  concurrency: a concurrent writer's Secrets are re-read and kept.

Order: ServiceAccount, RoleBinding, then the Role. A Role that already grants everything the
task needs therefore means the other two were made before it, and the call costs one read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import AlreadyExists, Conflict, NotFound
from kecs.errors import ServerException
from kecs.mapping import identity
from kecs.mapping.identity import TaskIdentity
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext

ATTEMPTS = 16


def _where(ctx: RequestContext, ref: ClusterRef) -> dict[str, Any]:
    return {
        "namespace": ref.namespace,
        "account": ctx.account_id,
        "region": ctx.region,
        "cluster_name": ref.name,
    }


def _same(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    meta, want = current.get("metadata") or {}, wanted["metadata"]
    fields = [k for k in wanted if k not in ("apiVersion", "kind", "metadata")]
    return (
        all(current.get(k) == wanted[k] for k in fields)
        and all((meta.get("labels") or {}).get(k) == v for k, v in want["labels"].items())
        and all(
            (meta.get("annotations") or {}).get(k) == v
            for k, v in (want.get("annotations") or {}).items()
        )
    )


def _write_back(current: Object, wanted: Mapping[str, Any]) -> Object:
    meta = current["metadata"]
    meta["labels"] = {**(meta.get("labels") or {}), **wanted["metadata"]["labels"]}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        **(wanted["metadata"].get("annotations") or {}),
    }
    for key, value in wanted.items():
        if key not in ("apiVersion", "kind", "metadata"):
            current[key] = value
    return current


def _ensure(ctx: RequestContext, wanted: Object) -> None:
    """Create ``wanted``, or make the stored object of that name say what it says."""
    kind = kinds.of(wanted)
    name, namespace = wanted["metadata"]["name"], wanted["metadata"]["namespace"]
    for _ in range(ATTEMPTS):
        try:
            ctx.backend.create(wanted)
            return
        except AlreadyExists:
            pass
        try:
            current = ctx.backend.get(kind, name, namespace)
        except NotFound:
            continue
        if _same(current, wanted):
            return
        try:
            ctx.backend.update(_write_back(current, wanted))
            return
        except (Conflict, NotFound):
            continue
    raise ServerException(f"Too many concurrent changes to {kind.kind} {namespace}/{name}.")


def _role(ctx: RequestContext, ref: ClusterRef, ident: TaskIdentity) -> Object | None:
    """The stored Role of the task role, or ``None``."""
    name = identity.service_account_name(str(ident.task_role_arn))
    try:
        return ctx.backend.get(kinds.ROLE, name, ref.namespace)
    except NotFound:
        return None


def _covers(role: Mapping[str, Any], ident: TaskIdentity) -> bool:
    granted: set[str] = set()
    for rule in role.get("rules") or ():
        if list(rule.get("resources") or ()) == ["secrets"] and "get" in (rule.get("verbs") or ()):
            granted.update(rule.get("resourceNames") or ())
    return set(ident.readable_secrets) <= granted


def ensure_identity(ctx: RequestContext, ref: ClusterRef, ident: TaskIdentity) -> None:
    """Make the task role's ServiceAccount, RoleBinding and Role exist (module docs)."""
    if ident.task_role_arn is None:
        return
    current = _role(ctx, ref, ident)
    if current is not None and _covers(current, ident):
        return
    service_account, role, binding = identity.identity_objects(ident, **_where(ctx, ref))
    _ensure(ctx, service_account)
    _ensure(ctx, binding)
    for _ in range(ATTEMPTS):
        role = identity.identity_objects(ident, existing_role=current, **_where(ctx, ref))[1]
        try:
            if current is None:
                ctx.backend.create(role)
            else:
                role["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
                ctx.backend.update(role)
            return
        except (AlreadyExists, Conflict, NotFound):
            current = _role(ctx, ref, ident)
            if current is not None and _covers(current, ident):
                return
    raise ServerException("Too many concurrent changes to the task role's Role.")
