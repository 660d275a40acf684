"""What every operation handler is given: the backend and the caller's ECS identity."""

from __future__ import annotations

from datetime import datetime

import attrs

from kecs.backends.base import Backend

#: How long a stopped task stays describable (seconds), as on ECS.
DEFAULT_STOPPED_TASK_RETENTION = 3600.0


@attrs.frozen
class RequestContext:
    backend: Backend
    region: str
    account_id: str
    #: Seconds a STOPPED task's record is kept before the task sweep removes it.
    stopped_task_retention: float = DEFAULT_STOPPED_TASK_RETENTION

    def now(self) -> datetime:
        return self.backend.now()
