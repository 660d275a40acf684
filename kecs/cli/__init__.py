"""The ``kecs`` command line: ``kecs serve``, ``kecs render`` and ``kecs wait``.

Each command lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``;
heavy imports happen inside ``run`` so ``kecs --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kecs.cli import render, serve, wait
from kecs.cli.common import CliError

__all__ = ["CliError", "main"]


def parser() -> argparse.ArgumentParser:
    from kecs import __version__

    root = argparse.ArgumentParser(
        prog="kecs",
        description="Amazon ECS's API on top of Kubernetes.",
    )
    root.add_argument("--version", action="version", version=f"kecs {__version__}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.add_parser(commands)
    render.add_parser(commands)
    wait.add_parser(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CliError as exc:
        print(f"kecs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
