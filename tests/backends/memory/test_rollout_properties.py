"""Property: a rolling update never breaks its surge and availability bounds, at any write."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kecs.backends import kinds
from kecs.backends.kinds import ResourceKind
from kecs.backends.memory.controllers import deployment_util as du
from tests.backends.memory.helpers import NS, deployment, fresh, rolling, set_image

Object = dict[str, Any]

bound = st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "50%", "100%"]))


def _ready(pod: Object) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or ()
    )


@settings(max_examples=30, deadline=None)
@given(
    replicas=st.integers(1, 8),
    surge=bound,
    unavailable=bound,
    start_delay=st.sampled_from([0, 5, 10]),
)
def test_rolling_updates_stay_within_their_bounds(
    replicas: int, surge: int | str, unavailable: int | str, start_delay: int
) -> None:
    assume(not (surge in (0, "0%") and unavailable in (0, "0%")))
    backend = fresh()
    created = backend.create(deployment("web", replicas, strategy=rolling(surge, unavailable)))
    max_surge, max_unavailable = du.fenceposts(created)
    max_unavailable = min(max_unavailable, replicas)
    table = backend._server.table
    violations: list[str] = []

    def check(kind: ResourceKind, old: Object | None, new: Object | None) -> None:
        if kind not in (kinds.POD, kinds.REPLICA_SET):
            return
        sets = table.bucket(kinds.REPLICA_SET, NS).objects.values()
        planned = sum(rs["spec"]["replicas"] for rs in sets)
        pods = [
            p
            for p in table.bucket(kinds.POD, NS).objects.values()
            if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")
        ]
        ready = sum(1 for p in pods if _ready(p))
        if planned > replicas + max_surge:
            violations.append(f"ReplicaSets plan {planned} pods")
        if len(pods) > replicas + max_surge:
            violations.append(f"{len(pods)} pods")
        if ready < replicas - max_unavailable:
            violations.append(f"only {ready} ready pods")

    backend._server.listeners.append(check)
    if start_delay:
        backend.simulator.slow_start("nginx:2", start_delay)
    set_image(backend, "web", "nginx:2")
    for _ in range(2 * replicas + 2):
        if violations:
            break
        status = backend.get(kinds.DEPLOYMENT, "web", NS)["status"]
        if status.get("updatedReplicas") == replicas == status.get("availableReplicas") and (
            status.get("replicas") == replicas
        ):
            break
        backend.advance(max(start_delay, 1))
    assert violations == []
    final = backend.get(kinds.DEPLOYMENT, "web", NS)["status"]
    assert final["updatedReplicas"] == final["availableReplicas"] == final["replicas"] == replicas
    images = {
        p["spec"]["containers"][0]["image"]
        for p in backend.list_all(kinds.POD, NS)
        if not p["metadata"].get("deletionTimestamp")
    }
    assert images == {"nginx:2"}
