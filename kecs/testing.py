"""Making things happen to ECS tasks in tests, by task ARN.

kecs's embedded cluster starts every task at once and keeps it healthy; real tasks exit,
crash, fail health checks, fail to pull their image, start slowly, or lose their host. These
helpers make that happen, in ECS terms, for tests written against ``kecs.client("ecs")``::

    import kecs
    from kecs import testing

    backend = kecs.MemoryBackend()
    ecs = kecs.client("ecs", backend=backend)
    ...
    arn = ecs.run_task(taskDefinition="web")["tasks"][0]["taskArn"]
    testing.exit_container(ecs, arn, "app", exit_code=1)
    task = ecs.describe_tasks(tasks=[arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED"
    assert task["stoppedReason"] == "Essential container in task exited"

Every helper takes the kecs client or the :class:`~kecs.MemoryBackend` it uses (``target``),
resolves the ECS names to Kubernetes ones (task ARN -> pod, ECS container name -> container,
container instance ARN -> Node) and calls the embedded backend's Kubernetes-level simulator
(``backend.simulator``, documented in ``docs/embedded-cluster.md``). They are thin: anything
the simulator offers beyond them is one attribute away. Against a real cluster they raise
:class:`NotEmbeddedError`: a real cluster's containers do what their images do.

Time is simulated: effects that take time (a slow start, an image pull back-off, the stopped
task retention) happen when the clock moves, with :func:`advance`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kecs import arns
from kecs.backends import kinds
from kecs.backends.base import Backend, Object
from kecs.backends.memory import MemoryBackend
from kecs.backends.memory.simulator import SimulationError, Simulator
from kecs.client import backend_of
from kecs.errors import KecsError
from kecs.mapping import cluster as cluster_mapping
from kecs.mapping import ids, labels, task_containers

__all__ = [
    "NotEmbeddedError",
    "SimulationError",
    "TaskNotFoundError",
    "advance",
    "allow_image_pulls",
    "crash_on_start",
    "exit_container",
    "fail_image_pulls",
    "remove_instance",
    "set_container_health",
    "simulator",
    "slow_start",
    "task_pod",
]

_TASK_SELECTOR = {labels.RESOURCE: "task"}


class NotEmbeddedError(KecsError, TypeError):
    """The helper needs kecs's embedded backend, and was given something else."""


class TaskNotFoundError(KecsError, LookupError):
    """No task (or container, or container instance) of that name exists."""


def backend(target: Any) -> Backend:
    """The embedded backend of ``target`` (a kecs client or a backend).

    A backend that forwards to an embedded one (it has the embedded ``simulator``, as the
    test suite's Kubernetes-over-HTTP target does) is accepted too.
    """
    found: Backend | None = target if isinstance(target, Backend) else backend_of(target)
    if found is None:
        raise NotEmbeddedError(
            f"kecs.testing needs a client made by kecs.client(...) or a kecs.MemoryBackend, "
            f"not {type(target).__name__}"
        )
    if isinstance(found, MemoryBackend) or isinstance(getattr(found, "simulator", None), Simulator):
        return found
    raise NotEmbeddedError(
        f"kecs.testing drives kecs's embedded cluster (kecs.MemoryBackend); this client uses "
        f"{type(found).__name__}, whose containers do what their images do"
    )


def simulator(target: Any) -> Simulator:
    """The embedded cluster's Kubernetes-level simulator (``backend.simulator``)."""
    found: Simulator = getattr(backend(target), "simulator")  # noqa: B009 (typed Backend)
    return found


def task_pod(target: Any, task_arn: str) -> Object:
    """The Pod of the task ``task_arn`` (a full task ARN), as the backend stores it now."""
    parsed = arns.parse(task_arn)
    if parsed is None or parsed.resource_type != "task" or len(parsed.parts) != 2:
        raise ValueError(
            f"expected a task ARN (arn:aws:ecs:...:task/<cluster>/<id>), not {task_arn!r}"
        )
    cluster_name, task_id = parsed.parts
    namespace = cluster_mapping.namespace_name(parsed.account, parsed.region, cluster_name)
    wanted = task_id.lower()
    pods = backend(target).list_all(
        kinds.POD,
        namespace,
        selector=_TASK_SELECTOR,
        where=lambda pod: ids.task_id(pod) == wanted,
    )
    if not pods:
        raise TaskNotFoundError(f"no task {task_arn}")
    return pods[0]


