"""Daemons and daemon task definitions -> DaemonSets (pure)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kecs import k8s_grammar
from kecs.mapping import daemons, ids, labels, names
from kecs.mapping.taskdef import to_pod_template
from tests.k8s_schema import validate_strict
from tests.strategies import ecs_names
from tests.strategies_k8s import REGION, WHERE

EXAMPLES = settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)
DAEMON_TD = {
    "daemonTaskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:daemon-task-definition/a:1",
    "family": "a",
    "revision": 1,
    "containerDefinitions": [{"name": "agent", "image": "fluent-bit", "memory": 64}],
    "volumes": [
        {"name": "logs", "logDriverVolumeConfiguration": {}},
        {"name": "h", "host": {"sourcePath": "/var/log"}},
    ],
    "pidMode": "shared",
    "ipcMode": "none",
}
providers = st.lists(
    st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True).filter(
        lambda n: not n.upper().startswith(("FARGATE", "AWS", "ECS"))
    ),
    min_size=1,
    max_size=3,
    unique=True,
)


def build(name: str, spec: dict[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    td = daemons.as_task_definition(DAEMON_TD)
    template = to_pod_template(td, region=REGION).template
    daemon_set, _ = daemons.daemon_set(
        template,
        spec,
        name=name,
        namespace="ns-1",
        task_definition=td,
        updated_at=NOW,
        status=status,
        tags=[{"key": "team", "value": "obs"}],
        **WHERE,
    )
    return daemon_set


def test_a_daemon_task_definition_is_a_task_definition_on_the_host_namespaces() -> None:
    td = daemons.as_task_definition(DAEMON_TD)
    assert td["taskDefinitionArn"] == DAEMON_TD["daemonTaskDefinitionArn"]
    assert td["pidMode"] == "host" and "ipcMode" not in td
    assert td["volumes"] == [{"name": "logs"}, {"name": "h", "host": {"sourcePath": "/var/log"}}]
    spec = to_pod_template(td, region=REGION).template["spec"]
    assert spec["hostPID"] is True and "hostIPC" not in spec
    assert len(spec["volumes"]) == 2


@EXAMPLES
@given(ecs_names, providers, st.sampled_from(["ACTIVE", "DELETE_IN_PROGRESS"]))
def test_daemon_sets_are_legal_and_run_on_their_providers(
    name: str, chosen: list[str], status: str
) -> None:
    spec = {
        "daemonTaskDefinitionArn": DAEMON_TD["daemonTaskDefinitionArn"],
        "capacityProviderArns": [
            f"arn:aws:ecs:us-east-1:000000000000:capacity-provider/{p}" for p in chosen
        ],
        "propagateTags": "DAEMON",
    }
    daemon_set = build(name, spec, status)
    validate_strict(daemon_set)
    meta = daemon_set["metadata"]
    assert k8s_grammar.is_dns1123_label(meta["name"])
    assert all(k8s_grammar.is_label_value(v) for v in meta["labels"].values())
    assert meta["labels"][labels.DAEMON] == names.label_value(name)
    assert meta["annotations"][daemons.NAME] == name
    assert meta["labels"][labels.STATUS] == meta["annotations"][daemons.STATUS] == status
    assert daemons.spec_of(daemon_set)["capacityProviderArns"] == spec["capacityProviderArns"]
    template = daemon_set["spec"]["template"]
    selector = daemon_set["spec"]["selector"]["matchLabels"]
    assert all(template["metadata"]["labels"][k] == v for k, v in selector.items())
    assert labels.SERVICE not in template["metadata"]["labels"]
    assert template["metadata"]["finalizers"] == [labels.TASK_RECORD_FINALIZER]
    assert template["spec"]["restartPolicy"] == "Always"
    wanted = sorted({names.label_value(p) for p in chosen})
    required = template["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    expression = {"key": "kecs.dev/capacity-provider", "operator": "In", "values": wanted}
    assert all(expression in term["matchExpressions"] for term in required)
    assert '"team"' in template["metadata"]["annotations"]["kecs.dev/tags"]  # propagated


@given(st.one_of(st.none(), st.floats(0, 100, allow_nan=False)))
def test_drain_percent_is_the_rolling_update(drain: float | None) -> None:
    config = {} if drain is None else {"deploymentConfiguration": {"drainPercent": drain}}
    rolling = daemons.rolling_update(config)
    if drain is None:
        assert rolling == {"maxUnavailable": 1}
    elif drain == 0:
        assert rolling == {"maxSurge": 1, "maxUnavailable": 0}
    else:
        percent = int(rolling["maxUnavailable"].rstrip("%"))
        assert percent - 1 < drain <= percent and 1 <= percent <= 100


def test_distinct_daemons_get_distinct_objects() -> None:
    spec = {"daemonTaskDefinitionArn": "x", "capacityProviderArns": ["cp"]}
    a, b = build("logs", spec), build("Logs", spec)
    assert a["metadata"]["name"] != b["metadata"]["name"]
    assert a["spec"]["selector"] != b["spec"]["selector"]
    assert daemons.tombstone_name("logs", **WHERE) != a["metadata"]["name"]


def test_daemon_ids_have_ecs_formats() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", ids.daemon_deployment_id("k"))
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", ids.daemon_revision_id("k"))
    assert ids.daemon_revision_id("k") == ids.daemon_revision_id("k")
    assert ids.daemon_deployment_id("k") != ids.daemon_deployment_id("l")
