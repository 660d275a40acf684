"""kecs.render(): input shapes, kinds, services, names, notes, output formats, notebook reprs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

import kecs
from kecs.render import KINDS, Rendered, RenderError, classify
from tests.k8s_schema import validate_strict
from tests.strategies import task_definitions

WEB: dict[str, Any] = {
    "family": "web",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "memory": 256,
            "portMappings": [{"containerPort": 80, "hostPort": 80}],
            "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
        }
    ],
}
SERVICE: dict[str, Any] = {"serviceName": "web", "taskDefinition": "web", "desiredCount": 3}


def kinds_of(rendered: Rendered) -> list[str]:
    return [o["kind"] for o in rendered.objects]


def valid(rendered: Rendered) -> Rendered:
    for obj in rendered.objects:
        validate_strict(obj)
        assert "finalizers" not in obj["metadata"]
    return rendered


# -- input shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "what"),
    [
        (WEB, "task-definition"),
        ({"taskDefinition": {**WEB, "revision": 4}, "tags": []}, "task-definition"),
        ({"family": "f"}, "task-definition"),
        (SERVICE, "service"),
        ({"service": SERVICE}, "service"),
        ({"services": [SERVICE]}, "service"),
    ],
    ids=["register input", "describe output", "bare", "create-service", "service", "services"],
)  # fmt: skip
def test_every_accepted_shape_is_recognised(document: dict[str, Any], what: str) -> None:
    assert classify(document)[0] == what


@pytest.mark.parametrize("document", [{}, {"services": []}, {"foo": 1}, []])
def test_anything_else_is_refused_with_what_was_expected(document: Any) -> None:
    with pytest.raises(RenderError, match=r"task definition|service|JSON object"):
        kecs.render(document)


# -- task definitions -----------------------------------------------------------------------


def test_a_task_definition_is_a_pod_template_by_default() -> None:
    rendered = valid(kecs.render(WEB))
    assert rendered.source == "task definition web:1"
    (template,) = rendered.objects
    assert template["kind"] == "PodTemplate"
    assert template["metadata"]["namespace"] == "default"
    assert template["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    annotations = template["metadata"]["annotations"]
    assert annotations["kecs.dev/task-definition-arn"] == (
        "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"
    )


def test_every_kind_validates_and_has_what_it_promises() -> None:
    rendered = valid(kecs.render(WEB, kinds=list(KINDS), namespace="team-a"))
    # The Service both workloads would have is there once.
    assert kinds_of(rendered) == ["PodTemplate", "Pod", "Deployment", "Service", "DaemonSet"]
    assert {o["metadata"]["namespace"] for o in rendered.objects} == {"team-a"}
    pod = rendered.objects[1]
    assert pod["spec"]["restartPolicy"] == "Never"
    deployment = rendered.objects[2]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_the_finalizer_kecs_needs_is_left_out_and_said_so() -> None:
    rendered = kecs.render(WEB, kinds=["pod", "deployment"])
    assert "finalizers" not in rendered.objects[0]["metadata"]
    assert "finalizers" not in rendered.objects[1]["spec"]["template"]["metadata"]
    assert any(n.path == "metadata.finalizers" for n in rendered.notes)


def test_notes_say_what_did_not_map() -> None:
    notes = kecs.render(WEB).notes
    assert any(n.path == "containerDefinitions[0].ulimits" for n in notes)


def test_region_and_account_come_from_the_arn_unless_given() -> None:
    described = {
        "taskDefinition": {
            **WEB,
            "revision": 7,
            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7",
        }
    }
    labels = kecs.render(described).objects[0]["metadata"]["labels"]
    assert (labels["kecs.dev/region"], labels["kecs.dev/account"]) == ("eu-west-1", "123456789012")
    assert labels["kecs.dev/revision"] == "7"
    labels = kecs.render(described, region="us-west-2", account_id="111111111111").objects[0][
        "metadata"
    ]["labels"]
    assert (labels["kecs.dev/region"], labels["kecs.dev/account"]) == ("us-west-2", "111111111111")


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(RenderError, match="unknown kind"):
        kecs.render(WEB, kinds=["statefulset"])


def test_rendering_is_deterministic() -> None:
    assert kecs.render(WEB, kinds=list(KINDS)) == kecs.render(WEB, kinds=list(KINDS))


# -- services -------------------------------------------------------------------------------


def test_a_service_is_its_deployment_and_service() -> None:
    rendered = valid(kecs.render(SERVICE, task_definitions=[WEB]))
    assert rendered.source == "service web"
    assert kinds_of(rendered) == ["Deployment", "Service"]
    assert rendered.objects[0]["spec"]["replicas"] == 3


def test_a_service_with_its_task_definition_inline() -> None:
    rendered = valid(kecs.render({**SERVICE, "taskDefinition": WEB, "cluster": "prod"}))
    deployment = rendered.objects[0]
    assert deployment["metadata"]["labels"]["kecs.dev/cluster"] == "prod"


def test_a_service_reference_picks_the_named_or_highest_revision() -> None:
    revisions = [{**WEB, "revision": r, "containerDefinitions": [
        {**WEB["containerDefinitions"][0], "image": f"nginx:{r}"}]} for r in (1, 3, 2)]  # fmt: skip

    def image(reference: str) -> str:
        rendered = kecs.render({**SERVICE, "taskDefinition": reference}, task_definitions=revisions)
        return str(rendered.objects[0]["spec"]["template"]["spec"]["containers"][0]["image"])

    assert image("web") == "nginx:3"
    assert image("web:2") == "nginx:2"
    assert image("arn:aws:ecs:us-east-1:000000000000:task-definition/web:1") == "nginx:1"


def test_a_service_without_its_task_definition_says_how_to_give_it() -> None:
    with pytest.raises(RenderError, match="--task-definition"):
        kecs.render(SERVICE)


def test_a_daemon_service_is_a_daemonset_and_nothing_else() -> None:
    daemon = {**SERVICE, "schedulingStrategy": "DAEMON", "taskDefinition": WEB}
    assert kinds_of(valid(kecs.render(daemon))) == ["DaemonSet", "Service"]
    with pytest.raises(RenderError, match="renders as a daemonset"):
        kecs.render(daemon, kinds=["deployment"])
    assert kinds_of(kecs.render(daemon, kinds=["podtemplate"])) == ["PodTemplate"]


def test_service_settings_without_objects_are_noted() -> None:
    service = {
        **SERVICE,
        "taskDefinition": {**WEB, "containerDefinitions": [{"name": "w", "image": "busybox"}]},
        "loadBalancers": [{"targetGroupArn": "arn:x", "containerName": "w", "containerPort": 80}],
    }
    paths = {n.path for n in kecs.render(service).notes}
    assert {"loadBalancers", "portMappings"} <= paths


# -- output ---------------------------------------------------------------------------------


def test_yaml_round_trips_and_ends_with_the_notes() -> None:
    rendered = kecs.render(WEB, kinds=["podtemplate", "deployment"])
    text = rendered.yaml()
    assert [d for d in yaml.safe_load_all(text) if d] == list(rendered.objects)
    assert text.startswith("# task definition web:1\n")
    assert text.rstrip().splitlines()[-1].startswith("# - ")
    assert "# - " not in rendered.yaml(notes=False)


def test_json_is_one_object_or_a_list() -> None:
    assert json.loads(kecs.render(WEB).json())["kind"] == "PodTemplate"
    listed = json.loads(kecs.render(WEB, kinds=["pod", "deployment"]).json())
    assert listed["kind"] == "List"
    assert [i["kind"] for i in listed["items"]] == ["Pod", "Deployment", "Service"]


def test_notebook_representations() -> None:
    rendered = kecs.render({**WEB, "family": "<b>web</b>"})
    html = rendered._repr_html_()
    assert "<b>web</b>" not in html and "&lt;b&gt;web&lt;/b&gt;" in html
    assert "PodTemplate" in html and "ulimits" in html
    markdown = rendered._repr_markdown_()
    assert "```yaml" in markdown and "| PodTemplate |" in markdown


@settings(max_examples=25)
@given(task_definitions())
def test_any_task_definition_renders_to_valid_objects(task_definition: dict[str, Any]) -> None:
    rendered = kecs.render({**task_definition, "family": "prop"}, kinds=list(KINDS))
    valid(rendered)
