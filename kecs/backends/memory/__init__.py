"""The embedded backend: an in-memory Kubernetes API server and the cluster behind it."""

from kecs.backends.memory.controllers.nodes import NodeSpec
from kecs.backends.memory.simulator import SimulationError, Simulator
from kecs.backends.memory.store import MemoryBackend

__all__ = ["MemoryBackend", "NodeSpec", "SimulationError", "Simulator"]
