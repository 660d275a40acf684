"""Where ECS daemons live in the backend, and how kecs reads them.

A daemon is a DaemonSet in its cluster's Namespace (:mod:`kecs.mapping.daemons`), labelled
ownership ``daemon``, cluster and ``kecs.dev/daemon``; its revisions are the DaemonSet's
ControllerRevisions, its tasks the pods it controls, its container instances the Nodes of its
capacity providers. A deleted daemon leaves a ConfigMap tombstone
(``kecs.dev/resource=daemon-tombstone``) with its deployments and revisions as they were, so
DescribeDaemonDeployments and DescribeDaemonRevisions still answer (its deployment STOPPED);
DescribeDaemon no longer finds it. Creating a daemon of the same name replaces the tombstone.

:func:`load` costs a constant number of lists (DaemonSets, tombstones; with detail:
ControllerRevisions, pods, Nodes) however many daemons are asked for.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from kecs.backends import kinds
from kecs.backends.base import Object
from kecs.backends.errors import Conflict, NotFound
from kecs.errors import ServerException
from kecs.mapping import capacity, daemon_status, daemons, labels, names, rollouts, task_keys
from kecs.operations.cluster_lookup import ClusterRef
from kecs.operations.context import RequestContext
from kecs.operations.service_store import controller_uid
from kecs.operations.service_tombstones import record_json

TASK = "task"


@attrs.frozen
class StoredDaemon:
    """One daemon as the backend holds it."""

    name: str
    daemon_set: Object | None = None
    tombstone: Object | None = None
    revisions: tuple[Object, ...] = ()
    pods: tuple[Object, ...] = ()
    nodes: tuple[Object, ...] = ()

    @property
    def spec(self) -> dict[str, Any]:
        return daemons.spec_of(self.daemon_set) if self.daemon_set is not None else {}

    @property
    def status(self) -> str | None:
        if self.daemon_set is None:
            return None
        notes = task_keys.annotations_of(self.daemon_set)
        if self.daemon_set["metadata"].get("deletionTimestamp"):
            return daemons.DELETE_IN_PROGRESS
        return notes.get(daemons.STATUS) or daemons.ACTIVE

    def tombstone_data(self, key: str) -> Any:
        if self.tombstone is None:
            return None
        raw = (self.tombstone.get("data") or {}).get(key)
        return json.loads(raw) if isinstance(raw, str) else None


def owned_by(ctx: RequestContext, resource: str, cluster_name: str) -> dict[str, str]:
    result = labels.ownership(ctx.account_id, ctx.region, resource)
    result[labels.CLUSTER] = names.label_value(cluster_name)
    return result


def _selector(base: Mapping[str, str], daemon_names: Iterable[str] | None) -> str:
    terms = [f"{k}={v}" for k, v in base.items()]
    if daemon_names is not None:
        values = sorted({names.label_value(n) for n in daemon_names})
        terms.append(f"{labels.DAEMON} in ({','.join(values)})")
    return ",".join(terms)


def _exact(obj: Mapping[str, Any]) -> str | None:
    return task_keys.annotations_of(obj).get(daemons.NAME)


def load(
    ctx: RequestContext,
    ref: ClusterRef,
    daemon_names: Iterable[str] | None = None,
    *,
    detail: bool = True,
) -> dict[str, StoredDaemon]:
    """The daemons ``daemon_names`` (all when ``None``) of the cluster, by exact name."""
    wanted = None if daemon_names is None else set(daemon_names)
    if wanted is not None and not wanted:
        return {}
    backend, ns = ctx.backend, ref.namespace

    def keep(obj: Object) -> bool:
        name = _exact(obj)
        return name is not None and (wanted is None or name in wanted)

    sets = {
        str(_exact(o)): o
        for o in backend.list_all(
            kinds.DAEMON_SET,
            ns,
            selector=_selector(owned_by(ctx, daemons.RESOURCE, ref.name), wanted),
            where=keep,
        )
    }
    tombstones = {
        str(_exact(o)): o
        for o in backend.list_all(
            kinds.CONFIG_MAP,
            ns,
            selector=_selector(owned_by(ctx, daemons.TOMBSTONE, ref.name), wanted),
            where=keep,
        )
    }
    found = {
        name: StoredDaemon(name, daemon_set=sets.get(name), tombstone=tombstones.get(name))
        for name in sorted(set(sets) | set(tombstones))
    }
    if not detail or not sets:
        return found
    owner = {str(d["metadata"]["uid"]): name for name, d in sets.items()}
    task_selector = _selector({labels.RESOURCE: TASK}, sets)

    def owned(obj: Object) -> bool:
        return controller_uid(obj) in owner

    revisions: dict[str, list[Object]] = {name: [] for name in sets}
    for obj in backend.list_all(kinds.CONTROLLER_REVISION, ns, selector=task_selector, where=owned):
        revisions[owner[str(controller_uid(obj))]].append(obj)
    pods: dict[str, list[Object]] = {name: [] for name in sets}
    for obj in backend.list_all(kinds.POD, ns, selector=task_selector, where=owned):
        pods[owner[str(controller_uid(obj))]].append(obj)
    providers = sorted(
        {
            names.label_value(p)
            for d in sets.values()
            for p in daemons.provider_names(daemons.spec_of(d))
        }
    )
    nodes: list[Object] = []
    if providers:
        node_selector = f"{capacity.PROVIDER_LABEL} in ({','.join(providers)})"
        nodes = backend.list_all(kinds.NODE, selector=node_selector)
    return {
        name: attrs.evolve(
            stored,
            revisions=tuple(revisions.get(name, ())),
            pods=tuple(pods.get(name, ())),
            nodes=tuple(nodes),
        )
        for name, stored in found.items()
    }


def view(ctx: RequestContext, ref: ClusterRef, stored: StoredDaemon) -> daemon_status.DaemonView:
    assert stored.daemon_set is not None
    return daemon_status.view(
        stored.daemon_set,
        stored.revisions,
        stored.pods,
        stored.nodes,
        region=ctx.region,
        account=ctx.account_id,
        cluster_name=ref.name,
        now=ctx.now(),
    )


def live_tasks(ctx: RequestContext, stored: StoredDaemon) -> bool:
    tasks = rollouts.task_pods(stored.pods, ctx.now())
    return any(t.state.last_status != "STOPPED" for t in tasks)


# -- tombstones -----------------------------------------------------------------------------


def write_tombstone(
    ctx: RequestContext,
    ref: ClusterRef,
    name: str,
    *,
    deployments: list[dict[str, Any]],
    revisions: list[dict[str, Any]],
    tags: list[dict[str, str]],
) -> None:
    """Record a deleted daemon's history (timestamps as epoch seconds)."""
    obj: Object = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": daemons.tombstone_name(
                name, account=ctx.account_id, region=ctx.region, cluster_name=ref.name
            ),
            "namespace": ref.namespace,
            "labels": {
                **owned_by(ctx, daemons.TOMBSTONE, ref.name),
                labels.DAEMON: names.label_value(name),
            },
            "annotations": {
                daemons.NAME: name,
                task_keys.CLUSTER_NAME: ref.name,
                task_keys.TAGS: task_keys.dump(tags),
            },
        },
        "data": {"deployments": record_json(deployments), "revisions": record_json(revisions)},
    }
    try:
        ctx.backend.create_or_replace(obj)
    except Conflict:
        raise ServerException(f"Could not record daemon {name} as deleted.") from None


def delete_tombstone(ctx: RequestContext, ref: ClusterRef, name: str) -> None:
    tomb = daemons.tombstone_name(
        name, account=ctx.account_id, region=ctx.region, cluster_name=ref.name
    )
    with contextlib.suppress(NotFound):
        ctx.backend.delete(kinds.CONFIG_MAP, tomb, ref.namespace)


def using(ctx: RequestContext, task_definition_arn: str) -> bool:
    """Whether a daemon (of any cluster of this account and region) runs that definition."""
    selector = labels.ownership(ctx.account_id, ctx.region, daemons.RESOURCE)

    def runs(obj: Object) -> bool:
        notes = task_keys.annotations_of(obj)
        return notes.get(task_keys.TASK_DEFINITION_ARN) == task_definition_arn

    return bool(
        ctx.backend.list(kinds.DAEMON_SET, None, selector=selector, limit=1, where=runs).items
    )
