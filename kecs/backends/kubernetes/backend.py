"""``KubernetesBackend``: the backend port on a real Kubernetes API server.

One generic code path for every kind: REST paths come from :class:`ResourceKind` metadata and
objects travel as plain JSON dicts (the official client's models are never built). Every
request is counted, carries a timeout and kecs's field manager, and is retried on throttling,
server errors and broken connections; creates, updates, patches and deletes stay correct
when an attempt whose answer was lost is retried (see :meth:`create`).
"""

from __future__ import annotations

import builtins
import json
import random
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from kecs.backends import kinds
from kecs.backends.base import Backend, Object, ObjectList, Selector, Where, partial_metadata
from kecs.backends.errors import AlreadyExists, Conflict, Invalid, NotFound
from kecs.backends.kinds import ResourceKind
from kecs.backends.kubernetes import connect, paths
from kecs.backends.kubernetes.counter import RequestCounter
from kecs.backends.kubernetes.transport import (
    MERGE_PATCH,
    PARTIAL_METADATA,
    RequestFailed,
    RetryPolicy,
    Transport,
)
from kecs.backends.selectors import SelectorError, compile_selector, to_string

#: The API server's alphabet for generated name suffixes (no vowels, no look-alikes).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATE_BASE = 58
_DEFAULT_PAGE = 500


