"""Building and parsing ECS ARNs: the one place that knows their layout.

Long ARN formats, as AWS uses them today::

    arn:aws:ecs:{region}:{account}:cluster/{cluster}
    arn:aws:ecs:{region}:{account}:service/{cluster}/{service}
    arn:aws:ecs:{region}:{account}:task/{cluster}/{task id}
    arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}
    arn:aws:ecs:{region}:{account}:container-instance/{cluster}/{id}
    arn:aws:ecs:{region}:{account}:capacity-provider/{name}
    arn:aws:ecs:{region}:{account}:task-set/{cluster}/{service}/{id}     (id: ecs-svc/<digits>)
    arn:aws:ecs:{region}:{account}:container/{cluster}/{task id}/{container id}
    arn:aws:ecs:{region}:{account}:service-deployment/{cluster}/{service}/{id}
    arn:aws:ecs:{region}:{account}:service-revision/{cluster}/{service}/{id}
    arn:aws:ecs:{region}:{account}:daemon-task-definition/{family}:{revision}
    arn:aws:ecs:{region}:{account}:daemon/{cluster}/{daemon}
    arn:aws:ecs:{region}:{account}:daemon-deployment/{cluster}/{daemon}/{id}
    arn:aws:ecs:{region}:{account}:daemon-revision/{cluster}/{daemon}/{id}
"""

from __future__ import annotations

from typing import NamedTuple

PARTITION = "aws"
_PREFIX = f"arn:{PARTITION}:ecs:"


class Arn(NamedTuple):
    region: str
    account: str
    resource_type: str
    #: The part after ``{resource_type}/``, e.g. ``"my-cluster/abc123"``.
    resource: str

    def __str__(self) -> str:
        return f"{_PREFIX}{self.region}:{self.account}:{self.resource_type}/{self.resource}"

    @property
    def parts(self) -> list[str]:
        return self.resource.split("/")


def is_arn(value: str) -> bool:
    return value.startswith("arn:")


def parse(value: str) -> Arn | None:
    """The parts of an ECS ARN, or ``None`` when ``value`` is not one."""
    if not value.startswith(_PREFIX):
        return None
    fields = value[len(_PREFIX) :].split(":", 2)
    if len(fields) != 3:
        return None
    region, account, rest = fields
    resource_type, sep, resource = rest.partition("/")
    if not sep or not resource or not region or not account:
        return None
    return Arn(region, account, resource_type, resource)


def cluster(region: str, account: str, name: str) -> str:
    return f"{_PREFIX}{region}:{account}:cluster/{name}"


def service(region: str, account: str, cluster_name: str, name: str) -> str:
    return f"{_PREFIX}{region}:{account}:service/{cluster_name}/{name}"


def task(region: str, account: str, cluster_name: str, task_id: str) -> str:
    return f"{_PREFIX}{region}:{account}:task/{cluster_name}/{task_id}"


def task_definition(region: str, account: str, family: str, revision: int) -> str:
    return f"{_PREFIX}{region}:{account}:task-definition/{family}:{revision}"


def container_instance(region: str, account: str, cluster_name: str, instance_id: str) -> str:
    return f"{_PREFIX}{region}:{account}:container-instance/{cluster_name}/{instance_id}"


def capacity_provider(region: str, account: str, name: str) -> str:
    return f"{_PREFIX}{region}:{account}:capacity-provider/{name}"


def task_set(region: str, account: str, cluster_name: str, service_name: str, set_id: str) -> str:
    return f"{_PREFIX}{region}:{account}:task-set/{cluster_name}/{service_name}/{set_id}"


def container(region: str, account: str, cluster_name: str, task_id: str, container_id: str) -> str:
    return f"{_PREFIX}{region}:{account}:container/{cluster_name}/{task_id}/{container_id}"


def service_deployment(
    region: str, account: str, cluster_name: str, service_name: str, deployment_id: str
) -> str:
    return (
        f"{_PREFIX}{region}:{account}:service-deployment/"
        f"{cluster_name}/{service_name}/{deployment_id}"
    )


def service_revision(
    region: str, account: str, cluster_name: str, service_name: str, revision_id: str
) -> str:
    return (
        f"{_PREFIX}{region}:{account}:service-revision/{cluster_name}/{service_name}/{revision_id}"
    )


class ServiceChild(NamedTuple):
    """A service deployment or service revision ARN, taken apart."""

    region: str
    account: str
    cluster: str
    service: str
    id: str


