"""Task roles and image pull credentials -> ServiceAccounts, RBAC and imagePullSecrets.

Task role (``taskRoleArn``, or a RunTask override):

- one ServiceAccount per (cluster namespace, role ARN), named
  ``names.dns_label(<role name>, "task-role", <role ARN>)`` -- the role name (last path element
  of the ARN) made readable, plus 10 hex digits of the exact ARN. A short role name (ECS
  accepts ``myRole``) stands for ``arn:aws:iam::<account>:role/myRole``. Annotations:
  ``eks.amazonaws.com/role-arn`` (IRSA: on EKS the pod gets the role's credentials) and
  ``kecs.dev/role-arn``. The pod runs as that ServiceAccount.
- a Role and a RoleBinding of the same name. The rule: the role may ``get`` exactly the
  Secrets its tasks' definitions reference (``secrets[].valueFrom`` and
  ``repositoryCredentials``, named as :mod:`kecs.mapping.secrets` and
  :func:`pull_secret_name` name them; ``resourceNames``) and nothing else. An IAM role is what
  lets a task read its own secrets; kecs cannot read IAM policies, so it grants the smallest
  Kubernetes equivalent. No referenced Secret, no rule (an empty ``resourceNames`` would mean
  *every* Secret). :func:`role` merges into an existing Role, so a role shared by several
  task definitions in one namespace accumulates their Secrets.
- no task role: the pod keeps the namespace's ``default`` ServiceAccount with
  ``automountServiceAccountToken: false`` -- an ECS task without a role has no credentials.

Image pull credentials:

- ``repositoryCredentials.credentialsParameter`` (a Secrets Manager ARN) -> an
  ``imagePullSecrets`` entry named ``dns_label(<secret name>, "dockerconfigjson", <ARN up to
  the name>)`` (the readable part as :func:`kecs.mapping.secrets.secret_ref` derives it, with
  its own hash so it never collides with the Opaque Secret the same ARN gets for
  ``secrets``). The user creates it: :func:`pull_secret_template` is its skeleton (type
  ``kubernetes.io/dockerconfigjson``).
- ``executionRoleArn`` with images in Amazon ECR (``<account>.dkr.ecr.<region>.amazonaws.com``)
  -> an ``imagePullSecrets`` entry ``dns_label("ecr-" + <role name>, "ecr-pull", <role ARN>)``
  for a credential refresher to fill. On EKS nodes pull from ECR with their own role, and a
  missing pull secret only makes the kubelet log a warning, so it never blocks a pull.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from kecs.mapping import labels, names, secrets

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
ANN_ROLE_ARN = f"{labels.DOMAIN}/role-arn"
ANN_SOURCE = f"{labels.DOMAIN}/source"
TASK_ROLE_RESOURCE = "task-role"
PULL_SECRET_RESOURCE = "pull-secret"
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
DOCKER_CONFIG_KEY = ".dockerconfigjson"
_ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")


def role_arn(value: str, account: str) -> str:
    """The full IAM role ARN ``value`` names (ECS also accepts a bare role name)."""
    if value.startswith("arn:"):
        return value
    return f"arn:aws:iam::{account}:role/{value.lstrip('/')}"


def role_name(arn: str) -> str:
    """The role's name: the last element of its path."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


def service_account_name(arn: str) -> str:
    """The ServiceAccount (and Role, RoleBinding) of a task role ARN in a cluster namespace."""
    return names.dns_label(role_name(arn), TASK_ROLE_RESOURCE, arn)


def _metadata(
    name: str, namespace: str, *, account: str, region: str, cluster_name: str, resource: str
) -> dict[str, Any]:
    object_labels = labels.ownership(account, region, resource)
    object_labels[labels.CLUSTER] = names.label_value(cluster_name)
    return {"name": name, "namespace": namespace, "labels": object_labels}


def service_account(
    arn: str, *, namespace: str, account: str, region: str, cluster_name: str
) -> dict[str, Any]:
    """The ServiceAccount a task with role ``arn`` runs as."""
    meta = _metadata(
        service_account_name(arn),
        namespace,
        account=account,
        region=region,
        cluster_name=cluster_name,
        resource=TASK_ROLE_RESOURCE,
    )
    meta["annotations"] = {IRSA_ANNOTATION: arn, ANN_ROLE_ARN: arn}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def role(
    arn: str,
    secret_names: Iterable[str],
    *,
    namespace: str,
    account: str,
    region: str,
    cluster_name: str,
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Role of task role ``arn``: ``get`` on ``secret_names`` (plus what ``existing`` had)."""
    wanted = set(secret_names)
    for rule in (existing or {}).get("rules") or ():
        if list(rule.get("resources") or ()) == ["secrets"]:
            wanted.update(rule.get("resourceNames") or ())
    meta = _metadata(
        service_account_name(arn),
        namespace,
        account=account,
        region=region,
        cluster_name=cluster_name,
        resource=TASK_ROLE_RESOURCE,
    )
    meta["annotations"] = {ANN_ROLE_ARN: arn}
    rules = []
    if wanted:
        rules.append(
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "verbs": ["get"],
                "resourceNames": sorted(wanted),
            }
        )
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": meta,
        "rules": rules,
    }


def role_binding(
    arn: str, *, namespace: str, account: str, region: str, cluster_name: str
) -> dict[str, Any]:
    """Binds the task role's Role to its ServiceAccount."""
    name = service_account_name(arn)
    meta = _metadata(
        name,
        namespace,
        account=account,
        region=region,
        cluster_name=cluster_name,
        resource=TASK_ROLE_RESOURCE,
    )
    meta["annotations"] = {ANN_ROLE_ARN: arn}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }


