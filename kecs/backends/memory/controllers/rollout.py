"""One Deployment sync's view and moves: scaling ReplicaSets and computing the status.

Counts of ready and available pods come from the ReplicaSet controller's live counters (not
from possibly lagging ReplicaSet statuses), so the surge and availability bounds hold at every
step; the last ReplicaSet status write of a settle resyncs the Deployment, so statuses agree
once the cluster is quiescent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kecs.backends import kinds
from kecs.backends.memory.apiserver import parse_timestamp
from kecs.backends.memory.controllers import deployment_util as du
from kecs.backends.memory.jsoncopy import copy_json

if TYPE_CHECKING:
    from kecs.backends.memory.controllers.deployment import Deployments

Object = dict[str, Any]


class Rollout:
    def __init__(self, controller: Deployments, d: Object) -> None:
        self.c = controller
        self.server = controller.server
        self.d = d

    # -- reading ---------------------------------------------------------------------------

    def counts(self, rs: Object) -> dict[str, int]:
        return self.c.sets.state(rs["metadata"]["uid"]).counts

    def available(self, rs: Object) -> int:
        return self.counts(rs)["available"]

    def refresh(self, sets: list[Object]) -> list[Object]:
        found = (self.refresh_one(rs) for rs in sets)
        return [rs for rs in found if rs is not None]

    def refresh_one(self, rs: Object | None) -> Object | None:
        if rs is None:
            return None
        meta = rs["metadata"]
        return self.server.find(kinds.REPLICA_SET, meta["namespace"], meta["name"])

    def current(self) -> tuple[Object | None, list[Object]]:
        sets = self.c.owned_sets(self.d)
        template = self.d["spec"]["template"]
        new_rs = next(
            (rs for rs in sets if du.equal_ignore_hash(rs["spec"]["template"], template)), None
        )
        return new_rs, [rs for rs in sets if rs is not new_rs]

    # -- writing ---------------------------------------------------------------------------

    def write_status(self, status: Object) -> None:
        self.d = self.server.write(kinds.DEPLOYMENT, self.d, status=status)

    def set_revision(self, revision: str) -> bool:
        annotations = self.d["metadata"].get("annotations") or {}
        if annotations.get(du.REVISION) == revision:
            return False
        meta = {**self.d["metadata"], "annotations": {**annotations, du.REVISION: revision}}
        self.d = self.server.write(kinds.DEPLOYMENT, self.d, metadata=meta)
        return False

    def scale_set(self, rs: Object, size: int) -> Object:
        replicas = du.replicas_of(self.d)
        annotations = rs["metadata"].get("annotations") or {}
        wanted = {
            **annotations,
            du.DESIRED_REPLICAS: str(replicas),
            du.MAX_REPLICAS: str(replicas + du.max_surge(self.d)),
        }
        if du.replicas_of(rs) == size and wanted == annotations:
            return rs
        meta = {**rs["metadata"], "annotations": wanted}
        return self.server.write(
            kinds.REPLICA_SET, rs, metadata=meta, spec={**rs["spec"], "replicas": size}
        )

    # -- paused, proportional scaling ------------------------------------------------------

    def check_paused(self) -> None:
        if not du.has_progress_deadline(self.d):
            return
        status = copy_json(self.d.get("status") or {})
        current = du.find_condition(status, "Progressing")
        if current is not None and current.get("reason") == du.TIMED_OUT:
            return
        paused_known = current is not None and current.get("reason") == du.PAUSED
        paused = bool(self.d["spec"].get("paused"))
        if paused == paused_known:
            return
        reason, message = (
            (du.PAUSED, "Deployment is paused") if paused else (du.RESUMED, "Deployment is resumed")
        )
        du.set_condition(
            status,
            du.condition(
                current, "Progressing", "Unknown", reason, message, self.server.timestamp()
            ),
        )
        self.write_status(status)

    def scale(self, new_rs: Object | None, old: list[Object]) -> None:
        d, replicas = self.d, du.replicas_of(self.d)
        latest = self._active_or_latest(new_rs, old)
        if latest is not None:
            self.scale_set(latest, replicas)
            return
        if new_rs is not None and self._saturated(new_rs):
            for rs in du.active(old):
                self.scale_set(rs, 0)
            return
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return
        sets = du.active([*old, *([new_rs] if new_rs else [])])
        allowed = replicas + du.max_surge(d) if replicas > 0 else 0
        to_add = allowed - du.spec_total(sets)
        births = self.server.births
        if to_add > 0:
            sets.sort(key=lambda rs: (-du.replicas_of(rs), -births.get(rs["metadata"]["uid"], 0)))
        elif to_add < 0:
            sets.sort(key=lambda rs: (-du.replicas_of(rs), births.get(rs["metadata"]["uid"], 0)))
        added = 0
        sizes: list[int] = []
        for rs in sets:
            share = self._proportion(rs, to_add, added) if to_add else 0
            sizes.append(du.replicas_of(rs) + share)
            added += share
        for index, rs in enumerate(sets):
            size = sizes[index]
            if index == 0 and to_add:
                size = max(size + to_add - added, 0)
            self.scale_set(rs, size)

    def _active_or_latest(self, new_rs: Object | None, old: list[Object]) -> Object | None:
        if new_rs is None and not old:
            return None
        births = self.server.births
        newest_first = sorted(old, key=lambda rs: -births.get(rs["metadata"]["uid"], 0))
        live = du.active([*newest_first, *([new_rs] if new_rs else [])])
        if not live:
            return new_rs if new_rs is not None else newest_first[0]
        return live[0] if len(live) == 1 else None

    def _saturated(self, rs: Object) -> bool:
        replicas = du.replicas_of(self.d)
        return (
            du.replicas_of(rs) == replicas
            and du.annotation_int(rs, du.DESIRED_REPLICAS) == replicas
            and self.available(rs) == replicas
        )

    def _proportion(self, rs: Object, to_add: int, added: int) -> int:
        if du.replicas_of(rs) == 0 or to_add == added:
            return 0
        replicas = du.replicas_of(self.d)
        if replicas == 0:
            fraction = -du.replicas_of(rs)
        else:
            annotated = du.annotation_int(rs, du.MAX_REPLICAS)
            if annotated is None:
                annotated = int((self.d.get("status") or {}).get("replicas", 0))
            if annotated == 0:
                return 0
            size = du.replicas_of(rs) * (replicas + du.max_surge(self.d)) / annotated
            fraction = int(size + 0.5) - du.replicas_of(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    # -- rolling update --------------------------------------------------------------------

    def reconcile_new(self, all_sets: list[Object], new_rs: Object) -> bool:
        replicas = du.replicas_of(self.d)
        if du.replicas_of(new_rs) == replicas:
            return False
        if du.replicas_of(new_rs) > replicas:
            return self.scale_set(new_rs, replicas) is not new_rs
        size = du.new_rs_replicas(self.d, all_sets, new_rs)
        if size == du.replicas_of(new_rs):
            return False
        self.scale_set(new_rs, size)
        return True

    def reconcile_old(self, all_sets: list[Object], old: list[Object], new_rs: Object) -> bool:
        if du.spec_total(old) == 0:
            return False
        min_available = du.replicas_of(self.d) - du.max_unavailable(self.d)
        new_unavailable = du.replicas_of(new_rs) - self.available(new_rs)
        most = du.spec_total(all_sets) - min_available - new_unavailable
        if most <= 0:
            return False
        births = self.server.births
        old = sorted(old, key=lambda rs: births.get(rs["metadata"]["uid"], 0))
        cleaned = 0
        for index, rs in enumerate(old):
            if cleaned >= most:
                break
            replicas, available = du.replicas_of(rs), self.available(rs)
            if replicas == 0 or replicas <= available:
                continue
            down = min(most - cleaned, replicas - available)
            old[index] = self.scale_set(rs, replicas - down)
            cleaned += down
        available_now = sum(self.available(rs) for rs in [*old, new_rs])
        budget = available_now - min_available
        scaled = 0
        for rs in old:
            if scaled >= budget:
                break
            if du.replicas_of(rs) == 0:
                continue
            down = min(du.replicas_of(rs), budget - scaled)
            self.scale_set(rs, du.replicas_of(rs) - down)
            scaled += down
        return cleaned + max(scaled, 0) > 0

    # -- status ----------------------------------------------------------------------------

    def calculate_status(self, sets: list[Object], new_rs: Object | None) -> Object:
        d = self.d
        available = sum(self.available(rs) for rs in sets)
        values = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(self.counts(rs)["active"] for rs in sets),
            "updatedReplicas": self.counts(new_rs)["active"] if new_rs is not None else 0,
            "readyReplicas": sum(self.counts(rs)["ready"] for rs in sets),
            "availableReplicas": available,
            "unavailableReplicas": max(du.spec_total(sets) - available, 0),
        }
        status: Object = {k: v for k, v in values.items() if v}
        old = d.get("status") or {}
        if old.get("collisionCount"):
            status["collisionCount"] = old["collisionCount"]
        status["conditions"] = list(old.get("conditions") or ())
        previous = du.find_condition(status, "Available")
        now = self.server.timestamp()
        if available >= du.replicas_of(d) - du.max_unavailable(d):
            wanted = du.condition(
                previous,
                "Available",
                "True",
                du.MIN_AVAILABLE,
                "Deployment has minimum availability.",
                now,
            )
        else:
            wanted = du.condition(
                previous,
                "Available",
                "False",
                du.MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.",
                now,
            )
        du.set_condition(status, wanted)
        return status

    def sync_status(self, sets: list[Object], new_rs: Object | None) -> None:
        status = self.calculate_status(sets, new_rs)
        if status != (self.d.get("status") or {}):
            self.write_status(status)

    def sync_rollout_status(self) -> None:
        d = self.d
        new_rs, old = self.current()
        sets = [*old, *([new_rs] if new_rs else [])]
        status = self.calculate_status(sets, new_rs)
        deadline = du.has_progress_deadline(d)
        if not deadline:
            du.remove_condition(status, "Progressing")
        current = du.find_condition(d.get("status") or {}, "Progressing")
        done = (
            status.get("replicas", 0) == status.get("updatedReplicas", 0)
            and current is not None
            and current.get("reason") == du.NEW_RS_AVAILABLE
        )
        name = (
            f'ReplicaSet "{new_rs["metadata"]["name"]}"'
            if new_rs
            else f'Deployment "{d["metadata"]["name"]}"'
        )
        now = self.server.timestamp()
        if deadline and not done:
            if du.complete(d, status):
                du.set_condition(
                    status,
                    du.condition(
                        current,
                        "Progressing",
                        "True",
                        du.NEW_RS_AVAILABLE,
                        f"{name} has successfully progressed.",
                        now,
                    ),
                )
            elif du.progressing(d, status):
                wanted = du.condition(
                    current, "Progressing", "True", du.RS_UPDATED, f"{name} is progressing.", now
                )
                if current is not None:
                    du.remove_condition(status, "Progressing")
                du.set_condition(status, wanted)
            elif self._timed_out(status) or self._stuck(new_rs):
                du.set_condition(
                    status,
                    du.condition(
                        current,
                        "Progressing",
                        "False",
                        du.TIMED_OUT,
                        f"{name} has timed out progressing.",
                        now,
                    ),
                )
        failure = self._replica_failure(new_rs, sets)
        if failure is not None:
            du.set_condition(status, failure)
        else:
            du.remove_condition(status, "ReplicaFailure")
        if status != (d.get("status") or {}):
            self.write_status(status)
        self.c.progress_timer(self.d)

    def _timed_out(self, status: Object) -> bool:
        condition = du.find_condition(status, "Progressing")
        if condition is None or condition.get("reason") == du.NEW_RS_AVAILABLE:
            return False
        if condition.get("reason") == du.TIMED_OUT:
            return True
        deadline = int(self.d["spec"]["progressDeadlineSeconds"])
        started = parse_timestamp(condition["lastUpdateTime"]).timestamp()
        return started + deadline < self.server.now().timestamp()

    def _stuck(self, new_rs: Object | None) -> bool:
        if new_rs is None or not self.c.behaviour.fail_fast_rollouts:
            return False
        counts = self.counts(new_rs)
        return (
            counts["stuck"] > 0 and counts["stuck"] >= du.replicas_of(new_rs) - counts["available"]
        )

    @staticmethod
    def _replica_failure(new_rs: Object | None, sets: list[Object]) -> Object | None:
        for candidates in ([new_rs] if new_rs else [], sets):
            for rs in candidates:
                for c in (rs.get("status") or {}).get("conditions") or ():
                    if c.get("type") == "ReplicaFailure":
                        return {
                            "type": "ReplicaFailure",
                            "status": c["status"],
                            "lastUpdateTime": c.get("lastTransitionTime"),
                            "lastTransitionTime": c.get("lastTransitionTime"),
                            "reason": c.get("reason"),
                            "message": c.get("message"),
                        }
        return None
