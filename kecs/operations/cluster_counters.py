"""A cluster's counters (tasks, services, container instances), derived from the backend.

Nothing is counted at write time: the numbers are what the backend holds now, so every client
sees the same figures and nothing drifts. Which objects count as what is decided here only:

- task: a Pod labelled ``kecs.dev/resource=task`` in the cluster's Namespace; RUNNING when its
  phase is ``Running``, PENDING when ``Pending``; a pod being deleted or in a terminal phase
  (``Succeeded``/``Failed``) is a stopped (or stopping) task and no longer live;
- service: a Deployment or DaemonSet labelled ``kecs.dev/resource=service`` in the Namespace
  (or the ConfigMap record of an EXTERNAL / CODE_DEPLOY service, labelled the same way);
  ACTIVE unless its ``kecs.dev/status`` label says ``DRAINING`` or ``INACTIVE``;
- container instance: a Node that serves the cluster, ACTIVE or DRAINING
  (:func:`kecs.mapping.container_instance.serves`: shared Nodes serve every cluster, a Node
  labelled ``kecs.dev/cluster`` only its own); only the Nodes *dedicated* to the cluster keep
  it from being deleted (shared ones go on serving the others);
- launch type: the ``kecs.dev/launch-type`` label (``FARGATE`` counts as Fargate, anything
  else, or no label, as EC2: ECS's own default launch type).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from kecs.backends import kinds
from kecs.mapping import container_instance, labels
from kecs.operations.context import RequestContext

TASK = "task"
SERVICE = "service"
CONTAINER_INSTANCE = "container-instance"
FARGATE = "FARGATE"
EC2 = "EC2"
_TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@attrs.frozen
class ClusterCounts:
    """Counts by (state, launch type); the ECS totals and statistics derive from them."""

    tasks: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    services: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    container_instances: int = 0
    #: Container instances labelled for this cluster alone (they block DeleteCluster).
    dedicated_container_instances: int = 0

    def _total(self, counter: Counter[tuple[str, str]], state: str) -> int:
        return sum(n for (s, _), n in counter.items() if s == state)

    @property
    def running_tasks(self) -> int:
        return self._total(self.tasks, "RUNNING")

    @property
    def pending_tasks(self) -> int:
        return self._total(self.tasks, "PENDING")

    @property
    def live_tasks(self) -> int:
        """Tasks that keep a cluster from being deleted (any not stopped)."""
        return sum(self.tasks.values())

    @property
    def active_services(self) -> int:
        return self._total(self.services, "ACTIVE")

    @property
    def draining_services(self) -> int:
        return self._total(self.services, "DRAINING")

    def statistics(self) -> list[dict[str, str]]:
        """DescribeClusters' ``STATISTICS``, named and ordered as AWS returns them."""

        def stat(name: str, counter: Counter[tuple[str, str]], state: str, launch: str) -> Any:
            return {"name": name, "value": str(counter[(state, launch)])}

        return [
            stat("runningEC2TasksCount", self.tasks, "RUNNING", EC2),
            stat("runningFargateTasksCount", self.tasks, "RUNNING", FARGATE),
            stat("pendingEC2TasksCount", self.tasks, "PENDING", EC2),
            stat("pendingFargateTasksCount", self.tasks, "PENDING", FARGATE),
            stat("activeEC2ServiceCount", self.services, "ACTIVE", EC2),
            stat("activeFargateServiceCount", self.services, "ACTIVE", FARGATE),
            stat("drainingEC2ServiceCount", self.services, "DRAINING", EC2),
            stat("drainingFargateServiceCount", self.services, "DRAINING", FARGATE),
        ]


def _launch_type(obj: dict[str, Any]) -> str:
    value = (obj["metadata"].get("labels") or {}).get(labels.LAUNCH_TYPE)
    return FARGATE if value == FARGATE else EC2


def _task_state(pod: dict[str, Any]) -> str | None:
    if pod["metadata"].get("deletionTimestamp"):
        return None
    phase = (pod.get("status") or {}).get("phase", "Pending")
    if phase in _TERMINAL_PHASES:
        return None
    if phase == "Running":
        return "RUNNING"
    if phase == "Pending":
        return "PENDING"
    return "OTHER"  # e.g. Unknown: not counted as running or pending, but still live


def _service_state(workload: dict[str, Any]) -> str | None:
    status = (workload["metadata"].get("labels") or {}).get(labels.STATUS, "ACTIVE")
    return None if status == "INACTIVE" else status


def count_cluster(ctx: RequestContext, namespace: str, cluster_name: str) -> ClusterCounts:
    """The counters of the cluster living in ``namespace``."""
    return count_clusters(ctx, {namespace: cluster_name})[namespace]


def count_clusters(ctx: RequestContext, clusters: dict[str, str]) -> dict[str, ClusterCounts]:
    """Counters of several clusters (namespace -> cluster name) in four backend lists.

    One cluster is counted inside its namespace; several by one list per kind across the
    namespaces of this account and region, so DescribeClusters costs the same for 1 or 100.
    """
    tasks: dict[str, Counter[tuple[str, str]]] = {ns: Counter() for ns in clusters}
    services: dict[str, Counter[tuple[str, str]]] = {ns: Counter() for ns in clusters}
    scope = next(iter(clusters)) if len(clusters) == 1 else None

    def selector(resource: str) -> dict[str, str]:
        if scope is not None:
            return {labels.RESOURCE: resource}
        return {
            labels.RESOURCE: resource,
            labels.ACCOUNT: ctx.account_id,
            labels.REGION: ctx.region,
        }

    # The tallies happen in the ``where`` filter, which then declines every object: the
    # embedded backend copies nothing and large clusters are counted in one pass.
    def tally_task(pod: dict[str, Any]) -> bool:
        counter = tasks.get(pod["metadata"].get("namespace", ""))
        state = _task_state(pod) if counter is not None else None
        if counter is not None and state is not None:
            counter[(state, _launch_type(pod))] += 1
        return False

    def tally_service(workload: dict[str, Any]) -> bool:
        counter = services.get(workload["metadata"].get("namespace", ""))
        state = _service_state(workload) if counter is not None else None
        if counter is not None and state is not None:
            counter[(state, _launch_type(workload))] += 1
        return False

    backend = ctx.backend
    backend.list_all(kinds.POD, scope, selector=selector(TASK), where=tally_task)
    # A ConfigMap labelled as a service is the record of an EXTERNAL / CODE_DEPLOY service.
    for kind in (kinds.DEPLOYMENT, kinds.DAEMON_SET, kinds.CONFIG_MAP):
        backend.list_all(kind, scope, selector=selector(SERVICE), where=tally_service)
    instances = {ns: [0, 0] for ns in clusters}

    def tally_node(node: dict[str, Any]) -> bool:
        for ns, name in clusters.items():
            if container_instance.serves(node, ctx.account_id, ctx.region, name):
                instances[ns][0] += 1
                if container_instance.is_dedicated(node):
                    instances[ns][1] += 1
        return False

    backend.list_all(kinds.NODE, where=tally_node)
    return {
        ns: ClusterCounts(tasks[ns], services[ns], instances[ns][0], instances[ns][1])
        for ns in clusters
    }
