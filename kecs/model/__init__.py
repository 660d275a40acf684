"""attrs classes for ECS resources (snake_case fields) and their camelCase wire form.

Import the classes from here; the cattrs converter lives in :mod:`kecs.model.converter`
(imported on demand, so ``import kecs`` never pays for cattrs).
"""

from kecs.model.naming import to_camel, to_snake
from kecs.model.task_definition import ContainerDefinition, TaskDefinition

__all__ = ["ContainerDefinition", "TaskDefinition", "to_camel", "to_snake"]
