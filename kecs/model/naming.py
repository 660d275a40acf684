"""snake_case <-> camelCase for ECS member names.

A naive rule (split on ``_``, capitalise) round-trips every member of botocore's ECS model
except five whose acronyms are upper case. Those come from an explicit table;
``tests/model/test_naming.py`` walks every member of every structure shape in the model and
checks the table is exactly what the model needs.
"""

from __future__ import annotations

import re

#: snake_case -> wire name, for members a naive camelCase would get wrong.
IRREGULAR: dict[str, str] = {
    "bind_ip": "bindIP",
    "enable_ecs_managed_tags": "enableECSManagedTags",
    "managed_ebs_volume": "managedEBSVolume",
    "total_local_storage_gb": "totalLocalStorageGB",
    "web_acl_arn": "webACLArn",
}

_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")


def naive_camel(snake: str) -> str:
    first, *rest = snake.split("_")
    return first + "".join(part.capitalize() for part in rest)


def to_camel(snake: str) -> str:
    """A snake_case attribute name -> its wire (camelCase) member name."""
    return IRREGULAR.get(snake) or naive_camel(snake)


def to_snake(camel: str) -> str:
    """A wire member name -> snake_case (``bindIP`` -> ``bind_ip``)."""
    return _LOWER_UPPER.sub(r"\1_\2", _ACRONYM_WORD.sub(r"\1_\2", camel)).lower()
