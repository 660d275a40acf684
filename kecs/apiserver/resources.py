"""The REST verbs on one backend: what each request does and which status it answers with.

Independent of HTTP plumbing: every function takes parsed input and returns ``(status, body)``
or raises a backend error / :class:`BadRequest`, which :func:`status_for` turns into a
Kubernetes ``Status``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from kecs.apiserver import patches, tables
from kecs.apiserver.patches import BadRequest
from kecs.apiserver.routes import Route
from kecs.backends.base import PARTIAL_METADATA_API_VERSION, PARTIAL_METADATA_KIND, Backend
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

Object = dict[str, Any]
Answer = tuple[int, Object]
Query = dict[str, str]

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
_ERRORS: tuple[tuple[type[BackendError], int, str], ...] = (
    (NotFound, 404, "NotFound"),
    (AlreadyExists, 409, "AlreadyExists"),
    (Conflict, 409, "Conflict"),
    (Invalid, 422, "Invalid"),
    (Forbidden, 403, "Forbidden"),
    (Unavailable, 503, "ServiceUnavailable"),
)


def status(code: int, reason: str, message: str, route: Route | None = None) -> Object:
    body: Object = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if route is not None:
        body["details"] = {"kind": route.kind.plural}
        if route.name:
            body["details"]["name"] = route.name
    return body


def status_for(exc: Exception, route: Route | None) -> Answer:
    if isinstance(exc, BadRequest):
        return 400, status(400, "BadRequest", str(exc), route)
    for error, code, reason in _ERRORS:
        if isinstance(exc, error):
            return code, status(code, reason, str(exc), route)
    return 500, status(500, "InternalError", f"Internal error occurred: {exc}", route)


def _want_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def wants_metadata(accept: str) -> bool:
    """``as=PartialObjectMetadata`` (or ``...List``) preferred: a metadata-only read."""
    first = accept.replace(" ", "").split(",")[0]
    return "as=PartialObjectMetadata" in first and "g=meta.k8s.io" in first


def _list_kind(kind: ResourceKind) -> str:
    return f"{kind.kind}List"


def get(backend: Backend, route: Route, query: Query, accept: str) -> Answer:
    assert route.name is not None
    obj = backend.get(route.kind, route.name, route.namespace)
    if _want_table(accept):
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        return 200, tables.table(route.kind, [obj], backend.now(), _include(query), meta)
    return 200, obj


def get_metadata(backend: Backend, route: Route) -> Answer:
    assert route.name is not None
    return 200, backend.get_metadata(route.kind, route.name, route.namespace)


def _include(query: Query) -> str:
    return query.get("includeObject", "Metadata")


def list_(backend: Backend, route: Route, query: Query, accept: str) -> Answer:
    where = patches.field_selector(query.get("fieldSelector", ""))
    limit = query.get("limit")
    try:
        page_size = int(limit) if limit else None
    except ValueError:
        raise BadRequest(f"invalid limit {limit!r}") from None
    metadata_only = wants_metadata(accept)
    page = (backend.list_metadata if metadata_only else backend.list)(
        route.kind,
        route.namespace,
        selector=query.get("labelSelector") or None,
        limit=page_size,
        continue_token=query.get("continue") or None,
        where=where,
    )
    versions = [
        int(v) for o in page.items if str(v := o["metadata"].get("resourceVersion", "")).isdigit()
    ]
    meta: Object = {"resourceVersion": str(max(versions, default=0))}
    if page.continue_token:
        meta["continue"] = page.continue_token
    if _want_table(accept):
        return 200, tables.table(route.kind, page.items, backend.now(), _include(query), meta)
    if metadata_only:
        return 200, {
            "kind": f"{PARTIAL_METADATA_KIND}List",
            "apiVersion": PARTIAL_METADATA_API_VERSION,
            "metadata": meta,
            "items": page.items,
        }
    return 200, {
        "kind": _list_kind(route.kind),
        "apiVersion": route.kind.api_version,
        "metadata": meta,
        "items": page.items,
    }


def _object_body(route: Route, body: Any) -> Object:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    kind = route.kind
    if (
        body.get("apiVersion", kind.api_version) != kind.api_version
        or body.get("kind", kind.kind) != kind.kind
    ):
        raise BadRequest(f"the body is a {body.get('apiVersion')}/{body.get('kind')}, not a {kind}")
    obj = {**body, "apiVersion": kind.api_version, "kind": kind.kind}
    meta = dict(obj.get("metadata") or {})
    if route.namespace is not None:
        if meta.get("namespace") not in (None, "", route.namespace):
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = route.namespace
    obj["metadata"] = meta
    return obj


def create(backend: Backend, route: Route, body: Any) -> Answer:
    if route.name is not None:
        raise BadRequest("POST goes to the collection, not to an object")
    return 201, backend.create(_object_body(route, body))


def update(backend: Backend, route: Route, body: Any) -> Answer:
    assert route.name is not None
    obj = _object_body(route, body)
    if obj["metadata"].get("name") not in (None, route.name):
        raise BadRequest("the name of the object does not match the name on the URL")
    obj["metadata"]["name"] = route.name
    if route.subresource == "status":
        return 200, _write_status(backend, route, obj.get("status"), obj["metadata"])
    return 200, backend.update(obj)


def _write_status(backend: Backend, route: Route, new_status: Any, meta: Object) -> Object:
    """Through the backend's own status writer when it has one, else as a merge patch."""
    assert route.name is not None
    writer = getattr(backend, "update_status", None)
    if callable(writer):
        current = backend.get(route.kind, route.name, route.namespace)
        wanted = {**current, "status": new_status}
        if meta.get("resourceVersion"):
            wanted["metadata"] = {**current["metadata"], "resourceVersion": meta["resourceVersion"]}
        result: Object = writer(wanted)
        return result
    patch: Object = {"status": new_status}
    if meta.get("resourceVersion"):
        patch["metadata"] = {"resourceVersion": meta["resourceVersion"]}
    return backend.patch(route.kind, route.name, patch, route.namespace)


