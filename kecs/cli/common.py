"""What the ``kecs`` commands share."""

from __future__ import annotations

import sys
from typing import TextIO


class CliError(Exception):
    """A user-facing failure: printed as ``kecs: <message>``, exit status 1."""


def say(message: str, stream: TextIO | None = None) -> None:
    """One line for a person (stderr by default), flushed at once."""
    print(message, file=stream or sys.stderr, flush=True)
