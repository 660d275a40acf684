"""``kecs.mock()``: every ECS client botocore makes in this process is answered by kecs.

While a mock is active, ``boto3.client("ecs")``, ``boto3.Session().client("ecs")`` and
``botocore.session.Session().create_client("ecs")`` (so also ``get_session()``) return the
ordinary botocore ECS client with kecs's responder attached (:func:`kecs.client.attach`), on
the mock's backend and in the client's own region. Other services are created untouched.

Mechanism: all of those entry points end in ``botocore.session.Session.create_client``, so the
first active mock wraps that one method on the class and the last one to exit puts the very
same function object back. Nothing is registered on botocore's global handler lists, and
sessions and clients made before or after the mock are unaffected.

Details a test author may meet:

- Mocks nest (the innermost active one answers) and the same mock may be entered again; all
  bookkeeping is under one lock, so threads may create clients and enter and leave mocks
  concurrently. A client is bound to the mock that was innermost when it was created.
- ECS clients made without explicit credentials get dummy ones, so no credential lookup
  (environment, files, instance metadata) runs and tests need no AWS account. Without any
  configured region an ECS client gets kecs's default (``AWS_REGION`` or ``us-east-1``).
- An ECS client made inside the mock stays a kecs client after the mock exits (it keeps the
  world it was created in); make clients inside the mock, as with any botocore mock.
- As a decorator, each call runs in the mock; a mock made without ``backend=`` gives every
  call a fresh backend (parametrized tests never share a world) and ``m.backend`` is the
  world of the latest call.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, TypeVar, cast

import botocore.session
from botocore.exceptions import NoRegionError

from kecs.api import service_model
from kecs.api.wire import WireHandler
from kecs.backends.base import Backend
from kecs.client import _resolve_account, _resolve_region, attach

__all__ = ["EcsMock", "active", "mock"]

_F = TypeVar("_F", bound=Callable[..., Any])

_CREDENTIALS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
_DUMMY = {"aws_access_key_id": "kecs", "aws_secret_access_key": "kecs"}

_lock = threading.RLock()
#: Active mocks in the order they were entered (a mock entered twice appears twice).
_active: list[EcsMock] = []
#: ``Session.create_client`` as it was before the first mock replaced it.
_original: Callable[..., Any] | None = None


class EcsMock:
    """An ECS world that botocore ECS clients made while it is active are answered from."""

    def __init__(self, backend: Backend | None = None, *, account_id: str | None = None) -> None:
        self._fresh_per_call = backend is None
        self.backend: Backend = backend if backend is not None else _new_backend()
        self.account_id = _resolve_account(account_id)

    def __repr__(self) -> str:
        return f"<kecs.mock account={self.account_id} backend={self.backend!r}>"

    # -- activation ------------------------------------------------------------------------

    def start(self) -> EcsMock:
        """Activate (what ``with`` does); pair every call with :meth:`stop`."""
        with _lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def stop(self) -> None:
        """Undo the latest :meth:`start` of this mock."""
        with _lock:
            for index in range(len(_active) - 1, -1, -1):
                if _active[index] is self:
                    del _active[index]
                    break
            else:
                raise RuntimeError("kecs.mock: stop() without a matching start()")
            if not _active:
                _uninstall()

    @property
    def active(self) -> bool:
        with _lock:
            return any(m is self for m in _active)

    def __enter__(self) -> EcsMock:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- decorator -------------------------------------------------------------------------

    def __call__(self, func: _F) -> _F:
        """Run every call of ``func`` (a function or coroutine function) inside this mock."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._for_call():
                    return await func(*args, **kwargs)

            return cast(_F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._for_call():
                return func(*args, **kwargs)

        return cast(_F, run)

    def _for_call(self) -> EcsMock:
        with _lock:
            if self._fresh_per_call and not self.active:
                self.backend = _new_backend()
        return self

    # -- clients ---------------------------------------------------------------------------

    def _create_ecs_client(self, create: Callable[..., Any], bound: inspect.BoundArguments) -> Any:
        arguments = bound.arguments
        if not any(arguments.get(name) for name in _CREDENTIALS):
            arguments.update(_DUMMY)
        try:
            ecs = create(*bound.args, **bound.kwargs)
        except NoRegionError:
            arguments["region_name"] = _resolve_region(None)
            ecs = create(*bound.args, **bound.kwargs)
        attach(ecs, WireHandler(self.backend, ecs.meta.region_name, self.account_id))
        return ecs


def mock(backend: Backend | None = None, *, account_id: str | None = None) -> EcsMock:
    """Answer every botocore ECS client made while active from kecs (see the module doc).

    Use as ``with kecs.mock() as m:`` or ``@kecs.mock()``. ``backend`` defaults to a fresh
    :class:`kecs.MemoryBackend`; ``account_id`` to ``KECS_ACCOUNT_ID`` or ``000000000000``.
    """
    return EcsMock(backend, account_id=account_id)


def active() -> EcsMock | None:
    """The innermost active mock, if any."""
    with _lock:
        return _active[-1] if _active else None


def _new_backend() -> Backend:
    from kecs.backends.memory import MemoryBackend

    return MemoryBackend()


# -- the one patch ---------------------------------------------------------------------------


def _create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
    """``Session.create_client`` while a mock may be active."""
    create = _original
    assert create is not None
    current = active()
    if current is None or self is service_model.session():
        # kecs.client() makes its clients on kecs's own session and attaches its own handler.
        return create(self, *args, **kwargs)
    bound = _signature(create).bind(self, *args, **kwargs)
    if bound.arguments.get("service_name") != "ecs":
        return create(self, *args, **kwargs)
    return current._create_ecs_client(create, bound)


@functools.cache
def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


def _install() -> None:
    global _original
    session_class = botocore.session.Session
    if session_class.__dict__.get("create_client") is _create_client:
        return  # left in place by an earlier exit that found another patch on top of it
    _original = session_class.__dict__["create_client"]
    functools.update_wrapper(_create_client, _original)
    session_class.create_client = _create_client


def _uninstall() -> None:
    session_class = botocore.session.Session
    if session_class.__dict__.get("create_client") is _create_client:
        session_class.create_client = _original
    # Otherwise someone patched over kecs after it started; their wrapper calls ours, which
    # passes straight through while no mock is active, so leaving it in place is harmless.


class _CallableModule(types.ModuleType):
    """``kecs.mock`` may be this module (``import kecs.mock``) or the function; both call."""

    def __call__(self, backend: Backend | None = None, *, account_id: str | None = None) -> EcsMock:
        return mock(backend, account_id=account_id)


sys.modules[__name__].__class__ = _CallableModule
