"""``kecs.client("ecs")``: a real botocore ECS client whose calls kecs answers.

The client is made by botocore itself (same class, ``meta``, ``exceptions``, paginators and
waiters as ``boto3.client("ecs")``). One handler on the client's own ``before-call`` event
hands the serialized request (``X-Amz-Target`` + JSON body) to the wire handler and parses
the wire response with botocore's own JSON parser, so responses and errors take exactly the
path AWS's do, minus HTTP, signing and retries.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore import parsers
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.model import OperationModel, Shape
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER
from botocore.utils import get_tzinfo_options
from botocore.validate import ParamValidationDecorator

from kecs.api import service_model
from kecs.api.wire import WireHandler, encode
from kecs.backends.base import Backend
from kecs.errors import UnsupportedServiceError

if TYPE_CHECKING:
    # Optional stubs (the ``typing`` extra); without them mypy takes ECSClient as Any.
    from mypy_boto3_ecs import ECSClient

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "000000000000"

_default_backend: Backend | None = None
_default_lock = threading.Lock()


def default_backend() -> Backend:
    """The process-wide embedded backend shared by clients made without ``backend=``."""
    global _default_backend
    if _default_backend is None:
        with _default_lock:
            if _default_backend is None:
                from kecs.backends.memory import MemoryBackend

                _default_backend = MemoryBackend()
    return _default_backend


def reset_default_backend() -> None:
    """Forget the process-wide embedded backend; the next default client starts a new world."""
    global _default_backend
    with _default_lock:
        _default_backend = None


def _resolve_region(region_name: str | None) -> str:
    return (
        region_name
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )


def _resolve_account(account_id: str | None) -> str:
    account = account_id or os.environ.get("KECS_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    if not re.fullmatch(r"\d{12}", account):
        raise ValueError(f"account_id must be 12 digits, got {account!r}")
    return account


class _Decoded:
    """A response body that is already the dict ``json.loads`` would have made of it."""

    __slots__ = ("payload",)

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return repr(self.payload)


def _timestamp(value: Any) -> Any:
    # Same result as a JSON round trip: epoch seconds, then botocore's own parser.
    if isinstance(value, datetime):
        value = value.timestamp()
    return DEFAULT_TIMESTAMP_PARSER(value)


#: How many parsed timestamps one parser remembers (a task carries up to eight, and the
#: tasks of one response mostly share them).
_TIMESTAMP_CACHE = 4096
_Plan = Callable[[Any], Any]
#: How many key sets one structure shape's plan remembers (see ``_plan``).
_KEY_SETS = 256


class _InProcessJSONParser(parsers.JSONParser):  # type: ignore[misc]
    """botocore's JSON parser, fed the wire handler's dict instead of its encoding.

    Everything after ``json.loads`` -- walking the output shape, timestamps, error codes,
    response metadata -- gives what botocore's gives, so results equal those of the JSON
    path. Two things make it cheaper than botocore's generic walk, without changing what
    comes out: each shape is turned once into a plan (a closure that does exactly what
    botocore's ``_handle_<type>`` does for that shape, without looking the handler and the
    members up again for every value), and equal timestamps are parsed once (a parsed
    timestamp is an immutable ``datetime``; botocore builds an equal one each time).
    """

    def __init__(self) -> None:
        super().__init__(timestamp_parser=self._cached_timestamp)
        self._plans: dict[Shape, _Plan] = {}
        self._timestamps: dict[Any, Any] = {}
        # What botocore's parser builds for epoch seconds: ``datetime.fromtimestamp(value,
        # tzinfo())`` with its first tzinfo option (``tzlocal``), made once here instead of
        # once per timestamp; anything unusual still goes through botocore's own function.
        self._tz = get_tzinfo_options()[0]()

    def _cached_timestamp(self, value: Any) -> Any:
        # Looked up by the value itself: equal datetimes (the same instant, or the same naive
        # fields) have the same epoch seconds, so the same parse.
        try:
            return self._timestamps[value]
        except (KeyError, TypeError):
            pass
        key = value.timestamp() if isinstance(value, datetime) else value
        parsed = None
        if type(key) is float or type(key) is int:
            with contextlib.suppress(OSError, OverflowError, ValueError):
                parsed = datetime.fromtimestamp(key, self._tz)
        if parsed is None:
            parsed = _timestamp(key)
        if len(self._timestamps) >= _TIMESTAMP_CACHE:
            self._timestamps.clear()
        with contextlib.suppress(TypeError):
            self._timestamps[value] = parsed
        return parsed

    def _parse_body_as_json(self, body: Any) -> Any:
        if isinstance(body, _Decoded):
            return body.payload
        return super()._parse_body_as_json(body)

    def _parse_shape(self, shape: Shape, node: Any) -> Any:
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plan(shape)
        return plan(node)

    def _plan(self, shape: Shape) -> _Plan:
        """What botocore's handler for ``shape`` does, as one closure (cached per shape)."""
        kind = shape.type_name
        plans = self._plans
        if kind == "structure" and not shape.is_document_type and not shape.is_tagged_union:
            members: list[tuple[str, str, Shape]] = []
            # The members a value has, in the shape's order and with their plans (``None``:
            # the value as it is), by the value's keys (in their order): the values of one
            # shape kecs sends have few key sets, and most members of a big shape (Task
            # has ~45) are absent from each.
            by_keys: dict[tuple[str, ...], list[tuple[str, str, _Plan | None]]] = {}

            def structure(value: Any) -> Any:
                if value is None:
                    return None
                keys = tuple(value)
                present = by_keys.get(keys)
                if present is None:
                    # Plans are looked up now, not when this one was made: a recursive
                    # shape's members may not have had theirs yet.
                    present = [
                        (name, json_name, self._member_plan(member))
                        for name, json_name, member in members
                        if json_name in value
                    ]
                    if len(by_keys) >= _KEY_SETS:
                        by_keys.clear()
                    by_keys[keys] = present
                parsed = {}
                # In the shape's order, as botocore's walk over the members gives.
                for name, json_name, member_plan in present:
                    raw = value[json_name]
                    if raw is not None:
                        parsed[name] = raw if member_plan is None else member_plan(raw)
                return parsed

            # Registered before the members are read, so a recursive shape finds itself.
            plans[shape] = structure
            members.extend(
                (name, member.serialization.get("name", name), member)
                for name, member in shape.members.items()
            )
            return structure
        if kind == "list":
            item_shape = shape.member

            def listing(value: Any) -> Any:
                if value == []:  # many of a task's lists are empty: nothing to look up
                    return []
                item_plan = plans.get(item_shape) or self._plan(item_shape)
                if item_plan is _unchanged:  # scalars: botocore's walk copies the list
                    return list(value)
                return [None if item is None else item_plan(item) for item in value]

            plans[shape] = listing
            return listing
        if kind == "map":
            key_shape, value_shape = shape.key, shape.value

            def mapping(value: Any) -> Any:
                key_plan = plans.get(key_shape) or self._plan(key_shape)
                value_plan = plans.get(value_shape) or self._plan(value_shape)
                return {key_plan(k): value_plan(v) for k, v in value.items()}

            plans[shape] = mapping
            return mapping
        handler = getattr(self, f"_handle_{kind}", None)
        if kind == "timestamp":
            plan: _Plan = self._timestamp_parser
        elif handler is None:
            plan = _unchanged  # botocore's ``_default_handle``
        else:
            # Document types, tagged unions, blobs: botocore's own handler.
            plan = functools.partial(handler, shape)
        plans[shape] = plan
        return plan

    def _member_plan(self, shape: Shape) -> _Plan | None:
        """The plan of a structure member, ``None`` for a value kept as it is (scalars)."""
        plan = self._plans.get(shape) or self._plan(shape)
        return None if plan is _unchanged else plan


