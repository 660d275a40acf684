"""The embedded cluster's controllers and the loop that runs them.

Every change the API server stores is reported to the :class:`Manager`, which hands it to the
controllers watching that kind; they turn it into work items (a controller name and an object
key) on one FIFO queue that never holds an item twice. After each client write the backend
calls :meth:`Manager.settle`, which runs work items until none is left, so a client always
reads a quiescent cluster. Work that is due later (a slow start, a back-off, a deadline) is a
timer on the simulated clock; timers that have come due are queued at the start of each settle.

Because a key is queued at most once, a controller that hears of N changes while its key waits
runs once, not N times: scaling a ReplicaSet to 10,000 pods runs its sync a handful of times.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from kecs.backends.kinds import ResourceKind
from kecs.backends.memory.apiserver import ApiServer

Object = dict[str, Any]
Sync = Callable[[Any], None]
Handler = Callable[[Object | None, Object | None], None]

#: A work item that keeps coming back this often within one settle is a controller bug.
MAX_SYNCS_PER_KEY = 100_000


class SettleError(RuntimeError):
    """The controllers did not reach a quiescent state (a controller keeps rewriting)."""


class Manager:
    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.now = server.now
        self._syncs: dict[str, Sync] = {}
        self._handlers: dict[ResourceKind, list[Handler]] = {}
        self._any: list[Callable[[ResourceKind, Object | None, Object | None], None]] = []
        self._idle: list[Callable[[], None]] = []
        self._queue: deque[tuple[str, Hashable]] = deque()
        self._queued: set[tuple[str, Hashable]] = set()
        self._timers: list[tuple[datetime, int, str, Hashable]] = []
        self._timer_due: dict[tuple[str, Hashable], datetime] = {}
        self._seq = 0
        self._settling = False
        #: a change was observed since the idle hooks last ran (they may have work)
        self._changed = False
        server.listeners.append(self._observe)

    # -- wiring ----------------------------------------------------------------------------

    def register(self, name: str, sync: Sync) -> None:
        self._syncs[name] = sync

    def watch(self, kind: ResourceKind, handler: Handler) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def watch_all(
        self, handler: Callable[[ResourceKind, Object | None, Object | None], None]
    ) -> None:
        self._any.append(handler)

    def on_idle(self, hook: Callable[[], None]) -> None:
        """``hook`` runs whenever the queue empties (for work batched on purpose)."""
        self._idle.append(hook)

    def _observe(self, kind: ResourceKind, old: Object | None, new: Object | None) -> None:
        self._changed = True
        for handler in self._handlers.get(kind, ()):
            handler(old, new)
        for any_handler in self._any:
            any_handler(kind, old, new)

    # -- work ------------------------------------------------------------------------------

    def enqueue(self, name: str, key: Hashable) -> None:
        item = (name, key)
        if item not in self._queued:
            self._queued.add(item)
            self._queue.append(item)

    def enqueue_at(self, name: str, key: Hashable, due: datetime) -> None:
        """Queue ``key`` once the simulated clock reaches ``due`` (now if it already has)."""
        if due <= self.now():
            self.enqueue(name, key)
            return
        item = (name, key)
        known = self._timer_due.get(item)
        if known is not None and known <= due:
            return
        self._timer_due[item] = due
        self._seq += 1
        heapq.heappush(self._timers, (due, self._seq, name, key))

    def next_due(self) -> datetime | None:
        while self._timers:
            due, _, name, key = self._timers[0]
            if self._timer_due.get((name, key)) == due:
                return due
            heapq.heappop(self._timers)
        return None

    def _pop_due(self) -> None:
        timers = self._timers
        if not timers:
            return
        now = self.now()
        while timers and timers[0][0] <= now:
            due, _, name, key = heapq.heappop(timers)
            if self._timer_due.get((name, key)) != due:
                continue
            del self._timer_due[(name, key)]
            self.enqueue(name, key)

    def settle(self) -> None:
        """Run controllers until nothing is left to do (re-entrant calls return at once)."""
        if self._settling:
            return
        if not self._queue and not self._timers and not self._changed:
            # Quiescent (what every read finds): no work item, no timer, and no change since
            # the idle hooks last ran (they act only on what the watch handlers noted).
            return
        self._settling = True
        counts: dict[tuple[str, Hashable], int] = {}
        try:
            while True:
                self._pop_due()
                queue = self._queue
                while queue:
                    item = queue.popleft()
                    self._queued.discard(item)
                    seen = counts.get(item, 0) + 1
                    counts[item] = seen
                    if seen > MAX_SYNCS_PER_KEY:
                        raise SettleError(f"controller {item[0]!r} keeps syncing {item[1]!r}")
                    self._syncs[item[0]](item[1])
                self._changed = False
                for hook in self._idle:
                    hook()
                if not queue:
                    self._pop_due()
                    if not queue:
                        return
        finally:
            self._settling = False
