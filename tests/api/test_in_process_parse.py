"""The in-process client skips encoding responses; its results must equal the JSON path's."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

import kecs
from kecs.api.service_model import session
from kecs.api.wire import WireHandler


class _RawBytes:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> list[bytes]:
        return [self._body]


def _json_path_client(backend: kecs.MemoryBackend) -> Any:
    """A client answered with encoded bytes at ``before-send``, as an HTTP server would."""
    wire = WireHandler(backend, "us-east-1", "000000000000")
    ecs = session().create_client(
        "ecs", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )

    def send(request: Any, **_: Any) -> AWSResponse:
        answer = wire.handle(request.headers["X-Amz-Target"].decode(), request.body)
        return AWSResponse(request.url, answer.status, answer.headers, _RawBytes(answer.body))

    ecs.meta.events.register("before-send.ecs", send)
    return ecs


def _without_metadata(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


def test_in_process_results_equal_the_json_path() -> None:
    backend = kecs.MemoryBackend()
    fast = kecs.client("ecs", region_name="us-east-1", backend=backend)
    slow = _json_path_client(backend)
    fast.create_cluster(clusterName="web", tags=[{"key": "team", "value": "a"}])
    fast.register_task_definition(
        family="app",
        containerDefinitions=[
            {
                "name": "web",
                "image": "nginx",
                "memory": 128,
                "portMappings": [{"containerPort": 80}],
                "environment": [{"name": "A", "value": "1"}],
            }
        ],
        tags=[{"key": "k", "value": "v"}],
    )
    calls = [
        ("describe_clusters", {"clusters": ["web"], "include": ["TAGS", "SETTINGS"]}),
        ("describe_task_definition", {"taskDefinition": "app", "include": ["TAGS"]}),
        ("list_task_definitions", {}),
        ("list_clusters", {}),
    ]
    for name, params in calls:
        assert _without_metadata(getattr(fast, name)(**params)) == _without_metadata(
            getattr(slow, name)(**params)
        ), name
    registered = fast.describe_task_definition(taskDefinition="app")["taskDefinition"]
    assert registered["registeredAt"].tzinfo is not None