class KubernetesBackend(Backend):
    """The backend port on a Kubernetes cluster, through the official ``kubernetes`` client.

    Connect with a kubeconfig (``kubeconfig=`` path, default ``~/.kube/config`` or
    ``$KUBECONFIG``) and optionally a named ``context``; with ``in_cluster=True`` from inside a
    pod; or hand over a ready ``kubernetes.client.ApiClient`` as ``api_client``.
    ``request_timeout`` bounds each attempt (seconds); ``retry`` says how often and how
    patiently failed attempts are repeated; ``requests`` counts what was sent.
    """

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        in_cluster: bool = False,
        api_client: Any = None,
        field_manager: str = "kecs",
        request_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int = _DEFAULT_PAGE,
    ) -> None:
        if request_timeout <= 0:
            raise ValueError("request_timeout must be positive")
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self._owns_client = api_client is None
        self.api_client = connect.api_client(
            kubeconfig=kubeconfig, context=context, in_cluster=in_cluster, client=api_client
        )
        self.requests = RequestCounter()
        self.page_size = page_size
        self._transport = Transport(
            self.api_client,
            field_manager=field_manager,
            timeout=request_timeout,
            retry=retry or RetryPolicy(),
            counter=self.requests,
        )
        self._random = random.Random()

    @property
    def url(self) -> str:
        return connect.server_url(self.api_client)

    @property
    def field_manager(self) -> str:
        return self._transport.field_manager

    def close(self) -> None:
        if self._owns_client:
            self.api_client.close()

    def __enter__(self) -> KubernetesBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KubernetesBackend({self.url!r})"

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Object:
        path = paths.item(kind, name, _namespace(kind, namespace))
        try:
            return paths.with_type(kind, self._transport.send("get", kind, "GET", path))
        except RequestFailed as failed:
            raise failed.error from None

    def get_metadata(
        self, kind: ResourceKind, name: str, namespace: str | None = None, *, shared: bool = False
    ) -> Object:
        path = paths.item(kind, name, _namespace(kind, namespace))
        try:
            sent = self._transport.send("get", kind, "GET", path, accept=PARTIAL_METADATA)
        except RequestFailed as failed:
            raise failed.error from None
        # A server (or proxy) that ignores the request for metadata sends the whole object.
        return partial_metadata(sent)

    def list(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        selector: Selector = None,
        limit: int | None = None,
        continue_token: str | None = None,
        where: Where = None,
    ) -> ObjectList:
        try:
            compile_selector(selector)
        except SelectorError as exc:
            raise Invalid(str(exc)) from None
        wanted = limit if limit and limit > 0 else None
        size = wanted if wanted and where is None else self.page_size
        start = paths.PageToken(None, size, 0)
        if continue_token:
            start = paths.PageToken.decode(continue_token)
            if not start.skip:  # a fresh server page: this call's size, not the last one's
                start = start._replace(size=size)
        query = [("labelSelector", to_string(selector))] if selector else []
        path = paths.collection(kind, namespace if kind.namespaced else None)
        items: builtins.list[Object] = []
        server_token, size, skip = start
        while True:
            page_query = [*query, ("limit", str(size))]
            if server_token:
                page_query.append(("continue", server_token))
            try:
                page = self._transport.send("list", kind, "GET", path, query=page_query)
            except RequestFailed as failed:
                raise failed.error from None
            raw = page.get("items") or []
            next_token = (page.get("metadata") or {}).get("continue") or None
            for index in range(skip, len(raw)):
                obj = paths.with_type(kind, raw[index])
                if where is not None and not where(obj):
                    continue
                items.append(obj)
                if wanted is not None and len(items) == wanted:
                    if index + 1 < len(raw):
                        rest = paths.PageToken(server_token, size, index + 1)
                        return ObjectList(items, rest.encode())
                    if next_token:
                        return ObjectList(items, paths.PageToken(next_token, size, 0).encode())
                    return ObjectList(items, None)
            if not next_token:
                return ObjectList(items, None)
            server_token, skip = next_token, 0

    # -- writes ----------------------------------------------------------------------------

    def create(self, obj: Object, *, shared: bool = False, handed_over: bool = False) -> Object:
        """Create ``obj`` (serialised, so ``handed_over`` changes nothing). Retries never
        make a second object: a ``generateName`` is resolved here (so a retried create names
        the same object), and when a retried create finds the name taken by an object with
        the labels and annotations it sent — the first attempt's, whose answer was lost —
        that object is the result."""
        kind = kinds.of(obj)
        body = json.loads(json.dumps(obj))
        meta = body.setdefault("metadata", {})
        namespace = _namespace(kind, meta.get("namespace"))
        if kind.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        for _ in range(8 if generated else 1):
            if generated:
                meta["name"] = self._generated_name(meta["generateName"])
            path = paths.collection(kind, namespace)
            try:
                return paths.with_type(
                    kind, self._transport.send("create", kind, "POST", path, body=body)
                )
            except RequestFailed as failed:
                if not isinstance(failed.error, AlreadyExists):
                    raise failed.error from None
                if failed.ambiguous:
                    existing = self._find_own(kind, body)
                    if existing is not None:
                        return existing
                if not generated:
                    raise failed.error from None
        raise AlreadyExists(f'{kind.plural} "{meta["name"]}" already exists')

    def update(self, obj: Object) -> Object:
        kind = kinds.of(obj)
        meta = obj.get("metadata") or {}
        namespace = _namespace(kind, meta.get("namespace"))
        body = json.loads(json.dumps(obj))
        if kind.namespaced:
            body["metadata"]["namespace"] = namespace
        path = paths.item(kind, str(meta.get("name", "")), namespace)
        try:
            return paths.with_type(
                kind, self._transport.send("update", kind, "PUT", path, body=body)
            )
        except RequestFailed as failed:
            if isinstance(failed.error, Conflict) and failed.ambiguous:
                current = self._get_quietly(kind, meta.get("name", ""), namespace)
                if current is not None and _same_content(body, current):
                    return current
            raise failed.error from None

    def patch(
        self, kind: ResourceKind, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        namespace = _namespace(kind, namespace)
        path = paths.item(kind, name, namespace)
        body = json.loads(json.dumps(dict(patch)))
        try:
            sent = self._transport.send(
                "patch", kind, "PATCH", path, body=body, content_type=MERGE_PATCH
            )
            return paths.with_type(kind, sent)
        except RequestFailed as failed:
            if isinstance(failed.error, Conflict) and failed.ambiguous:
                # The precondition failed because the first attempt already applied it?
                current = self._get_quietly(kind, name, namespace)
                unconditional = _without_version(body)
                if current is not None and _same_content(merge(current, unconditional), current):
                    return current
            raise failed.error from None

    def delete(
        self,
        kind: ResourceKind,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str = "Background",
    ) -> None:
        """Delete; ``grace_period_seconds`` and ``propagation_policy`` as ``DeleteOptions``
        (the embedded backend takes the same keywords)."""
        path = paths.item(kind, name, _namespace(kind, namespace))
        options: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": propagation_policy,
        }
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        try:
            self._transport.send("delete", kind, "DELETE", path, body=options)
        except RequestFailed as failed:
            if isinstance(failed.error, NotFound) and failed.ambiguous:
                return  # an earlier attempt deleted it
            raise failed.error from None

    # -- internals -------------------------------------------------------------------------

    def _generated_name(self, base: str) -> str:
        suffix = "".join(self._random.choice(_NAME_ALPHABET) for _ in range(5))
        return base[:_MAX_GENERATE_BASE] + suffix

    def _get_quietly(self, kind: ResourceKind, name: str, namespace: str | None) -> Object | None:
        try:
            return self.get(kind, name, namespace)
        except NotFound:
            return None

    def _find_own(self, kind: ResourceKind, sent: Object) -> Object | None:
        """The existing object of ``sent``'s name if it carries every label and annotation sent."""
        meta = sent["metadata"]
        current = self._get_quietly(kind, meta["name"], meta.get("namespace"))
        if current is None:
            return None
        have = current.get("metadata") or {}
        for field in ("labels", "annotations"):
            mine, theirs = meta.get(field) or {}, have.get(field) or {}
            if any(theirs.get(key) != value for key, value in mine.items()):
                return None
        return current


def _namespace(kind: ResourceKind, namespace: str | None) -> str | None:
    if not kind.namespaced:
        return None
    return namespace or "default"


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def _without_version(patch: dict[str, Any]) -> dict[str, Any]:
    meta = patch.get("metadata")
    if not isinstance(meta, dict) or "resourceVersion" not in meta:
        return patch
    return {**patch, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}}


def _contains(have: Any, want: Any) -> bool:
    """``want`` is in ``have``, allowing fields the server added (defaults) to dicts."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_contains(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(_contains(h, w) for h, w in zip(have, want, strict=True))
        )
    return bool(have == want)


def _same_content(wanted: Object, current: Object) -> bool:
    """Whether ``current`` already is what writing ``wanted`` would make it (so a write whose
    answer was lost need not, and cannot, be repeated)."""
    want_meta, have_meta = wanted.get("metadata") or {}, current.get("metadata") or {}
    for field in ("labels", "annotations", "ownerReferences", "finalizers"):
        if (want_meta.get(field) or None) != (have_meta.get(field) or None):
            return False
    for key, value in wanted.items():
        if key in ("metadata", "status", "apiVersion", "kind"):
            continue
        if key == "spec" and not _contains(current.get(key), value):
            return False
        if key != "spec" and current.get(key) != value:
            return False
    return True
