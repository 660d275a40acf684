"""The ECS JSON 1.1 wire: ``X-Amz-Target`` + JSON body in, status + JSON body out.

This is the single entry point of every ECS call, whether it comes from an in-process botocore
client or (later) an HTTP server. Errors leave as ``{"__type": code, "message": text}``, the
only place botocore's JSON parser reads an error code from.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from typing import Any, NamedTuple

from kecs import uuid_text
from kecs.api import service_model
from kecs.api.validation import validate_request
from kecs.backends.base import Backend
from kecs.backends.errors import BackendError, Unavailable
from kecs.errors import (
    ECSError,
    SerializationException,
    ServerException,
    UnknownOperationException,
    UnsupportedFeatureException,
)
from kecs.operations.context import DEFAULT_STOPPED_TASK_RETENTION, RequestContext
from kecs.operations.registry import handler_for

log = logging.getLogger("kecs.api")

CONTENT_TYPE = "application/x-amz-json-1.1"


class WireResponse(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def _encode_default(value: Any) -> Any:
    if isinstance(value, datetime):
        # The JSON protocol sends timestamps as epoch seconds.
        return value.timestamp()
    raise TypeError(f"cannot encode {type(value).__name__}")


def request_id(random_bytes: bytes | None = None) -> str:
    """A request id: ``str(uuid.uuid4())`` (the same random source, 16 bytes of
    ``os.urandom``), without building the ``UUID`` object."""
    bits = int.from_bytes(os.urandom(16) if random_bytes is None else random_bytes, "big")
    return uuid_text.uuid4(bits)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=_encode_default).encode()


class WireHandler:
    """Answers ECS JSON 1.1 requests for one (backend, region, account)."""

    def __init__(
        self,
        backend: Backend,
        region: str,
        account_id: str,
        *,
        stopped_task_retention: float = DEFAULT_STOPPED_TASK_RETENTION,
    ) -> None:
        self.context = RequestContext(
            backend=backend,
            region=region,
            account_id=account_id,
            stopped_task_retention=stopped_task_retention,
        )
        self._prefix = service_model.target_prefix() + "."

    def handle(
        self, target: str, body: bytes | str | None, *, validated: bool = False
    ) -> WireResponse:
        """Answer one request. ``validated`` says botocore already checked the parameters."""
        status, headers, payload = self.answer(target, body, validated=validated)
        data = encode(payload)
        headers["Content-Length"] = str(len(data))
        return WireResponse(status, headers, data)

    def answer(
        self, target: str, body: bytes | str | None, *, validated: bool = False
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Like :meth:`handle`, but the JSON body is left as the dict it would encode.

        In-process clients use this to skip encoding a body only to decode it again; the
        dict holds JSON types plus ``datetime`` for timestamps.
        """
        try:
            payload = self._dispatch(target, body, validated)
            status = 200
        except ECSError as exc:
            status = exc.status
            payload = {"__type": exc.code, "message": exc.message, **exc.fields}
        except Unavailable as exc:
            status, payload = 500, {"__type": ServerException.code, "message": str(exc)}
        except BackendError as exc:
            log.exception("backend error escaped an operation handler (%s)", target)
            status, payload = 500, {"__type": ServerException.code, "message": str(exc)}
        except Exception:
            log.exception("internal error answering %s", target)
            status = 500
            payload = {"__type": ServerException.code, "message": "Internal error in kecs."}
        headers = {"x-amzn-RequestId": request_id(), "Content-Type": CONTENT_TYPE}
        return status, headers, payload

    def _dispatch(self, target: str, body: bytes | str | None, validated: bool) -> dict[str, Any]:
        if not target.startswith(self._prefix):
            raise UnknownOperationException(f"Unknown target {target!r}.")
        name = target[len(self._prefix) :]
        if name not in service_model.operation_names():
            raise UnknownOperationException(f"Unknown operation {name!r}.")
        params = _decode_body(body)
        if not validated:
            params = validate_request(params, service_model.operation_model(name))
        handler = handler_for(name)
        if handler is None:
            raise UnsupportedFeatureException(f"The operation {name} is not supported by kecs yet.")
        return handler(self.context, params)


def _decode_body(body: bytes | str | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        params = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise SerializationException("The request body must be a JSON object.")
    return params
