"""The backend's edge: one HTTP request through the official client, retried with tenacity,
its failures translated into kecs's own backend errors.

Only this module sees ``ApiException`` and urllib3's exceptions; whatever leaves it is a
:class:`~kecs.backends.errors.BackendError`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tenacity
import urllib3
from kubernetes.client.exceptions import ApiException

from kecs.backends.errors import (
    AlreadyExists,
    BackendError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)
from kecs.backends.kinds import ResourceKind
from kecs.backends.kubernetes.counter import RequestCounter

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
#: Asks for metadata only; a server that cannot answer so falls back to the whole object.
PARTIAL_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
#: Statuses worth another attempt: throttling and the server's own trouble.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard kecs tries before a request is :class:`Unavailable`.

    Waits grow exponentially from ``initial`` to ``maximum`` seconds with up to ``jitter``
    seconds of random jitter; a 429's ``Retry-After`` is honoured (capped at
    ``max_retry_after``). ``sleep`` is injectable so tests can record waits instead of taking them.
    """

    attempts: int = 6
    initial: float = 0.2
    maximum: float = 5.0
    jitter: float = 0.2
    max_retry_after: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")


class _Retryable(Exception):
    """A failed attempt worth repeating."""

    def __init__(self, error: BackendError, *, ambiguous: bool, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        #: The request may have reached the server and taken effect.
        self.ambiguous = ambiguous
        self.retry_after = retry_after


class RequestFailed(Exception):
    """The final failure of a request, and whether an earlier attempt may have taken effect."""

    def __init__(self, error: BackendError, *, ambiguous: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.ambiguous = ambiguous


class Transport:
    """Sends requests for one backend: counted, timed out, retried and translated."""

    def __init__(
        self,
        api_client: Any,
        *,
        field_manager: str,
        timeout: float,
        retry: RetryPolicy,
        counter: RequestCounter,
    ) -> None:
        self.api_client = api_client
        self.field_manager = field_manager
        self.timeout = timeout
        self.retry = retry
        self.counter = counter

    def send(
        self,
        verb: str,
        kind: ResourceKind,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> dict[str, Any]:
        """The decoded JSON answer; :class:`RequestFailed` once retries are exhausted."""
        self.counter.request(verb, kind)
        params = [*query, ("timeout", f"{max(int(self.timeout), 1)}s")]
        if method in ("POST", "PUT", "PATCH"):
            params.append(("fieldManager", self.field_manager))
        ambiguous = False
        attempt = 0

        def once() -> dict[str, Any]:
            nonlocal ambiguous, attempt
            self.counter.attempt(first=attempt == 0)
            attempt += 1
            try:
                return self._once(method, path, params, body, content_type, accept)
            except _Retryable as exc:
                ambiguous = ambiguous or exc.ambiguous
                raise

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            sleep=self.retry.sleep,
            reraise=True,
        )
        try:
            return retrying(once)
        except _Retryable as exc:
            raise RequestFailed(
                Unavailable(f"{method} {path} kept failing after {attempt} attempts: {exc}"),
                ambiguous=ambiguous,
            ) from None
        except BackendError as exc:
            raise RequestFailed(exc, ambiguous=ambiguous) from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_retry_after)
        exponent = max(state.attempt_number - 1, 0)
        backoff = min(self.retry.initial * float(2**exponent), self.retry.maximum)
        return backoff + random.uniform(0, self.retry.jitter)

    def _once(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        body: Any,
        content_type: str,
        accept: str = JSON,
    ) -> dict[str, Any]:
        headers = {"Accept": accept, "Content-Type": content_type}
        try:
            response = self.api_client.call_api(
                path,
                method,
                query_params=params,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=(self.timeout, self.timeout),
            )
            data = response.data
        except ApiException as exc:
            raise _translate_status(exc, method) from None
        except urllib3.exceptions.SSLError as exc:
            raise Unavailable(f"TLS failure talking to the API server: {exc}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.counter.fault(type(exc).__name__)
            raise _Retryable(
                Unavailable(f"{type(exc).__name__}: {exc}"),
                ambiguous=method != "GET" and _maybe_sent(exc),
                retry_after=None,
            ) from None
        try:
            decoded = json.loads(data) if data else {}
        except ValueError:
            self.counter.fault("malformed-body")
            raise _Retryable(
                Unavailable("the API server sent a body that is not JSON"),
                ambiguous=method != "GET",
                retry_after=None,
            ) from None
        if not isinstance(decoded, dict):
            raise Unavailable("the API server sent JSON that is not an object")
        return decoded


def _maybe_sent(exc: BaseException) -> bool:
    """Whether a transport failure could have happened after the server got the request."""
    connect_failures = (
        urllib3.exceptions.NewConnectionError,
        urllib3.exceptions.ConnectTimeoutError,
        ConnectionRefusedError,
    )
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return not isinstance(exc.reason, connect_failures)
    return not isinstance(exc, connect_failures)


def _status_body(exc: ApiException) -> dict[str, Any]:
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(exc: ApiException, status: dict[str, Any]) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value is None:
        value = (status.get("details") or {}).get("retryAfterSeconds")
    try:
        return max(float(value), 0.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def _translate_status(exc: ApiException, method: str) -> BaseException:
    status_code = int(exc.status or 0)
    status = _status_body(exc)
    reason = str(status.get("reason") or exc.reason or "")
    message = str(status.get("message") or exc.reason or f"HTTP {status_code}")
    if status_code in _RETRY_STATUSES:
        # A 429 was refused before any work; a 5xx may have been applied (e.g. a timeout).
        error: BackendError = Unavailable(f"HTTP {status_code} {reason}: {message}")
        return _Retryable(
            error,
            ambiguous=status_code != 429 and method != "GET",
            retry_after=_retry_after(exc, status) if status_code in (429, 503) else None,
        )
    if status_code == 404:
        return NotFound(message)
    if status_code == 409:
        return AlreadyExists(message) if reason == "AlreadyExists" else Conflict(message)
    if status_code in (400, 405, 406, 410, 413, 415, 422):
        return Invalid(message)
    if status_code == 403:
        causes = (status.get("details") or {}).get("causes") or ()
        if any(isinstance(c, dict) and c.get("reason") == "NamespaceTerminating" for c in causes):
            # As the embedded backend says it: the namespace is going away.
            return Conflict(message)
        return Forbidden(message)
    if status_code == 401:
        return Forbidden(f"Unauthorized: {message}")
    if status_code == 0:
        return Unavailable(message)
    return BackendError(f"HTTP {status_code} {reason}: {message}")
