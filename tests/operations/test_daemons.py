"""Daemons and daemon task definitions through the client, and the DaemonSets they become.

Every waiter of the daemon API is exercised on its first poll against the embedded cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.mapping import daemons, labels
from tests.k8s_schema import validate_strict
from tests.operations.service_helpers import (
    ACCOUNT,
    CLUSTER,
    REGION,
    CheckingBackend,
    backend,
    error,
    namespace,
    objects,
)

__all__ = ["backend"]  # fixture

ASG = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:abc:autoScalingGroupName/{}"
ONCE = {"Delay": 1, "MaxAttempts": 1}
AGENT = [{"name": "agent", "image": "fluent-bit:1", "memory": 64}]


@pytest.fixture
def ecs(backend: CheckingBackend) -> Any:
    client = kecs.client("ecs", region_name=REGION, backend=backend)
    client.create_cluster(clusterName=CLUSTER)
    for name in ("cp1", "cp2", "other"):
        client.create_capacity_provider(
            name=name, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(name)}
        )
    client.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["cp1", "cp2", "FARGATE"],
        defaultCapacityProviderStrategy=[],
    )
    for provider in ("cp1", "cp1", "cp2"):
        backend.simulator.add_node(labels={"kecs.dev/capacity-provider": provider})
    return client


def register(ecs: Any, image: str = "fluent-bit:1", **extra: Any) -> str:
    containers = [{**AGENT[0], "image": image}]
    response = ecs.register_daemon_task_definition(
        family="agent", containerDefinitions=containers, **extra
    )
    return str(response["daemonTaskDefinitionArn"])


def cluster_arn() -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"


def daemon_arn(name: str = "logs") -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:daemon/{CLUSTER}/{name}"


def create(ecs: Any, td: str, providers: tuple[str, ...] = ("cp1",), **extra: Any) -> Any:
    return ecs.create_daemon(
        daemonName="logs",
        clusterArn=cluster_arn(),
        daemonTaskDefinitionArn=td,
        capacityProviderArns=list(providers),
        **extra,
    )


def daemon_pods(backend: CheckingBackend, live: bool = True) -> list[dict[str, Any]]:
    pods = backend.list_all(kinds.POD, namespace(), selector={labels.DAEMON: "logs"})
    return [p for p in pods if not live or not p["metadata"].get("deletionTimestamp")]


def provider_nodes(backend: CheckingBackend, provider: str) -> set[str]:
    found = backend.list_all(kinds.NODE, selector={"kecs.dev/capacity-provider": provider})
    return {n["metadata"]["name"] for n in found}


# -- daemon task definitions ------------------------------------------------------------------


def test_register_and_describe_a_daemon_task_definition(ecs: Any, backend: CheckingBackend) -> None:
    arn = register(ecs, pidMode="shared", cpu="256", tags=[{"key": "team", "value": "obs"}])
    assert arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:daemon-task-definition/agent:1"
    ecs.get_waiter("daemon_task_definition_active").wait(
        daemonTaskDefinition=arn, WaiterConfig=ONCE
    )
    for name in ("agent", "agent:1", arn):
        td = ecs.describe_daemon_task_definition(daemonTaskDefinition=name)["daemonTaskDefinition"]
        assert td["daemonTaskDefinitionArn"] == arn
    assert (td["family"], td["revision"], td["status"], td["cpu"]) == ("agent", 1, "ACTIVE", "256")
    assert td["pidMode"] == "shared"
    (container,) = td["containerDefinitions"]
    assert (container["essential"], container["cpu"]) == (True, 0)
    (template,) = backend.list_all(
        kinds.POD_TEMPLATE, "kecs-system", selector={labels.RESOURCE: "daemon-task-definition"}
    )
    validate_strict(template)
    assert template["template"]["spec"]["hostPID"] is True  # pidMode shared: the host's
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "obs"}]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}])
    assert len(ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == 2
    # A task definition of the same family is another thing altogether.
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.describe_task_definition(taskDefinition="agent")
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.describe_daemon_task_definition(daemonTaskDefinition="agent:2")
    assert error(excinfo)[1] == "Unable to describe daemon task definition."
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.register_daemon_task_definition(family="bad name", containerDefinitions=AGENT)


def test_list_daemon_task_definitions(ecs: Any) -> None:
    for image in ("a:1", "a:2", "a:3"):
        register(ecs, image)
    ecs.register_daemon_task_definition(family="zeta", containerDefinitions=AGENT)
    ecs.delete_daemon_task_definition(daemonTaskDefinition="agent:1")

    def listed(**params: Any) -> list[str]:
        found = ecs.list_daemon_task_definitions(**params)["daemonTaskDefinitions"]
        return [d["arn"].rsplit("/", 1)[1] for d in found]

    assert listed() == ["agent:2", "agent:3", "zeta:1"]
    assert listed(status="ALL") == ["agent:1", "agent:2", "agent:3", "zeta:1"]
    assert listed(status="ALL", sort="DESC") == ["zeta:1", "agent:3", "agent:2", "agent:1"]
    assert listed(family="agent", revision="LAST_REGISTERED") == ["agent:3"]
    assert listed(familyPrefix="ze") == ["zeta:1"]
    first = ecs.list_daemon_task_definitions(maxResults=2)
    assert len(first["daemonTaskDefinitions"]) == 2
    rest = ecs.list_daemon_task_definitions(maxResults=2, nextToken=first["nextToken"])
    assert [d["arn"].rsplit("/", 1)[1] for d in rest["daemonTaskDefinitions"]] == ["zeta:1"]
    assert "nextToken" not in rest
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.list_daemon_task_definitions(status="INACTIVE")  # botocore does not check enums
    deleted = ecs.list_daemon_task_definitions(status="ALL", family="agent")
    assert deleted["daemonTaskDefinitions"][0]["status"] == "DELETED"
    assert "deleteRequestedAt" in deleted["daemonTaskDefinitions"][0]


def test_delete_waits_for_the_daemons_that_run_it(ecs: Any) -> None:
    first = register(ecs)
    create(ecs, first)
    ecs.delete_daemon_task_definition(daemonTaskDefinition=first)
    td = ecs.describe_daemon_task_definition(daemonTaskDefinition=first)["daemonTaskDefinition"]
    assert td["status"] == "DELETE_IN_PROGRESS" and "deleteRequestedAt" in td
    with pytest.raises(ecs.exceptions.ClientException) as excinfo:
        ecs.delete_daemon_task_definition(daemonTaskDefinition=first)
    assert "ACTIVE" in error(excinfo)[1]
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.create_daemon(  # a definition being deleted starts no new daemon
            daemonName="other",
            clusterArn=cluster_arn(),
            daemonTaskDefinitionArn=first,
            capacityProviderArns=["cp1"],
        )
    second = register(ecs, "fluent-bit:2")
    ecs.update_daemon(daemonArn=daemon_arn(), daemonTaskDefinitionArn=second,
                      capacityProviderArns=["cp1"])  # fmt: skip
    ecs.get_waiter("daemon_task_definition_deleted").wait(
        daemonTaskDefinition=first, WaiterConfig=ONCE
    )
    unused = register(ecs, "fluent-bit:3")
    ecs.delete_daemon_task_definition(daemonTaskDefinition=unused)
    ecs.get_waiter("daemon_task_definition_deleted").wait(
        daemonTaskDefinition=unused, WaiterConfig=ONCE
    )


# -- daemons --------------------------------------------------------------------------------


def test_create_daemon_runs_one_task_per_node_of_its_providers(
    ecs: Any, backend: CheckingBackend
) -> None:
    td = register(ecs)
    created = create(ecs, td, tags=[{"key": "team", "value": "obs"}], propagateTags="DAEMON")
    assert created["daemonArn"] == daemon_arn() and created["status"] == "ACTIVE"
    assert created["deploymentArn"].startswith(
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:daemon-deployment/{CLUSTER}/logs/"
    )
    ecs.get_waiter("daemon_active").wait(daemonArn=created["daemonArn"], WaiterConfig=ONCE)
    ecs.get_waiter("daemon_deployment_successful").wait(
        daemonDeploymentArns=[created["deploymentArn"]], WaiterConfig=ONCE
    )
    (daemon_set,) = objects(backend, kinds.DAEMON_SET, daemons.RESOURCE)
    assert backend.checked["DaemonSet"] >= 1  # validated strictly
    assert objects(backend, kinds.DAEMON_SET) == []  # not a DAEMON service
    spec = daemon_set["spec"]["template"]["spec"]
    required = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    wanted = {"key": "kecs.dev/capacity-provider", "operator": "In", "values": ["cp1"]}
    assert all(wanted in term["matchExpressions"] for term in required["nodeSelectorTerms"])
    assert {"key": "kecs.dev/capacity-provider", "operator": "Equal", "value": "cp1"} in spec[
        "tolerations"
    ]
    pods = daemon_pods(backend)
    assert {p["spec"]["nodeName"] for p in pods} == provider_nodes(backend, "cp1")
    assert len(pods) == 2
    detail = ecs.describe_daemon(daemonArn=daemon_arn())["daemon"]
    assert detail["status"] == "ACTIVE" and detail["clusterArn"] == cluster_arn()
    (current,) = detail["currentRevisions"]
    assert (current["totalRunningCount"], current["totalWithoutDaemonCount"]) == (2, 0)
    assert current["capacityProviders"][0]["arn"].endswith(":capacity-provider/cp1")
    tasks = ecs.describe_tasks(
        cluster=CLUSTER, tasks=[p["metadata"]["uid"].replace("-", "") for p in pods]
    )["tasks"]
    assert {t["group"] for t in tasks} == {"daemon:logs"}
    listed = ecs.list_tasks(cluster=CLUSTER, daemonName="logs")["taskArns"]
    assert sorted(listed) == sorted(t["taskArn"] for t in tasks)
    assert ecs.list_tasks(cluster=CLUSTER, daemonName="nothing")["taskArns"] == []
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}
    # A new container instance of the provider gets the daemon's task.
    backend.simulator.add_node(labels={"kecs.dev/capacity-provider": "cp1"})
    detail = ecs.describe_daemon(daemonArn=daemon_arn())["daemon"]
    assert detail["currentRevisions"][0]["totalRunningCount"] == 3
    assert len(daemon_pods(backend)) == 3


def test_create_daemon_refusals(ecs: Any) -> None:
    td = register(ecs)

    def refused(**params: Any) -> str:
        base: dict[str, Any] = {
            "daemonName": "logs",
            "clusterArn": CLUSTER,
            "daemonTaskDefinitionArn": td,
            "capacityProviderArns": ["cp1"],
        }
        with pytest.raises(ecs.exceptions.ClientError) as excinfo:
            ecs.create_daemon(**{**base, **params})
        return error(excinfo)[1]

    assert "Fargate has none" in refused(capacityProviderArns=["FARGATE"])
    assert "was not found" in refused(capacityProviderArns=["nope"])
    assert "not associated with the cluster" in refused(capacityProviderArns=["other"])
    assert "At least one capacity provider" in refused(capacityProviderArns=[])
    assert "Invalid daemon name" in refused(daemonName="no spaces")
    assert "daemon task definition" in refused(daemonTaskDefinitionArn="agent:9")
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.create_daemon(daemonName="x", clusterArn="nope", daemonTaskDefinitionArn=td,
                          capacityProviderArns=["cp1"])  # fmt: skip
    assert ecs.list_daemons()["daemonSummariesList"] == []


def test_create_daemon_is_idempotent(ecs: Any, backend: CheckingBackend) -> None:
    td = register(ecs)
    first = create(ecs, td)
    again = create(ecs, td)
    assert again["daemonArn"] == first["daemonArn"]
    assert again["deploymentArn"] == first["deploymentArn"]
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        create(ecs, td, providers=("cp2",))
    assert error(excinfo)[1] == "Creation of daemon was not idempotent."
    assert len(objects(backend, kinds.DAEMON_SET, daemons.RESOURCE)) == 1


def test_update_daemon_rolls_out_a_new_revision(ecs: Any, backend: CheckingBackend) -> None:
    first = create(ecs, register(ecs))
    second_td = register(ecs, "fluent-bit:2", ipcMode="shared")
    updated = ecs.update_daemon(
        daemonArn=daemon_arn(),
        daemonTaskDefinitionArn=second_td,
        capacityProviderArns=["cp1", "cp2"],
        deploymentConfiguration={"drainPercent": 12.5, "bakeTimeInMinutes": 5},
        enableExecuteCommand=True,
    )
    assert updated["deploymentArn"] != first["deploymentArn"]
    assert updated["updatedAt"] >= updated["createdAt"]
    ecs.get_waiter("daemon_deployment_successful").wait(
        daemonDeploymentArns=[updated["deploymentArn"], first["deploymentArn"]], WaiterConfig=ONCE
    )
    (daemon_set,) = objects(backend, kinds.DAEMON_SET, daemons.RESOURCE)
    assert daemon_set["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "13%"
    template = daemon_set["spec"]["template"]
    assert template["spec"]["hostIPC"] is True
    assert {c["image"] for c in template["spec"]["containers"]} == {"fluent-bit:2"}
    pods = daemon_pods(backend)
    assert {p["spec"]["nodeName"] for p in pods} == provider_nodes(backend, "cp1") | provider_nodes(
        backend, "cp2"
    )
    assert {c["image"] for p in pods for c in p["spec"]["containers"]} == {"fluent-bit:2"}
    listed = ecs.list_daemon_deployments(daemonArn=daemon_arn())["daemonDeployments"]
    assert [d["daemonDeploymentArn"] for d in listed] == [
        updated["deploymentArn"],
        first["deploymentArn"],
    ]
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "SUCCESSFUL"]
    deployment = ecs.describe_daemon_deployments(daemonDeploymentArns=[updated["deploymentArn"]])[
        "daemonDeployments"
    ][0]
    assert deployment["deploymentConfiguration"]["bakeTimeInMinutes"] == 5
    assert deployment["targetDaemonRevision"]["totalRunningInstanceCount"] == 3
    (source,) = deployment["sourceDaemonRevisions"]
    assert source["arn"] == listed[1]["targetDaemonRevisionArn"]
    revisions = ecs.describe_daemon_revisions(
        daemonRevisionArns=[d["targetDaemonRevisionArn"] for d in listed]
    )["daemonRevisions"]
    assert [r["containerImages"][0]["image"] for r in revisions] == ["fluent-bit:2", "fluent-bit:1"]
    assert [r["enableExecuteCommand"] for r in revisions] == [True, False]
    assert revisions[0]["daemonTaskDefinitionArn"] == second_td
    assert revisions[0]["critical"] is True
    one = ecs.list_daemon_deployments(daemonArn=daemon_arn(), maxResults=1)
    rest = ecs.list_daemon_deployments(daemonArn=daemon_arn(), nextToken=one["nextToken"])
    assert [
        d["daemonDeploymentArn"] for d in one["daemonDeployments"] + rest["daemonDeployments"]
    ] == [d["daemonDeploymentArn"] for d in listed]
    assert (
        ecs.list_daemon_deployments(daemonArn=daemon_arn(), status=["STOPPED"])["daemonDeployments"]
        == []
    )
    future = listed[0]["createdAt"].timestamp() + 3600
    assert (
        len(
            ecs.list_daemon_deployments(daemonArn=daemon_arn(), createdAt={"before": future})[
                "daemonDeployments"
            ]
        )
        == 2
    )
    assert (
        ecs.list_daemon_deployments(daemonArn=daemon_arn(), createdAt={"after": future})[
            "daemonDeployments"
        ]
        == []
    )


def test_a_deployment_replaced_before_it_finished_is_stopped(
    ecs: Any, backend: CheckingBackend
) -> None:
    create(ecs, register(ecs))
    backend.simulator.slow_start("fluent-bit:2", 600)
    slow = ecs.update_daemon(
        daemonArn=daemon_arn(),
        daemonTaskDefinitionArn=register(ecs, "fluent-bit:2"),
        capacityProviderArns=["cp1"],
    )
    (running,) = ecs.describe_daemon_deployments(daemonDeploymentArns=[slow["deploymentArn"]])[
        "daemonDeployments"
    ]
    assert running["status"] == "IN_PROGRESS"
    with pytest.raises(Exception, match="Waiter"):
        ecs.get_waiter("daemon_deployment_stopped").wait(
            daemonDeploymentArns=[slow["deploymentArn"]], WaiterConfig=ONCE
        )
    ecs.update_daemon(
        daemonArn=daemon_arn(),
        daemonTaskDefinitionArn=register(ecs, "fluent-bit:3"),
        capacityProviderArns=["cp1"],
    )
    ecs.get_waiter("daemon_deployment_stopped").wait(
        daemonDeploymentArns=[slow["deploymentArn"]], WaiterConfig=ONCE
    )
    (stopped,) = ecs.describe_daemon_deployments(daemonDeploymentArns=[slow["deploymentArn"]])[
        "daemonDeployments"
    ]
    assert stopped["statusReason"] == daemons.SUPERSEDED


def test_delete_daemon(ecs: Any, backend: CheckingBackend) -> None:
    td = register(ecs)
    created = create(ecs, td)
    revision = ecs.describe_daemon(daemonArn=daemon_arn())["daemon"]["currentRevisions"][0]["arn"]
    deleted = ecs.delete_daemon(daemonArn=daemon_arn())
    assert deleted["status"] == "DELETE_IN_PROGRESS"
    assert deleted["deploymentArn"] == created["deploymentArn"]
    assert objects(backend, kinds.DAEMON_SET, daemons.RESOURCE) == []
    assert daemon_pods(backend) == []
    assert len(daemon_pods(backend, live=False)) == 2  # the STOPPED task records
    ecs.get_waiter("daemon_deployment_stopped").wait(
        daemonDeploymentArns=[created["deploymentArn"]], WaiterConfig=ONCE
    )
    (stopped,) = ecs.describe_daemon_deployments(daemonDeploymentArns=[created["deploymentArn"]])[
        "daemonDeployments"
    ]
    assert stopped["statusReason"] == daemons.DELETED and "stoppedAt" in stopped
    (kept,) = ecs.describe_daemon_revisions(daemonRevisionArns=[revision])["daemonRevisions"]
    assert kept["daemonTaskDefinitionArn"] == td
    with pytest.raises(ecs.exceptions.DaemonNotFoundException):
        ecs.describe_daemon(daemonArn=daemon_arn())
    with pytest.raises(ecs.exceptions.DaemonNotFoundException):
        ecs.delete_daemon(daemonArn=daemon_arn())
    with pytest.raises(ecs.exceptions.DaemonNotFoundException):
        ecs.update_daemon(daemonArn=daemon_arn(), daemonTaskDefinitionArn=td,
                          capacityProviderArns=["cp1"])  # fmt: skip
    assert ecs.list_daemons()["daemonSummariesList"] == []
    again = create(ecs, td)
    assert again["deploymentArn"] != created["deploymentArn"]
    assert ecs.describe_daemon(daemonArn=daemon_arn())["daemon"]["status"] == "ACTIVE"
    tombs = backend.list_all(
        kinds.CONFIG_MAP, namespace(), selector={labels.RESOURCE: "daemon-tombstone"}
    )
    assert tombs == []


def test_list_daemons_and_tags(ecs: Any) -> None:
    td = register(ecs)
    create(ecs, td)
    ecs.create_cluster()  # "default", where a daemon goes without clusterArn
    ecs.put_cluster_capacity_providers(
        cluster="default", capacityProviders=["cp2"], defaultCapacityProviderStrategy=[]
    )
    ecs.create_daemon(
        daemonName="metrics",
        daemonTaskDefinitionArn=td,
        capacityProviderArns=["cp2"],
        tags=[{"key": "team", "value": "obs"}],
    )
    ecs.create_daemon(
        daemonName="metrics",
        clusterArn=CLUSTER,
        daemonTaskDefinitionArn=td,
        capacityProviderArns=["cp2"],
    )
    default_metrics = daemon_arn("metrics").replace(f"/{CLUSTER}/", "/default/")
    every = ecs.list_daemons()["daemonSummariesList"]
    assert [d["daemonArn"] for d in every] == [
        default_metrics,
        daemon_arn("logs"),
        daemon_arn("metrics"),
    ]
    by_provider = ecs.list_daemons(capacityProviderArns=["cp2"])["daemonSummariesList"]
    assert [d["daemonArn"] for d in by_provider] == [default_metrics, daemon_arn("metrics")]
    tags = ecs.list_tags_for_resource(resourceArn=default_metrics)["tags"]
    assert tags == [{"key": "team", "value": "obs"}]
    one = ecs.list_daemons(clusterArn=cluster_arn(), maxResults=1)
    rest = ecs.list_daemons(clusterArn=cluster_arn(), nextToken=one["nextToken"])
    assert [d["daemonArn"] for d in one["daemonSummariesList"] + rest["daemonSummariesList"]] == [
        daemon_arn("logs"),
        daemon_arn("metrics"),
    ]
    arn = daemon_arn("logs")
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "prod"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []


def test_describe_daemon_deployments_failures(ecs: Any) -> None:
    create(ecs, register(ecs))
    bad = [
        "arn:aws:ecs:us-east-1:000000000000:daemon-deployment/prod/logs/nothing",
        "arn:aws:ecs:us-east-1:000000000000:daemon-deployment/nope/logs/x",
        "arn:aws:ecs:eu-west-1:000000000000:daemon-deployment/prod/logs/x",
        "not-an-arn",
    ]
    response = ecs.describe_daemon_deployments(daemonDeploymentArns=bad)
    assert response["daemonDeployments"] == []
    assert [f["arn"] for f in response["failures"]] == bad
    assert {f["reason"] for f in response["failures"]} == {"MISSING"}
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.describe_daemon_revisions(daemonRevisionArns=[bad[0]] * 21)
    with pytest.raises(ecs.exceptions.DaemonNotFoundException):
        ecs.list_daemon_deployments(daemonArn=daemon_arn("nothing"))
    with pytest.raises(ecs.exceptions.DaemonNotFoundException):
        ecs.describe_daemon(daemonArn="logs")
