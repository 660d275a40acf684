"""Task roles -> ServiceAccount, Role, RoleBinding; pull credentials -> imagePullSecrets
(kecs.mapping.identity)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.mapping import identity, labels, secrets
from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import as_pod, validate_strict
from tests.strategies import accounts, secret_refs, task_definitions

ACCOUNT = "123456789012"
WHERE = {"namespace": "ns", "account": ACCOUNT, "region": "us-east-1", "cluster_name": "web"}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app/my_Role"
CREDENTIALS = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:dockerhub-AbCdEf"
DB = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-AbCdEf:password::"
ECR = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:1"

role_arns = st.builds(
    lambda account, path, name: f"arn:aws:iam::{account}:role/{path}{name}",
    accounts,
    st.sampled_from(["", "app/", "a/b/"]),
    st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,64}", fullmatch=True),
)


def definition(**extra: Any) -> dict[str, Any]:
    container = {"name": "app", "image": ECR, **extra.pop("container", {})}
    return {"family": "app", "containerDefinitions": [container], **extra}


def test_a_task_role_becomes_an_irsa_service_account() -> None:
    objects = identity.identity_objects(
        identity.task_identity(definition(taskRoleArn=ROLE), account=ACCOUNT), **WHERE
    )
    sa, role, binding = objects
    name = identity.service_account_name(ROLE)
    assert name.startswith("my-role-") and k8s_grammar.is_dns1123_label(name)
    assert sa["kind"] == "ServiceAccount" and sa["metadata"]["name"] == name
    assert sa["metadata"]["namespace"] == "ns"
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": ROLE,
        "kecs.dev/role-arn": ROLE,
    }
    assert sa["metadata"]["labels"][labels.RESOURCE] == "task-role"
    assert sa["metadata"]["labels"][labels.ACCOUNT] == ACCOUNT
    assert role["rules"] == []  # no secrets: nothing at all, never an empty resourceNames
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": name,
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": "ns"}]
    for obj in objects:
        validate_strict(obj)


def test_the_role_may_read_exactly_the_definitions_secrets() -> None:
    td = definition(
        taskRoleArn=ROLE,
        container={
            "secrets": [{"name": "DB", "valueFrom": DB}],
            "repositoryCredentials": {"credentialsParameter": CREDENTIALS},
        },
    )
    found = identity.task_identity(td, account=ACCOUNT)
    secret_name = secrets.secret_ref(DB).secret_name
    pull = identity.pull_secret_name(CREDENTIALS)
    assert found.readable_secrets == tuple(sorted([secret_name, pull]))
    role = identity.role(ROLE, found.readable_secrets, **WHERE)
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "verbs": ["get"],
            "resourceNames": sorted([secret_name, pull]),
        }
    ]
    merged = identity.role(ROLE, ["other-0123456789"], existing=role, **WHERE)
    assert merged["rules"][0]["resourceNames"] == sorted([secret_name, pull, "other-0123456789"])
    validate_strict(merged)


def test_short_role_names_and_overrides() -> None:
    found = identity.task_identity(definition(taskRoleArn="myRole"), account=ACCOUNT)
    assert found.task_role_arn == f"arn:aws:iam::{ACCOUNT}:role/myRole"
    overridden = identity.task_identity(
        definition(taskRoleArn="myRole"), account=ACCOUNT, overrides={"taskRoleArn": ROLE}
    )
    assert overridden.task_role_arn == ROLE


def test_pull_secrets() -> None:
    td = definition(
        executionRoleArn="execRole",
        container={"repositoryCredentials": {"credentialsParameter": CREDENTIALS}},
    )
    found = identity.task_identity(td, account=ACCOUNT)
    ecr = identity.ecr_pull_secret_name(f"arn:aws:iam::{ACCOUNT}:role/execRole")
    assert list(found.pull_secrets) == [identity.pull_secret_name(CREDENTIALS), ecr]
    assert ecr.startswith("ecr-execrole-")
    # The pull secret never shares its name with the Opaque Secret the same ARN gets.
    assert identity.pull_secret_name(CREDENTIALS) != secrets.secret_ref(CREDENTIALS).secret_name
    assert identity.pull_secret_name(CREDENTIALS).startswith("dockerhub-abcdef-")
    # Without ECR images the execution role needs no pull secret.
    public = definition(executionRoleArn="execRole", container={"image": "nginx"})
    assert identity.task_identity(public, account=ACCOUNT).pull_secrets == {}
    template = identity.pull_secret_template(
        identity.pull_secret_name(CREDENTIALS), CREDENTIALS, **WHERE
    )
    assert template["type"] == "kubernetes.io/dockerconfigjson"
    assert set(template["data"]) == {".dockerconfigjson"}
    assert template["metadata"]["annotations"] == {"kecs.dev/source": CREDENTIALS}
    validate_strict(template)


def test_apply_to_a_pod() -> None:
    td = definition(
        taskRoleArn=ROLE,
        container={"repositoryCredentials": {"credentialsParameter": CREDENTIALS}},
    )
    template = to_pod_template(td).template
    spec = identity.apply(template["spec"], identity.task_identity(td, account=ACCOUNT))
    assert spec["serviceAccountName"] == identity.service_account_name(ROLE)
    assert spec["imagePullSecrets"] == [{"name": identity.pull_secret_name(CREDENTIALS)}]
    assert "automountServiceAccountToken" not in spec
    validate_strict(as_pod({**template, "spec": spec}))
    bare = identity.apply(template["spec"], identity.task_identity(definition(), account=ACCOUNT))
    assert bare["automountServiceAccountToken"] is False and "serviceAccountName" not in bare
    assert (
        identity.identity_objects(identity.task_identity(definition(), account=ACCOUNT), **WHERE)
        == []
    )


@settings(max_examples=100)
@given(a=role_arns, b=role_arns)
def test_service_account_names_are_legal_deterministic_and_distinct(a: str, b: str) -> None:
    name = identity.service_account_name(a)
    assert k8s_grammar.is_dns1123_label(name)
    assert name == identity.service_account_name(a)
    if a != b:
        assert name != identity.service_account_name(b)


@settings(max_examples=100)
@given(a=secret_refs(), b=secret_refs())
def test_pull_secret_names_are_legal_and_distinct(a: str, b: str) -> None:
    name = identity.pull_secret_name(a)
    assert k8s_grammar.is_dns1123_label(name)
    if secrets.secret_ref(a).source != secrets.secret_ref(b).source:
        assert name != identity.pull_secret_name(b)


@settings(max_examples=40)
@given(td=task_definitions(max_containers=3), account=accounts)
def test_every_task_definition_gets_a_valid_identity(td: dict[str, Any], account: str) -> None:
    found = identity.task_identity(td, account=account)
    template = to_pod_template(td).template
    spec = identity.apply(template["spec"], found)
    validate_strict(as_pod({**template, "spec": spec}))
    for obj in identity.identity_objects(found, **{**WHERE, "account": account}):
        validate_strict(obj)
        assert k8s_grammar.is_dns1123_label(obj["metadata"]["name"])
    for name in [*found.pull_secrets, *found.readable_secrets]:
        assert k8s_grammar.is_dns1123_label(name)
    assert identity.task_identity(td, account=account) == found
