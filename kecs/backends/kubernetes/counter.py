"""Counting the requests a backend sends: per verb and resource, plus attempts and retries."""

from __future__ import annotations

import threading
from collections import Counter
from typing import NamedTuple

from kecs.backends.kinds import ResourceKind


class Permission(NamedTuple):
    """What RBAC authorises: a verb on a resource of an API group (``""`` is the core group)."""

    verb: str
    group: str
    resource: str


class RequestCounter:
    """Thread-safe tallies of what a backend asked the API server.

    ``requests`` counts logical requests (one per backend call that reached the wire, however
    many attempts it took); ``attempts`` counts HTTP requests sent; ``retries`` the attempts
    after the first; ``faults`` the failed attempts that were retried.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[Permission] = Counter()
        self.attempts = 0
        self.retries = 0
        self.faults: Counter[str] = Counter()

    def request(self, verb: str, kind: ResourceKind) -> None:
        with self._lock:
            self.requests[Permission(verb, kind.group, kind.plural)] += 1

    def attempt(self, first: bool) -> None:
        with self._lock:
            self.attempts += 1
            if not first:
                self.retries += 1

    def fault(self, reason: str) -> None:
        with self._lock:
            self.faults[reason] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def permissions(self) -> set[Permission]:
        """Every (verb, group, resource) used so far: what an RBAC role must allow."""
        with self._lock:
            return set(self.requests)

    def by_verb_and_kind(self) -> dict[str, int]:
        """``{"list namespaces": 3, "get configmaps": 1, ...}``, for reports and pinned tests."""
        with self._lock:
            return {
                f"{p.verb} {p.resource}{'.' + p.group if p.group else ''}": n
                for p, n in sorted(self.requests.items())
            }

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.attempts = self.retries = 0
            self.faults.clear()