def pull_secret_name(credentials_parameter: str) -> str:
    """The ``kubernetes.io/dockerconfigjson`` Secret standing for ``repositoryCredentials``."""
    ref = secrets.secret_ref(credentials_parameter)
    readable = ref.secret_name[: -(names.HASH_LEN + 1)]
    return names.dns_label(readable, "dockerconfigjson", ref.source)


def ecr_pull_secret_name(execution_role_arn: str) -> str:
    """The pull secret a credential refresher fills for ECR images of an execution role."""
    return names.dns_label("ecr-" + role_name(execution_role_arn), "ecr-pull", execution_role_arn)


def is_ecr_image(image: str) -> bool:
    return _ECR_IMAGE.match(image.strip()) is not None


def pull_secret_template(
    name: str, source: str, *, namespace: str, account: str, region: str, cluster_name: str
) -> dict[str, Any]:
    """The Secret the user must create for pull secret ``name`` (credentials left empty)."""
    meta = _metadata(
        name,
        namespace,
        account=account,
        region=region,
        cluster_name=cluster_name,
        resource=PULL_SECRET_RESOURCE,
    )
    meta["annotations"] = {ANN_SOURCE: source}
    empty = base64.b64encode(b'{"auths":{}}').decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": DOCKER_CONFIG_JSON,
        "data": {DOCKER_CONFIG_KEY: empty},
    }


@attrs.frozen
class TaskIdentity:
    """Who a task's pod runs as and which credentials it pulls images with."""

    #: The task role's full ARN, or ``None``.
    task_role_arn: str | None
    service_account_name: str | None
    #: ``{pull secret name: what it stands for}`` in pod order.
    pull_secrets: Mapping[str, str]
    #: Secrets the task role may read (its definition's secrets and repository credentials).
    readable_secrets: tuple[str, ...]


def _definitions(task_definition: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    value = task_definition.get("containerDefinitions") or ()
    return [d for d in value if isinstance(d, Mapping)]


def task_identity(
    task_definition: Mapping[str, Any],
    *,
    account: str,
    overrides: Mapping[str, Any] | None = None,
) -> TaskIdentity:
    """The identity of a task of ``task_definition`` (RunTask role overrides win)."""
    overrides = overrides or {}
    given_role = overrides.get("taskRoleArn") or task_definition.get("taskRoleArn")
    execution = overrides.get("executionRoleArn") or task_definition.get("executionRoleArn")
    task_role = role_arn(str(given_role), account) if given_role else None
    pull: dict[str, str] = {}
    readable: set[str] = set()
    ecr = False
    for definition in _definitions(task_definition):
        credentials = (definition.get("repositoryCredentials") or {}).get("credentialsParameter")
        if isinstance(credentials, str) and credentials:
            name = pull_secret_name(credentials)
            pull.setdefault(name, credentials)
            readable.add(name)
        for secret in definition.get("secrets") or ():
            value_from = secret.get("valueFrom") if isinstance(secret, Mapping) else None
            if isinstance(value_from, str) and value_from:
                readable.add(secrets.secret_ref(value_from).secret_name)
        ecr = ecr or is_ecr_image(str(definition.get("image") or ""))
    if execution and ecr:
        execution_arn = role_arn(str(execution), account)
        pull.setdefault(ecr_pull_secret_name(execution_arn), execution_arn)
    return TaskIdentity(
        task_role_arn=task_role,
        service_account_name=service_account_name(task_role) if task_role else None,
        pull_secrets=pull,
        readable_secrets=tuple(sorted(readable)),
    )


def apply(spec: Mapping[str, Any], identity: TaskIdentity) -> dict[str, Any]:
    """A copy of the pod ``spec`` running as the task's ServiceAccount with its pull secrets."""
    out = dict(spec)
    if identity.service_account_name:
        out["serviceAccountName"] = identity.service_account_name
        out.pop("serviceAccount", None)
        out.pop("automountServiceAccountToken", None)
    else:
        out["automountServiceAccountToken"] = False
    present = [dict(s) for s in out.get("imagePullSecrets") or ()]
    known = {s.get("name") for s in present}
    present += [{"name": n} for n in identity.pull_secrets if n not in known]
    if present:
        out["imagePullSecrets"] = present
    return out


def identity_objects(
    identity: TaskIdentity,
    *,
    namespace: str,
    account: str,
    region: str,
    cluster_name: str,
    existing_role: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding to create or update (none without a task role)."""
    arn = identity.task_role_arn
    if arn is None:
        return []
    where = {"namespace": namespace, "account": account, "region": region}
    return [
        service_account(arn, cluster_name=cluster_name, **where),
        role(
            arn,
            identity.readable_secrets,
            cluster_name=cluster_name,
            existing=existing_role,
            **where,
        ),
        role_binding(arn, cluster_name=cluster_name, **where),
    ]
