"""kecs quickstart: ECS calls in, Kubernetes objects out.

Creates a cluster and registers a task definition through a boto3-style ECS client answered
by kecs's embedded backend, then prints the Kubernetes objects they became, as YAML.

    python examples/quickstart.py
"""

from __future__ import annotations

import sys

import yaml

import kecs
from kecs.backends import kinds

backend = kecs.MemoryBackend()
ecs = kecs.client("ecs", region_name="us-east-1", backend=backend)

cluster = ecs.create_cluster(clusterName="demo")["cluster"]
task_definition = ecs.register_task_definition(
    family="web",
    requiresCompatibilities=["FARGATE"],
    networkMode="awsvpc",
    cpu="256",
    memory="512",
    containerDefinitions=[
        {
            "name": "nginx",
            "image": "nginx:1.27",
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "GREETING", "value": "hello from ECS"}],
            "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]},
        }
    ],
)["taskDefinition"]

print(f"# ECS cluster:         {cluster['clusterArn']} ({cluster['status']})")
print(f"# ECS task definition: {task_definition['taskDefinitionArn']}")

# What kecs stored: the cluster's Namespace and the task definition's PodTemplate.
owned = {"app.kubernetes.io/managed-by": "kecs"}
objects = [
    *backend.list_all(kinds.NAMESPACE, selector={**owned, "kecs.dev/resource": "cluster"}),
    *backend.list_all(
        kinds.POD_TEMPLATE,
        "kecs-system",
        selector={**owned, "kecs.dev/resource": "task-definition"},
    ),
]
yaml.safe_dump_all(objects, sys.stdout, sort_keys=False, width=100)
