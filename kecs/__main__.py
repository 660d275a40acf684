"""``python -m kecs`` and the ``kecs`` console script: see :mod:`kecs.cli`."""

from __future__ import annotations

import sys

from kecs.cli import main

if __name__ == "__main__":
    sys.exit(main())
