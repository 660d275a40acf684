"""Kubernetes API requests per ECS operation on KubernetesBackend, pinned.

The figures come from ``benchmarks/bench_requests.py`` (which prints them). A change in an
operation's request pattern fails here on purpose: look at the printed table, and if the new
cost is intended, update :data:`PINNED`. Reads that must not grow with the number of objects
asked for are checked separately.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_requests.py"

PINNED = {
    "CreateCluster (new)": 9,
    "CreateCluster (exists)": 10,
    "DescribeClusters (1)": 6,
    "DescribeClusters (10)": 6,
    "DescribeClusters (10, include all)": 6,
    "ListClusters (11)": 1,
    "UpdateClusterSettings": 7,
    "TagResource (cluster)": 2,
    "ListTagsForResource (cluster)": 1,
    "RegisterTaskDefinition (new family)": 3,
    "RegisterTaskDefinition (revision 2)": 3,
    "DescribeTaskDefinition": 1,
    "ListTaskDefinitions (12)": 1,
    "ListTaskDefinitionFamilies (11)": 1,
    "DeregisterTaskDefinition": 4,
    "CreateService": 16,
    "DescribeServices (1)": 7,
    "DescribeServices (10)": 7,
    "ListServices (11)": 4,
    "UpdateService (desiredCount)": 15,
    "RunTask (1)": 6,
    "RunTask (10)": 24,
    "DescribeTasks (1)": 4,
    "DescribeTasks (10)": 4,
    "ListTasks": 2,
    "StopTask": 7,
    "DeleteService (force)": 27,
    # A task role: its ServiceAccount, RoleBinding and Role the first time (+4), then one
    # read of the Role (+1). Load balancer and Service Connect objects: one read and one
    # create each on CreateService, one list per kind on UpdateService/DeleteService.
    "RunTask (task role, first)": 10,
    "RunTask (task role, again)": 7,
    "CreateService (load balancer, Service Connect)": 24,
    "UpdateService (new deployment, attachments)": 27,
    "DeleteService (attachments)": 33,
    "DeleteCluster": 10,
}


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_requests", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measured() -> dict[str, int]:
    bench = load()
    rows = bench.measure()
    print("\n" + bench.report(rows, verbose=True))
    return {row.operation: row.requests for row in rows}


def test_requests_per_operation_are_pinned(measured: dict[str, int]) -> None:
    changed = {op: (PINNED.get(op), n) for op, n in measured.items() if PINNED.get(op) != n}
    assert not changed, (
        f"requests per operation changed (pinned, now): {changed}; if intended, set PINNED to\n"
        + "\n".join(f"    {op!r}: {n}," for op, n in measured.items())
    )
    assert set(measured) == set(PINNED)


@pytest.mark.parametrize(
    ("one", "many"),
    [
        ("DescribeClusters (1)", "DescribeClusters (10)"),
        ("DescribeClusters (1)", "DescribeClusters (10, include all)"),
        ("DescribeServices (1)", "DescribeServices (10)"),
        ("DescribeTasks (1)", "DescribeTasks (10)"),
    ],
)
def test_batch_reads_cost_the_same_for_1_and_10_objects(
    measured: dict[str, int], one: str, many: str
) -> None:
    assert measured[many] == measured[one]


def test_a_known_task_role_costs_run_task_one_read(measured: dict[str, int]) -> None:
    assert measured["RunTask (task role, again)"] == measured["RunTask (1)"] + 1


def test_listing_is_one_request_per_page(measured: dict[str, int]) -> None:
    for operation in ("ListClusters (11)", "ListTaskDefinitions (12)"):
        assert measured[operation] == 1


def test_the_benchmark_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert load().main([]) == 0
    out = capsys.readouterr().out
    assert "DescribeServices (10)" in out and "requests" in out
