"""Helpers of the task-definition operations (``kecs.operations.task_definitions``).

- :mod:`.units`: task-level ``cpu``/``memory`` strings and the Fargate size table.
- :mod:`.validation`: RegisterTaskDefinition's rules, with AWS's error wording.
- :mod:`.build`: the ``taskDefinition`` AWS returns (defaults, compatibilities, attributes).
- :mod:`.store`: where task definitions live in the backend (PodTemplates + family records).
- :mod:`.listing`: ListTaskDefinitions / ListTaskDefinitionFamilies paging.
"""
