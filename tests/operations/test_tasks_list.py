"""ListTasks through the client: filters, desired status, paging, errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kecs import testing
from tests.operations.task_helpers import (
    FARGATE,
    NETWORK,
    backend,
    ecs,
    error,
    run,
)

__all__ = ["backend", "ecs"]  # fixtures


def arns_of(tasks: list[dict[str, Any]]) -> list[str]:
    return sorted(t["taskArn"] for t in tasks)


def listed(ecs: Any, **params: Any) -> list[str]:
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(**params):
        arns += page["taskArns"]
    return sorted(arns)


def test_running_by_default_stopped_on_request(ecs: Any) -> None:
    running = run(ecs, count=3)
    stopped = running.pop()
    ecs.stop_task(task=stopped["taskArn"])
    assert listed(ecs) == arns_of(running)
    assert listed(ecs, desiredStatus="RUNNING") == arns_of(running)
    assert listed(ecs, desiredStatus="STOPPED") == [stopped["taskArn"]]
    assert listed(ecs, desiredStatus="PENDING") == []


def test_a_task_whose_essential_container_exited_is_listed_stopped(ecs: Any) -> None:
    kept, ended = run(ecs, count=2)
    testing.exit_container(ecs, ended["taskArn"], "app", 1)
    assert listed(ecs) == [kept["taskArn"]]
    assert listed(ecs, desiredStatus="STOPPED") == [ended["taskArn"]]


def test_filter_by_family(ecs: Any) -> None:
    ecs.register_task_definition(
        family="worker", containerDefinitions=[{"name": "w", "image": "busybox", "memory": 64}]
    )
    web = run(ecs, count=2)
    worker = run(ecs, taskDefinition="worker")
    assert listed(ecs, family="web") == arns_of(web)
    assert listed(ecs, family="worker") == arns_of(worker)
    assert listed(ecs, family="nothing") == []


def test_filter_by_started_by(ecs: Any) -> None:
    mine = run(ecs, count=2, startedBy="ci:job/7")
    run(ecs, startedBy="someone else")
    run(ecs)
    assert listed(ecs, startedBy="ci:job/7") == arns_of(mine)


def test_filter_by_launch_type(ecs: Any) -> None:
    ecs.register_task_definition(**FARGATE)
    ec2 = run(ecs, count=2)
    fargate = run(ecs, taskDefinition="fg", launchType="FARGATE", networkConfiguration=NETWORK)
    assert listed(ecs, launchType="EC2") == arns_of(ec2)
    assert listed(ecs, launchType="FARGATE") == arns_of(fargate)
    assert listed(ecs, launchType="EXTERNAL") == []


def test_filter_by_container_instance(ecs: Any) -> None:
    tasks = run(ecs, count=6)
    by_instance: dict[str, list[str]] = {}
    for task in tasks:
        by_instance.setdefault(task["containerInstanceArn"], []).append(task["taskArn"])
    for instance, arns in by_instance.items():
        assert listed(ecs, containerInstance=instance) == sorted(arns)
        assert listed(ecs, containerInstance=instance.rsplit("/", 1)[1]) == sorted(arns)
    assert listed(ecs, containerInstance="f" * 32) == []


def test_filter_by_service(ecs: Any) -> None:
    standalone = run(ecs)
    ecs.create_service(serviceName="api", taskDefinition="web", desiredCount=2)
    service_tasks = listed(ecs, serviceName="api")
    assert len(service_tasks) == 2
    assert set(service_tasks).isdisjoint(arns_of(standalone))
    described = ecs.describe_tasks(tasks=service_tasks)["tasks"]
    deployment = described[0]["startedBy"]
    assert deployment.startswith("ecs-svc/")
    assert listed(ecs, startedBy=deployment) == service_tasks
    with pytest.raises(ecs.exceptions.ServiceNotFoundException) as excinfo:
        ecs.list_tasks(serviceName="nope")
    assert error(excinfo) == ("ServiceNotFoundException", "Service not found.")
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_tasks(serviceName="api", family="web")


def test_daemon_name_lists_nothing(ecs: Any) -> None:
    run(ecs)
    assert listed(ecs, daemonName="agent") == []


def test_pages(ecs: Any, backend: Any) -> None:
    everything = arns_of(run(ecs, count=10) + run(ecs, count=10) + run(ecs, count=5))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        backend.lists.clear()
        params: dict[str, Any] = {"maxResults": 10}
        if token:
            params["nextToken"] = token
        page = ecs.list_tasks(**params)
        assert backend.lists["Pod"] == 1  # one backend page per ECS page
        pages += 1
        seen += page["taskArns"]
        assert len(page["taskArns"]) <= 10
        token = page.get("nextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == everything
    assert len(set(seen)) == 25
    assert listed(ecs, PaginationConfig={"PageSize": 7}) == everything
    assert len(ecs.list_tasks()["taskArns"]) == 25


def test_page_limits_and_tokens(ecs: Any) -> None:
    run(ecs)
    for bad in (0, 101):
        with pytest.raises(ecs.exceptions.InvalidParameterException):
            ecs.list_tasks(maxResults=bad)
    for token in ("garbage", base64.urlsafe_b64encode(json.dumps({"c": 7}).encode()).decode()):
        with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
            ecs.list_tasks(nextToken=token)
        assert error(excinfo) == ("InvalidParameterException", "The nextToken is not valid.")
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.list_tasks(cluster="nope")


def test_listing_a_thousand_tasks_reads_each_page_once(ecs: Any, backend: Any) -> None:
    for _ in range(100):
        run(ecs, count=10)
    backend.lists.clear()
    assert len(listed(ecs)) == 1000
    assert backend.lists["Pod"] == 10
