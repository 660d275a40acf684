"""The ECS API over HTTP (``kecs serve``), on the same wire handler as in-process clients."""

from __future__ import annotations

from kecs.backends.base import Backend
from kecs.server.http import EcsHttpServer, region_from_authorization

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "EcsHttpServer", "region_from_authorization", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def serve(
    backend: Backend | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    region: str | None = None,
    account_id: str | None = None,
    log_requests: bool = False,
) -> EcsHttpServer:
    """A started server (background thread) on ``backend`` (default: a fresh embedded one).

    ``port=0`` picks a free port (see ``.url``). Stop it with ``.stop()`` or use it as a
    context manager: ``with kecs.server.serve(port=0) as server: ...``.
    """
    from kecs.backends.memory import MemoryBackend
    from kecs.client import _resolve_account, _resolve_region

    server = EcsHttpServer(
        (host, port),
        backend if backend is not None else MemoryBackend(),
        region=_resolve_region(region),
        account_id=_resolve_account(account_id),
        log_requests=log_requests,
    )
    return server.start()
