"""kecs's own backend errors.

Each backend translates its native failures (a Kubernetes ``ApiException``, a conflict in the
memory store) into these at its edge, so operations never see a backend's exception types.
"""

from __future__ import annotations


class BackendError(Exception):
    """A backend request failed."""

    reason = "Unknown"


class NotFound(BackendError):
    reason = "NotFound"


class AlreadyExists(BackendError):
    reason = "AlreadyExists"


class Conflict(BackendError):
    """Optimistic concurrency failed: the object changed since it was read."""

    reason = "Conflict"


class Invalid(BackendError):
    """The object was refused as malformed (HTTP 422 on a real API server)."""

    reason = "Invalid"


class Forbidden(BackendError):
    reason = "Forbidden"


class Unavailable(BackendError):
    """The backend could not be reached or kept failing after retries."""

    reason = "Unavailable"
