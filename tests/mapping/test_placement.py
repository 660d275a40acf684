"""Placement constraints and strategies -> affinity, spread (kecs.mapping.placement), and the
cluster query language they share with ListContainerInstances (kecs.mapping.cluster_query)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend, NodeSpec
from kecs.backends.memory.labelsel import node_term_matches
from kecs.mapping import attributes, cluster_query, labels, names, placement
from kecs.mapping.cluster_query import All, Any_, Comparison, Facts, Not
from kecs.mapping.errors import MappingError
from tests.k8s_schema import validate_strict

GROUP = placement.group_selector("service:web")
ZONE = "topology.kubernetes.io/zone"


def pod(spec_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **(spec_extra or {})},
    }


def placed(p: placement.PodPlacement, **spec: Any) -> dict[str, Any]:
    obj = pod(spec)
    obj["spec"] = placement.apply(obj["spec"], p)
    validate_strict(obj)
    return obj


def node_terms(expression: str) -> list[dict[str, Any]]:
    terms = placement.member_of(expression).node_terms
    assert terms is not None
    return list(terms)


# -- the query language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "attribute:ecs.instance-type == t2.small",
            Comparison("attribute", "eq", ("t2.small",), "ecs.instance-type"),
        ),
        (
            "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
            Comparison("attribute", "in", ("us-east-1a", "us-east-1b"), "ecs.availability-zone"),
        ),
        (
            "task:group == service:production",
            Comparison("task:group", "eq", ("service:production",)),
        ),
        ("not(task:group == database)", Not(Comparison("task:group", "eq", ("database",)))),
        ("runningTasksCount == 1", Comparison("runningTasksCount", "eq", ("1",))),
        (
            "ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']",
            Comparison("ec2InstanceId", "in", ("i-abcd1234", "i-wxyx7890")),
        ),
        ("attribute:stack exists", Comparison("attribute", "exists", (), "stack")),
        ("attribute:stack !exists", Comparison("attribute", "not_exists", (), "stack")),
        ("attribute:a not_in (x, y)", Comparison("attribute", "not_in", ("x", "y"), "a")),
        (
            "attribute:a equals x && attribute:b != y",
            All(
                (
                    Comparison("attribute", "eq", ("x",), "a"),
                    Comparison("attribute", "ne", ("y",), "b"),
                )
            ),
        ),
        (
            "(attribute:ecs.instance-type =~ t2.* or attribute:ecs.instance-type =~ m4.*) "
            "and attribute:ecs.availability-zone != us-east-1d",
            All(
                (
                    Any_(
                        (
                            Comparison("attribute", "matches", ("t2.*",), "ecs.instance-type"),
                            Comparison("attribute", "matches", ("m4.*",), "ecs.instance-type"),
                        )
                    ),
                    Comparison("attribute", "ne", ("us-east-1d",), "ecs.availability-zone"),
                )
            ),
        ),
        (
            "registeredAt < 2015-01-01T00:00:00Z",
            Comparison("registeredAt", "lt", ("2015-01-01T00:00:00Z",)),
        ),
    ],
)
def test_parses_the_documented_examples(text: str, expected: Any) -> None:
    assert cluster_query.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "attribute: == x",
        "color == red",
        "attribute:a",
        "attribute:a ~~ b",
        "attribute:a in [x,",
        "(attribute:a == b",
        "attribute:a == b and",
        "attribute:a == b extra",
        "x" * 2001,
    ],
)
def test_invalid_expressions_are_refused(text: str) -> None:
    with pytest.raises(MappingError):
        cluster_query.parse(text)


def test_normal_form_pushes_negation_down() -> None:
    expression = cluster_query.parse(
        "not (attribute:a == x or (attribute:b exists and attribute:c in [1]))"
    )
    assert cluster_query.normal_form(expression) == All(
        (
            Comparison("attribute", "ne", ("x",), "a"),
            Any_(
                (
                    Comparison("attribute", "not_exists", (), "b"),
                    Comparison("attribute", "not_in", ("1",), "c"),
                )
            ),
        )
    )


def test_evaluation_covers_every_subject() -> None:
    facts = Facts(
        attributes={"ecs.instance-type": "t2.small", "stack": "prod", "flag": None},
        ec2_instance_id="i-1",
        agent_connected=True,
        agent_version="1.31.7",
        running_tasks_count=2,
        task_groups=frozenset({"service:web"}),
    )
    true = [
        "attribute:ecs.instance-type =~ t2.*",
        "attribute:flag exists",
        "attribute:missing !exists",
        "attribute:missing != x",
        "ec2InstanceId in [i-1, i-2]",
        "agentConnected == true",
        "runningTasksCount >= 2 and runningTasksCount < 3",
        "task:group == service:web",
        "not(task:group == database)",
        "attribute:stack == prod or attribute:stack == dev",
    ]
    false = ["attribute:missing == x", "runningTasksCount > 2", "attribute:stack !~ pr.*"]
    for text in true:
        assert cluster_query.evaluate(cluster_query.parse(text), facts), text
    for text in false:
        assert not cluster_query.evaluate(cluster_query.parse(text), facts), text


# -- memberOf -> node affinity -------------------------------------------------------------------


def test_member_of_maps_attributes_to_node_labels() -> None:
    assert node_terms("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]") == [
        {
            "matchExpressions": [
                {"key": ZONE, "operator": "In", "values": ["us-east-1a", "us-east-1b"]}
            ]
        }
    ]
    assert node_terms("attribute:ecs.cpu-architecture == x86_64") == [
        {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}
    ]
    assert node_terms("attribute:ecs.os-type != windows and attribute:stack exists") == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "NotIn", "values": ["windows"]},
                {"key": "kecs.dev/attr.stack", "operator": "Exists"},
            ]
        }
    ]
    assert node_terms("attribute:ecs.instance-type == a or attribute:gpu !exists") == [
        {
            "matchExpressions": [
                {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["a"]}
            ]
        },
        {"matchExpressions": [{"key": "kecs.dev/attr.gpu", "operator": "DoesNotExist"}]},
    ]


def test_member_of_orders_integers() -> None:
    assert node_terms("attribute:size >= 4 and attribute:size <= 8") == [
        {
            "matchExpressions": [
                {"key": "kecs.dev/attr.size", "operator": "Gt", "values": ["3"]},
                {"key": "kecs.dev/attr.size", "operator": "Lt", "values": ["9"]},
            ]
        }
    ]


def test_task_group_becomes_pod_affinity() -> None:
    result = placement.member_of("task:group == service:db and not(task:group in [batch, cron])")
    assert result.node_terms is None
    assert result.pod_affinity == (
        {
            "labelSelector": {
                "matchExpressions": [
                    {
                        "key": labels.GROUP,
                        "operator": "In",
                        "values": [names.label_value("service:db")],
                    }
                ]
            },
            "topologyKey": placement.HOSTNAME,
        },
    )
    (anti,) = result.pod_anti_affinity
    assert anti["labelSelector"]["matchExpressions"][0]["values"] == ["batch", "cron"]
    placed(result)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("attribute:ecs.instance-type =~ t2.*", "match operators"),
        ("attribute:size > big", "only integers"),
        ("ec2InstanceId == i-1", "ec2InstanceId"),
        ("runningTasksCount == 0", "runningTasksCount"),
        ("task:group == a or attribute:b exists", "task:group can only be combined with 'and'"),
        ("task:group =~ a.*", "task:group supports"),
    ],
)
def test_member_of_refuses_what_kubernetes_cannot_express(text: str, fragment: str) -> None:
    with pytest.raises(MappingError, match=None) as excinfo:
        placement.member_of(text)
    assert fragment in str(excinfo.value)


def test_too_many_alternatives_are_refused() -> None:
    clause = "(attribute:a == 1 or attribute:b == 2)"
    with pytest.raises(MappingError, match="alternatives"):
        placement.member_of(" and ".join([clause] * 6))


# -- property: node affinity means what the expression means -------------------------------------

ATTRIBUTE_NAMES = ["ecs.availability-zone", "ecs.cpu-architecture", "stack", "team/x", "a.b"]
VALUES = {
    "ecs.availability-zone": ["us-east-1a", "us-east-1b", "us-east-1c"],
    "ecs.cpu-architecture": ["x86_64", "arm64"],
}
CUSTOM_VALUES = ["prod", "dev", "with space", "x" * 70]


def _values(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(VALUES.get(name, CUSTOM_VALUES))


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(ATTRIBUTE_NAMES))
    operator = draw(st.sampled_from(["==", "!=", "in", "not_in", "exists", "!exists"]))
    if operator in ("exists", "!exists"):
        return f"attribute:{name} {operator}"
    if operator in ("in", "not_in"):
        values = draw(st.lists(_values(name), min_size=1, max_size=3))
        return f"attribute:{name} {operator} [{', '.join(repr(v) for v in values)}]"
    return f"attribute:{name} {operator} '{draw(_values(name))}'"


expressions = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: f"({p[0]} and {p[1]})"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]} or {p[1]})"),
        inner.map(lambda e: f"not ({e})"),
    ),
    max_leaves=5,
)


@st.composite
def nodes(draw: st.DrawFn) -> dict[str, Any]:
    node_labels = {
        attributes.BUILTIN["ecs.availability-zone"]: draw(_values("ecs.availability-zone")),
        "kubernetes.io/arch": draw(st.sampled_from(["amd64", "arm64"])),
    }
    node: dict[str, Any] = {"metadata": {"name": "n", "labels": node_labels, "annotations": {}}}
    custom = draw(
        st.dictionaries(
            st.sampled_from(ATTRIBUTE_NAMES[2:]), st.none() | _values("stack"), max_size=3
        )
    )
    patch = attributes.attributes_patch(node, put=custom)
    node_labels.update({k: v for k, v in patch["metadata"]["labels"].items() if v is not None})
    if patch["metadata"]["annotations"][attributes.ANN_ATTRIBUTES]:
        node["metadata"]["annotations"].update(patch["metadata"]["annotations"])
    return node


@settings(max_examples=150)
@given(text=expressions, node=nodes())
def test_node_affinity_agrees_with_the_expression(text: str, node: dict[str, Any]) -> None:
    facts = Facts(attributes={a["name"]: a.get("value") for a in attributes.node_attributes(node)})
    expected = cluster_query.evaluate(cluster_query.parse(text), facts)
    try:
        result = placement.member_of(text)
    except MappingError:
        return  # too many alternatives
    terms = list(result.node_terms or ())
    node_labels = node["metadata"]["labels"]
    assert any(node_term_matches(t, node_labels, "n") for t in terms) == expected
    assert placement.member_of(text) == result  # deterministic
    placed(result)


@settings(max_examples=60)
@given(a=expressions, b=expressions, node=nodes())
def test_apply_conjoins_with_what_the_pod_already_requires(
    a: str, b: str, node: dict[str, Any]
) -> None:
    try:
        first, second = placement.member_of(a), placement.member_of(b)
        spec = placement.apply(placement.apply({"containers": []}, first), second)
    except MappingError:
        return
    node_labels = node["metadata"]["labels"]

    def holds(p: placement.PodPlacement) -> bool:
        return any(node_term_matches(t, node_labels, "n") for t in p.node_terms or [])

    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert any(node_term_matches(t, node_labels, "n") for t in terms) == (
        holds(first) and holds(second)
    )


# -- constraints and strategies --------------------------------------------------------------------


def test_distinct_instance_is_anti_affinity_on_the_host() -> None:
    result = placement.constraints([{"type": "distinctInstance"}], GROUP)
    assert result.pod_anti_affinity == (
        {
            "labelSelector": {"matchLabels": dict(sorted(GROUP.items()))},
            "topologyKey": placement.HOSTNAME,
        },
    )
    placed(result)


def test_constraint_errors() -> None:
    with pytest.raises(MappingError, match="distinctInstance"):
        placement.constraints([{"type": "distinctInstance", "expression": "x"}], GROUP)
    with pytest.raises(MappingError, match="expression is required"):
        placement.constraints([{"type": "memberOf"}], GROUP)
    with pytest.raises(MappingError, match="at most 10"):
        placement.constraints([{"type": "distinctInstance"}] * 11, GROUP)


def test_strategies_spread_and_binpack() -> None:
    result = placement.strategies(
        [
            {"type": "spread", "field": "attribute:ecs.availability-zone"},
            {"type": "spread", "field": "instanceId"},
            {"type": "spread", "field": "host"},  # same topology as instanceId: once
            {"type": "binpack", "field": "memory"},
            {"type": "random"},
        ],
        GROUP,
    )
    assert [s["topologyKey"] for s in result.topology_spread] == [ZONE, placement.HOSTNAME]
    assert all(
        s["whenUnsatisfiable"] == "ScheduleAnyway" and s["maxSkew"] == 1
        for s in result.topology_spread
    )
    (binpack,) = result.preferred_pod_affinity
    assert (
        binpack["weight"] == 100 and binpack["podAffinityTerm"]["topologyKey"] == placement.HOSTNAME
    )
    assert "MostAllocated" in result.notes[0].message
    placed(result)
    with pytest.raises(MappingError, match="binpack"):
        placement.strategies([{"type": "binpack", "field": "disk"}], GROUP)
    with pytest.raises(MappingError, match="spread"):
        placement.strategies([{"type": "spread", "field": "zone"}], GROUP)
    with pytest.raises(MappingError, match="at most 5"):
        placement.strategies([{"type": "random"}] * 6, GROUP)


def test_from_ecs_adds_the_task_definition_constraints_and_refuses_fargate() -> None:
    definition = {
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:stack == prod"}]
    }
    result = placement.from_ecs(
        constraints_=[{"type": "distinctInstance"}],
        task_definition=definition,
        group_selector=GROUP,
    )
    assert result.node_terms is not None and result.pod_anti_affinity
    with pytest.raises(MappingError, match="FARGATE"):
        placement.from_ecs(
            constraints_=[{"type": "distinctInstance"}], group_selector=GROUP, launch_type="FARGATE"
        )
    with pytest.raises(MappingError, match="FARGATE"):
        placement.from_ecs(
            strategies_=[{"type": "random"}], group_selector=GROUP, launch_type="FARGATE"
        )


def test_apply_keeps_the_pods_own_selector_and_pins() -> None:
    existing = {
        "containers": [{"name": "c", "image": "nginx"}],
        "nodeSelector": {"kubernetes.io/arch": "arm64"},
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["n1"]}
                            ]
                        }
                    ]
                }
            }
        },
    }
    extra = placement.combine(
        placement.member_of("attribute:a == 1 or attribute:b == 2"),
        placement.PodPlacement(node_selector={"kubernetes.io/arch": "amd64", "x": "y"}),
    )
    spec = placement.apply(existing, extra)
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "arm64", "x": "y"}
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert len(terms) == 2
    for term in terms:
        assert term["matchFields"][0]["values"] == ["n1"]  # still pinned
        assert {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]} in term[
            "matchExpressions"
        ]
    assert existing["nodeSelector"] == {"kubernetes.io/arch": "arm64"}  # input untouched


def test_the_embedded_scheduler_honours_member_of() -> None:
    backend = MemoryBackend(
        nodes=[NodeSpec(), NodeSpec(), NodeSpec(labels={"kecs.dev/attr.stack": "prod"})]
    )
    backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}})
    expressions_by_pod = {
        "in-b": "attribute:ecs.availability-zone == us-east-1b",
        "prod": "attribute:stack == prod",
        "not-a-nor-prod": (
            "attribute:ecs.availability-zone != us-east-1a and attribute:stack !exists"
        ),
    }
    for name, text in expressions_by_pod.items():
        obj = placed(placement.member_of(text))
        obj["metadata"] = {"name": name, "namespace": "t"}
        backend.create(obj)
    where = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in backend.list_all(kinds.POD, "t")}
    zone = {
        n["metadata"]["name"]: n["metadata"]["labels"][ZONE] for n in backend.list_all(kinds.NODE)
    }
    assert zone[where["in-b"]] == "us-east-1b"
    assert where["prod"] == "kecs-node-3"
    assert (
        zone[where["not-a-nor-prod"]] != "us-east-1a" and where["not-a-nor-prod"] != "kecs-node-3"
    )
