"""The ECS JSON 1.1 wire handler: every request gets a 200 or a proper ECS client error."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore import parsers
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import MemoryBackend
from kecs.api import service_model, wire
from kecs.api.wire import WireHandler, WireResponse
from kecs.backends.errors import NotFound
from kecs.operations.registry import handlers

MODEL = service_model.service_model()
OPERATIONS = sorted(MODEL.operation_names)
PREFIX = MODEL.metadata["targetPrefix"]
#: What a client may be told: ECS's modelled errors plus the JSON protocol's own.
KNOWN_CLIENT_ERRORS = {s.name for s in MODEL.error_shapes} | {
    "SerializationException",
    "UnknownOperationException",
}


def target(operation: str) -> str:
    return f"{PREFIX}.{operation}"


def fresh() -> WireHandler:
    return WireHandler(MemoryBackend(), "us-east-1", "000000000000")


def decode(response: WireResponse) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response.headers["x-amzn-RequestId"]
    assert int(response.headers["Content-Length"]) == len(response.body)
    payload = json.loads(response.body)
    assert isinstance(payload, dict)
    return payload


def assert_client_error(response: WireResponse, code: str | None = None) -> str:
    """The error's message, after checking it is a well-formed 4xx client error."""
    payload = decode(response)
    assert 400 <= response.status < 500, payload
    assert payload["__type"] in KNOWN_CLIENT_ERRORS, payload
    if code is not None:
        assert payload["__type"] == code, payload
    assert isinstance(payload["message"], str) and payload["message"].strip(), payload
    return str(payload["message"])


def unimplemented_operation(
    monkeypatch: pytest.MonkeyPatch, *, without_required: bool = False
) -> str:
    """An operation no handler answers: one without a handler, else (every operation has
    one) one whose handler this test hides from the wire handler."""
    candidates = [
        op
        for op in OPERATIONS
        if not (without_required and MODEL.operation_model(op).input_shape.required_members)
    ]
    missing = [op for op in candidates if op not in handlers()]
    if missing:
        return missing[0]
    chosen = candidates[0]
    real = wire.handler_for
    monkeypatch.setattr(wire, "handler_for", lambda name: None if name == chosen else real(name))
    return chosen


# -- malformed requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_target",
    [
        "",
        "ListClusters",
        "AmazonEC2ContainerServiceV20141113",
        "AmazonEC2ContainerServiceV20141113.",
        "AmazonEC2ContainerServiceV20141113.NoSuchOperation",
        "AmazonEC2ContainerServiceV20141113.listClusters",
        "DynamoDB_20120810.ListTables",
    ],
)
def test_unknown_targets(bad_target: str) -> None:
    assert_client_error(fresh().handle(bad_target, b"{}"), "UnknownOperationException")


@pytest.mark.parametrize(
    "body", [b"{", b"not json", b"\xff\xfe{}", "{'single': 'quotes'}", b'{"a": 1} trailing']
)
def test_a_body_that_is_not_json(body: bytes | str) -> None:
    response = fresh().handle(target("ListClusters"), body)
    assert_client_error(response, "SerializationException")


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b"42", b'"text"', b"null", b"true"])
def test_a_body_that_is_not_a_json_object(body: bytes) -> None:
    response = fresh().handle(target("ListClusters"), body)
    assert_client_error(response, "SerializationException")


def test_an_empty_body_is_an_empty_request() -> None:
    for body in (b"", None, ""):
        response = fresh().handle(target("DescribeClusters"), body)
        assert response.status in (200, 400)
        if response.status == 400:
            assert_client_error(response)


def test_parameters_are_validated_against_the_model() -> None:
    handler = fresh()
    wrong_type = handler.handle(target("CreateCluster"), b'{"clusterName": 5}')
    assert "clusterName" in assert_client_error(wrong_type, "InvalidParameterException")
    missing = handler.handle(target("DescribeTaskDefinition"), b"{}")
    assert "taskDefinition" in assert_client_error(missing, "InvalidParameterException")
    too_many = handler.handle(target("DescribeClusters"), b'{"clusters": "default"}')
    assert "clusters" in assert_client_error(too_many, "InvalidParameterException")


