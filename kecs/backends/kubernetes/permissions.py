"""What kecs may ask of a cluster: the (verb, API group, resource) triples of its RBAC role.

``deploy/rbac.yaml`` grants exactly these (a test compares the two), and the tests check that
every request the backend sends during the ECS scenarios is covered by them.
"""

from __future__ import annotations

from kecs.backends import kinds
from kecs.backends.kinds import ResourceKind
from kecs.backends.kubernetes.counter import Permission

READ = ("get", "list")
WRITE = ("get", "list", "create", "update", "patch", "delete")

#: Verbs per kind: kecs writes what ECS resources become, and only reads what Kubernetes'
#: own controllers make from them (ReplicaSets, ControllerRevisions, Events).
VERBS: dict[ResourceKind, tuple[str, ...]] = {
    kinds.NAMESPACE: WRITE,  # clusters
    kinds.CONFIG_MAP: WRITE,  # task definition families, tombstones, records
    kinds.POD_TEMPLATE: WRITE,  # task definition revisions
    kinds.RESOURCE_QUOTA: WRITE,  # cluster isolation
    kinds.NETWORK_POLICY: WRITE,  # cluster isolation
    kinds.POD: WRITE,  # tasks (the task-record finalizer is removed with patch/update)
    kinds.DEPLOYMENT: WRITE,  # REPLICA services
    kinds.DAEMON_SET: WRITE,  # DAEMON services, daemons
    kinds.SERVICE: WRITE,  # service discovery, load balancers
    kinds.SERVICE_ACCOUNT: WRITE,  # task roles
    kinds.SECRET: WRITE,  # image pull secrets
    kinds.ROLE: WRITE,  # task roles
    kinds.ROLE_BINDING: WRITE,  # task roles
    kinds.INGRESS: WRITE,  # ALB-style load balancers
    kinds.NODE: ("get", "list", "update", "patch", "delete"),  # container instances
    kinds.REPLICA_SET: ("get", "list", "patch", "update"),  # ECS deployments: their annotations
    kinds.CONTROLLER_REVISION: READ,  # DAEMON service revisions
    kinds.EVENT: READ,  # task and service events
    kinds.LIMIT_RANGE: READ,
}

REQUIRED_PERMISSIONS: frozenset[Permission] = frozenset(
    Permission(verb, kind.group, kind.plural) for kind, verbs in VERBS.items() for verb in verbs
)
