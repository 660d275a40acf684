"""What every operation handler is given: the backend and the caller's ECS identity."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime
from typing import Any

import attrs

from kecs.backends.base import Backend

#: How long a stopped task stays describable (seconds), as on ECS.
DEFAULT_STOPPED_TASK_RETENTION = 3600.0


class Memo:
    """What operations may remember between the calls of one context (one backend).

    Only for values derived from an object that is read again on every use: an entry holds
    the ``(uid, resourceVersion)`` it was made from, and :meth:`get` returns it only while
    the caller's fresh read still shows that version, so every client on the backend keeps
    seeing the backend's truth. Entries are shared with later callers: never change one.
    The oldest entries go first once ``size`` is reached.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: dict[Hashable, tuple[Hashable, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> Any:
        """The value remembered for ``key`` if it was made from ``version``, else ``None``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        return entry[1]

    def put(self, key: Hashable, version: Hashable, value: Any) -> None:
        with self._lock:
            entries = self._entries
            entries.pop(key, None)
            while len(entries) >= self.size:
                del entries[next(iter(entries))]
            entries[key] = (version, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@attrs.frozen
class RequestContext:
    backend: Backend
    region: str
    account_id: str
    #: Seconds a STOPPED task's record is kept before the task sweep removes it.
    stopped_task_retention: float = DEFAULT_STOPPED_TASK_RETENTION
    #: Values remembered across this context's calls (see :class:`Memo`).
    memo: Memo = attrs.field(factory=Memo, eq=False, repr=False)

    def now(self) -> datetime:
        return self.backend.now()
