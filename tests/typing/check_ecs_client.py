"""Checked by mypy (``nox -s typecheck``) with mypy-boto3-ecs installed: not a pytest module.

``kecs.client("ecs")`` must be a ``mypy_boto3_ecs.ECSClient``, so IDEs and mypy know its
methods, arguments and response shapes.
"""

from __future__ import annotations

from typing import assert_type

from mypy_boto3_ecs import ECSClient
from mypy_boto3_ecs.type_defs import CreateClusterResponseTypeDef

import kecs

ecs = kecs.client("ecs", region_name="us-east-1", backend=kecs.MemoryBackend())
assert_type(ecs, ECSClient)
assert_type(ecs.create_cluster(clusterName="demo"), CreateClusterResponseTypeDef)
ecs.list_clusters(maxResults=10)
