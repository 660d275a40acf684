"""deploy/rbac.yaml grants exactly what the backend's permission table says, and that table
covers every request kecs sends in the ECS scenarios (collected by the request counter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

import kecs
from kecs.backends import kinds
from kecs.backends.kubernetes import REQUIRED_PERMISSIONS, Permission
from tests import targets
from tests.backends.kubernetes import scenario
from tests.backends.kubernetes.test_request_counts import load as load_bench

MANIFEST = Path(__file__).resolve().parents[3] / "deploy" / "rbac.yaml"
VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def only(kind: str) -> dict[str, Any]:
    found = [d for d in documents() if d["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def granted() -> set[Permission]:
    return {
        Permission(verb, group, resource)
        for rule in only("ClusterRole")["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_manifest_grants_exactly_the_permission_table() -> None:
    assert granted() == REQUIRED_PERMISSIONS


def test_the_table_names_only_kinds_and_verbs_that_exist() -> None:
    known = {(k.group, k.plural) for k in kinds.ALL}
    assert {(p.group, p.resource) for p in REQUIRED_PERMISSIONS} <= known
    assert {p.verb for p in REQUIRED_PERMISSIONS} <= VERBS


def test_the_binding_gives_the_role_to_the_service_account() -> None:
    role, binding, account = only("ClusterRole"), only("ClusterRoleBinding"), only("ServiceAccount")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]


@pytest.mark.parametrize("index", range(4))
def test_every_document_is_schema_valid(index: int) -> None:
    kubernetes_validate.validate(documents()[index], "1.31.0", strict=True)


def test_every_request_of_the_scenarios_is_allowed() -> None:
    backend = targets.served()
    try:
        scenario.run(kecs.client("ecs", backend=backend))
        used = backend.requests.permissions()
        backend.requests.reset()
        bench = load_bench()
        targets_backend = targets.served()
        try:
            bench.measure_on(targets_backend)
            used |= targets_backend.requests.permissions()
        finally:
            targets_backend.close()
    finally:
        backend.close()
    assert used - REQUIRED_PERMISSIONS == set()
    # The scenarios touch the core of what kecs does today; the table is no wider than
    # the kinds kecs knows (services, tasks, clusters, task definitions, and the kinds of
    # the mapping still to come: see kecs/backends/kubernetes/permissions.py).
    assert len(used) >= 30
