"""The Deployment controller, following Kubernetes' own (``pkg/controller/deployment``).

One ReplicaSet per pod template (named ``<deployment>-<pod-template-hash>``); the newest
holds the current template and gets revision ``max(old revisions) + 1``. A template written
back (a rollback) finds its old ReplicaSet again, which gets the next revision. Rolling
updates honour ``maxSurge``/``maxUnavailable`` exactly as ``rolloutRolling`` does, Recreate
scales old sets to zero and waits for their pods to stop, ``paused`` only scales, a replica
change during a rollout scales all sets proportionally, and ``revisionHistoryLimit`` prunes
old empty sets. ``status`` and the ``Available``/``Progressing`` conditions carry Kubernetes'
reasons and messages.

Simulation rule (``Behaviour.fail_fast_rollouts``, on by default): a rollout whose new
ReplicaSet waits only for pods that are stuck (``CrashLoopBackOff``, ``ImagePullBackOff``,
``ErrImagePull``, ``InvalidImageName``, unschedulable, ...) is reported as
``ProgressDeadlineExceeded`` at once, rather than after ``progressDeadlineSeconds`` of a
simulated clock that may never move. The deadline itself also applies, on simulated time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, BackendError
from kecs.backends.memory.apiserver import ApiServer, controller_uid, parse_timestamp
from kecs.backends.memory.controllers import Manager
from kecs.backends.memory.controllers import deployment_util as du
from kecs.backends.memory.controllers.replicaset import ReplicaSets
from kecs.backends.memory.controllers.rollout import Rollout
from kecs.backends.memory.controllers.runtime import Behaviour
from kecs.backends.memory.jsoncopy import copy_json

Object = dict[str, Any]
Key = tuple[str, str]

NAME = "deployment"


class Deployments:
    def __init__(
        self, manager: Manager, server: ApiServer, sets: ReplicaSets, behaviour: Behaviour
    ) -> None:
        self.manager = manager
        self.server = server
        self.sets = sets
        self.behaviour = behaviour
        manager.register(NAME, self.sync)
        manager.watch(kinds.DEPLOYMENT, self._on_deployment)
        manager.watch(kinds.REPLICA_SET, self._on_rs)

    def _on_deployment(self, old: Object | None, new: Object | None) -> None:
        # Every change, its own status writes included, brings one more sync (as the
        # informer's update events do): that sync sees the new status, e.g. to clean up.
        if new is not None:
            self.manager.enqueue(NAME, (new["metadata"]["namespace"], new["metadata"]["name"]))

    def _on_rs(self, old: Object | None, new: Object | None) -> None:
        obj = new if new is not None else old
        assert obj is not None
        for ref in obj["metadata"].get("ownerReferences") or ():
            if ref.get("controller") and ref.get("kind") == "Deployment":
                self.manager.enqueue(NAME, (obj["metadata"]["namespace"], ref["name"]))

    def owned_sets(self, d: Object) -> list[Object]:
        uid = d["metadata"]["uid"]
        found = []
        for key in self.server.dependents.get(uid, ()):
            if key[0] is kinds.REPLICA_SET:
                rs = self.server.by_key(key)
                if rs is not None and controller_uid(rs) == uid:
                    found.append(rs)
        found.sort(key=self._created)
        return found

    def _created(self, obj: Object) -> tuple[str, int]:
        meta = obj["metadata"]
        return meta.get("creationTimestamp", ""), self.server.births.get(meta["uid"], 0)

    # -- sync ------------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        d = self.server.find(kinds.DEPLOYMENT, *key)
        if d is None:
            return
        run = Rollout(self, d)
        sets = self.owned_sets(d)
        if d["metadata"].get("deletionTimestamp"):
            new_rs, old = self.all_sets(run, sets, create=False)
            run.sync_status(old + _opt(new_rs), new_rs)
            return
        run.check_paused()
        if run.d["spec"].get("paused"):
            self.scale_only(run, sets)
            return
        if self.scaling_event(run, sets):
            self.scale_only(run, sets)
            return
        if (run.d["spec"].get("strategy") or {}).get("type") == "Recreate":
            self.recreate(run, sets)
        else:
            self.rolling(run, sets)

    def scale_only(self, run: Rollout, sets: list[Object]) -> None:
        new_rs, old = self.all_sets(run, sets, create=False)
        run.scale(new_rs, old)
        if run.d["spec"].get("paused"):
            self.cleanup(run, old)
        run.sync_status(run.refresh(old) + _opt(run.refresh_one(new_rs)), run.refresh_one(new_rs))

    def scaling_event(self, run: Rollout, sets: list[Object]) -> bool:
        new_rs, old = self.all_sets(run, sets, create=False)
        for rs in du.active(old + _opt(new_rs)):
            desired = du.annotation_int(rs, du.DESIRED_REPLICAS)
            if desired is not None and desired != du.replicas_of(run.d):
                return True
        return False

    def rolling(self, run: Rollout, sets: list[Object]) -> None:
        new_rs, old = self.all_sets(run, sets, create=True)
        if new_rs is None:
            return
        if run.reconcile_new([*old, new_rs], new_rs):
            run.sync_rollout_status()
            return
        new_rs = run.refresh_one(new_rs)
        assert new_rs is not None
        if run.reconcile_old([*old, new_rs], du.active(old), new_rs):
            run.sync_rollout_status()
            return
        if du.complete(run.d, run.d.get("status") or {}):
            self.cleanup(run, old)
        run.sync_rollout_status()

    def recreate(self, run: Rollout, sets: list[Object]) -> None:
        new_rs, old = self.all_sets(run, sets, create=False)
        scaled_down = False
        for rs in du.active(old):
            run.scale_set(rs, 0)
            scaled_down = True
        if scaled_down:
            run.sync_rollout_status()
            return
        if any(self.sets.state(rs["metadata"]["uid"]).counts["alive"] for rs in old):
            run.sync_rollout_status()
            return
        if new_rs is None:
            new_rs, old = self.all_sets(run, self.owned_sets(run.d), create=True)
            if new_rs is None:
                return
        if du.replicas_of(new_rs) != du.replicas_of(run.d):
            run.scale_set(new_rs, du.replicas_of(run.d))
            run.sync_rollout_status()
            return
        if du.complete(run.d, run.d.get("status") or {}):
            self.cleanup(run, old)
        run.sync_rollout_status()

    def cleanup(self, run: Rollout, old: list[Object]) -> None:
        limit = run.d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        cleanable = [rs for rs in run.refresh(old) if not rs["metadata"].get("deletionTimestamp")]
        excess = len(cleanable) - int(limit)
        if excess <= 0:
            return
        cleanable.sort(key=lambda rs: (du.revision(rs), self._created(rs)))
        for rs in cleanable[:excess]:
            status = rs.get("status") or {}
            if (
                status.get("replicas", 0) != 0
                or du.replicas_of(rs) != 0
                or rs["metadata"].get("generation", 1) > status.get("observedGeneration", 0)
            ):
                continue
            self.server.delete(
                kinds.REPLICA_SET, rs["metadata"]["namespace"], rs["metadata"]["name"]
            )

    # -- the new ReplicaSet and revisions (getAllReplicaSetsAndSyncRevision) ----------------

    def all_sets(
        self, run: Rollout, sets: list[Object], *, create: bool
    ) -> tuple[Object | None, list[Object]]:
        d = run.d
        template = d["spec"]["template"]
        found = next(
            (rs for rs in sets if du.equal_ignore_hash(rs["spec"]["template"], template)), None
        )
        old = [rs for rs in sets if rs is not found]
        new_revision = max((du.revision(rs) for rs in old), default=0) + 1
        if found is not None:
            return self._sync_existing(run, found, new_revision), old
        if not create:
            return None, old
        return self._create_new(run, old, new_revision), old

    def _sync_existing(self, run: Rollout, rs: Object, new_revision: int) -> Object:
        d = run.d
        annotations = rs["metadata"].get("annotations") or {}
        wanted = du.new_rs_annotations(d, annotations, new_revision, exists=True)
        min_ready = d["spec"].get("minReadySeconds", 0)
        if wanted != annotations or rs["spec"].get("minReadySeconds", 0) != min_ready:
            spec = {**rs["spec"], "minReadySeconds": min_ready}
            if not min_ready:
                spec.pop("minReadySeconds")
            meta = {**rs["metadata"], "annotations": wanted}
            return self.server.write(kinds.REPLICA_SET, rs, metadata=meta, spec=spec)
        status = copy_json(d.get("status") or {})
        changed = run.set_revision(annotations.get(du.REVISION, ""))
        if du.has_progress_deadline(d) and du.find_condition(status, "Progressing") is None:
            du.set_condition(
                status,
                du.condition(
                    None,
                    "Progressing",
                    "True",
                    du.FOUND_NEW_RS,
                    f'Found new replica set "{rs["metadata"]["name"]}"',
                    self.server.timestamp(),
                ),
            )
            changed = True
        if changed:
            run.write_status(status)
        return rs

    def _create_new(self, run: Rollout, old: list[Object], new_revision: int) -> Object | None:
        d = run.d
        meta = d["metadata"]
        status = d.get("status") or {}
        collisions = status.get("collisionCount")
        template = copy_json(d["spec"]["template"])
        pod_hash = du.template_hash(template, collisions)
        template_meta = template.setdefault("metadata", {})
        template_meta["labels"] = {**(template_meta.get("labels") or {}), du.HASH_LABEL: pod_hash}
        selector = copy_json(d["spec"]["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), du.HASH_LABEL: pod_hash}
        spec: Object = {"replicas": 0, "selector": selector, "template": template}
        if d["spec"].get("minReadySeconds"):
            spec["minReadySeconds"] = d["spec"]["minReadySeconds"]
        rs: Object = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}",
                "namespace": meta["namespace"],
                "labels": dict(template_meta["labels"]),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": meta["name"],
                        "uid": meta["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": spec,
        }
        spec["replicas"] = du.new_rs_replicas(d, [*old, rs], rs)
        rs["metadata"]["annotations"] = du.new_rs_annotations(d, {}, new_revision, exists=False)
        try:
            created = self.server.create(rs)
        except AlreadyExists:
            existing = self.server.find(
                kinds.REPLICA_SET, meta["namespace"], rs["metadata"]["name"]
            )
            if (
                existing is not None
                and controller_uid(existing) == meta["uid"]
                and du.equal_ignore_hash(d["spec"]["template"], existing["spec"]["template"])
            ):
                return existing
            new_status = {**status, "collisionCount": (collisions or 0) + 1}
            run.write_status(new_status)
            self.manager.enqueue(NAME, (meta["namespace"], meta["name"]))
            return None
        except BackendError as exc:
            if du.has_progress_deadline(d):
                new_status = copy_json(status)
                previous = du.find_condition(new_status, "Progressing")
                message = f'Failed to create new replica set "{rs["metadata"]["name"]}": {exc}'
                du.set_condition(
                    new_status,
                    du.condition(
                        previous,
                        "Progressing",
                        "False",
                        du.FAILED_RS_CREATE,
                        message,
                        self.server.timestamp(),
                    ),
                )
                run.write_status(new_status)
            return None
        new_status = copy_json(run.d.get("status") or {})
        changed = run.set_revision(str(new_revision))
        if du.has_progress_deadline(d):
            previous = du.find_condition(new_status, "Progressing")
            du.set_condition(
                new_status,
                du.condition(
                    previous,
                    "Progressing",
                    "True",
                    du.NEW_RS_CREATED,
                    f'Created new replica set "{created["metadata"]["name"]}"',
                    self.server.timestamp(),
                ),
            )
            changed = True
        if changed:
            run.write_status(new_status)
        return created

    def progress_timer(self, d: Object) -> None:
        condition = du.find_condition(d.get("status") or {}, "Progressing")
        if condition is None or condition.get("reason") in (du.NEW_RS_AVAILABLE, du.TIMED_OUT):
            return
        if not du.has_progress_deadline(d) or condition.get("status") != "True":
            return
        due = parse_timestamp(condition["lastUpdateTime"]) + timedelta(
            seconds=int(d["spec"]["progressDeadlineSeconds"]) + 1
        )
        self.manager.enqueue_at(NAME, (d["metadata"]["namespace"], d["metadata"]["name"]), due)


def _opt(rs: Object | None) -> list[Object]:
    return [] if rs is None else [rs]
