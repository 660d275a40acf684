"""Making things happen in the embedded cluster, at the Kubernetes level (``backend.simulator``).

Everything is deterministic: effects happen at once or at a stated simulated time (move the
clock with ``backend.advance(seconds)``). Image rules take a glob (``fnmatch``) matched against
the image as written in the pod spec and against its fully qualified form
(``docker.io/library/nginx:latest``); when several rules match, the latest one set wins.
See ``docs/embedded-cluster.md`` for the behaviours these produce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kecs.backends import kinds
from kecs.backends.memory.controllers import kubelet as kubelet_module
from kecs.backends.memory.controllers.garbage import NODE_GONE_MESSAGE, NODE_GONE_REASON
from kecs.backends.memory.controllers.nodes import NodeSpec
from kecs.backends.memory.controllers.runtime import Container
from kecs.backends.memory.jsoncopy import copy_json

if TYPE_CHECKING:
    from kecs.backends.memory.store import MemoryBackend

Object = dict[str, Any]


class SimulationError(ValueError):
    """The simulation request does not apply (no such container, not running, no probe...)."""


def _set_rule(rules: dict[str, Any], pattern: str, value: Any) -> None:
    rules.pop(pattern, None)  # re-setting a rule makes it the most recent one
    rules[pattern] = value


class Simulator:
    def __init__(self, backend: MemoryBackend) -> None:
        self._backend = backend

    @property
    def _cluster(self) -> Any:
        return self._backend._cluster

    # -- containers ------------------------------------------------------------------------

    def _container(self, namespace: str, pod: str, container: str) -> tuple[Object, Container]:
        obj = self._cluster.server.must(kinds.POD, namespace, pod)
        runtime = self._cluster.kubelet.runtime((namespace, pod))
        if runtime is None or runtime.uid != obj["metadata"]["uid"]:
            raise SimulationError(f'pod "{pod}" is not running on a node')
        found = runtime.container(container)
        if found is None:
            raise SimulationError(f'pod "{pod}" has no container "{container}"')
        return obj, found

    def exit_container(
        self,
        namespace: str,
        pod: str,
        container: str,
        exit_code: int,
        *,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """The running container exits now with ``exit_code``.

        ``reason`` defaults to ``Completed`` (code 0) or ``Error``. What follows is the pod's
        ``restartPolicy``: restarted (``Always``; ``OnFailure`` for a non-zero code) with the
        kubelet's back-off, or left terminated; a pod whose containers have all terminated
        for good ends ``Succeeded`` (all exit codes 0) or ``Failed``.
        """
        with self._backend._lock:
            self._cluster.settle()
            _, found = self._container(namespace, pod, container)
            if not found.running:
                raise SimulationError(f'container "{container}" of pod "{pod}" is not running')
            found.terminate(self._backend.now(), int(exit_code), reason, message)
            self._cluster.manager.enqueue(kubelet_module.NAME, (namespace, pod))
            self._cluster.settle()

    def set_health(
        self, namespace: str, pod: str, container: str, healthy: bool, *, probe: str | None = None
    ) -> None:
        """Make the container's probes fail (``healthy=False``) or pass again.

        ``probe``: ``"readiness"``, ``"liveness"`` or ``None`` for every probe the container
        has. A failing readiness probe makes the container (and pod) not ready. A failing
        liveness probe kills the container at once (SIGTERM exit code) and, while it keeps
        failing, again ``initialDelaySeconds + periodSeconds * failureThreshold`` simulated
        seconds after each restart. A container without the probe raises
        :class:`SimulationError` (Kubernetes would not notice anything).
        """
        if probe not in (None, "readiness", "liveness"):
            raise ValueError(f"probe must be 'readiness', 'liveness' or None, not {probe!r}")
        with self._backend._lock:
            self._cluster.settle()
            _, found = self._container(namespace, pod, container)
            has_readiness = "readinessProbe" in found.probes
            has_liveness = "livenessProbe" in found.probes
            readiness = has_readiness and probe in (None, "readiness")
            liveness = has_liveness and probe in (None, "liveness")
            if not (readiness or liveness):
                wanted = f"{probe} probe" if probe else "readiness or liveness probe"
                raise SimulationError(f'container "{container}" of pod "{pod}" has no {wanted}')
            if readiness:
                found.unready = not healthy
            if liveness:
                found.set_unlive(not healthy, self._backend.now())
            self._cluster.manager.enqueue(kubelet_module.NAME, (namespace, pod))
            self._cluster.settle()

    # -- nodes -----------------------------------------------------------------------------

    def add_node(self, spec: NodeSpec | None = None, **fields: Any) -> Object:
        """Register a node: ``add_node(zone="us-east-1a", labels={...}, taints=[...], cpu="8")``."""
        return self._backend.add_node(NodeSpec(**fields) if spec is None else spec)

    def remove_node(
        self, name: str, *, reason: str | None = None, message: str | None = None
    ) -> None:
        """The node goes away: its pods are marked ``Failed`` (condition ``DisruptionTarget``,
        reason ``DeletionByPodGC`` and message ``PodGC: node no longer exists`` unless given)
        and deleted, so their controllers replace them elsewhere."""
        with self._backend._lock:
            self._cluster.settle()
            self._cluster.server.must(kinds.NODE, None, name)
            self._cluster.garbage.node_reasons[name] = (
                reason or NODE_GONE_REASON,
                message or NODE_GONE_MESSAGE,
            )
            self._cluster.server.delete(kinds.NODE, None, name)
            self._cluster.settle()

    def cordon(self, name: str, unschedulable: bool = True) -> Object:
        """Mark the node (un)schedulable, as ``kubectl cordon``/``uncordon`` do."""
        return self._backend.patch(
            kinds.NODE, name, {"spec": {"unschedulable": unschedulable or None}}
        )

    # -- image rules -----------------------------------------------------------------------

    def _rule(self, rules: dict[str, Any], pattern: str, value: Any) -> None:
        with self._backend._lock:
            if value is None:
                rules.pop(pattern, None)
            else:
                _set_rule(rules, pattern, value)

    def fail_image_pulls(self, pattern: str, message: str | None = None) -> None:
        """Pulls of matching images fail: containers wait with ``ErrImagePull``, then (one
        simulated second later) ``ImagePullBackOff``; retries back off 10 s, 20 s ... 300 s."""
        with self._backend._lock:
            _set_rule(self._cluster.behaviour.pull_failures, pattern, message)

    def allow_image_pulls(self, pattern: str | None = None) -> None:
        """Undo :meth:`fail_image_pulls` (all rules when ``pattern`` is None); waiting
        containers pull again at once, as if their back-off had expired."""
        with self._backend._lock:
            rules = self._cluster.behaviour.pull_failures
            if pattern is None:
                rules.clear()
            else:
                rules.pop(pattern, None)
            for key in self._cluster.kubelet.pods_waiting_for_pulls():
                self._cluster.kubelet.allow_pulls(key)
            self._cluster.settle()

    def slow_start(self, pattern: str, seconds: float) -> None:
        """Pods with a matching image stay ``ContainerCreating`` for ``seconds`` of simulated
        time after they are bound (``0`` removes the rule); affects pods not yet started."""
        self._rule(self._cluster.behaviour.slow_starts, pattern, seconds if seconds > 0 else None)

    def slow_stop(self, pattern: str, seconds: float) -> None:
        """Matching containers take ``seconds`` to exit after SIGTERM; beyond the pod's grace
        period they are killed (exit code 137)."""
        self._rule(self._cluster.behaviour.slow_stops, pattern, seconds if seconds > 0 else None)

    def crash_on_start(self, pattern: str, exit_code: int = 1, *, after: float = 0.0) -> None:
        """Matching containers exit with ``exit_code`` ``after`` simulated seconds each time
        they start (a crash loop under ``restartPolicy: Always``). For an init container an
        exit code 0 means it completes after that time."""
        self._rule(self._cluster.behaviour.crashes, pattern, (int(exit_code), float(after)))

    def stop_crashing(self, pattern: str | None = None) -> None:
        """Undo :meth:`crash_on_start` (all rules when ``pattern`` is None) for later starts."""
        with self._backend._lock:
            if pattern is None:
                self._cluster.behaviour.crashes.clear()
            else:
                self._cluster.behaviour.crashes.pop(pattern, None)

    def exit_code_on_sigterm(self, pattern: str, exit_code: int) -> None:
        """How matching containers exit when stopped (default 143, reason ``Error``; 0 gives
        ``Completed``)."""
        self._rule(self._cluster.behaviour.sigterm_codes, pattern, int(exit_code))

    @property
    def fail_fast_rollouts(self) -> bool:
        """Whether a rollout waiting only for stuck pods fails at once (see the docs)."""
        return bool(self._cluster.behaviour.fail_fast_rollouts)

    @fail_fast_rollouts.setter
    def fail_fast_rollouts(self, value: bool) -> None:
        self._cluster.behaviour.fail_fast_rollouts = bool(value)

    def reset(self) -> None:
        """Forget every image rule (pods keep their current state)."""
        with self._backend._lock:
            behaviour = self._cluster.behaviour
            for rules in (
                behaviour.pull_failures,
                behaviour.slow_starts,
                behaviour.slow_stops,
                behaviour.crashes,
                behaviour.sigterm_codes,
            ):
                rules.clear()

    def pod_runtime(self, namespace: str, pod: str) -> Object:
        """A snapshot of what the simulated runtime knows of the pod (for debugging)."""
        with self._backend._lock:
            runtime = self._cluster.kubelet.runtime((namespace, pod))
            if runtime is None:
                raise SimulationError(f'pod "{pod}" is not running on a node')
            return copy_json(
                {
                    c.name: {"state": c.state, "reason": c.reason, "restarts": c.restarts}
                    for c in runtime.containers
                }
            )
