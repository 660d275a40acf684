"""Errors the pure mappings raise for input that cannot be mapped at all.

Operations turn :class:`MappingError` into ``InvalidParameterException`` with its message,
which is worded as ECS words the same refusal.
"""

from __future__ import annotations


class MappingError(ValueError):
    """The ECS input is invalid in a way ECS itself refuses; ``str(err)`` is ECS's message."""
