"""A threaded HTTP server on loopback answering a subset of the Kubernetes REST API from any
kecs backend (normally the embedded :class:`~kecs.MemoryBackend`), plus the kubeconfig that
points ``kubectl`` and the official client at it."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kecs.apiserver import discovery, resources
from kecs.apiserver.faults import AFTER, DROP, DROP_AFTER, THROTTLED_429, FaultInjector
from kecs.apiserver.routes import Route, UnknownPath, parse
from kecs.backends.base import Backend

Answer = tuple[int, dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Without this, a response's headers and body leave in two packets and the client's
        # delayed ACK stalls every write request by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        owner = self.server.owner
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fault = None
        route: Route | None = None
        with contextlib.suppress(UnknownPath):
            route = parse(url.path)
        if route is not None and owner.faults is not None:
            fault = owner.faults.decide()
        if fault == DROP:
            return self._drop()
        if fault in ("500", THROTTLED_429):
            code = 429 if fault == THROTTLED_429 else 500
            reason = "TooManyRequests" if code == 429 else "InternalError"
            body = resources.status(code, reason, f"injected fault {fault}", route)
            headers = (
                {"Retry-After": str(owner.faults.retry_after)}
                if code == 429 and owner.faults
                else {}
            )
            return self._reply(method, url.path, code, body, headers)
        if route is None:
            code, body = owner.discovery(method, url.path)
        else:
            code, body = owner.answer(method, route, query, raw, self.headers)
        if fault == DROP_AFTER:
            return self._drop()
        if fault in AFTER:
            code, body = (
                500,
                resources.status(500, "InternalError", f"injected fault {fault}", route),
            )
        self._reply(method, url.path, code, body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _reply(
        self,
        method: str,
        path: str,
        code: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server.owner.log.append((method, self.path, code))
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: KubernetesApiServer


class KubernetesApiServer:
    """The embedded cluster over HTTP. Start with :func:`serve_kubernetes_api`.

    ``url`` is the server's address, ``kubeconfig_path`` a kubeconfig file for it (context
    ``kecs``; no authentication), ``log`` the recent ``(method, path, status)`` triples, and
    ``faults`` an optional :class:`FaultInjector`. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultInjector | None = None,
        verbose: bool = False,
        kubeconfig_dir: str | None = None,
    ) -> None:
        self.backend = backend
        self.faults = faults
        self.verbose = verbose
        self.log: collections.deque[tuple[str, str, int]] = collections.deque(maxlen=10_000)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self
        bound_port = int(self._httpd.server_address[1])
        self.url = f"http://{host}:{bound_port}"
        self._own_dir = kubeconfig_dir is None
        self._dir = kubeconfig_dir or tempfile.mkdtemp(prefix="kecs-kube-")
        self.kubeconfig_path = os.path.join(self._dir, "kubeconfig")
        with open(self.kubeconfig_path, "w") as fh:
            json.dump(kubeconfig(self.url), fh, indent=2)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # shutdown() waits up to one poll interval; keep stopping a server cheap.
            kwargs={"poll_interval": 0.02},
            name=f"kecs-apiserver-{bound_port}",
            daemon=True,
        )
        self._thread.start()

    def answer(
        self, method: str, route: Route, query: dict[str, str], raw: bytes, headers: Any
    ) -> Answer:
        backend = self.backend
        accept = headers.get("Accept") or ""
        try:
            if route.subresource not in (None, "status"):
                return 404, resources.status(
                    404, "NotFound", f"the subresource {route.subresource!r} is not served", route
                )
            if method == "GET":
                if route.name is None:
                    return resources.list_(backend, route, query, accept)
                if resources.wants_metadata(accept):
                    return resources.get_metadata(backend, route)
                return resources.get(backend, route, query, accept)
            if route.name is None and method != "POST":
                return 405, resources.status(
                    405, "MethodNotAllowed", f"{method} on a collection is not served", route
                )
            body = resources.decode(raw)
            if method == "POST":
                return resources.create(backend, route, body)
            if method == "PUT":
                return resources.update(backend, route, body)
            if method == "PATCH":
                return resources.patch(backend, route, body, headers.get("Content-Type") or "")
            return resources.delete(backend, route, body, query)
        except Exception as exc:  # every failure becomes a Status, as on a real API server
            return resources.status_for(exc, route)

    @staticmethod
    def discovery(method: str, path: str) -> Answer:
        if method != "GET":
            return 405, resources.status(405, "MethodNotAllowed", "discovery is read-only")
        path = path.rstrip("/") or "/"
        doc: dict[str, Any] | None = None
        if path == "/version":
            doc = dict(discovery.VERSION)
        elif path == "/api":
            doc = discovery.api_versions()
        elif path == "/apis":
            doc = discovery.api_group_list()
        elif path == "/api/v1":
            doc = discovery.resource_list("v1")
        elif path.startswith("/apis/"):
            parts = path.split("/")[2:]
            if len(parts) == 1:
                doc = discovery.api_group(parts[0])
            elif len(parts) == 2:
                doc = discovery.resource_list(f"{parts[0]}/{parts[1]}")
        if doc is None:
            return 404, resources.status(
                404, "NotFound", "the server could not find the requested resource"
            )
        return 200, doc

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> KubernetesApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KubernetesApiServer({self.url!r}, kubeconfig={self.kubeconfig_path!r})"


def kubeconfig(url: str, name: str = "kecs") -> dict[str, Any]:
    """A kubeconfig (JSON is YAML) with one context ``name`` pointing at ``url``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }


def serve_kubernetes_api(
    backend: Backend | None = None,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    faults: FaultInjector | None = None,
    verbose: bool = False,
) -> KubernetesApiServer:
    """Serve ``backend`` (default: the process-wide embedded backend) as a Kubernetes API.

    ``port=0`` picks a free port. The returned server's ``url`` and ``kubeconfig_path`` let
    ``kubectl --kubeconfig PATH get pods -A`` and ``kecs.KubernetesBackend(kubeconfig=PATH)``
    reach it.
    """
    if backend is None:
        from kecs.client import default_backend

        backend = default_backend()
    return KubernetesApiServer(backend, host=host, port=port, faults=faults, verbose=verbose)
