"""Regenerate the decision tables in docs/mapping.md from kecs.mapping.decisions.

    python tools/gen_mapping_doc.py           # rewrite the generated section in place
    python tools/gen_mapping_doc.py --check   # exit 1 when docs/mapping.md is stale

Only the text between the BEGIN/END markers is generated; the prose around it is kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing kecs

from kecs.mapping.decisions import CONTAINER_DEFINITION, TASK_DEFINITION, Rule  # noqa: E402

DOC = ROOT / "docs" / "mapping.md"
BEGIN = "<!-- BEGIN GENERATED DECISION TABLES (tools/gen_mapping_doc.py) -->"
END = "<!-- END GENERATED DECISION TABLES -->"


def _table(title: str, rules: dict[str, Rule]) -> list[str]:
    lines = [f"### {title}", "", "| member | decision | what happens |", "|---|---|---|"]
    for member, rule in rules.items():
        lines.append(f"| `{member}` | {rule.decision.value} | {rule.description} |")
    return [*lines, ""]


def generated_section() -> str:
    lines = [BEGIN, ""]
    lines += _table("RegisterTaskDefinitionRequest", TASK_DEFINITION)
    lines += _table("ContainerDefinition", CONTAINER_DEFINITION)
    lines.append(END)
    return "\n".join(lines)


def render(current: str) -> str:
    head, sep, rest = current.partition(BEGIN)
    if not sep:
        return current.rstrip("\n") + "\n\n" + generated_section() + "\n"
    _, sep_end, tail = rest.partition(END)
    return head + generated_section() + (tail if sep_end else "\n")


def main(argv: list[str]) -> int:
    current = DOC.read_text()
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            print("docs/mapping.md is stale: run python tools/gen_mapping_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
