"""The embedded backend: an in-memory Kubernetes API server (plus, later, its controllers)."""

from kecs.backends.memory.store import MemoryBackend

__all__ = ["MemoryBackend"]