def patch(backend: Backend, route: Route, body: Any, content_type: str) -> Answer:
    assert route.name is not None
    kind, name, ns = route.kind, route.name, route.namespace
    media = content_type.split(";")[0].strip()
    if media == JSON_PATCH:
        for _ in range(8):
            current = backend.get(kind, name, ns)
            patched = patches.json_patch(current, body)
            if route.subresource == "status":
                return 200, _write_status(
                    backend, route, patched.get("status"), current["metadata"]
                )
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            try:
                return 200, backend.update(patched)
            except Conflict:
                continue
        raise Conflict(f'{kind.plural} "{name}" kept changing')
    if media not in (MERGE, STRATEGIC):
        return 415, status(
            415, "UnsupportedMediaType", f"the media type {media!r} is not supported", route
        )
    if not isinstance(body, dict):
        raise BadRequest("a merge patch must be a JSON object")
    merge = patches.strategic_as_merge(body) if media == STRATEGIC else body
    if route.subresource == "status":
        meta = merge.get("metadata") or {}
        current = backend.get(kind, name, ns)
        new_status = _merged(current.get("status"), merge.get("status"))
        return 200, _write_status(backend, route, new_status, meta)
    return 200, backend.patch(kind, name, merge, ns)


def _merged(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result


def delete(backend: Backend, route: Route, body: Any, query: Query) -> Answer:
    assert route.name is not None
    options = body if isinstance(body, dict) else {}
    policy = options.get("propagationPolicy") or query.get("propagationPolicy")
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise BadRequest(f"invalid propagationPolicy {policy!r}")
    preconditions = options.get("preconditions") or {}
    current = backend.get(route.kind, route.name, route.namespace)
    for field in ("uid", "resourceVersion"):
        wanted = preconditions.get(field)
        if wanted and wanted != current["metadata"].get(field):
            raise Conflict(
                f"Precondition failed: {field} in precondition: {wanted}, "
                f"{field} in object meta: {current['metadata'].get(field)}"
            )
    grace = options.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
    extra: dict[str, Any] = {}
    # Backends whose delete takes Kubernetes' options (the embedded one does) get them.
    accepted = inspect.signature(backend.delete).parameters
    if policy is not None and "propagation_policy" in accepted:
        extra["propagation_policy"] = policy
    if grace is not None and "grace_period_seconds" in accepted:
        try:
            extra["grace_period_seconds"] = int(grace)
        except (TypeError, ValueError):
            raise BadRequest(f"invalid gracePeriodSeconds {grace!r}") from None
    backend.delete(route.kind, route.name, route.namespace, **extra)
    try:
        # Still there (finalizers, graceful termination): answer with the object, as the API does.
        return 200, backend.get(route.kind, route.name, route.namespace)
    except NotFound:
        pass
    answer = status(200, "", "", route)
    answer["details"]["uid"] = current["metadata"].get("uid", "")
    del answer["reason"], answer["message"]
    return 200, answer


def decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
