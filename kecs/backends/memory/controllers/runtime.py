"""The simulated container runtime: what each container of each pod is doing.

The kubelet keeps one :class:`PodRuntime` per pod it runs and renders the pod's status from it.
:class:`Behaviour` holds the simulator's rules (which images fail to pull, start slowly,
crash, stop slowly, how they answer SIGTERM), matched by glob on the image.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from kecs.backends.memory import images
from kecs.backends.memory.apiserver import format_timestamp as _ts

Object = dict[str, Any]

#: Back-off after the n-th consecutive failure (n >= 2); the first restart is immediate.
BACKOFF_START = 10
BACKOFF_MAX = 300
#: A container that ran this long before exiting starts a fresh back-off series.
BACKOFF_RESET = 600
#: How long ``ErrImagePull`` shows before it becomes ``ImagePullBackOff``.
PULL_ERROR_SHOWN = 1


class Behaviour:
    """Simulator rules by image glob; the most recently set matching rule wins."""

    def __init__(self) -> None:
        self.pull_failures: dict[str, str | None] = {}
        self.slow_starts: dict[str, float] = {}
        self.slow_stops: dict[str, float] = {}
        self.crashes: dict[str, tuple[int, float]] = {}
        self.sigterm_codes: dict[str, int] = {}
        #: Fail a rollout at once when every pod it waits for is stuck (see docs).
        self.fail_fast_rollouts = True

    @staticmethod
    def _match(rules: dict[str, Any], image: str) -> Any:
        if not rules:  # the usual case: no rule of this kind at all
            return None
        for pattern in reversed(list(rules)):
            if images.matches(pattern, image):
                return rules[pattern]
        return None

    def pull_failure(self, image: str) -> tuple[bool, str | None]:
        if not self.pull_failures:
            return False, None
        for pattern in reversed(list(self.pull_failures)):
            if images.matches(pattern, image):
                return True, self.pull_failures[pattern]
        return False, None

    def start_delay(self, image: str) -> float:
        return float(self._match(self.slow_starts, image) or 0)

    def stop_delay(self, image: str) -> float:
        return float(self._match(self.slow_stops, image) or 0)

    def crash(self, image: str) -> tuple[int, float] | None:
        found: tuple[int, float] | None = self._match(self.crashes, image)
        return found

    def sigterm_code(self, image: str) -> int:
        code = self._match(self.sigterm_codes, image)
        return 143 if code is None else int(code)


class Container:
    """One container's simulated life; ``role`` is ``init``, ``sidecar`` or ``app``."""

    __slots__ = (
        "backoff_until",
        "cid",
        "crash",
        "ever_started",
        "exit_code",
        "finished_at",
        "image",
        "last",
        "live_kill_at",
        "message",
        "name",
        "probes",
        "pull_attempts",
        "pull_failed_at",
        "pull_retry_at",
        "pulled",
        "reason",
        "restarts",
        "role",
        "started_at",
        "state",
        "stop_at",
        "streak",
        "unlive",
        "unready",
    )

    def __init__(self, spec: Object, role: str) -> None:
        self.name: str = spec["name"]
        self.image: str = str(spec.get("image") or "")
        self.role = role
        self.probes: Object = {}
        if "readinessProbe" in spec:
            self.probes["readinessProbe"] = spec["readinessProbe"]
        if "livenessProbe" in spec:
            self.probes["livenessProbe"] = spec["livenessProbe"]
        self.state = "waiting"
        self.reason: str | None = "ContainerCreating"
        self.message: str | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.exit_code: int | None = None
        self.restarts = 0
        self.streak = 0
        self.last: Object | None = None
        self.backoff_until: datetime | None = None
        self.crash: tuple[datetime, int] | None = None
        self.live_kill_at: datetime | None = None
        self.stop_at: datetime | None = None
        self.unready = False
        self.unlive = False
        self.cid: str | None = None
        self.pulled = False
        self.pull_attempts = 0
        self.pull_failed_at: datetime | None = None
        self.pull_retry_at: datetime | None = None
        self.ever_started = False

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def terminated(self) -> bool:
        return self.state == "terminated"

    def wait(self, reason: str, message: str | None = None) -> None:
        self.state, self.reason, self.message = "waiting", reason, message

    def start(self, now: datetime, uid: str, behaviour: Behaviour) -> None:
        self.state, self.reason, self.message = "running", None, None
        self.started_at = now
        self.finished_at = self.exit_code = None
        self.backoff_until = None
        self.ever_started = True
        seed = f"{uid}/{self.name}/{self.restarts}"
        self.cid = "containerd://" + hashlib.sha256(seed.encode()).hexdigest()
        rule = behaviour.crash(self.image)
        self.crash = (now + timedelta(seconds=rule[1]), rule[0]) if rule is not None else None
        self.live_kill_at = self._liveness_deadline(now) if self.unlive else None

    def _liveness_deadline(self, started: datetime) -> datetime:
        probe = self.probes.get("livenessProbe") or {}
        wait = int(probe.get("initialDelaySeconds", 0)) + int(probe.get("periodSeconds", 10)) * int(
            probe.get("failureThreshold", 3)
        )
        return started + timedelta(seconds=wait)

    def terminate(
        self, now: datetime, code: int, reason: str | None = None, message: str | None = None
    ) -> None:
        """The container exits (or is killed) at ``now``; back-off is worked out here."""
        ran = (now - self.started_at).total_seconds() if self.started_at else 0
        self.state = "terminated"
        self.exit_code = code
        self.reason = reason or ("Completed" if code == 0 else "Error")
        self.message = message
        self.finished_at = now
        self.crash = None
        self.live_kill_at = None
        self.stop_at = None
        self.streak = 1 if ran >= BACKOFF_RESET else self.streak + 1
        delay = 0 if self.streak <= 1 else min(BACKOFF_START * 2 ** (self.streak - 2), BACKOFF_MAX)
        self.backoff_until = now + timedelta(seconds=delay)

    def terminated_record(self) -> Object:
        record: Object = {"exitCode": self.exit_code, "reason": self.reason}
        if self.message:
            record["message"] = self.message
        if self.started_at is not None:
            record["startedAt"] = _ts(self.started_at)
        if self.finished_at is not None:
            record["finishedAt"] = _ts(self.finished_at)
        if self.cid:
            record["containerID"] = self.cid
        return record

    def restart(self, now: datetime, uid: str, behaviour: Behaviour) -> None:
        self.last = {"terminated": self.terminated_record()}
        self.restarts += 1
        self.start(now, uid, behaviour)

    def set_unlive(self, unlive: bool, now: datetime) -> None:
        self.unlive = unlive
        self.live_kill_at = now if unlive and self.running else None

    def next_due(self) -> datetime | None:
        times = [
            t
            for t in (
                self.crash[0] if self.crash else None,
                self.live_kill_at,
                self.stop_at,
                self.backoff_until if self.reason == "CrashLoopBackOff" else None,
                self.pull_retry_at,
                self.pull_failed_at + timedelta(seconds=PULL_ERROR_SHOWN)
                if self.pull_failed_at and self.reason == "ErrImagePull"
                else None,
            )
            if t is not None
        ]
        return min(times) if times else None


