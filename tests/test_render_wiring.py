"""kecs render shows what RunTask / CreateService make: identities, placement, attachments."""

from __future__ import annotations

from typing import Any

import kecs
from kecs.mapping import identity
from tests.k8s_schema import validate_strict

ROLE = "arn:aws:iam::000000000000:role/web-task"
REGISTRY = "arn:aws:secretsmanager:us-east-1:000000000000:secret:reg-AbC"
WEB: dict[str, Any] = {
    "family": "web",
    "taskRoleArn": ROLE,
    "placementConstraints": [
        {"type": "memberOf", "expression": "attribute:ecs.availability-zone == us-east-1a"}
    ],
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "memory": 256,
            "portMappings": [{"containerPort": 80, "name": "http"}],
            "secrets": [
                {"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/db"}
            ],
            "repositoryCredentials": {"credentialsParameter": REGISTRY},
        }
    ],
}


def kinds(rendered: Any) -> list[str]:
    for obj in rendered.objects:
        validate_strict(obj)
    return [o["kind"] for o in rendered.objects]


def test_a_pod_comes_after_its_task_roles_objects() -> None:
    rendered = kecs.render(WEB, kinds=["pod"])
    assert kinds(rendered) == ["ServiceAccount", "Role", "RoleBinding", "Pod"]
    pod = rendered.objects[-1]
    assert pod["spec"]["serviceAccountName"] == identity.service_account_name(ROLE)
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    zone = {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]}
    assert all(zone in t["matchExpressions"] for t in terms["nodeSelectorTerms"])
    assert "imagePullSecrets" in {n.path for n in rendered.notes}
    assert "&id" not in rendered.yaml()  # no YAML anchors for shared placement terms


def test_a_service_with_service_connect_and_a_load_balancer() -> None:
    service = {
        "serviceName": "web",
        "taskDefinition": WEB,
        "desiredCount": 2,
        "placementConstraints": [{"type": "distinctInstance"}],
        "serviceConnectConfiguration": {
            "enabled": True,
            "namespace": "internal",
            "services": [{"portName": "http", "clientAliases": [{"port": 80, "dnsName": "web"}]}],
        },
        "loadBalancers": [
            {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                "targetgroup/web/abc",
                "containerName": "web",
                "containerPort": 80,
            }
        ],
    }
    rendered = kecs.render(service)
    assert kinds(rendered) == [
        "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service",  # its port mappings
        "Service", "Service",  # Service Connect: discovery name, client alias
        "Service", "Ingress",  # the ALB-style target group
    ]  # fmt: skip
    deployment = rendered.objects[3]
    assert deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    names = [o["metadata"]["name"] for o in rendered.objects]
    assert {"http", "web"} <= set(names)


def test_what_kecs_would_refuse_is_left_out_with_a_note() -> None:
    refused = {**WEB, "placementConstraints": [{"type": "memberOf", "expression": "a =~ b"}]}
    rendered = kecs.render(refused, kinds=["pod"])
    assert kinds(rendered)[-1] == "Pod"
    (note,) = [n for n in rendered.notes if "refuses" in n.message]
    assert note.path == "placementConstraints" and "=~" in note.message