def _service_child(value: str, resource_type: str) -> ServiceChild | None:
    parsed = parse(value)
    if parsed is None or parsed.resource_type != resource_type:
        return None
    parts = parsed.parts
    if len(parts) != 3 or not all(parts):
        return None
    return ServiceChild(parsed.region, parsed.account, parts[0], parts[1], parts[2])


def parse_service_deployment(value: str) -> ServiceChild | None:
    """The parts of a ``service-deployment`` ARN, or ``None`` when ``value`` is not one."""
    return _service_child(value, "service-deployment")


def parse_service_revision(value: str) -> ServiceChild | None:
    """The parts of a ``service-revision`` ARN, or ``None`` when ``value`` is not one."""
    return _service_child(value, "service-revision")


def in_cluster(
    value: str, resource_type: str, region: str, account: str, cluster_name: str
) -> str | None:
    """The short name or id ``value`` designates in one cluster, or ``None``.

    ``value`` is either the short form itself (returned as is) or an ARN of
    ``resource_type`` in this region and account, in the long format
    (``{type}/{cluster}/{id}``, the cluster must match) or the old short one (``{type}/{id}``).
    """
    if not is_arn(value):
        return value
    arn = parse(value)
    if arn is None or (arn.resource_type, arn.region, arn.account) != (
        resource_type,
        region,
        account,
    ):
        return None
    parts = arn.parts
    if len(parts) == 2 and parts[0] == cluster_name:
        return parts[1]
    if len(parts) == 1:
        return parts[0]
    return None


def name_from(value: str, resource_type: str) -> str:
    """The last path element of an ARN of ``resource_type``, or ``value`` itself.

    ECS accepts either a short name or a full ARN in most ``cluster``/``service``/``task``
    parameters; this is the one place that tells them apart.
    """
    parsed = parse(value)
    if parsed is None or parsed.resource_type != resource_type:
        return value
    return parsed.parts[-1]


class TaskSetArn(NamedTuple):
    """A task set ARN, taken apart."""

    region: str
    account: str
    cluster: str
    service: str
    #: The task set id, ``ecs-svc/<digits>`` (it has a slash of its own).
    id: str


def parse_task_set(value: str) -> TaskSetArn | None:
    """The parts of a ``task-set`` ARN, or ``None`` when ``value`` is not one."""
    parsed = parse(value)
    if parsed is None or parsed.resource_type != "task-set":
        return None
    cluster_name, _, rest = parsed.resource.partition("/")
    service_name, _, set_id = rest.partition("/")
    if not (cluster_name and service_name and set_id):
        return None
    return TaskSetArn(parsed.region, parsed.account, cluster_name, service_name, set_id)


def daemon_task_definition(region: str, account: str, family: str, revision: int) -> str:
    return f"{_PREFIX}{region}:{account}:daemon-task-definition/{family}:{revision}"


def daemon(region: str, account: str, cluster_name: str, name: str) -> str:
    return f"{_PREFIX}{region}:{account}:daemon/{cluster_name}/{name}"


def daemon_deployment(
    region: str, account: str, cluster_name: str, daemon_name: str, deployment_id: str
) -> str:
    path = f"{cluster_name}/{daemon_name}/{deployment_id}"
    return f"{_PREFIX}{region}:{account}:daemon-deployment/{path}"


def daemon_revision(
    region: str, account: str, cluster_name: str, daemon_name: str, revision_id: str
) -> str:
    return f"{_PREFIX}{region}:{account}:daemon-revision/{cluster_name}/{daemon_name}/{revision_id}"


class DaemonArn(NamedTuple):
    """A daemon ARN, taken apart."""

    region: str
    account: str
    cluster: str
    name: str


def parse_daemon(value: str) -> DaemonArn | None:
    """The parts of a ``daemon`` ARN, or ``None`` when ``value`` is not one."""
    parsed = parse(value)
    if parsed is None or parsed.resource_type != "daemon":
        return None
    parts = parsed.parts
    if len(parts) != 2 or not all(parts):
        return None
    return DaemonArn(parsed.region, parsed.account, parts[0], parts[1])


def parse_daemon_deployment(value: str) -> ServiceChild | None:
    """The parts of a ``daemon-deployment`` ARN (``service`` is the daemon's name)."""
    return _service_child(value, "daemon-deployment")


def parse_daemon_revision(value: str) -> ServiceChild | None:
    """The parts of a ``daemon-revision`` ARN (``service`` is the daemon's name)."""
    return _service_child(value, "daemon-revision")