class PodRuntime:
    __slots__ = (
        "apps",
        "containers",
        "deadline_failed",
        "done",
        "grace",
        "inits",
        "ip",
        "name",
        "namespace",
        "sandbox_at",
        "start_time",
        "stop_began",
        "uid",
    )

    def __init__(self, pod: Object, now: datetime, behaviour: Behaviour) -> None:
        spec = pod["spec"]
        meta = pod["metadata"]
        self.uid: str = meta["uid"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace", "default")
        inits = [
            Container(c, "sidecar" if c.get("restartPolicy") == "Always" else "init")
            for c in spec.get("initContainers") or ()
        ]
        apps = [Container(c, "app") for c in spec.get("containers") or ()]
        self.containers: list[Container] = inits + apps
        #: init containers and sidecars, in order, and the app containers (roles never change)
        self.inits: tuple[Container, ...] = tuple(inits)
        self.apps: tuple[Container, ...] = tuple(apps)
        if behaviour.slow_starts:
            delay = max((behaviour.start_delay(c.image) for c in self.containers), default=0.0)
            self.sandbox_at = now + timedelta(seconds=delay)
        else:  # no slow-start rule: the sandbox is up at once
            self.sandbox_at = now
        self.start_time = now
        self.ip: str | None = None
        self.done = False
        self.deadline_failed = False
        self.stop_began: datetime | None = None
        self.grace = 0

    @property
    def ref(self) -> str:
        """How the kubelet names the pod in messages."""
        return f"{self.name}_{self.namespace}({self.uid})"

    def container(self, name: str) -> Container | None:
        for container in self.containers:
            if container.name == name:
                return container
        return None

    def next_due(self, now: datetime) -> datetime | None:
        times = [c.next_due() for c in self.containers]
        if self.sandbox_at > now:
            times.append(self.sandbox_at)
        found = [t for t in times if t is not None]
        return min(found) if found else None
