"""What every operation handler is given: the backend and the caller's ECS identity."""

from __future__ import annotations

from datetime import datetime

import attrs

from kecs.backends.base import Backend


@attrs.frozen
class RequestContext:
    backend: Backend
    region: str
    account_id: str

    def now(self) -> datetime:
        return self.backend.now()
