"""Label and annotation keys kecs puts on the Kubernetes objects it owns.

Labels identify and select (values bounded to 63 characters); annotations keep the exact ECS
strings. Everything lives in the ``kecs.dev/`` domain.
"""

from __future__ import annotations

DOMAIN = "kecs.dev"
#: Namespace holding account/region-wide ECS records (task definitions, tombstones, settings).
SYSTEM_NAMESPACE = "kecs-system"

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "kecs"

# -- labels --------------------------------------------------------------------------------
RESOURCE = f"{DOMAIN}/resource"  # cluster | task-definition | service | task | ...
ACCOUNT = f"{DOMAIN}/account"
REGION = f"{DOMAIN}/region"
CLUSTER = f"{DOMAIN}/cluster"
FAMILY = f"{DOMAIN}/family"
REVISION = f"{DOMAIN}/revision"
SERVICE = f"{DOMAIN}/service"
TASK_DEFINITION = f"{DOMAIN}/task-definition"
STATUS = f"{DOMAIN}/status"
STARTED_BY = f"{DOMAIN}/started-by"
GROUP = f"{DOMAIN}/group"
LAUNCH_TYPE = f"{DOMAIN}/launch-type"
CAPACITY_PROVIDER = f"{DOMAIN}/capacity-provider"
TASK_SET = f"{DOMAIN}/task-set"  # the task set (of an EXTERNAL service) a task belongs to
DAEMON = f"{DOMAIN}/daemon"  # the ECS daemon a DaemonSet (and its tasks) stands for
#: Keeps a task's pod (and so its STOPPED record) until the retention period has passed.
TASK_RECORD_FINALIZER = f"{DOMAIN}/task-record"

# -- annotations (exact ECS values) ---------------------------------------------------------
ANN_CLUSTER_NAME = f"{DOMAIN}/cluster-name"
ANN_CLUSTER_ARN = f"{DOMAIN}/cluster-arn"
ANN_FAMILY = f"{DOMAIN}/family"
ANN_TASK_DEFINITION = f"{DOMAIN}/task-definition"  # the ECS JSON
ANN_TASK_DEFINITION_ARN = f"{DOMAIN}/task-definition-arn"
ANN_TAGS = f"{DOMAIN}/tags"  # JSON list of {"key", "value"}
ANN_NOTES = f"{DOMAIN}/mapping-notes"  # JSON list of strings

# -- pod template annotations written by kecs.mapping.taskdef (see docs/mapping.md) ----------
ANN_CONTAINER_NAMES = f"{DOMAIN}/container-names"  # JSON {k8s container name: ECS name}
ANN_CONTAINERS = f"{DOMAIN}/containers"  # JSON {k8s container name: ECS-only container metadata}
ANN_TASK_METADATA = f"{DOMAIN}/task-metadata"  # JSON: task members kept as metadata
ANN_VOLUME_NAMES = f"{DOMAIN}/volume-names"  # JSON {k8s volume name: ECS volume name}
ANN_PORT_MAPPINGS = f"{DOMAIN}/port-mappings"  # JSON list: port names, appProtocol
ANN_SECRETS = (
    f"{DOMAIN}/secrets"  # JSON {Secret name: {"source", "kind", "keys": {key: valueFrom}}}
)
ANN_TASK_ROLE_ARN = f"{DOMAIN}/task-role-arn"
ANN_EXECUTION_ROLE_ARN = f"{DOMAIN}/execution-role-arn"

#: Label/annotation domains user tags may never be written into.
RESERVED_DOMAINS = ("kubernetes.io", "k8s.io", DOMAIN)


def is_reserved_key(key: str) -> bool:
    prefix, slash, _ = key.rpartition("/")
    if not slash:
        return False
    return any(prefix == d or prefix.endswith("." + d) for d in RESERVED_DOMAINS)


def ownership(account: str, region: str, resource: str) -> dict[str, str]:
    """The labels every kecs object of one ECS world carries."""
    return {
        MANAGED_BY: MANAGED_BY_VALUE,
        RESOURCE: resource,
        ACCOUNT: account,
        REGION: region,
    }
