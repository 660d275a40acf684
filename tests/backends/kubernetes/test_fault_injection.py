"""A long ECS scenario through KubernetesBackend while a share of API requests fails (500s,
429s with Retry-After, dropped connections, before and after the server applied them) ends in
the same ECS state, with the same Kubernetes objects, as on the embedded backend: no orphans.
"""

from __future__ import annotations

from typing import Any

import pytest

import kecs
from kecs.apiserver import FaultInjector
from kecs.backends.kubernetes import RetryPolicy
from kecs.backends.memory import MemoryBackend
from tests import targets
from tests.backends.kubernetes import scenario

#: Tiny waits: the figures are about correctness, not patience.
RETRY = RetryPolicy(attempts=8, initial=0.001, maximum=0.005, jitter=0.001, max_retry_after=0.005)


@pytest.fixture(scope="module")
def reference() -> tuple[dict[str, Any], Any]:
    memory = MemoryBackend()
    state = scenario.run(kecs.client("ecs", backend=memory))
    return state, scenario.inventory(memory)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_scenario_survives_faults_without_orphans(
    reference: tuple[dict[str, Any], Any], seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    want_state, want_objects = reference
    faults = FaultInjector(rate=0.15, seed=seed, max_in_a_row=3, retry_after=1)
    memory = MemoryBackend()
    backend = targets.served(memory, faults=faults, retry=RETRY)
    try:
        state = scenario.run(kecs.client("ecs", backend=backend))
        faults.enabled = False
        objects = scenario.inventory(memory)
    finally:
        backend.close()
    orphans = objects - want_objects
    missing = want_objects - objects
    counter = backend.requests
    with capsys.disabled():
        print(
            f"\nfault injection (seed {seed}): {counter.total} requests, "
            f"{counter.attempts} attempts, {faults.total} injected faults "
            f"({dict(sorted(faults.injected.items()))}), {counter.retries} retries, "
            f"orphans = {sum(orphans.values())}, missing = {sum(missing.values())}"
        )
    assert faults.total >= 20, "the scenario should meet a fair number of faults"
    assert counter.retries >= faults.total
    assert not orphans, f"objects that should not exist: {orphans}"
    assert not missing, f"objects that should exist: {missing}"
    assert state == want_state
