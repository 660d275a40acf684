"""The in-process client skips encoding responses; its results must equal the JSON path's."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from botocore import parsers
from botocore.awsrequest import AWSResponse
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kecs
from kecs.api import service_model
from kecs.api.service_model import session
from kecs.api.wire import WireHandler, encode
from kecs.client import _Decoded, _InProcessJSONParser


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


# -- the in-process parser against botocore's, on every output shape --------------------------

_MODEL = service_model.service_model()
_OPERATIONS = sorted(_MODEL.operation_names)
_ERROR_SHAPES = sorted(_MODEL.error_shapes, key=lambda s: s.name)


def _value(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    """A JSON value of ``shape`` (timestamps as epoch seconds, as the wire sends them)."""
    kind = shape.type_name
    if kind == "structure":
        if depth >= 5:
            return st.just({})
        members = {
            member.serialization.get("name", name): _value(member, depth + 1) | st.none()
            for name, member in shape.members.items()
        }
        return st.fixed_dictionaries({}, optional=members)
    if kind == "list":
        return st.lists(_value(shape.member, depth + 1) | st.none(), max_size=2)
    if kind == "map":
        return st.dictionaries(st.text(max_size=6), _value(shape.value, depth + 1), max_size=2)
    if kind == "string":
        return st.sampled_from(shape.enum) if shape.enum else st.text(max_size=8)
    if kind in ("integer", "long"):
        return st.integers(-(2**40), 2**40)
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(-1e9, 1e9, allow_nan=False)
    if kind == "timestamp":
        return st.floats(0, 4e9, allow_nan=False) | st.integers(0, 4_000_000_000)
    if kind == "blob":
        return st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode())
    return st.none()


def _outcome(parser: parsers.ResponseParser, raw: dict[str, Any], shape: Shape) -> Any:
    try:
        return parser.parse(raw, shape)
    except parsers.ResponseParserError as exc:  # e.g. a tagged union with two members set
        return ("refused", str(exc))


#: One parser for every example: its plans remember the key sets of many payloads.
_LONG_LIVED = _InProcessJSONParser()


def _ordered(value: Any) -> Any:
    """``value`` with each dict as its list of items: equal only with the same key order."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _both(shape: Shape, payload: dict[str, Any], status: int) -> tuple[Any, Any]:
    headers = {"x-amzn-RequestId": "r", "Content-Type": "application/x-amz-json-1.1"}
    encoded = {"status_code": status, "headers": headers, "body": encode(payload)}
    decoded = {"status_code": status, "headers": headers, "body": _Decoded(payload)}
    fast = _InProcessJSONParser()
    # Twice: the second parse runs on the plans and timestamps the first one cached.
    _outcome(fast, decoded, shape)
    result = _outcome(fast, decoded, shape)
    slow = _outcome(parsers.create_parser("json"), encoded, shape)
    assert _outcome(_LONG_LIVED, decoded, shape) == result
    # Members come in botocore's order too (a printed response looks the same).
    assert _ordered(result) == _ordered(slow)
    return result, slow


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_in_process_parser_equals_botocores_on_every_output_shape(
    data: st.DataObject,
) -> None:
    operation = data.draw(st.sampled_from(_OPERATIONS), label="operation")
    shape = _MODEL.operation_model(operation).output_shape
    if shape is None:
        return
    payload = data.draw(_value(shape, 0), label="payload")
    fast, slow = _both(shape, payload, 200)
    assert fast == slow


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_in_process_parser_equals_botocores_on_modelled_errors(data: st.DataObject) -> None:
    shape = data.draw(st.sampled_from(_ERROR_SHAPES), label="error")
    payload = {"__type": shape.name, **data.draw(_value(shape, 0), label="payload")}
    fast, slow = _both(shape, payload, 400)
    assert fast == slow


def test_parsed_timestamps_are_botocores() -> None:
    shape = _MODEL.operation_model("DescribeTaskDefinition").output_shape
    moment = datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=timezone.utc)
    payload = {"taskDefinition": {"family": "f", "registeredAt": moment}}
    fast, slow = _both(shape, {"taskDefinition": {"registeredAt": moment.timestamp()}}, 200)
    assert fast == slow
    parsed = _InProcessJSONParser().parse(
        {"status_code": 200, "headers": {}, "body": _Decoded(payload)}, shape
    )
    assert parsed["taskDefinition"]["registeredAt"] == moment
    assert type(parsed["taskDefinition"]["registeredAt"].tzinfo) is type(
        slow["taskDefinition"]["registeredAt"].tzinfo
    )


def test_a_success_has_the_metadata_botocores_parser_gives() -> None:
    """The client hands the parser plain lower-cased headers; the metadata is unchanged."""
    ecs = kecs.client("ecs", region_name="us-east-1", backend=kecs.MemoryBackend())
    seen: list[AWSResponse] = []
    ecs.meta.events.register(
        "after-call.ecs", lambda http_response, **_: seen.append(http_response)
    )
    result = ecs.list_clusters()
    (http,) = seen
    shape = _MODEL.operation_model("ListClusters").output_shape
    raw = {"status_code": http.status_code, "headers": http.headers, "body": http.content}
    expected = parsers.create_parser("json").parse(raw, shape)
    expected["ResponseMetadata"]["RetryAttempts"] = 0
    assert result == expected
    assert result["ResponseMetadata"]["RequestId"] == http.headers["x-amzn-RequestId"]


def test_an_empty_list_parses_to_a_new_empty_list() -> None:
    """Empty lists take a short cut; the answer still shares nothing with the payload."""
    shape = _MODEL.operation_model("DescribeTasks").output_shape
    containers: list[Any] = []
    payload = {"tasks": [{"taskArn": "t", "containers": containers, "attachments": []}]}
    parsed = _InProcessJSONParser().parse(
        {"status_code": 200, "headers": {}, "body": _Decoded(payload)}, shape
    )
    task = parsed["tasks"][0]
    assert task["containers"] == [] and task["attachments"] == []
    assert task["containers"] is not containers
    fast, slow = _both(shape, payload, 200)
    assert fast == slow
