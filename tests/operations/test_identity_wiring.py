"""Task roles, pull credentials and secrets, wired into RunTask and CreateService.

Through the boto3-style client on the embedded cluster; the ServiceAccounts, Roles,
RoleBindings and pods are asserted as Kubernetes objects (all validated strictly on write).
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest

from kecs.backends import kinds
from kecs.mapping import identity, secrets
from tests.operations.wiring_helpers import (
    ACCOUNT,
    ValidatingBackend,
    backend,
    ecs,
    error,
    namespace,
    objects,
    register,
    task_pods,
)

__all__ = ["backend", "ecs"]  # fixtures

ROLE = f"arn:aws:iam::{ACCOUNT}:role/app/web-task"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/reporting"
DB = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-password-AbCdEf"
TOKEN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/api-token"
PULL = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:registry-creds-XyZ123"
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:1"
EXECUTION = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
PASSWORD = "correct-horse-battery-staple"


def app(*, secret_refs: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "nginx:1.27", "memory": 128, **extra}
    if secret_refs:
        container["secrets"] = [
            {"name": f"S{i}", "valueFrom": ref} for i, ref in enumerate(secret_refs)
        ]
    return container


def provide(backend: ValidatingBackend, value_from: str, value: str = PASSWORD) -> None:
    """Create the Kubernetes Secret kecs expects for ``value_from`` (as an operator would)."""
    ref = secrets.secret_ref(value_from)
    backend.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": ref.secret_name, "namespace": namespace()},
            "data": {ref.key: base64.b64encode(value.encode()).decode()},
        }
    )


def one(backend: ValidatingBackend, kind: kinds.ResourceKind, name: str) -> dict[str, Any]:
    return backend.get(kind, name, namespace())


def test_run_task_runs_as_the_task_roles_service_account(ecs: Any, backend: Any) -> None:
    register(ecs, "web", app(secret_refs=(DB, TOKEN)), taskRoleArn=ROLE)
    provide(backend, DB)
    provide(backend, TOKEN)
    (task,) = ecs.run_task(taskDefinition="web")["tasks"]
    (pod,) = task_pods(backend)
    name = identity.service_account_name(ROLE)
    assert pod["spec"]["serviceAccountName"] == name
    assert "automountServiceAccountToken" not in pod["spec"]
    account = one(backend, kinds.SERVICE_ACCOUNT, name)
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ROLE
    role = one(backend, kinds.ROLE, name)
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "verbs": ["get"],
            "resourceNames": sorted(
                [secrets.secret_ref(DB).secret_name, secrets.secret_ref(TOKEN).secret_name]
            ),
        }
    ]
    binding = one(backend, kinds.ROLE_BINDING, name)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": name}  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": name, "namespace": namespace()}
    ]
    described = ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"][0]
    assert described["lastStatus"] == "RUNNING"


def test_a_role_override_and_a_bare_role_name(ecs: Any, backend: Any) -> None:
    register(ecs, "web", taskRoleArn=ROLE)
    ecs.run_task(taskDefinition="web", overrides={"taskRoleArn": "reporting"})
    (pod,) = task_pods(backend)
    assert pod["spec"]["serviceAccountName"] == identity.service_account_name(OTHER_ROLE)
    names = {o["metadata"]["name"] for o in objects(backend, kinds.SERVICE_ACCOUNT)}
    assert identity.service_account_name(OTHER_ROLE) in names
    assert identity.service_account_name(ROLE) not in names


def test_no_role_means_no_credentials(ecs: Any, backend: Any) -> None:
    register(ecs, "web")
    ecs.run_task(taskDefinition="web")
    (pod,) = task_pods(backend)
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"].get("serviceAccountName", "default") == "default"
    assert objects(backend, kinds.ROLE) == []


def test_a_shared_role_accumulates_the_secrets_of_its_task_definitions(
    ecs: Any, backend: Any
) -> None:
    register(ecs, "web", app(secret_refs=(DB,)), taskRoleArn=ROLE)
    register(ecs, "api", app(secret_refs=(TOKEN,)), taskRoleArn=ROLE)
    for family in ("web", "api", "web"):
        ecs.run_task(taskDefinition=family)
    role = one(backend, kinds.ROLE, identity.service_account_name(ROLE))
    assert role["rules"][0]["resourceNames"] == sorted(
        [secrets.secret_ref(DB).secret_name, secrets.secret_ref(TOKEN).secret_name]
    )
    assert len(objects(backend, kinds.SERVICE_ACCOUNT)) == 1


def test_concurrent_run_tasks_share_one_identity(ecs: Any, backend: Any) -> None:
    families = [f"fam{i}" for i in range(6)]
    for i, family in enumerate(families):
        ref = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/p{i}"
        register(ecs, family, app(secret_refs=(ref,)), taskRoleArn=ROLE)
    errors: list[BaseException] = []

    def run(family: str) -> None:
        try:
            ecs.run_task(taskDefinition=family)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in families]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    name = identity.service_account_name(ROLE)
    assert [o["metadata"]["name"] for o in objects(backend, kinds.ROLE_BINDING)] == [name]
    granted = one(backend, kinds.ROLE, name)["rules"][0]["resourceNames"]
    assert len(granted) == len(families)  # no writer's Secrets were lost


def test_repository_credentials_and_ecr_become_image_pull_secrets(ecs: Any, backend: Any) -> None:
    register(
        ecs,
        "web",
        app(repositoryCredentials={"credentialsParameter": PULL}),
        {"name": "ecr", "image": ECR_IMAGE, "memory": 64, "essential": False},
        executionRoleArn=EXECUTION,
        taskRoleArn=ROLE,
    )
    ecs.run_task(taskDefinition="web")
    (pod,) = task_pods(backend)
    assert pod["spec"]["imagePullSecrets"] == [
        {"name": identity.pull_secret_name(PULL)},
        {"name": identity.ecr_pull_secret_name(EXECUTION)},
    ]
    role = one(backend, kinds.ROLE, identity.service_account_name(ROLE))
    assert role["rules"][0]["resourceNames"] == [identity.pull_secret_name(PULL)]


def test_a_service_runs_as_its_task_role(ecs: Any, backend: Any) -> None:
    register(ecs, "web", taskRoleArn=ROLE)
    ecs.create_service(serviceName="web", taskDefinition="web", desiredCount=2)
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    name = identity.service_account_name(ROLE)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == name
    pods = task_pods(backend)
    assert len(pods) == 2 and {p["spec"]["serviceAccountName"] for p in pods} == {name}
    assert one(backend, kinds.SERVICE_ACCOUNT, name)
    register(ecs, "web", taskRoleArn=OTHER_ROLE)
    ecs.update_service(service="web", taskDefinition="web:2")
    (deployment,) = objects(backend, kinds.DEPLOYMENT)
    other = identity.service_account_name(OTHER_ROLE)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == other
    assert one(backend, kinds.ROLE_BINDING, other)


# -- secrets -------------------------------------------------------------------------------------


def test_a_missing_secret_stops_the_task_the_ecs_way(ecs: Any, backend: Any) -> None:
    register(ecs, "web", app(secret_refs=(DB,)), taskRoleArn=ROLE)
    (task,) = ecs.run_task(taskDefinition="web")["tasks"]
    (stopped,) = ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "TaskFailedToStart"
    name = secrets.secret_ref(DB).secret_name
    assert stopped["stoppedReason"] == f'ResourceInitializationError: secret "{name}" not found'
    ecs.get_waiter("tasks_stopped").wait(tasks=[task["taskArn"]], WaiterConfig={"MaxAttempts": 1})


def test_a_missing_key_of_a_json_secret(ecs: Any, backend: Any) -> None:
    register(ecs, "web", app(secret_refs=(f"{DB}:username::",)))
    provide(backend, DB)  # the whole-value key only
    (task,) = ecs.run_task(taskDefinition="web")["tasks"]
    (stopped,) = ecs.describe_tasks(tasks=[task["taskArn"]])["tasks"]
    assert stopped["stoppedReason"].startswith("ResourceInitializationError: couldn't find key")


def test_a_service_with_a_missing_secret_replaces_its_failing_tasks(ecs: Any, backend: Any) -> None:
    register(ecs, "web", app(secret_refs=(DB,)))
    ecs.create_service(serviceName="web", taskDefinition="web", desiredCount=1)
    service = ecs.describe_services(services=["web"])["services"][0]
    assert service["runningCount"] == 0
    stopped = ecs.list_tasks(serviceName="web", desiredStatus="STOPPED")["taskArns"]
    assert stopped
    reasons = {t["stoppedReason"] for t in ecs.describe_tasks(tasks=stopped)["tasks"]}
    assert all(r.startswith("ResourceInitializationError: secret") for r in reasons)
    provide(backend, DB)
    ecs.update_service(service="web", forceNewDeployment=True)
    assert ecs.describe_services(services=["web"])["services"][0]["runningCount"] == 1


def test_secret_values_never_appear_in_objects_or_responses(ecs: Any, backend: Any) -> None:
    register(ecs, "web", app(secret_refs=(DB,)), taskRoleArn=ROLE)
    provide(backend, DB)
    (task,) = ecs.run_task(taskDefinition="web")["tasks"]
    ecs.create_service(serviceName="web", taskDefinition="web", desiredCount=1)
    responses = [
        ecs.describe_tasks(tasks=[task["taskArn"]], include=["TAGS"]),
        ecs.describe_services(services=["web"], include=["TAGS"]),
        ecs.describe_task_definition(taskDefinition="web"),
    ]
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    text = json.dumps(responses, default=str)
    assert PASSWORD not in text and encoded not in text
    for obj in backend.written:
        dumped = json.dumps(obj)
        assert PASSWORD not in dumped and encoded not in dumped, obj["kind"]


def test_invalid_placement_in_a_task_definition_is_invalid_parameter(ecs: Any) -> None:
    register(
        ecs,
        "web",
        placementConstraints=[{"type": "memberOf", "expression": "agentConnected == true"}],
    )
    with pytest.raises(ecs.exceptions.InvalidParameterException) as excinfo:
        ecs.run_task(taskDefinition="web")
    assert "agentConnected" in error(excinfo)[1]
