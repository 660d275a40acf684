"""The kubelet of every simulated node: runs bound pods and reports their status.

By default a bound pod runs at once: init containers complete in order (native sidecars,
``restartPolicy: Always`` init containers, start and keep running), then every container runs
and is ready (probes pass). The simulator's rules (:class:`~.runtime.Behaviour`) make images
fail to pull, start or stop slowly, or crash; its calls make containers exit or fail probes.

Restarts follow ``restartPolicy`` with the kubelet's back-off: the first restart is immediate,
then 10 s, 20 s, 40 s ... up to 300 s of simulated time (``CrashLoopBackOff`` meanwhile); a
container that ran 10 minutes starts a fresh series. A deleted pod's containers get SIGTERM
(exit code 143, reason ``Error``, unless the simulator says otherwise), the pod reaches its
terminal phase (``Failed`` if a container exited non-zero, else ``Succeeded``) and the
kubelet then deletes it with grace period 0, which removes it unless finalizers remain.

Before it starts a container, after the image pull, the kubelet builds the container's
environment: an ``env`` ``secretKeyRef`` / ``configMapKeyRef`` or an ``envFrom`` source that
is missing (and not ``optional``) leaves the container waiting with
``CreateContainerConfigError`` and the kubelet's message (``secret "db" not found``,
``couldn't find key password in Secret ns/db``); it starts once the Secret or ConfigMap is
written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kecs.backends import kinds
from kecs.backends.memory import images
from kecs.backends.memory.apiserver import TERMINAL_PHASES, ApiServer, parse_timestamp
from kecs.backends.memory.controllers import Manager
from kecs.backends.memory.controllers.envconfig import config_error
from kecs.backends.memory.controllers.nodes import NodeCache
from kecs.backends.memory.controllers.podstatus import initialized, render
from kecs.backends.memory.controllers.runtime import Behaviour, Container, PodRuntime

Object = dict[str, Any]
PodKey = tuple[str, str]

NAME = "kubelet"
ORPHANS = "podgc"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
UNKNOWN_MESSAGE = "The container could not be located when the pod was terminated"
CONFIG_ERROR = "CreateContainerConfigError"


class Kubelet:
    def __init__(
        self, manager: Manager, server: ApiServer, nodes: NodeCache, behaviour: Behaviour
    ) -> None:
        self.manager = manager
        self.server = server
        self.nodes = nodes
        self.behaviour = behaviour
        self.runtimes: dict[PodKey, PodRuntime] = {}
        #: the last container list found to start at once whatever the cluster holds (valid
        #: images, no environment sources): pods of a task definition or workload share it
        self._plain_containers: list[Object] | None = None
        #: Pods with a container waiting for a Secret or ConfigMap (retried when one is written).
        self.config_waiting: set[PodKey] = set()
        manager.register(NAME, self.sync)
        manager.watch(kinds.POD, self._on_pod)
        manager.watch(kinds.SECRET, self._on_config)
        manager.watch(kinds.CONFIG_MAP, self._on_config)

    def _on_pod(self, old: Object | None, new: Object | None) -> None:
        if new is None:
            assert old is not None
            key = (old["metadata"]["namespace"], old["metadata"]["name"])
            self.runtimes.pop(key, None)
            self.config_waiting.discard(key)
            return
        if not new["spec"].get("nodeName"):
            return
        if old is not None:
            meta, old_meta = new["metadata"], old["metadata"]
            spec_same = old["spec"] is new["spec"] or old["spec"] == new["spec"]
            if (
                spec_same
                and meta.get("deletionTimestamp") == old_meta.get("deletionTimestamp")
                and meta.get("deletionGracePeriodSeconds")
                == old_meta.get("deletionGracePeriodSeconds")
            ):
                return
        self.manager.enqueue(NAME, (new["metadata"]["namespace"], new["metadata"]["name"]))

    def _on_config(self, old: Object | None, new: Object | None) -> None:
        if not self.config_waiting:
            return
        namespace = (new or old or {}).get("metadata", {}).get("namespace")
        for key in [k for k in self.config_waiting if k[0] == namespace]:
            self.manager.enqueue(NAME, key)

    def runtime(self, key: PodKey) -> PodRuntime | None:
        return self.runtimes.get(key)

    # -- the sync loop ---------------------------------------------------------------------

    def sync(self, key: PodKey) -> None:
        pod = self.server.find(kinds.POD, *key)
        if pod is None:
            self.runtimes.pop(key, None)
            return
        node = pod["spec"].get("nodeName")
        if not node:
            return
        info = self.nodes.infos.get(node)
        if info is None:
            self.manager.enqueue(ORPHANS, key)
            return
        meta, status = pod["metadata"], pod.get("status") or {}
        rt = self.runtimes.get(key)
        if status.get("phase") in TERMINAL_PHASES and (rt is None or rt.done):
            if meta.get("deletionTimestamp"):
                self.server.delete(kinds.POD, *key, grace=0)
            return
        now = self.manager.now()
        fresh = rt is None or rt.uid != meta["uid"]
        if fresh:
            rt = self.runtimes[key] = PodRuntime(pod, now, self.behaviour)
        assert rt is not None
        if fresh and self._starts_at_once(pod, rt) and self._start_at_once(pod, rt, now):
            phase, reason, message = "Running", None, None
            timed = False
        else:
            self._image_changes(pod, rt, now)
            if meta.get("deletionTimestamp"):
                self._terminate(pod, rt, now)
            elif not self._deadline(pod, rt, now):
                self._step(pod, rt, now)
            phase, reason, message = self._phase(pod, rt)
            timed = True
        if reason is None and status.get("reason") == "DeadlineExceeded":
            reason, message = status["reason"], status.get("message")
        new_status = render(
            pod,
            rt,
            phase=phase,
            host_ip=info.address,
            now=self.server.timestamp(),
            reason=reason,
            message=message,
        )
        if new_status != status:
            pod = self.server.write(kinds.POD, pod, status=new_status)
        if rt.done and meta.get("deletionTimestamp"):
            self.server.delete(kinds.POD, *key, grace=0)
            return
        due = rt.next_due(now) if timed else None
        if due is not None and due > now:
            self.manager.enqueue_at(NAME, key, due)

    def _phase(self, pod: Object, rt: PodRuntime) -> tuple[str, str | None, str | None]:
        if rt.deadline_failed:
            return "Failed", "DeadlineExceeded", DEADLINE_MESSAGE
        if rt.done:
            failed = any(c.exit_code != 0 for c in rt.apps) or any(
                c.role == "init" and c.terminated and c.exit_code != 0 for c in rt.containers
            )
            return ("Failed" if failed else "Succeeded"), None, None
        if initialized(rt) or not any(c.ever_started for c in rt.apps):
            return "Pending", None, None
        return "Running", None, None

    # -- running ---------------------------------------------------------------------------

    def _starts_at_once(self, pod: Object, rt: PodRuntime) -> bool:
        """Whether a pod the kubelet has just taken on runs every container now, in one step:
        no simulator rule that could delay, fail or crash anything (pulls, slow starts,
        crashes), no init containers, no deadline, not being deleted, every image valid and
        every environment source present. That is the common case (a task, a replica), and
        :meth:`_start_at_once` then does what :meth:`_step` would, with no timer left."""
        behaviour = self.behaviour
        if behaviour.pull_failures or behaviour.slow_starts or behaviour.crashes:
            return False
        spec = pod["spec"]
        if (
            spec.get("initContainers")
            or spec.get("activeDeadlineSeconds") is not None
            or pod["metadata"].get("deletionTimestamp")
        ):
            return False
        containers = spec.get("containers")
        if containers is self._plain_containers:
            return True  # stored objects never change: the same list, the same verdict
        plain = True
        for c in rt.containers:
            if images.normalize(c.image) is None:
                return False
            if config_error(self.server, pod, c.name) is not None:
                return False
            plain = plain and not _has_sources(spec["containers"], c.name)
        if plain:
            self._plain_containers = containers
        return True

    def _start_at_once(self, pod: Object, rt: PodRuntime, now: datetime) -> bool:
        """Start every container of a pod :meth:`_starts_at_once` accepted, as :meth:`_step`
        (through :meth:`_drive` and :meth:`_prepare`) would; ``False`` (nothing done) when the
        node has no pod IP left, which :meth:`_step` then reports as it always does."""
        spec, meta = pod["spec"], pod["metadata"]
        info = self.nodes.infos[spec["nodeName"]]
        key = (meta["namespace"], meta["name"])
        ip = info.address if spec.get("hostNetwork") else info.allocate_ip(key)
        if ip is None:
            return False
        rt.ip = ip
        for c in rt.containers:
            c.pulled = True
            c.pull_attempts = 0
            c.pull_failed_at = c.pull_retry_at = None
            c.start(now, rt.uid, self.behaviour)
        self.config_waiting.discard(key)
        return True

    def _step(self, pod: Object, rt: PodRuntime, now: datetime) -> None:
        if now < rt.sandbox_at:
            for c in rt.containers:
                c.wait("PodInitializing" if rt.inits and c.role == "app" else "ContainerCreating")
            return
        if rt.ip is None:
            info = self.nodes.infos[pod["spec"]["nodeName"]]
            if pod["spec"].get("hostNetwork"):
                rt.ip = info.address  # the node's own network namespace
            else:
                rt.ip = info.allocate_ip((pod["metadata"]["namespace"], pod["metadata"]["name"]))
            if rt.ip is None:
                return
        policy = pod["spec"].get("restartPolicy", "Always")
        for c in rt.inits:
            if c.role == "sidecar":
                self._drive(c, rt, now, lambda _c: True, pod)
                if not c.ever_started:
                    self._hold_apps(rt)
                    return
                continue
            if c.terminated and c.exit_code == 0:
                continue
            self._drive(c, rt, now, lambda c: policy != "Never" and c.exit_code != 0, pod)
            if c.running and c.crash is None:
                c.terminate(now, 0)
            if c.terminated and c.exit_code == 0:
                continue
            self._hold_apps(rt)
            if c.terminated and policy == "Never":
                self._finish(rt, now)
            return
        for c in rt.apps:
            self._drive(c, rt, now, lambda c: _restarts(policy, c), pod)
        if policy != "Always" and all(c.terminated and not _restarts(policy, c) for c in rt.apps):
            self._finish(rt, now)

    @staticmethod
    def _hold_apps(rt: PodRuntime) -> None:
        for c in rt.apps:
            if not c.ever_started:
                c.wait("PodInitializing")

    def _drive(
        self, c: Container, rt: PodRuntime, now: datetime, restarts: Any, pod: Object
    ) -> None:
        """Move one container as far as the clock allows."""
        for _ in range(64):
            if c.running:
                if c.crash is not None and c.crash[0] <= now:
                    c.terminate(c.crash[0], c.crash[1])
                elif c.live_kill_at is not None and c.live_kill_at <= now:
                    c.terminate(c.live_kill_at, self.behaviour.sigterm_code(c.image))
                else:
                    return
                continue
            if c.terminated:
                if not restarts(c):
                    return
                assert c.backoff_until is not None
                if now < c.backoff_until:
                    c.last = {"terminated": c.terminated_record()}
                    delay = (
                        int((c.backoff_until - c.finished_at).total_seconds())
                        if c.finished_at
                        else 0
                    )
                    c.wait(
                        "CrashLoopBackOff",
                        f"back-off {_duration(delay)} restarting failed container={c.name} "
                        f"pod={rt.ref}",
                    )
                    return
                if not self._prepare(c, pod, now):
                    return
                c.restart(now, rt.uid, self.behaviour)
                continue
            # waiting: never started, backing off, or failing to pull
            if c.reason == "CrashLoopBackOff":
                if c.backoff_until is not None and now < c.backoff_until:
                    return
                if not self._prepare(c, pod, now):
                    return
                c.restarts += 1
                c.start(now, rt.uid, self.behaviour)
                continue
            if not self._prepare(c, pod, now):
                return
            c.start(now, rt.uid, self.behaviour)
        raise RuntimeError(f"container {c.name} did not settle")

    def _prepare(self, c: Container, pod: Object, now: datetime) -> bool:
        """Pull the image, then build the container's environment (module docs)."""
        if not self._pull(c, now):
            return False
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        problem = config_error(self.server, pod, c.name)
        if problem is None:
            self.config_waiting.discard(key)
            return True
        c.wait(CONFIG_ERROR, problem)
        self.config_waiting.add(key)
        return False

    def _pull(self, c: Container, now: datetime) -> bool:
        if c.pulled:
            return True
        full = images.normalize(c.image)
        if full is None:
            c.wait("InvalidImageName", images.invalid_message(c.image))
            return False
        failing, text = self.behaviour.pull_failure(c.image)
        if not failing:
            c.pulled = True
            c.pull_attempts = 0
            c.pull_failed_at = c.pull_retry_at = None
            return True
        if c.pull_retry_at is not None and now < c.pull_retry_at:
            assert c.pull_failed_at is not None
            if now >= c.pull_failed_at + timedelta(seconds=1):
                c.wait("ImagePullBackOff", f'Back-off pulling image "{c.image}"')
            return False
        c.pull_attempts += 1
        c.pull_failed_at = now
        delay = min(10 * 2 ** (c.pull_attempts - 1), 300)
        c.pull_retry_at = now + timedelta(seconds=delay)
        detail = text or (
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
            f'failed to resolve reference "{full}": {full}: not found'
        )
        c.wait("ErrImagePull", f'Failed to pull image "{c.image}": {detail}')
        return False

    def _image_changes(self, pod: Object, rt: PodRuntime, now: datetime) -> None:
        """A pod's image may be updated: the kubelet kills the container and starts the new one."""
        specs = {
            c["name"]: c
            for c in (pod["spec"].get("initContainers") or []) + pod["spec"]["containers"]
        }
        for c in rt.containers:
            image = str(specs.get(c.name, {}).get("image") or "")
            if image != c.image:
                c.image, c.pulled = image, False
                c.pull_attempts, c.pull_failed_at, c.pull_retry_at = 0, None, None
                if c.running:
                    c.terminate(now, self.behaviour.sigterm_code(c.image))
                    c.backoff_until = now
                    c.streak = 0

    def _deadline(self, pod: Object, rt: PodRuntime, now: datetime) -> bool:
        seconds = pod["spec"].get("activeDeadlineSeconds")
        if seconds is None or rt.done:
            return rt.deadline_failed
        due = rt.start_time + timedelta(seconds=int(seconds))
        if now < due:
            self.manager.enqueue_at(
                NAME, (pod["metadata"]["namespace"], pod["metadata"]["name"]), due
            )
            return False
        for c in rt.containers:
            self._kill(c, due)
        rt.done = rt.deadline_failed = True
        return True

    def _finish(self, rt: PodRuntime, now: datetime) -> None:
        """The pod is done: its sidecars (and anything still running) get SIGTERM."""
        for c in rt.containers:
            if c.running:
                self._kill(c, now)
            c.crash = c.live_kill_at = None
        rt.done = True

    def _kill(self, c: Container, now: datetime) -> None:
        if c.running:
            c.terminate(now, self.behaviour.sigterm_code(c.image))
        elif not c.terminated:
            if c.last is not None and c.ever_started:
                c.state = "terminated"
                terminated = c.last["terminated"]
                c.exit_code, c.reason = terminated.get("exitCode", 137), terminated.get("reason")
                c.message = terminated.get("message")
            else:
                c.terminate(now, 137, "ContainerStatusUnknown", UNKNOWN_MESSAGE)
                c.started_at = None
        c.crash = c.live_kill_at = c.stop_at = None

    # -- deleting --------------------------------------------------------------------------

    def _terminate(self, pod: Object, rt: PodRuntime, now: datetime) -> None:
        meta = pod["metadata"]
        if rt.stop_began is None:
            rt.stop_began = now
            rt.grace = int(meta.get("deletionGracePeriodSeconds") or 0)
        grace_end = rt.stop_began + timedelta(seconds=rt.grace)
        if meta.get("deletionGracePeriodSeconds") == 0:
            grace_end = min(grace_end, now)
        for c in rt.containers:
            if not c.running:
                self._kill(c, now)
                continue
            delay = self.behaviour.stop_delay(c.image)
            stop_at = rt.stop_began + timedelta(seconds=delay)
            if stop_at >= grace_end and delay > 0:
                if now >= grace_end:
                    c.terminate(grace_end, 137, "Error")
                else:
                    c.stop_at = grace_end
            elif now >= stop_at:
                c.terminate(stop_at, self.behaviour.sigterm_code(c.image))
            else:
                c.stop_at = stop_at
        if all(c.terminated for c in rt.containers):
            rt.done = True

    def pods_waiting_for_pulls(self) -> list[PodKey]:
        return [
            key
            for key, rt in self.runtimes.items()
            if any(c.reason in ("ErrImagePull", "ImagePullBackOff") for c in rt.containers)
        ]

    def allow_pulls(self, key: PodKey) -> None:
        rt = self.runtimes.get(key)
        if rt is not None:
            for c in rt.containers:
                if not c.pulled:
                    c.pull_retry_at = None
                    c.pull_failed_at = None
            self.manager.enqueue(NAME, key)


def _has_sources(containers: list[Object], name: str) -> bool:
    """Whether the named container reads a Secret or ConfigMap into its environment (so
    whether it can start depends on more than its spec)."""
    for container in containers:
        if container.get("name") == name:
            return bool(container.get("envFrom")) or any(
                "valueFrom" in variable for variable in container.get("env") or ()
            )
    return False


def _restarts(policy: str, c: Container) -> bool:
    return policy == "Always" or (policy == "OnFailure" and c.exit_code != 0)


def _duration(seconds: int) -> str:
    """Go's ``time.Duration`` formatting for whole seconds: ``10s``, ``1m20s``, ``5m0s``."""
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60}s"


def ready_since(pod: Object) -> datetime | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            stamp = condition.get("lastTransitionTime")
            return parse_timestamp(stamp) if stamp else None
    return None
