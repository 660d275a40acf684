"""ECS tests written for boto3 and AWS: nothing in this module knows about kecs.

Clients are made the usual ways (``boto3.client``, ``boto3.Session().client``); the folder's
conftest.py runs the module under ``kecs.mock()``.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, WaiterError

REGION = "us-east-1"
ACCOUNT = "000000000000"
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-12345678"], "assignPublicIp": "DISABLED"}}
FAST = {"Delay": 1, "MaxAttempts": 5}


@pytest.fixture
def ecs() -> Any:
    return boto3.client("ecs", region_name=REGION)


def register_web(ecs: Any, image: str = "nginx:1.27") -> dict[str, Any]:
    return ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "web",
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]


# -- clusters --------------------------------------------------------------------------------


def test_create_and_describe_a_cluster(ecs: Any) -> None:
    created = ecs.create_cluster(clusterName="prod", tags=[{"key": "env", "value": "prod"}])
    assert created["cluster"]["clusterArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod"
    (cluster,) = ecs.describe_clusters(clusters=["prod"], include=["TAGS"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["tags"] == [{"key": "env", "value": "prod"}]


def test_missing_clusters(ecs: Any) -> None:
    described = ecs.describe_clusters(clusters=["nope"])
    assert described["clusters"] == []
    assert described["failures"][0]["reason"] == "MISSING"
    with pytest.raises(ClientError) as error:
        ecs.delete_cluster(cluster="nope")
    assert error.value.response["Error"]["Code"] == "ClusterNotFoundException"
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.delete_cluster(cluster="nope")


def test_list_clusters_paginator(ecs: Any) -> None:
    for index in range(7):
        ecs.create_cluster(clusterName=f"c{index}")
    pages = ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 3})
    sizes = [len(page["clusterArns"]) for page in pages]
    assert sizes == [3, 3, 1]


def test_another_session_sees_the_same_account(ecs: Any) -> None:
    ecs.create_cluster(clusterName="shared")
    other = boto3.Session(region_name=REGION).client("ecs")
    assert other.list_clusters()["clusterArns"] == [
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shared"
    ]
    elsewhere = boto3.client("ecs", region_name="eu-west-1")
    assert elsewhere.list_clusters()["clusterArns"] == []


def test_delete_a_cluster(ecs: Any) -> None:
    ecs.create_cluster(clusterName="old")
    assert ecs.delete_cluster(cluster="old")["cluster"]["status"] == "INACTIVE"
    assert ecs.list_clusters()["clusterArns"] == []


# -- task definitions --------------------------------------------------------------------------


def test_register_revisions_and_describe(ecs: Any) -> None:
    first = register_web(ecs, "nginx:1.26")
    second = register_web(ecs, "nginx:1.27")
    assert (first["revision"], second["revision"]) == (1, 2)
    latest = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert latest["containerDefinitions"][0]["image"] == "nginx:1.27"
    assert latest["requiresCompatibilities"] == ["FARGATE"]


def test_task_definition_paginator_and_families(ecs: Any) -> None:
    for _ in range(5):
        register_web(ecs)
    arns = (
        ecs.get_paginator("list_task_definitions")
        .paginate(familyPrefix="web", PaginationConfig={"PageSize": 2})
        .build_full_result()["taskDefinitionArns"]
    )
    assert [a.rsplit(":", 1)[1] for a in arns] == ["1", "2", "3", "4", "5"]
    assert ecs.list_task_definition_families()["families"] == ["web"]


def test_deregister_a_task_definition(ecs: Any) -> None:
    register_web(ecs)
    gone = ecs.deregister_task_definition(taskDefinition="web:1")["taskDefinition"]
    assert gone["status"] == "INACTIVE"
    assert ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"] == []


def test_invalid_task_definition(ecs: Any) -> None:
    with pytest.raises(ClientError) as error:
        ecs.register_task_definition(
            family="bad",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="4096",
            containerDefinitions=[{"name": "x", "image": "busybox"}],
        )
    assert error.value.response["Error"]["Code"] in ("ClientException", "InvalidParameterException")


# -- tags --------------------------------------------------------------------------------------


def test_tag_and_untag(ecs: Any) -> None:
    arn = register_web(ecs)["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


# -- services ----------------------------------------------------------------------------------


def test_service_becomes_stable(ecs: Any) -> None:
    ecs.create_cluster(clusterName="apps")
    register_web(ecs)
    ecs.create_service(
        cluster="apps",
        serviceName="web",
        taskDefinition="web",
        desiredCount=3,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
    )
    ecs.get_waiter("services_stable").wait(cluster="apps", services=["web"], WaiterConfig=FAST)
    (service,) = ecs.describe_services(cluster="apps", services=["web"])["services"]
    assert (service["runningCount"], service["desiredCount"]) == (3, 3)
    tasks = ecs.list_tasks(cluster="apps", serviceName="web")["taskArns"]
    assert len(tasks) == 3


def test_service_rollout_to_a_new_revision(ecs: Any) -> None:
    ecs.create_cluster(clusterName="apps")
    register_web(ecs, "nginx:1.26")
    ecs.create_service(
        cluster="apps",
        serviceName="web",
        taskDefinition="web:1",
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
    )
    register_web(ecs, "nginx:1.27")
    ecs.update_service(cluster="apps", service="web", taskDefinition="web:2")
    ecs.get_waiter("services_stable").wait(cluster="apps", services=["web"], WaiterConfig=FAST)
    (service,) = ecs.describe_services(cluster="apps", services=["web"])["services"]
    (deployment,) = service["deployments"]
    assert deployment["status"] == "PRIMARY"
    assert deployment["taskDefinition"].endswith(":task-definition/web:2")
    arns = ecs.list_tasks(cluster="apps", serviceName="web")["taskArns"]
    described = ecs.describe_tasks(cluster="apps", tasks=arns)["tasks"]
    assert {t["taskDefinitionArn"].rsplit(":", 1)[1] for t in described} == {"2"}


def test_service_deleted_becomes_inactive(ecs: Any) -> None:
    ecs.create_cluster(clusterName="apps")
    register_web(ecs)
    ecs.create_service(
        cluster="apps",
        serviceName="web",
        taskDefinition="web",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
    )
    ecs.delete_service(cluster="apps", service="web", force=True)
    ecs.get_waiter("services_inactive").wait(cluster="apps", services=["web"], WaiterConfig=FAST)


# -- tasks -------------------------------------------------------------------------------------


def test_task_runs_and_stops(ecs: Any) -> None:
    ecs.create_cluster(clusterName="jobs")
    register_web(ecs)
    run = ecs.run_task(
        cluster="jobs",
        taskDefinition="web",
        launchType="FARGATE",
        networkConfiguration=NETWORK,
        count=2,
        startedBy="nightly",
    )
    arns = [task["taskArn"] for task in run["tasks"]]
    assert len(arns) == 2 and run["failures"] == []
    ecs.get_waiter("tasks_running").wait(cluster="jobs", tasks=arns, WaiterConfig=FAST)
    assert sorted(ecs.list_tasks(cluster="jobs", startedBy="nightly")["taskArns"]) == sorted(arns)
    ecs.stop_task(cluster="jobs", task=arns[0], reason="no longer needed")
    ecs.get_waiter("tasks_stopped").wait(cluster="jobs", tasks=arns[:1], WaiterConfig=FAST)
    (stopped,) = ecs.describe_tasks(cluster="jobs", tasks=arns[:1])["tasks"]
    assert (stopped["lastStatus"], stopped["stoppedReason"]) == ("STOPPED", "no longer needed")


def test_task_waiter_fails_on_a_stopped_task(ecs: Any) -> None:
    ecs.create_cluster(clusterName="jobs")
    register_web(ecs)
    run = ecs.run_task(
        cluster="jobs", taskDefinition="web", launchType="FARGATE", networkConfiguration=NETWORK
    )
    arn = run["tasks"][0]["taskArn"]
    ecs.stop_task(cluster="jobs", task=arn)
    with pytest.raises(WaiterError):
        ecs.get_waiter("tasks_running").wait(cluster="jobs", tasks=[arn], WaiterConfig=FAST)


def test_task_list_paginator(ecs: Any) -> None:
    ecs.create_cluster(clusterName="jobs")
    register_web(ecs)
    for _ in range(3):
        ecs.run_task(
            cluster="jobs",
            taskDefinition="web",
            launchType="FARGATE",
            networkConfiguration=NETWORK,
            count=3,
        )
    pages = ecs.get_paginator("list_tasks").paginate(
        cluster="jobs", PaginationConfig={"PageSize": 4}
    )
    assert [len(page["taskArns"]) for page in pages] == [4, 4, 1]