def _container(pod: Object, container_name: str) -> str:
    """The Kubernetes name of the task's ECS container ``container_name``."""
    for k8s_name, ecs_name in task_containers.name_map(pod).items():
        if ecs_name == container_name:
            return k8s_name
    known = ", ".join(sorted(task_containers.name_map(pod).values()))
    raise TaskNotFoundError(f"the task has no container {container_name!r} (it has: {known})")


def exit_container(
    target: Any,
    task_arn: str,
    container_name: str,
    exit_code: int = 0,
    *,
    reason: str | None = None,
    message: str | None = None,
) -> None:
    """The task's running container exits now with ``exit_code``.

    An essential container's exit stops a standalone task (``stopCode``
    ``EssentialContainerExited``, "Essential container in task exited"; the other containers
    are stopped, exit code 143); a service replaces its task. ``reason`` and ``message`` are
    the Kubernetes termination's (``message`` becomes the container's ECS ``reason``).
    """
    pod = task_pod(target, task_arn)
    meta = pod["metadata"]
    simulator(target).exit_container(
        meta["namespace"],
        meta["name"],
        _container(pod, container_name),
        exit_code,
        reason=reason,
        message=message,
    )


def set_container_health(
    target: Any, task_arn: str, container_name: str, healthy: bool, *, probe: str | None = None
) -> None:
    """The container's health check starts failing (``healthy=False``) or passes again.

    A task definition ``healthCheck`` maps to readiness and liveness probes: a failing
    readiness probe makes the container (and the task) ``UNHEALTHY``; a failing liveness probe
    restarts a service task's container (ECS would replace the task). ``probe`` limits the
    change to ``"readiness"`` or ``"liveness"``. A container without a health check raises
    :class:`SimulationError`.
    """
    pod = task_pod(target, task_arn)
    meta = pod["metadata"]
    simulator(target).set_health(
        meta["namespace"], meta["name"], _container(pod, container_name), healthy, probe=probe
    )


def fail_image_pulls(target: Any, pattern: str, message: str | None = None) -> None:
    """Pulls of images matching the glob ``pattern`` fail from now on.

    A task whose image cannot be pulled stops (``stopCode`` ``TaskFailedToStart``,
    ``stoppedReason`` "CannotPullContainerError: ..."); a service keeps trying, and its
    deployment circuit breaker trips if it has one. ``pattern`` matches the image as written
    (``"nginx:*"``) or fully qualified (``"docker.io/library/*"``).
    """
    simulator(target).fail_image_pulls(pattern, message)


def allow_image_pulls(target: Any, pattern: str | None = None) -> None:
    """Undo :func:`fail_image_pulls` (every rule when ``pattern`` is ``None``)."""
    simulator(target).allow_image_pulls(pattern)


def slow_start(target: Any, pattern: str, seconds: float) -> None:
    """Tasks whose image matches ``pattern`` stay PENDING for ``seconds`` of simulated time
    after they are placed (``0`` removes the rule). Move the clock with :func:`advance`."""
    simulator(target).slow_start(pattern, seconds)


def crash_on_start(target: Any, pattern: str, exit_code: int = 1, *, after: float = 0.0) -> None:
    """Containers whose image matches ``pattern`` exit with ``exit_code`` ``after`` simulated
    seconds each time they start (a service's tasks keep failing; its circuit breaker trips)."""
    simulator(target).crash_on_start(pattern, exit_code, after=after)


def _node_name(embedded: Backend, instance: str) -> str:
    parsed = arns.parse(instance)
    if parsed is not None:
        if parsed.resource_type != "container-instance":
            raise ValueError(f"expected a container instance ARN, not {instance!r}")
        instance = parsed.parts[-1]
    wanted = instance.lower()
    found = embedded.list_all(
        kinds.NODE,
        where=lambda n: ids.container_instance_id(n) == wanted or n["metadata"]["name"] == instance,
    )
    if not found:
        raise TaskNotFoundError(f"no container instance {instance}")
    return str(found[0]["metadata"]["name"])


def remove_instance(
    target: Any, container_instance: str, *, reason: str | None = None, message: str | None = None
) -> None:
    """The container instance (a Node: its ARN, id, or Node name) goes away.

    Its tasks stop (``stopCode`` ``InfrastructureHealth``, "Host EC2 (instance <node>)
    terminated."); services start replacements on the remaining instances.
    """
    name = _node_name(backend(target), container_instance)
    simulator(target).remove_node(name, reason=reason, message=message)


def advance(target: Any, seconds: float) -> datetime:
    """Move the simulated clock ``seconds`` forward and run what became due; the new time."""
    moved: datetime = getattr(backend(target), "advance")(seconds)  # noqa: B009
    return moved