def _unchanged(value: Any) -> Any:
    return value


class _Raw:
    """The smallest ``raw`` an AWSResponse accepts, for code that reads ``.content``."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> list[bytes]:
        return [encode(self._payload)]


class _Responder:
    """The ``before-call`` handler that answers every call of one client."""

    def __init__(self, handler: WireHandler, validated_by_client: bool) -> None:
        self.wire = handler
        self._validated = validated_by_client
        self._parser = _InProcessJSONParser()

    def __call__(
        self, model: OperationModel, params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        status, headers, payload = self.wire.answer(
            params["headers"]["X-Amz-Target"], params["body"], validated=self._validated
        )
        http = AWSResponse(params["url"], status, headers, _Raw(payload))
        # Errors are rare and botocore inspects their raw bytes (generic 5xx detection), so
        # they take the encoded path, with the case-insensitive headers AWSResponse keeps (as
        # for a response from AWS); successes skip the encode/decode round trip.
        if status < 300:
            # All a success's parse reads of the headers (the request id, then every header
            # lower-cased) is the same from a plain dict with lower-cased keys, which answers
            # faster than the case-insensitive one.
            raw = {
                "status_code": status,
                "headers": {key.lower(): value for key, value in headers.items()},
                "body": _Decoded(payload),
            }
        else:
            raw = {"status_code": status, "headers": http.headers, "body": encode(payload)}
        parsed: dict[str, Any] = self._parser.parse(raw, model.output_shape)
        if status >= 300:
            self._add_modeled_error_fields(raw, parsed, model)
        parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
        return http, parsed

    def _add_modeled_error_fields(
        self, raw: dict[str, Any], parsed: dict[str, Any], model: OperationModel
    ) -> None:
        # What botocore's endpoint does for modelled errors (their extra members).
        code = parsed.get("Error", {}).get("Code")
        shape = model.service_model.shape_for_error_code(code) if code else None
        if shape is not None:
            parsed.update(self._parser.parse(raw, shape))


def client(
    service_name: str,
    region_name: str | None = None,
    *,
    backend: Backend | None = None,
    account_id: str | None = None,
    config: Config | None = None,
    stopped_task_retention: float | None = None,
    **kwargs: Any,
) -> ECSClient:
    """A botocore ECS client answered by kecs.

    ``backend`` defaults to one process-wide embedded backend (two default clients see the
    same world, as two boto3 clients see the same AWS account); pass a
    :class:`kecs.MemoryBackend` per test for isolation. ``stopped_task_retention`` is how
    many seconds a STOPPED task stays describable (ECS keeps them about an hour: the
    default). Other keyword arguments go to botocore's ``create_client`` (``endpoint_url``,
    credentials, ...).
    """
    if service_name != "ecs":
        raise UnsupportedServiceError(
            f"kecs only provides the 'ecs' service, not {service_name!r}; "
            f"use boto3.client({service_name!r}) for other services."
        )
    region = _resolve_region(region_name)
    account = _resolve_account(account_id)
    # Calls never leave the process, so credentials are only there to satisfy botocore.
    kwargs.setdefault("aws_access_key_id", "kecs")
    kwargs.setdefault("aws_secret_access_key", "kecs")
    ecs: ECSClient = service_model.session().create_client(
        "ecs", region_name=region, config=config, **kwargs
    )
    options = (
        {} if stopped_task_retention is None else {"stopped_task_retention": stopped_task_retention}
    )
    attach(ecs, WireHandler(backend or default_backend(), region, account, **options))
    return ecs


def attach(ecs: Any, handler: WireHandler) -> None:
    """Make an existing botocore ECS client answer from ``handler`` instead of the network."""
    responder = _Responder(handler, validated_by_client=_validates(ecs))
    ecs.meta.events.register("before-call.ecs", responder, unique_id="kecs-responder")
    ecs._kecs_handler = handler


def backend_of(ecs: Any) -> Backend | None:
    """The backend a client answered by kecs talks to (``None`` for any other client)."""
    handler = getattr(ecs, "_kecs_handler", None)
    return handler.context.backend if isinstance(handler, WireHandler) else None


def _validates(ecs: Any) -> bool:
    """Whether botocore validates this client's parameters before kecs sees them.

    ``Config(parameter_validation=False)`` does not show on ``ecs.meta.config`` (botocore
    keeps the flag out of the final config); it shows as a serializer without botocore's
    validating wrapper. When in doubt kecs validates again, which is only slower.
    """
    return isinstance(getattr(ecs, "_serializer", None), ParamValidationDecorator)
