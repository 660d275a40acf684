"""Deterministic fault injection for the served API: a seeded share of requests fails the way
real API servers and networks fail, before or after the request took effect."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Fails before the request reaches the backend.
ERROR_500 = "500"
THROTTLED_429 = "429"
DROP = "drop"
#: Fail after the backend applied the request: the client cannot know it worked.
ERROR_500_AFTER = "500-after"
DROP_AFTER = "drop-after"
ALL_FAULTS = (ERROR_500, THROTTLED_429, DROP, ERROR_500_AFTER, DROP_AFTER)
AFTER = frozenset({ERROR_500_AFTER, DROP_AFTER})


@dataclass
class FaultInjector:
    """Decides, request by request, whether and how to fail.

    ``rate`` is the share of requests that fail; ``faults`` the kinds of failure drawn from;
    ``seed`` makes the sequence of decisions reproducible; ``max_in_a_row`` bounds consecutive
    failures so a client with enough retries always gets through. ``retry_after`` is the
    ``Retry-After`` a 429 carries (seconds). Only resource requests are eligible (discovery is
    left alone); ``injected`` and ``seen`` count what happened.
    """

    rate: float = 0.2
    seed: int = 0
    faults: Sequence[str] = ALL_FAULTS
    max_in_a_row: int = 3
    retry_after: int = 0
    budget: int | None = None
    injected: Counter[str] = field(default_factory=Counter)
    seen: int = 0
    enabled: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(ALL_FAULTS)
        if unknown or not self.faults:
            raise ValueError(f"unknown faults {sorted(unknown)}; choose from {ALL_FAULTS}")
        if not 0 <= self.rate <= 1:
            raise ValueError("rate is a share between 0 and 1")
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._in_a_row = 0

    def decide(self) -> str | None:
        with self._lock:
            self.seen += 1
            if not self.enabled:
                return None
            draw, choice = self._random.random(), self._random.choice(list(self.faults))
            spent = self.budget is not None and self.total >= self.budget
            if draw >= self.rate or self._in_a_row >= self.max_in_a_row or spent:
                self._in_a_row = 0
                return None
            self._in_a_row += 1
            self.injected[choice] += 1
            return choice

    @property
    def total(self) -> int:
        return sum(self.injected.values())
