"""The ECS cluster query language: parsing, negation normal form, and evaluation.

ECS uses one small language for ``memberOf`` placement constraints and for
ListContainerInstances' ``filter``::

    attribute:ecs.instance-type == t2.small
    attribute:ecs.availability-zone in [us-east-1a, us-east-1b]
    (attribute:ecs.instance-type =~ t2.* or attribute:stack exists) and not(task:group == db)

Subjects: ``attribute:<name>``, ``task:group``, ``ec2InstanceId``, ``agentConnected``,
``agentVersion``, ``registeredAt``, ``runningTasksCount``. Operators (symbol or word):
``==``/``equals``, ``!=``/``not_equals``, ``>``/``greater_than``, ``>=``/``greater_than_equal``,
``<``/``less_than``, ``<=``/``less_than_equal``, ``exists``, ``!exists``/``not_exists``,
``in``, ``!in``/``not_in``, ``=~``/``matches``, ``!~``/``not_matches``; combined with
``and``/``&&``, ``or``/``||``, ``not``/``!`` and parentheses. Values are bare words or
quoted; lists are ``[a, b]`` or ``(a, b)``.

:func:`parse` raises :class:`~kecs.mapping.errors.MappingError` for anything else; how an
expression becomes node affinity is :mod:`kecs.mapping.placement`'s business, how it is
evaluated against one container instance is :func:`evaluate`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import attrs

from kecs.mapping import k8s_time
from kecs.mapping.errors import MappingError

MAX_EXPRESSION_LENGTH = 2000

SUBJECTS = frozenset(
    {
        "task:group",
        "ec2InstanceId",
        "agentConnected",
        "agentVersion",
        "registeredAt",
        "runningTasksCount",
    }
)
#: Every spelling of an operator -> its canonical name.
OPERATORS = {
    "==": "eq",
    "equals": "eq",
    "!=": "ne",
    "not_equals": "ne",
    ">": "gt",
    "greater_than": "gt",
    ">=": "ge",
    "greater_than_equal": "ge",
    "<": "lt",
    "less_than": "lt",
    "<=": "le",
    "less_than_equal": "le",
    "exists": "exists",
    "!exists": "not_exists",
    "not_exists": "not_exists",
    "in": "in",
    "!in": "not_in",
    "not_in": "not_in",
    "=~": "matches",
    "matches": "matches",
    "!~": "not_matches",
    "not_matches": "not_matches",
}
NEGATED = {
    "eq": "ne",
    "ne": "eq",
    "gt": "le",
    "le": "gt",
    "lt": "ge",
    "ge": "lt",
    "exists": "not_exists",
    "not_exists": "exists",
    "in": "not_in",
    "not_in": "in",
    "matches": "not_matches",
    "not_matches": "matches",
}
_UNARY = frozenset({"exists", "not_exists"})
_LISTS = frozenset({"in", "not_in"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<symbol>!exists\b|!in\b|==|!=|>=|<=|=~|!~|&&|\|\||[()\[\],!<>])
      | (?P<word>[^\s()\[\],=!<>&|'"]+)
    )""",
    re.VERBOSE,
)
_SPACE = re.compile(r"\s+")


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


@attrs.frozen
class Comparison:
    subject: str  # "attribute" or one of SUBJECTS
    operator: str  # canonical (see OPERATORS)
    values: tuple[str, ...] = ()
    attribute: str | None = None  # the attribute name for subject "attribute"

    def negated(self) -> Comparison:
        return attrs.evolve(self, operator=NEGATED[self.operator])


@attrs.frozen
class Not:
    operand: Expression


@attrs.frozen
class All:
    operands: tuple[Expression, ...]


@attrs.frozen
class Any_:
    operands: tuple[Expression, ...]


Expression = Comparison | Not | All | Any_


@attrs.frozen
class _Token:
    kind: str  # "quoted" | "symbol" | "word"
    text: str


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position = _skip_space(text, 0)
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _invalid(text, f"unexpected character at position {position + 1}")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "quoted":
            value = value[1:-1]
        out.append(_Token(kind, value))
        position = _skip_space(text, match.end())
    return out