def test_unknown_members_are_ignored_as_aws_does(monkeypatch: pytest.MonkeyPatch) -> None:
    operation = unimplemented_operation(monkeypatch, without_required=True)
    response = fresh().handle(target(operation), b'{"noSuchMember": 1}')
    assert_client_error(response, "UnsupportedFeatureException")


def test_an_unimplemented_operation_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    operation = unimplemented_operation(monkeypatch)
    message = assert_client_error(
        fresh().handle(target(operation), b"{}", validated=True), "UnsupportedFeatureException"
    )
    assert operation in message


def test_a_crash_in_a_handler_is_a_server_exception_without_details(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(wire, "handler_for", lambda name: explode)
    with caplog.at_level(logging.ERROR, logger="kecs.api"):
        response = fresh().handle(target("ListClusters"), b"{}")
    payload = decode(response)
    assert response.status == 500
    assert payload["__type"] == "ServerException"
    assert "secret" not in payload["message"]
    assert "secret internals" in caplog.text


def test_a_backend_error_escaping_a_handler_is_a_server_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def leak(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        raise NotFound('configmaps "x" not found')

    monkeypatch.setattr(wire, "handler_for", lambda name: leak)
    response = fresh().handle(target("ListClusters"), b"{}")
    assert response.status == 500
    assert decode(response)["__type"] == "ServerException"


def test_timestamps_are_encoded_as_epoch_seconds() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 500_000, tzinfo=timezone.utc)
    assert json.loads(wire.encode({"at": moment})) == {"at": moment.timestamp()}
    with pytest.raises(TypeError):
        wire.encode({"x": object()})


def test_every_request_gets_its_own_request_id() -> None:
    handler = fresh()
    ids = {handler.handle(target("ListClusters"), b"{}").headers["x-amzn-RequestId"] for _ in "ab"}
    assert len(ids) == 2


# -- property: arbitrary and shape-like bodies, for every operation ---------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_any_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
#: Strings that reach deeper into handlers than random text does.
_plausible_strings = st.sampled_from(
    [
        "default",
        "web",
        "nginx:latest",
        "web:1",
        "FARGATE",
        "EC2",
        "awsvpc",
        "256",
        "512",
        "ACTIVE",
        "INACTIVE",
        "arn:aws:ecs:us-east-1:000000000000:cluster/default",
        "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
        "arn:aws:ecs:us-east-1:000000000000:service/default/web",
        "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef",
        "",
    ]
)

_MAX_DEPTH = 6


def _well_typed(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth >= _MAX_DEPTH:
            return st.just({})
        required = set(shape.required_members)
        members = {name: shaped(member, depth + 1) for name, member in shape.members.items()}
        return st.fixed_dictionaries(
            {k: v for k, v in members.items() if k in required},
            optional={k: v for k, v in members.items() if k not in required},
        )
    if kind == "list":
        return st.lists(shaped(shape.member, depth + 1), max_size=2)
    if kind == "map":
        return st.dictionaries(
            _plausible_strings | st.text(max_size=8), shaped(shape.value, depth + 1), max_size=2
        )
    if kind == "string":
        enum = shape.enum
        return st.sampled_from(enum) if enum else (_plausible_strings | st.text(max_size=16))
    if kind in ("integer", "long"):
        return st.integers(-5, 70_000)
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(-1e6, 1e6, allow_nan=False)
    if kind == "timestamp":
        return st.floats(0, 4e9, allow_nan=False)
    if kind == "blob":
        return st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode())
    return _any_json


def shaped(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values mostly of ``shape``'s type, sometimes of any JSON type at all."""
    return st.one_of(_well_typed(shape, depth), _any_json) if depth else _well_typed(shape, depth)


def body_for(operation: str) -> st.SearchStrategy[bytes]:
    shape = MODEL.operation_model(operation).input_shape
    well_formed = shaped(shape) if shape is not None else st.just({})
    return st.one_of(
        well_formed.map(lambda v: json.dumps(v).encode()),
        _any_json.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=16),
    )


@pytest.fixture
def crash_log() -> Iterator[list[str]]:
    """Tracebacks the wire handler logs, to show why a 500 happened."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    keep = Keep()
    keep.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("kecs.api")
    logger.addHandler(keep)
    try:
        yield records
    finally:
        logger.removeHandler(keep)


_parser = parsers.create_parser("json")


def check_answer(operation: str, body: bytes, response: WireResponse, crashes: list[str]) -> None:
    context = f"{operation} {body[:300]!r} -> {response.status} {response.body[:300]!r}"
    assert response.status < 500, f"{context}\n{''.join(crashes[-1:])}"
    if response.status != 200:
        assert_client_error(response)
        return
    payload = decode(response)
    assert "__type" not in payload, context
    output = MODEL.operation_model(operation).output_shape
    members = set(output.members) if output is not None else set()
    assert set(payload) <= members, f"{context}: keys outside the output shape"
    raw = {"status_code": 200, "headers": response.headers, "body": response.body}
    _parser.parse(raw, output)


@settings(
    max_examples=3,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("operation", OPERATIONS)
@given(data=st.data())
def test_every_operation_answers_any_body_properly(
    operation: str, data: st.DataObject, crash_log: list[str]
) -> None:
    body = data.draw(body_for(operation), label="body")
    check_answer(operation, body, fresh().handle(target(operation), body), crash_log)


@settings(
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_operation_answers_any_body_properly(data: st.DataObject, crash_log: list[str]) -> None:
    operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
    body = data.draw(body_for(operation), label="body")
    check_answer(operation, body, fresh().handle(target(operation), body), crash_log)


@settings(
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_requests_on_one_world_never_crash_it(data: st.DataObject, crash_log: list[str]) -> None:
    """A sequence of shape-like requests against ONE backend: state built by earlier calls
    (clusters, task definitions) must not make a later call crash."""
    handler = fresh()
    for _ in range(data.draw(st.integers(1, 6), label="calls")):
        operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
        shape = MODEL.operation_model(operation).input_shape
        value = data.draw(shaped(shape) if shape is not None else st.just({}), label="params")
        body = json.dumps(value).encode()
        check_answer(operation, body, handler.handle(target(operation), body), crash_log)


def test_an_absurd_timestamp_is_an_invalid_parameter() -> None:
    """botocore's timestamp check raises RuntimeError for epochs like 1e300; that is a 400."""
    import json

    from kecs.api.wire import WireHandler
    from kecs.backends.memory import MemoryBackend

    wire = WireHandler(MemoryBackend(), "us-east-1", "000000000000")
    for stamp in (1e300, 2**70, float("inf")):
        body = json.dumps({"cluster": "c", "executionStoppedAt": stamp}).encode()
        answer = wire.handle("AmazonEC2ContainerServiceV20141113.SubmitTaskStateChange", body)
        assert answer.status == 400, stamp
        assert json.loads(answer.body)["__type"] == "InvalidParameterException"


@given(random_bytes=st.binary(min_size=16, max_size=16))
def test_a_request_id_is_the_uuid4_of_its_random_bytes(random_bytes: bytes) -> None:
    assert wire.request_id(random_bytes) == str(uuid.UUID(bytes=random_bytes, version=4))


def test_request_ids_differ_and_are_version_4_uuids() -> None:
    made = {wire.request_id() for _ in range(100)}
    assert len(made) == 100
    assert all(uuid.UUID(value).version == 4 for value in made)
