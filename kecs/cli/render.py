"""``kecs render``: ECS task definitions and services as Kubernetes manifests.

Every input file (``-`` is standard input) is a task definition or a service as the AWS CLI
shows or takes it (see :mod:`kecs.render`). A service naming its task definition by
``family[:revision]`` or ARN finds it among ``--task-definition`` files and the other inputs.

Output: YAML (default; needs PyYAML, else JSON with a message) on standard output, each
input's objects followed by its notes as comments, ready for ``kubectl apply -f -``; or
JSON (one object, or a ``v1 List``), notes on standard error. ``--output-dir`` writes one file
per input instead. With several inputs, progress goes to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from kecs.cli.common import CliError, say

FORMATS = ("yaml", "json")


def add_parser(commands: Any) -> None:
    from kecs.render import KINDS

    parser: argparse.ArgumentParser = commands.add_parser(
        "render",
        help="print the Kubernetes manifests of ECS task definitions and services",
        description=(
            "Print the Kubernetes objects kecs makes of ECS task definitions "
            "(describe-task-definition output or register-task-definition input) and "
            "services (create-service input), with notes on what did not map exactly."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON file ('-': stdin)")
    parser.add_argument("--format", choices=FORMATS, default="yaml", help="(default: yaml)")
    parser.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help=f"render as {', '.join(KINDS)} (repeat or comma-separate; default: a task "
        "definition as podtemplate, a service as its Deployment/DaemonSet and Service)",
    )
    parser.add_argument(
        "--namespace", default="default", help="namespace of the objects (%(default)s)"
    )
    parser.add_argument(
        "--task-definition",
        action="append",
        default=[],
        metavar="FILE",
        help="a task definition that services may name (repeatable)",
    )
    parser.add_argument(
        "--region", help="ECS region (default: the definition's ARN's, else us-east-1)"
    )
    parser.add_argument(
        "--account-id", help="ECS account (default: the definition's ARN's, else 000000000000)"
    )
    parser.add_argument("--cluster", default="default", help="ECS cluster (%(default)s)")
    parser.add_argument("--output-dir", type=Path, help="write <input name>.<format> files here")
    parser.add_argument("--no-notes", action="store_true", help="leave the notes out")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)


def load(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text()
    except OSError as exc:
        raise CliError(f"{name}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{name}: not JSON ({exc})") from None


def _kinds(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [k.strip().lower() for v in values for k in v.split(",") if k.strip()]


def _yaml_available(wanted: str) -> str:
    if wanted != "yaml":
        return wanted
    try:
        import yaml  # noqa: F401
    except ImportError:
        say("kecs render: PyYAML is not installed (pip install 'kecs[yaml]'); writing JSON")
        return "json"
    return "yaml"


def run(args: argparse.Namespace) -> int:
    from kecs.render import Rendered, RenderError, classify, render

    fmt = _yaml_available(args.format)
    documents = {name: load(name) for name in dict.fromkeys(args.files)}
    task_definitions: list[dict[str, Any]] = []
    for name in args.task_definition:
        what, body = _classify(name, load(name))
        if what != "task-definition":
            raise CliError(f"{name}: --task-definition needs a task definition, not a {what}")
        task_definitions.append(body)
    for document in documents.values():
        with contextlib.suppress(RenderError):
            what, body = classify(document)
            if what == "task-definition":
                task_definitions.append(body)

    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    results: list[Rendered] = []
    failed = 0
    show_progress = len(documents) > 1 and not args.quiet
    for index, (name, document) in enumerate(documents.items(), 1):
        try:
            rendered = render(
                document,
                kinds=_kinds(args.kind),
                namespace=args.namespace,
                region=args.region,
                account_id=args.account_id,
                cluster=args.cluster,
                task_definitions=task_definitions,
            )
        except RenderError as exc:
            failed += 1
            say(f"kecs render: {name}: {exc}")
            continue
        written = ""
        if args.output_dir is not None:
            target = args.output_dir / f"{_stem(name)}.{fmt}"
            target.write_text(_text(rendered, fmt, notes=not args.no_notes))
            written = f" -> {target}"
            if fmt == "json":
                _notes_to_stderr(rendered, args.no_notes)
        results.append(rendered)
        if show_progress:
            say(
                f"kecs render: [{index}/{len(documents)}] {name}: {rendered.source}, "
                f"{len(rendered.objects)} objects, {len(rendered.notes)} notes{written}"
            )
    if args.output_dir is None:
        _write(results, fmt, args.no_notes)
    return 1 if failed else 0


def _classify(name: str, document: Any) -> tuple[str, dict[str, Any]]:
    from kecs.render import RenderError, classify

    try:
        return classify(document)
    except RenderError as exc:
        raise CliError(f"{name}: {exc}") from None


def _stem(name: str) -> str:
    return "stdin" if name == "-" else Path(name).stem


def _text(rendered: Any, fmt: str, *, notes: bool) -> str:
    return str(rendered.yaml(notes=notes) if fmt == "yaml" else rendered.json())


def _notes_to_stderr(rendered: Any, suppressed: bool) -> None:
    if rendered.notes and not suppressed:
        say(rendered.notes_comment().rstrip())


def _write(results: list[Any], fmt: str, no_notes: bool) -> None:
    from kecs.render import as_list

    if fmt == "yaml":
        sys.stdout.write("---\n".join(r.yaml(notes=not no_notes) for r in results))
        return
    objects = [obj for r in results for obj in r.objects]
    if objects:
        sys.stdout.write(json.dumps(as_list(objects), indent=2) + "\n")
    for rendered in results:
        _notes_to_stderr(rendered, no_notes)