def _invalid(text: str, detail: str) -> MappingError:
    return MappingError(f"The expression is not valid ({detail}): {text}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _invalid(self.text, "unexpected end")
        self.at += 1
        return token

    def keyword(self, *spellings: str) -> bool:
        token = self.peek()
        if token is not None and token.kind != "quoted" and token.text.lower() in spellings:
            self.at += 1
            return True
        return False

    def expect(self, symbol: str) -> None:
        token = self.take()
        if token.kind != "symbol" or token.text != symbol:
            raise _invalid(self.text, f"expected {symbol!r}, found {token.text!r}")

    def parse(self) -> Expression:
        if not self.tokens:
            raise _invalid(self.text, "empty expression")
        expression = self.disjunction()
        if self.peek() is not None:
            raise _invalid(self.text, f"unexpected {self.take().text!r}")
        return expression

    def disjunction(self) -> Expression:
        operands = [self.conjunction()]
        while self.keyword("or", "||"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Any_(tuple(operands))

    def conjunction(self) -> Expression:
        operands = [self.unary()]
        while self.keyword("and", "&&"):
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else All(tuple(operands))

    def unary(self) -> Expression:
        if self.keyword("not", "!"):
            return Not(self.unary())
        token = self.peek()
        if token is not None and token.kind == "symbol" and token.text == "(":
            self.take()
            inner = self.disjunction()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        token = self.take()
        if token.kind != "word":
            raise _invalid(self.text, f"expected a subject, found {token.text!r}")
        subject, attribute = token.text, None
        if subject.startswith("attribute:"):
            attribute = subject[len("attribute:") :]
            if not attribute:
                raise _invalid(self.text, "an attribute needs a name")
            subject = "attribute"
        elif subject not in SUBJECTS:
            raise _invalid(self.text, f"unknown subject {subject!r}")
        spelled = self.take().text
        operator = OPERATORS.get(spelled) or OPERATORS.get(spelled.lower())
        if operator is None:
            raise _invalid(self.text, f"unknown operator {spelled!r}")
        if operator in _UNARY:
            return Comparison(subject, operator, (), attribute)
        if operator in _LISTS:
            return Comparison(subject, operator, self.values(), attribute)
        return Comparison(subject, operator, (self.value(),), attribute)

    def value(self) -> str:
        token = self.take()
        if token.kind == "symbol":
            raise _invalid(self.text, f"expected a value, found {token.text!r}")
        return token.text

    def values(self) -> tuple[str, ...]:
        opening = self.take()
        closing = {"[": "]", "(": ")"}.get(opening.text) if opening.kind == "symbol" else None
        if closing is None:
            return (self._single(opening),)
        out = [self.value()]
        while True:
            token = self.take()
            if token.kind == "symbol" and token.text == closing:
                return tuple(out)
            if token.kind != "symbol" or token.text != ",":
                raise _invalid(self.text, f"expected ',' or {closing!r}, found {token.text!r}")
            out.append(self.value())

    def _single(self, token: _Token) -> str:
        if token.kind == "symbol":
            raise _invalid(self.text, f"expected a list, found {token.text!r}")
        return token.text


def parse(text: str) -> Expression:
    """The expression ``text`` spells; :class:`MappingError` when it is not valid."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise MappingError(
            f"The expression can be at most {MAX_EXPRESSION_LENGTH} characters long."
        )
    return _Parser(text).parse()


def normal_form(expression: Expression, negate: bool = False) -> Expression:
    """``expression`` with every ``not`` pushed down onto comparisons (De Morgan)."""
    if isinstance(expression, Comparison):
        return expression.negated() if negate else expression
    if isinstance(expression, Not):
        return normal_form(expression.operand, not negate)
    operands = tuple(normal_form(e, negate) for e in expression.operands)
    conjunction = isinstance(expression, All) != negate
    return All(operands) if conjunction else Any_(operands)


# -- evaluation against one container instance ------------------------------------------------


@attrs.frozen
class Facts:
    """What an expression can ask about one container instance."""

    attributes: Mapping[str, str | None] = attrs.field(factory=dict)
    ec2_instance_id: str = ""
    agent_connected: bool = True
    agent_version: str = ""
    registered_at: datetime | None = None
    running_tasks_count: int = 0
    task_groups: frozenset[str] = frozenset()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _ordered(left: str, right: str, operator: str) -> bool:
    a, b = _number(left), _number(right)
    pair: tuple[object, object]
    if a is not None and b is not None:
        pair = (a, b)
    else:
        ta, tb = k8s_time.parse(left), k8s_time.parse(right)
        pair = (ta, tb) if ta is not None and tb is not None else (left, right)
    x, y = pair
    if operator == "gt":
        return bool(x > y)  # type: ignore[operator]
    if operator == "ge":
        return bool(x >= y)  # type: ignore[operator]
    if operator == "lt":
        return bool(x < y)  # type: ignore[operator]
    return bool(x <= y)  # type: ignore[operator]


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


def _compare(actual: list[str] | None, comparison: Comparison) -> bool:
    """``actual``: the subject's values (``None`` when the subject is absent)."""
    operator, wanted = comparison.operator, comparison.values
    if operator == "exists":
        return actual is not None
    if operator == "not_exists":
        return actual is None
    if operator in ("ne", "not_in", "not_matches"):
        return not _compare(actual, comparison.negated())
    if actual is None:
        return False
    if operator in ("eq", "in"):
        return any(v in wanted for v in actual)
    if operator == "matches":
        return any(_matches(wanted[0], v) for v in actual)
    return any(_ordered(v, wanted[0], operator) for v in actual)


def _subject_values(comparison: Comparison, facts: Facts) -> list[str] | None:
    subject = comparison.subject
    if subject == "attribute":
        name = comparison.attribute or ""
        if name not in facts.attributes:
            return None
        value = facts.attributes[name]
        return [value if value is not None else ""]
    if subject == "task:group":
        return sorted(facts.task_groups) or None
    if subject == "ec2InstanceId":
        return [facts.ec2_instance_id]
    if subject == "agentConnected":
        return ["true" if facts.agent_connected else "false"]
    if subject == "agentVersion":
        return [facts.agent_version]
    if subject == "registeredAt":
        return [k8s_time.format(facts.registered_at)] if facts.registered_at else None
    return [str(facts.running_tasks_count)]


def evaluate(expression: Expression, facts: Facts) -> bool:
    """Whether the container instance described by ``facts`` satisfies ``expression``."""
    if isinstance(expression, Comparison):
        return _compare(_subject_values(expression, facts), expression)
    if isinstance(expression, Not):
        return not evaluate(expression.operand, facts)
    if isinstance(expression, All):
        return all(evaluate(e, facts) for e in expression.operands)
    return any(evaluate(e, facts) for e in expression.operands)
