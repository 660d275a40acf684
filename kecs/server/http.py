"""The ECS JSON 1.1 API over HTTP, for the AWS CLI, Terraform and any other SDK.

``POST /`` with ``X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`` and a JSON
body goes to :class:`kecs.api.wire.WireHandler`, the same handler in-process clients use; the
response is its status, headers (``x-amzn-RequestId``, ``Content-Type:
application/x-amz-json-1.1``) and body, plus ``x-amz-crc32`` as AWS sends it. Errors are the
wire's ``{"__type": ..., "message": ...}``.

The region of a request is the one in its SigV4 ``Authorization`` credential scope (what the
client was configured with), else the server's default; signatures are not checked. The
account is the server's. ``GET /`` answers a small JSON status for health checks.

One thread per connection (``ThreadingHTTPServer``), HTTP/1.1 keep-alive; the backend is
thread-safe. :meth:`EcsHttpServer.stop` stops accepting, lets requests in flight finish (up
to a grace period) and closes the socket.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kecs.api.wire import CONTENT_TYPE, WireHandler, WireResponse
from kecs.backends.base import Backend

log = logging.getLogger("kecs.server")

#: A larger body is refused before it is read (ECS's own limits are far below this).
MAX_BODY_BYTES = 16 * 1024 * 1024
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]{1,40})/[A-Za-z0-9-]+/aws4_request")


def region_from_authorization(header: str | None) -> str | None:
    """The region of a SigV4 ``Authorization`` header's credential scope, if it has one."""
    if not header:
        return None
    match = _SCOPE.search(header)
    return match.group(1) if match else None


class EcsHttpServer(ThreadingHTTPServer):
    """An HTTP server answering the ECS API from one backend and account."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        backend: Backend,
        *,
        region: str,
        account_id: str,
        log_requests: bool = True,
    ) -> None:
        self.backend = backend
        self.region = region
        self.account_id = account_id
        self.log_requests = log_requests
        self._wires: dict[str, WireHandler] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def wire(self, region: str) -> WireHandler:
        with self._lock:
            handler = self._wires.get(region)
            if handler is None:
                handler = self._wires[region] = WireHandler(self.backend, region, self.account_id)
            return handler

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> EcsHttpServer:
        """Serve from a background thread (once; later calls do nothing); see :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, args=(0.1,), name="kecs-server", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, grace: float = 10.0) -> bool:
        """Stop accepting, wait up to ``grace`` s for requests in flight; True if none was cut."""
        if self._thread is not None:
            self.shutdown()  # returns once serve_forever has; it never ran without start()
            self._thread.join()
        finished = self.wait_idle(grace)
        self.server_close()
        return finished

    def __enter__(self) -> EcsHttpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def _begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _end(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.notify_all()


class _Handler(BaseHTTPRequestHandler):
    server: EcsHttpServer
    protocol_version = "HTTP/1.1"
    server_version = "kecs"
    # An idle keep-alive connection is dropped after this many seconds.
    timeout = 120

    def do_POST(self) -> None:
        self.server._begin()
        started = time.perf_counter()
        target = self.headers.get("X-Amz-Target", "")
        region = region_from_authorization(self.headers.get("Authorization")) or self.server.region
        self._status = 0
        try:
            try:
                body = self._read_body()
            except (ValueError, OSError, EOFError):
                self._refuse(400, "SerializationException", "The request body could not be read.")
                return
            if body is None:
                return
            self._send(self.server.wire(region).handle(target, body))
        finally:
            self.server._end()
            if self.server.log_requests:
                operation = target.rpartition(".")[2] or "-"
                elapsed = (time.perf_counter() - started) * 1000
                client = self.client_address[0]
                log.info("%s %s %.1f ms %s %s", operation, self._status, elapsed, region, client)

    def do_GET(self) -> None:
        payload = {
            "service": "ecs",
            "server": "kecs",
            "region": self.server.region,
            "account": self.server.account_id,
        }
        body = json.dumps(payload).encode()
        self._send(WireResponse(200, {"Content-Type": "application/json"}, body))

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._refuse(413, "SerializationException", "The request body is too large.")
                return None
            body = self.rfile.read(length) if length > 0 else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("chunked body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _refuse(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": code, "message": message}).encode()
        self.close_connection = True
        self._send(WireResponse(status, {"Content-Type": CONTENT_TYPE}, body))

    def _send(self, response: WireResponse) -> None:
        self._status = response.status
        self.send_response(response.status)
        headers: dict[str, Any] = dict(response.headers)
        headers["Content-Length"] = str(len(response.body))
        headers["x-amz-crc32"] = str(zlib.crc32(response.body))
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # do_POST logs each request with its operation and time instead

    def log_message(self, format: str, *args: Any) -> None:
        # What http.server reports besides requests: malformed requests, timeouts.
        log.warning("%s %s", self.address_string(), format % args)
